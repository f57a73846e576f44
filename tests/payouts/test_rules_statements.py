"""The statements tell what the books did: the fee supporters are told went
to the platform adds up, per creator, to the fee the run charged."""

import datetime as dt
from collections import defaultdict

import pytest

from buttons.models import Thing
from notifications.models import Event, EventType
from payouts import notices, services
from payouts.models import CreatorLine
from tests.factories import UserFactory, flattr, supporter, thing

P = dt.date(2026, 9, 1)
pytestmark = pytest.mark.django_db


def _posted(run):
    services.payout_run_approve(
        run=run, actor=UserFactory(is_staff=True, is_superuser=True), queue=False
    )
    return services.payout_run_post(run_id=run.pk)


def _told_fees(run) -> dict[int, int]:
    """{creator id: the fee the supporters' statements attribute to them}."""
    owner_by_url = dict(Thing.objects.values_list("url", "owner_id"))
    told: dict[int, int] = defaultdict(int)
    for event in Event.objects.filter(type=EventType.SUPPORTER_STATEMENT):
        assert event.data["period"] == run.label
        for share in event.data["shares"]:
            if not share["held"]:
                told[owner_by_url[share["url"]]] += share["fee_cents"]
    return dict(told)


def test_the_fee_told_to_supporters_adds_up_to_the_fee_charged(settings):
    # 10 cents over two of Ada's things: two shares of 5 cents. Each share's
    # own fee, half up, is 1 cent (2 told); the books charge 10 % of Ada's
    # gross of 10 cents: 1 cent.
    ada = UserFactory()
    fan = supporter(budget=10, balance=1000)
    flattr(fan, thing(owner=ada), P, minute=1)
    flattr(fan, thing(owner=ada), P, minute=2)
    run = _posted(services.payout_run_compute(period=P))
    assert CreatorLine.objects.get(run=run, creator=ada).fee == 1
    notices.run_statements_publish(run_id=run.pk)
    assert _told_fees(run) == {ada.pk: 1}


def test_the_fee_told_adds_up_across_supporters_and_batches(settings, monkeypatch):
    monkeypatch.setattr(notices, "BATCH", 2)
    settings.FLATTR_FEE_PERCENT = 7
    creators = [UserFactory() for _ in range(3)]
    things = [thing(owner=creators[i % 3]) for i in range(7)] + [thing(owner=None)]
    for i in range(7):
        fan = supporter(budget=13 + 17 * i, balance=1000)
        for minute, t in enumerate(things[i % 4 : i % 4 + 4]):
            flattr(fan, t, P, minute=minute)
    run = _posted(services.payout_run_compute(period=P))
    notices.run_statements_publish(run_id=run.pk)
    charged = dict(CreatorLine.objects.filter(run=run).values_list("creator_id", "fee"))
    assert _told_fees(run) == {c: fee for c, fee in charged.items() if fee}
