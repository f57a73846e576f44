"""What people see of pay after the month: the dashboard's forecast, My
months with the confirm page, creator earnings, the admin run page and the
e-mails (each once, in English and French)."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse

from funding.models import Charge, ChargeStatus
from notifications.emails import email_render
from notifications.models import Email, Event, NotificationSettings
from payouts.models import PayoutRun
from payouts.services.compute import current_period
from tests.factories import UserFactory, flattr, thing
from tests.funding.helpers import P, approve, method, ready, settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(after, admin_user):
    """Sophie (budget 2.00) flattred four of Claire's things and one
    unclaimed thing in September: 1.60 charged, 0.40 pledged."""
    claire = UserFactory(username="claire")
    ready(claire)
    sophie = UserFactory(username="sophie", monthly_budget_cents=200)
    for minute in range(4):
        flattr(sophie, thing(owner=claire), P, minute=minute)
    flattr(sophie, thing(owner=None), P, minute=9)
    return claire, sophie


def events(type_):
    return list(Event.objects.filter(type=type_).order_by("created_at"))


# --- Dashboard -------------------------------------------------------------


@pytest.fixture
def this_month(after):
    claire = UserFactory(username="claire")
    sophie = UserFactory(username="sophie", monthly_budget_cents=200)
    now = current_period()
    for minute in range(4):
        flattr(sophie, thing(owner=claire), now, minute=minute)
    flattr(sophie, thing(owner=None), now, minute=9)
    return sophie


def test_dashboard_tells_the_next_charge_to_the_saved_card(client, this_month):
    method(this_month, "pm_card_visa")
    client.force_login(this_month)
    page = client.get(reverse("dashboard")).content.decode().replace("\xa0", " ")
    assert "we will charge 1.60 € to your Visa ending 4242 for your 4 flattrs" in page
    assert "0.40 € goes to things not claimed yet" in page
    assert "Your wallet is empty" not in page  # nobody tops up in after mode


def test_dashboard_without_a_way_to_pay_tells_what_saving_one_gives(client, this_month):
    client.force_login(this_month)
    page = client.get(reverse("dashboard")).content.decode().replace("\xa0", " ")
    assert "Your 5 flattrs count as pledges" in page
    assert "they give 1.60 € to their creators" in page
    assert reverse("payment_method") in page


def test_dashboard_in_french(client, this_month):
    method(this_month, "pm_sepa_debit_success")
    client.force_login(this_month)
    page = (
        client.get(reverse("dashboard"), HTTP_ACCEPT_LANGUAGE="fr")
        .content.decode()
        .replace("\xa0", " ")
    )
    assert "nous prélèverons" in page and "3000" in page


def test_wallet_mode_dashboard_is_unchanged(client, settings):
    settings.FLATTR_FUNDING = "wallet"
    client.force_login(UserFactory())
    page = client.get(reverse("dashboard")).content.decode().replace("\xa0", " ")
    assert 'data-testid="after-forecast"' not in page
    assert "Your wallet is empty" in page


# --- My months and the confirm page ----------------------------------------


def test_authentication_required_through_the_email_link(client, month):
    claire, sophie = month
    method(sophie, "pm_card_authenticationRequired")
    approve()
    settle()
    settle()
    charge = Charge.objects.get()
    (event,) = events("charge.action_required")  # once, however many settles
    confirm = reverse("charge_confirm", args=[charge.pk])
    assert event.data["confirm_path"] == confirm
    client.force_login(sophie)
    months = client.get(reverse("my_months")).content.decode().replace("\xa0", " ")
    assert confirm in months and "Waiting for the supporter" in months
    assert "1.60 €" in client.get(confirm).content.decode().replace("\xa0", " ")
    # Someone else's charge is not theirs to see.
    other = UserFactory()
    client.force_login(other)
    assert client.get(confirm).status_code == 404
    client.force_login(sophie)
    response = client.post(confirm)
    assert response.status_code == 302
    back = reverse("charge_confirmed", args=[charge.pk])
    assert back in response["Location"] and charge.payment_intent_id in response["Location"]
    # A tampered return names another payment: nothing moves.
    client.get(back + "?payment_intent=pi_other")
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.REQUIRES_ACTION
    page = client.get(response["Location"], follow=True).content.decode().replace("\xa0", " ")
    assert "your payment went through" in page
    charge.refresh_from_db()
    assert charge.status == ChargeStatus.SUCCEEDED
    # Coming back twice moves nothing twice.
    client.get(response["Location"])
    figures = settle()
    assert figures["succeeded"] == {"count": 1, "cents": 160}
    assert figures["transferred"] == {"count": 1, "cents": 144}
    assert figures["conservation_ok"] is True


def test_my_months_lists_charged_and_pledged(client, month):
    claire, sophie = month
    method(sophie, "pm_card_visa")
    approve()
    settle()
    client.force_login(sophie)
    page = client.get(reverse("my_months")).content.decode().replace("\xa0", " ")
    assert 'data-testid="charge-charged"' in page
    assert "1.60 €" in page and "0.40 €" in page


def test_my_months_in_after_mode_never_speaks_of_a_wallet_reservation(client, month):
    """A month computed but not yet approved is not taken from a wallet in
    after mode: it is charged once approved, and My months says so."""
    import io

    from django.core.management import call_command

    from tests.funding.helpers import MONTH

    claire, sophie = month
    method(sophie, "pm_card_visa")
    call_command("payout_compute", MONTH, stdout=io.StringIO())
    client.force_login(sophie)
    page = client.get(reverse("my_months")).content.decode().replace("\xa0", " ")
    assert "reserved in your wallet" not in page
    assert "charged to your way to pay once the month is approved" in page


# --- E-mails -----------------------------------------------------------------


def test_declined_then_given_up_each_emailed_once_with_the_retry_date(month, settings):
    claire, sophie = month
    method(sophie, "pm_card_chargeDeclinedInsufficientFunds")
    approve()
    settle()
    settle()
    (declined,) = events("charge.declined")
    charge = Charge.objects.get()
    assert declined.data["next_attempt"] == charge.next_attempt_at.date().isoformat()
    later = charge.first_failed_at
    for days in (1, 3, 7):
        from funding.services import run_settle

        run_settle(run=PayoutRun.objects.get(), now=later + dt.timedelta(days=days, hours=1))
    assert len(events("charge.declined")) == 3
    assert len(events("charge.given_up")) == 1


def test_a_refused_card_asks_for_a_new_way_to_pay(month):
    claire, sophie = month
    method(sophie, "pm_card_chargeCustomerFail")
    approve()
    settle()
    settle()
    (event,) = events("charge.needs_method")
    assert event.data["method_path"] == reverse("payment_method")


def test_creator_told_of_the_transfer_and_the_dispute_told_to_everyone(
    month, django_capture_on_commit_callbacks
):
    claire, sophie = month
    method(sophie, "pm_card_createDispute")
    approve()
    with django_capture_on_commit_callbacks(execute=True):
        settle()
        settle()
    (sent,) = events("transfer.sent")
    assert (sent.recipient_id, sent.data["amount_cents"]) == (claire.pk, 144)
    (disputed,) = events("charge.disputed")
    assert (disputed.recipient_id, disputed.data["amount_cents"]) == (sophie.pk, 160)
    (recovered,) = events("dispute.recovered")
    assert (recovered.recipient_id, recovered.data["gross_cents"]) == (claire.pk, 160)


def test_sepa_debits_are_announced_with_the_mandate_reference(
    month, settings, django_capture_on_commit_callbacks
):
    settings.FLATTR_SEPA_NOTICE_DAYS = 2
    claire, sophie = month
    saved = method(sophie, "pm_sepa_debit_success")
    saved.mandate_reference = "TEST-MANDATE-3000"
    saved.save()
    with django_capture_on_commit_callbacks(execute=True):
        approve()
    (notice,) = events("charge.sepa_notice")
    run = PayoutRun.objects.get()
    assert notice.data["amount_cents"] == 160
    assert notice.data["mandate_reference"] == "TEST-MANDATE-3000"
    assert notice.data["date"] == (run.approved_at + dt.timedelta(days=2)).date().isoformat()
    settle()
    assert len(events("charge.sepa_notice")) == 1


def test_the_emails_render_in_english_and_french(month, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    claire, sophie = month
    method(sophie, "pm_card_authenticationRequired")
    approve()
    settle()
    event = events("charge.action_required")[0]
    email = Email(event=event, to=sophie.email)
    message = email_render(email=email)
    assert "confirm the payment of 1.60 €" in message.body.replace("\xa0", " ")
    assert event.data["confirm_path"] in message.body.replace("\xa0", " ")
    assert "Unsubscribe" not in message.body.replace("\xa0", " ")  # nobody switches this one off
    NotificationSettings.objects.create(user=sophie, language="fr")
    message = email_render(email=email)
    assert "confirmer" in message.body.replace("\xa0", " ").lower()
    assert mail.outbox is not None


# --- Creator earnings and the admin run page ----------------------------------


def test_creator_earnings_show_expected_collected_transferred_owed(client, month):
    claire, sophie = month
    method(sophie, "pm_card_visa")
    approve()
    settle()
    client.force_login(claire)
    page = client.get(reverse("earnings")).content.decode().replace("\xa0", " ")
    assert 'data-testid="after-earnings"' in page
    assert page.count("1.44 €") >= 3  # expected, collected, transferred


def test_admin_run_page_shows_charging_progress(client, month, admin_user):
    claire, sophie = month
    method(sophie, "pm_card_chargeDeclinedInsufficientFunds")
    approve()
    settle()
    run = PayoutRun.objects.get()
    client.force_login(admin_user)
    page = (
        client.get(reverse("admin:payouts_payoutrun_change", args=[run.pk]))
        .content.decode()
        .replace("\xa0", " ")
    )
    assert 'data-testid="run-charging"' in page
    assert "insufficient_funds" in page
    charge = Charge.objects.get()
    retry = reverse("admin:funding_charge_retry", args=[charge.pk])
    assert (
        retry
        in client.get(reverse("admin:funding_charge_change", args=[charge.pk])).content.decode()
    )
    assert "Retry this charge now?" in client.get(retry).content.decode()
    assert Charge.objects.get().attempts == 1  # a GET tries nothing
    client.post(retry)
    charge.refresh_from_db()
    assert (charge.attempts, charge.status) == (2, ChargeStatus.FAILED)
    # A supporter without the permission cannot.
    client.force_login(UserFactory(is_staff=True))
    assert client.post(retry).status_code == 403
    assert Charge.objects.get().attempts == 2


# --- Demo ---------------------------------------------------------------------


def test_the_demo_shows_a_month_paid_after_it(settings, capsys):
    import io

    from django.core.management import call_command

    from funding.models import Transfer, TransferStatus
    from ledger.selectors import ledger_problems
    from payments.models import PaymentMethod

    settings.FLATTR_FUNDING = "after"
    settings.PAYMENT_GATEWAY = "test"
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    posted = PayoutRun.objects.get(status="posted")
    assert posted.funding == "after"
    charges = Charge.objects.filter(run=posted, amount__gt=0)
    assert charges.exists()
    status = dict(charges.values_list("supporter__username", "status"))
    assert status["sophie"] == ChargeStatus.SUCCEEDED
    # Marc's SEPA debit was announced at posting and waits for its date.
    assert status["marc"] == ChargeStatus.HELD
    marc = Charge.objects.get(run=posted, supporter__username="marc")
    (notice,) = Event.objects.filter(type="charge.sepa_notice", recipient__username="marc")
    assert notice.data["date"] == marc.debit_from.date().isoformat()
    assert status["patron"] == ChargeStatus.REQUIRES_ACTION
    assert Event.objects.filter(
        type="charge.action_required", recipient__username="patron"
    ).exists()
    assert Transfer.objects.filter(payout__run=posted, status=TransferStatus.SENT).exists()
    assert PaymentMethod.objects.filter(
        user__email="patron@example.com", payment_method_id="pm_card_authenticationRequired"
    ).exists()
    assert ledger_problems() == []
    call_command("seed_demo", stdout=io.StringIO())  # again: nothing twice
    assert Charge.objects.filter(run=posted).count() == charges.count()


def test_the_flattr_page_in_after_mode_needs_no_wallet_money(client, this_month):
    client.force_login(this_month)
    claimed = thing(owner=UserFactory())
    page = client.get(reverse("thing_detail", args=[claimed.pk])).content.decode()
    assert "Your wallet is empty" not in page
    assert 'class="flattr-confirm"' in page
    assert "Without a saved way to pay your flattrs count as pledges" in page
