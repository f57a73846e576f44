"""Onward shares in the monthly run: computed, frozen, posted once, reported,
held for unclaimed things and claimed or returned (issue 26)."""

import datetime as dt
import json

import pytest
from django.core.management import call_command

from ledger.models import AccountKind, Transaction
from payouts import selectors, services
from payouts.models import CreatorLine, OnwardLine, UnclaimedLine
from payouts.onward import onward_set
from payouts.rules import onward_cents, onward_split
from tests.factories import UserFactory, balance, flattr, platform, supporter, thing
from tests.payouts.helpers import P

pytestmark = pytest.mark.django_db


def test_the_rule_floors_each_share_and_the_creator_keeps_the_rest():
    assert onward_cents(net=540, percent=33) == 178
    assert onward_split(net=99, percents=[50, 50]) == ([49, 49], 1)
    assert onward_split(net=0, percents=[100]) == ([0], 0)


@pytest.fixture
def month(settings):
    """Sophie gives 900: 300 to each of Claire's two things and Dora's.
    Claire (net 540) passes 10% to Bob, 33% to Dora's thing, 5% to an
    unclaimed thing and 20% to a thing that is hidden by the run; Dora
    (net 270) passes 50% to Claire; Bob, who only receives, 50% to Claire."""
    settings.FLATTR_FEE_PERCENT = 10
    claire = UserFactory(username="claire")
    dora = UserFactory(username="dora")
    bob = UserFactory(username="bob")
    eve = UserFactory(username="eve")
    sophie = supporter(budget=900, balance=5000, username="sophie")
    dora_thing = thing(owner=dora)
    for t in (thing(owner=claire), thing(owner=claire), dora_thing):
        flattr(sophie, t, P)
    hidden = thing(owner=eve)
    onward_set(
        creator=claire,
        entries=[
            ("@bob", 10),
            (str(dora_thing.pk), 33),
            ("https://lib.example.net/", 5),
            (str(hidden.pk), 20),
        ],
    )
    onward_set(creator=dora, entries=[("@claire", 50)])
    onward_set(creator=bob, entries=[("@claire", 50)])
    hidden.hidden = True
    hidden.save(update_fields=["hidden"])
    return {"claire": claire, "dora": dora, "bob": bob, "dora_thing": dora_thing}


def creator_rows(run):
    return {row.pop("username"): row for row in selectors.payout_report_creators(run=run)}


def test_the_run_passes_on_once_and_conserves(month):
    run = services.payout_run_compute(period=P)
    unclaimed = UnclaimedLine.objects.get(run=run)
    rows = creator_rows(run)
    assert rows["claire"] == {
        "gross": 600,
        "fee": 60,
        "net": 540,
        "flattrs": 2,
        "onward_out": 54 + 178 + 27,
        "onward_in": 135,
        "kept": 540 - 259,
    }
    assert rows["dora"] == {
        "gross": 300,
        "fee": 30,
        "net": 270,
        "flattrs": 1,
        "onward_out": 135,
        "onward_in": 178,
        "kept": 135,
    }
    # Bob only receives: a row of zeros but what came onward; passes nothing on.
    assert rows["bob"] == {
        "gross": 0,
        "fee": 0,
        "net": 0,
        "flattrs": 0,
        "onward_out": 0,
        "onward_in": 54,
        "kept": 0,
    }
    assert (unclaimed.amount, unclaimed.onward, unclaimed.flattrs) == (27, 27, 0)
    assert list(selectors.payout_report_onward(run=run)) == [
        {"from": "claire", "to": "bob", "thing": None, "cents": 54},
        {"from": "claire", "to": "dora", "thing": month["dora_thing"].pk, "cents": 178},
        {"from": "claire", "to": None, "thing": unclaimed.thing_id, "cents": 27},
        {"from": "dora", "to": "claire", "thing": None, "cents": 135},
    ]
    assert run.conservation_ok
    assert (run.taken, run.net, run.onward, run.onward_received, run.fee, run.unclaimed) == (
        900,
        810,
        394,
        367,
        90,
        27,
    )
    assert run.taken == run.net - run.onward + run.onward_received + run.fee + run.unclaimed
    assert run.creators == 2


def test_posting_pays_onward_exactly_once(month, admin_user):
    run = services.payout_run_compute(period=P)
    services.payout_run_approve(run=run, actor=admin_user, queue=False)
    services.payout_run_post(run_id=run.pk)
    services.payout_run_post(run_id=run.pk)
    earnings = {
        name: balance(month[name], AccountKind.EARNINGS) for name in ("claire", "dora", "bob")
    }
    assert earnings == {"claire": 540 - 259 + 135, "dora": 270 - 135 + 178, "bob": 54}
    thing_id = UnclaimedLine.objects.get(run=run).thing_id
    assert platform(AccountKind.UNCLAIMED, f"thing:{thing_id}") == 27
    assert platform(AccountKind.PAYOUT_CLEARING) == 0
    assert platform(AccountKind.PLATFORM_FEES) == 90
    keys = set(
        Transaction.objects.filter(idempotency_key__contains=":onward:").values_list(
            "idempotency_key", flat=True
        )
    )
    assert keys == {
        f"payout:2026-09:onward:{month['claire'].pk}",
        f"payout:2026-09:onward:{month['dora'].pk}",
    }


def test_a_later_list_never_rewrites_the_run(month):
    run = services.payout_run_compute(period=P)
    before = list(selectors.payout_report_onward(run=run))
    onward_set(creator=month["claire"], entries=[("@bob", 100)])
    assert list(selectors.payout_report_onward(run=run)) == before


def test_a_held_onward_share_is_claimed_without_a_second_fee(month, admin_user):
    run = services.payout_run_compute(period=P)
    services.payout_run_approve(run=run, actor=admin_user, queue=False)
    services.payout_run_post(run_id=run.pk)
    held = UnclaimedLine.objects.get(run=run)
    ada = UserFactory(username="ada")
    held_thing = type(month["dora_thing"]).objects.get(pk=held.thing_id)
    held_thing.owner = ada
    held_thing.save(update_fields=["owner"])
    nxt = services.payout_run_compute(period=dt.date(2026, 10, 1))
    held.refresh_from_db()
    assert (held.status, held.claim_fee) == ("claimed", 0)
    services.payout_run_approve(run=nxt, actor=admin_user, queue=False)
    services.payout_run_post(run_id=nxt.pk)
    assert balance(ada, AccountKind.EARNINGS) == 27


def test_a_held_onward_share_returns_to_the_creator_who_passed_it_on(month, admin_user, settings):
    settings.FLATTR_UNCLAIMED_MONTHS = 1
    run = services.payout_run_compute(period=P)
    services.payout_run_approve(run=run, actor=admin_user, queue=False)
    services.payout_run_post(run_id=run.pk)
    claire_before = balance(month["claire"], AccountKind.EARNINGS)
    nxt = services.payout_run_compute(period=dt.date(2026, 10, 1))
    assert nxt.returned == 27
    services.payout_run_approve(run=nxt, actor=admin_user, queue=False)
    services.payout_run_post(run_id=nxt.pk)
    assert balance(month["claire"], AccountKind.EARNINGS) == claire_before + 27
    thing_id = UnclaimedLine.objects.get(run=run).thing_id
    assert platform(AccountKind.UNCLAIMED, f"thing:{thing_id}") == 0


def test_a_shortfall_recomputes_the_shares_from_the_new_net(month, admin_user):
    from tests.factories import take

    run = services.payout_run_compute(period=P)
    services.payout_run_approve(run=run, actor=admin_user, queue=False)
    sophie = UserFactory._meta.model.objects.get(username="sophie")
    take(sophie, 5000 - 450)  # the wallet now holds half the amount
    services.payout_run_post(run_id=run.pk)
    run.refresh_from_db()
    assert run.conservation_ok and run.taken == 450
    claire = CreatorLine.objects.get(run=run, creator=month["claire"])
    assert claire.onward_out == sum(
        onward_cents(net=claire.net, percent=line.percent)
        for line in OnwardLine.objects.filter(run=run, from_user=month["claire"])
    )
    total = sum(balance(month[name], AccountKind.EARNINGS) for name in ("claire", "dora", "bob"))
    assert total + platform(AccountKind.PLATFORM_FEES) + run.unclaimed == 450
    assert platform(AccountKind.PAYOUT_CLEARING) == 0


def test_the_report_command_carries_the_onward_list(month, capsys):
    services.payout_run_compute(period=P)
    capsys.readouterr()
    call_command("payout_report", "2026-09", "--format", "json")
    report = json.loads(capsys.readouterr().out)
    assert report["totals"]["unclaimed"] == 27
    assert [row["from"] for row in report["onward"]] == ["claire", "claire", "claire", "dora"]
    assert {row["username"]: row["kept"] for row in report["creators"]} == {
        "bob": 0,
        "claire": 281,
        "dora": 135,
    }
