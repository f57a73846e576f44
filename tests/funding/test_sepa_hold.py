"""SEPA debits wait for their advance notice (issue 24, item 3): never sent
to the processor before ``notice_at + FLATTR_SEPA_NOTICE_DAYS``; time moves
as in the retry tests, by ``run_settle(now=...)``."""

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from funding.models import Charge, ChargeAttempt, ChargeStatus
from funding.selectors import run_figures
from funding.services import run_settle
from ledger.selectors import ledger_problems
from notifications.emails import email_render
from notifications.models import Email, Event, NotificationSettings
from payouts.models import PayoutRun
from tests.concurrency import at_once
from tests.factories import UserFactory, flattr, thing
from tests.funding.helpers import P, approve, method, ready, settle

pytestmark = pytest.mark.django_db


def zero(count=0, cents=0):
    return {"count": count, "cents": cents}


def notices(user=None):
    events = Event.objects.filter(type="charge.sepa_notice").order_by("pk")
    return list(events.filter(recipient=user) if user else events)


@pytest.fixture
def month(after, admin_user):
    """Sophie (budget 2.00) flattred four of Claire's things and one
    unclaimed thing: 1.60 charged, 0.40 pledged. Two days of notice."""
    after.FLATTR_SEPA_NOTICE_DAYS = 2
    claire = UserFactory(username="claire")
    ready(claire)
    sophie = UserFactory(username="sophie", email="sophie@example.org", monthly_budget_cents=200)
    for minute in range(4):
        flattr(sophie, thing(owner=claire), P, minute=minute)
    flattr(sophie, thing(owner=None), P, minute=9)
    return claire, sophie


def save(user, pm, capture):
    """Save a way to pay as the pages do (``payment_method_set``); its
    ``payment_method_saved`` signal runs on commit."""
    with capture(execute=True):
        call_command("payment_method_set", user.email, pm, stdout=io.StringIO())


def test_a_sepa_debit_is_held_until_the_date_its_notice_named(
    month, django_capture_on_commit_callbacks
):
    claire, sophie = month
    method(sophie, "pm_sepa_debit_success")
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        approve()
    charge = Charge.objects.get()
    assert charge.status == ChargeStatus.HELD
    assert before <= charge.notice_at <= timezone.now()
    assert charge.debit_from == charge.notice_at + dt.timedelta(days=2)
    (notice,) = notices(sophie)
    assert notice.data["date"] == timezone.localdate(charge.debit_from).isoformat()
    assert notice.data["amount_cents"] == 160
    # Held: counted as waiting, nothing sent to the processor.
    figures = settle()
    assert figures["charged"] == zero(1, 160)
    assert figures["waiting"] == zero(1, 160)
    assert figures["succeeded"] == figures["transferred"] == zero()
    assert figures["conservation_ok"] is True
    run = PayoutRun.objects.get()
    run_settle(run=run, now=charge.debit_from - dt.timedelta(seconds=1))
    assert not ChargeAttempt.objects.exists()
    assert Charge.objects.get().payment_intent_id == ""
    # At the date: sent, processing; final at the next settle.
    run_settle(run=run, now=charge.debit_from)
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == (ChargeStatus.PROCESSING, 1)
    assert run_figures(run=run)["waiting"] == zero(1, 160)
    figures = settle()
    assert figures["succeeded"] == zero(1, 160)
    assert figures["transferred"] == zero(1, 144)
    assert len(notices()) == 1
    assert ledger_problems() == []


def test_a_card_is_never_held(month, django_capture_on_commit_callbacks):
    claire, sophie = month
    method(sophie, "pm_card_visa")
    with django_capture_on_commit_callbacks(execute=True):
        approve()
    assert settle()["succeeded"] == zero(1, 160)
    charge = Charge.objects.get()
    assert (charge.notices, charge.debit_from) == (0, None)
    assert notices() == []


def test_no_hold_with_zero_days_of_notice(month, settings):
    claire, sophie = month
    settings.FLATTR_SEPA_NOTICE_DAYS = 0
    method(sophie, "pm_sepa_debit_success")
    approve()
    assert settle()["waiting"] == zero(1, 160)
    assert Charge.objects.get().status == ChargeStatus.PROCESSING
    assert settle()["succeeded"] == zero(1, 160)


def test_a_notice_missed_at_posting_is_given_at_the_first_try_and_the_debit_waits(month):
    # Posting's notices run on commit; here they never ran: the first try
    # gives the notice and waits.
    claire, sophie = month
    method(sophie, "pm_sepa_debit_success")
    approve()
    assert Charge.objects.get().status == ChargeStatus.QUEUED
    assert settle()["waiting"] == zero(1, 160)
    charge = Charge.objects.get()
    assert charge.status == ChargeStatus.HELD
    (notice,) = notices(sophie)
    assert notice.data["date"] == timezone.localdate(charge.debit_from).isoformat()
    assert not ChargeAttempt.objects.exists()
    settle()
    assert len(notices()) == 1 and not ChargeAttempt.objects.exists()


def test_switching_from_sepa_to_a_card_before_the_date_charges_the_card_at_once(
    month, django_capture_on_commit_callbacks
):
    claire, sophie = month
    save(sophie, "pm_sepa_debit_success", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        approve()
    assert Charge.objects.get().status == ChargeStatus.HELD
    save(sophie, "pm_card_visa", django_capture_on_commit_callbacks)
    charge = Charge.objects.get()
    # The saved signal queued it (workers are eager in tests): charged now.
    assert charge.status == ChargeStatus.SUCCEEDED
    assert charge.debit_from is None
    (attempt,) = ChargeAttempt.objects.all()
    assert attempt.payment_method_id == "pm_card_visa"
    assert settle()["transferred"] == zero(1, 144)


def test_a_mandate_saved_after_the_notices_gets_its_own_notice_and_hold(
    month, django_capture_on_commit_callbacks
):
    claire, sophie = month
    with django_capture_on_commit_callbacks(execute=True):
        approve()
    assert settle()["failed"] == zero(1, 160)
    assert Charge.objects.get().status == ChargeStatus.NEEDS_METHOD
    assert notices() == []
    saved_at = timezone.now()
    save(sophie, "pm_sepa_debit_success", django_capture_on_commit_callbacks)
    charge = Charge.objects.get()
    assert charge.status == ChargeStatus.FAILED
    assert charge.notice_at >= saved_at
    assert charge.next_attempt_at == charge.debit_from == charge.notice_at + dt.timedelta(days=2)
    (notice,) = notices(sophie)
    assert notice.data["date"] == timezone.localdate(charge.debit_from).isoformat()
    assert notice.data["mandate_reference"].startswith("TEST-")
    run = PayoutRun.objects.get()
    run_settle(run=run, now=charge.debit_from - dt.timedelta(minutes=1))
    assert not ChargeAttempt.objects.exists()
    run_settle(run=run, now=charge.debit_from)
    charge.refresh_from_db()
    assert (charge.status, charge.attempts) == (ChargeStatus.PROCESSING, 1)


def test_a_queued_charge_whose_supporter_switches_to_sepa_is_announced_then(
    month, django_capture_on_commit_callbacks
):
    claire, sophie = month
    method(sophie, "pm_card_visa")
    approve()  # not tried yet (the charging is queued on commit)
    save(sophie, "pm_sepa_debit_success", django_capture_on_commit_callbacks)
    charge = Charge.objects.get()
    assert charge.status == ChargeStatus.HELD
    assert len(notices(sophie)) == 1
    assert settle()["waiting"] == zero(1, 160)
    assert not ChargeAttempt.objects.exists()


def test_a_declined_card_switched_to_sepa_waits_for_the_new_notice(
    month, django_capture_on_commit_callbacks
):
    claire, sophie = month
    method(sophie, "pm_card_chargeDeclinedInsufficientFunds")
    approve()
    settle()
    charge = Charge.objects.get()
    assert charge.status == ChargeStatus.FAILED
    schedule = charge.next_attempt_at
    save(sophie, "pm_sepa_debit_success", django_capture_on_commit_callbacks)
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.FAILED
    # The schedule's day (one day after the decline) comes before the notice
    # period ends: the retry waits for the date the notice names.
    assert charge.next_attempt_at == charge.debit_from == charge.notice_at + dt.timedelta(days=2)
    assert charge.next_attempt_at > schedule
    run = PayoutRun.objects.get()
    run_settle(run=run, now=schedule + dt.timedelta(minutes=1))
    assert charge.attempts_made.count() == 1
    run_settle(run=run, now=charge.debit_from)
    assert charge.attempts_made.count() == 2
    assert Charge.objects.get().status == ChargeStatus.PROCESSING


def test_a_failed_sepa_retry_gets_a_new_notice_naming_its_date(month):
    claire, sophie = month
    method(sophie, "pm_sepa_debit_failure")
    approve()
    settle()  # the notice
    run = PayoutRun.objects.get()
    run_settle(run=run, now=Charge.objects.get().debit_from)  # processing
    settle()  # failed
    charge = Charge.objects.get()
    assert charge.status == ChargeStatus.FAILED
    base = f"sepa-notice:{charge.run.label}:{sophie.pk}"
    assert sorted(n.key for n in notices(sophie)) == [base, f"{base}:2"]
    second = Event.objects.get(key=f"{base}:2")
    assert second.data["date"] == timezone.localdate(charge.debit_from).isoformat()
    (declined,) = Event.objects.filter(type="charge.declined")
    assert declined.data["next_attempt"] == charge.next_attempt_at.date().isoformat()
    assert charge.next_attempt_at == charge.debit_from
    assert charge.debit_from >= charge.first_failed_at + dt.timedelta(days=1)
    assert charge.debit_from >= charge.notice_at + dt.timedelta(days=2)
    run_settle(run=run, now=charge.debit_from - dt.timedelta(seconds=1))
    assert charge.attempts_made.count() == 1
    run_settle(run=run, now=charge.debit_from)
    assert charge.attempts_made.count() == 2


def test_an_admin_retry_does_not_debit_before_the_announced_date(month):
    from funding.retry import RetryRefused, charge_retry_now

    claire, sophie = month
    method(sophie, "pm_sepa_debit_failure")
    approve()
    settle()
    run_settle(run=PayoutRun.objects.get(), now=Charge.objects.get().debit_from)
    settle()
    charge = Charge.objects.get()
    with pytest.raises(RetryRefused, match="announced"):
        charge_retry_now(charge_id=charge.pk)
    assert charge.attempts_made.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_settles_racing_at_the_due_time_debit_once(after, admin_user, monkeypatch):
    from funding import tasks

    monkeypatch.setattr(tasks.charge_chunk, "delay", lambda *args: None)
    after.FLATTR_SEPA_NOTICE_DAYS = 2
    claire = UserFactory()
    ready(claire)
    supporters = []
    for i in range(4):
        s = UserFactory(monthly_budget_cents=100 + i)
        flattr(s, thing(owner=claire), P)
        method(s, "pm_sepa_debit_success")
        supporters.append(s)
    approve()
    run = PayoutRun.objects.get()
    assert Charge.objects.filter(status=ChargeStatus.HELD).count() == 4
    due = max(Charge.objects.values_list("debit_from", flat=True))
    results = at_once(2, lambda i: run_settle(run=run, now=due))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert ChargeAttempt.objects.count() == 4
    # Processing, or already final if one settle saw what the other debited.
    assert set(Charge.objects.values_list("status", flat=True)) <= {
        ChargeStatus.PROCESSING,
        ChargeStatus.SUCCEEDED,
    }
    run_settle(run=run, now=due)
    run_settle(run=run, now=due)
    assert run_figures(run=run)["succeeded"] == zero(4, 406)
    assert ChargeAttempt.objects.count() == 4
    assert len(notices()) == 4
    assert ledger_problems() == []


def test_the_notice_email_names_the_debit_date_in_english_and_french(
    month, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    claire, sophie = month
    method(sophie, "pm_sepa_debit_success")
    with django_capture_on_commit_callbacks(execute=True):
        approve()
    charge = Charge.objects.get()
    (notice,) = notices(sophie)
    date = timezone.localdate(charge.debit_from).isoformat()
    email = Email(event=notice, to=sophie.email)
    message = email_render(email=email)
    body = message.body.replace("\xa0", " ")
    assert f"On or after {date} we will debit 1.60 €" in body
    NotificationSettings.objects.create(user=sophie, language="fr")
    body = email_render(email=email).body.replace("\xa0", " ")
    assert date in body
    assert "prélèverons" in body
    assert mail.outbox is not None


def test_the_pages_say_when_a_held_debit_is_made(
    client, month, admin_user, django_capture_on_commit_callbacks
):
    from django.utils.formats import date_format

    claire, sophie = month
    method(sophie, "pm_sepa_debit_success")
    with django_capture_on_commit_callbacks(execute=True):
        approve()
    charge = Charge.objects.get()
    day = date_format(timezone.localtime(charge.debit_from), "DATE_FORMAT")
    client.force_login(sophie)
    months = client.get(reverse("my_months")).content.decode().replace("\xa0", " ")
    assert f"debited on {day}" in months
    dashboard = client.get(reverse("dashboard")).content.decode().replace("\xa0", " ")
    assert 'data-testid="held-debit"' in dashboard
    assert f"debited on {day}" in dashboard
    client.force_login(admin_user)
    run = PayoutRun.objects.get()
    page = (
        client.get(reverse("admin:payouts_payoutrun_change", args=[run.pk]))
        .content.decode()
        .replace("\xa0", " ")
    )
    assert 'data-testid="run-held"' in page
    assert f"debited on {day}" in page
    # In French too.
    client.force_login(sophie)
    months = client.get(reverse("my_months"), headers={"accept-language": "fr"})
    with translation.override("fr"):
        day_fr = date_format(timezone.localtime(charge.debit_from), "DATE_FORMAT")
    assert f"prélevé le {day_fr}" in months.content.decode().replace("\xa0", " ")


def test_posting_announces_every_sepa_debit_in_batches(
    after, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    from funding.services import advance

    monkeypatch.setattr(advance, "BATCH", 2)
    after.FLATTR_SEPA_NOTICE_DAYS = 2
    claire = UserFactory()
    ready(claire)
    for pm in ["pm_sepa_debit_success", "pm_card_visa"] * 2 + ["pm_sepa_debit_success"] * 3:
        s = UserFactory(monthly_budget_cents=100)
        flattr(s, thing(owner=claire), P)
        method(s, pm)
    with django_capture_on_commit_callbacks(execute=True):
        approve()
    assert Charge.objects.filter(status=ChargeStatus.HELD).count() == 5
    assert len(notices()) == 5
    assert Charge.objects.filter(status=ChargeStatus.SUCCEEDED).count() == 2
