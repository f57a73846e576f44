"""Statements after a posted run, and the wallet-below-budget notice."""

import datetime as dt

import pytest
from django.core import mail

from notifications.models import Event, NotificationSettings
from payouts import notices, services
from tests.factories import UserFactory, flattr, supporter, thing

P = dt.date(2026, 9, 1)
pytestmark = pytest.mark.django_db


def test_posting_a_run_emails_each_supporter_and_creator_once_in_their_language(
    django_capture_on_commit_callbacks,
):
    creator = UserFactory(display_name="Ada")
    NotificationSettings.objects.create(user=creator, language="fr")
    fan = supporter(budget=200, balance=1000, display_name="Bob")
    song = thing(owner=creator, title="Song")
    unclaimed = thing(owner=None, title="Orphan post")
    flattr(fan, song, P, minute=1)
    flattr(fan, unclaimed, P, minute=2)
    run = services.payout_run_compute(period=P)
    services.payout_run_approve(
        run=run, actor=UserFactory(is_staff=True, is_superuser=True), queue=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_run_post(run_id=run.pk)
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == 2
    statement = by_recipient[fan.email]
    assert "2.00" in statement.subject
    assert "Song: 1.00\xa0€ (0.10\xa0€ of it to the platform)" in statement.body
    assert "Orphan post: 1.00\xa0€ (held until its creator joins)" in statement.body
    earnings = by_recipient[creator.email]
    assert earnings.subject == "Vous avez gagné 0,90 € en 2026-09"
    assert "Brut: 1,00\xa0€" in earnings.body
    # Publishing again (a retried task) sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.run_statements_publish(run_id=run.pk) == 0
    assert len(mail.outbox) == 2


def test_wallet_low_notice_only_near_month_end_and_only_for_those_who_flattred():
    now = dt.datetime(2026, 9, 28, 9, tzinfo=dt.UTC)
    low = supporter(budget=500, balance=100)
    flattr(low, thing(), P)
    supporter(budget=500, balance=100)  # did not flattr
    rich = supporter(budget=200, balance=1000)
    flattr(rich, thing(), P)
    assert notices.wallet_low_remind(now=now - dt.timedelta(days=10)) == 0
    assert notices.wallet_low_remind(now=now) == 1
    assert notices.wallet_low_remind(now=now + dt.timedelta(days=1)) == 0  # once a month
    event = Event.objects.get(type="wallet.low")
    assert event.recipient_id == low.pk
    assert (event.data["balance_cents"], event.data["budget_cents"]) == (100, 500)
