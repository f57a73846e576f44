"""A chargeback on a top-up whose cents a pending wallet refund reserved:
the dispute is booked in full, and what the refund reserved on that charge
is released into the dispute in the same transaction (issue #22, item 4)."""

import pytest
from django.urls import reverse

from ledger import selectors as ledger_selectors
from ledger import services as ledger
from ledger.models import AccountKind
from payments.models import TopUp
from payments.withdrawals import services
from payments.withdrawals.models import Withdrawal, WithdrawalStatus
from tests.factories import UserFactory
from tests.payments.helpers import start_topup
from tests.stripe_fake import payment_intent, post_event, session_obj
from yourdata.services import WalletChoice, account_delete

pytestmark = pytest.mark.django_db

FEE = 175  # Stripe's fee on the 100 EUR charge


def balance(kind, ref=""):
    return ledger_selectors.account_balance(account=ledger.platform_account(kind=kind, ref=ref))


def books(user):
    """(outside, fee losses on refunds, wallet, pending refund, receivable)."""
    return (
        balance(AccountKind.OUTSIDE),
        balance(AccountKind.PROCESSOR_FEES, "refunds"),
        ledger_selectors.wallet_balance(user=user),
        ledger_selectors.user_balance(user=user, kind=AccountKind.PENDING_WITHDRAWAL),
        ledger_selectors.receivable_owed(user=user),
    )


def dispute(client, topup, amount, dispute_id="dp_1"):
    response = post_event(
        client,
        "charge.dispute.created",
        {"id": dispute_id, "object": "dispute", "charge": topup.charge_id, "amount": amount},
    )
    assert response.status_code == 200, response.content
    assert response.json()["result"] == "processed"


def admin_action(client, staff, withdrawal, action, reason=""):
    client.force_login(staff)
    return client.post(
        reverse("admin:withdrawals_withdrawal_changelist"),
        {"action": action, "_selected_action": [withdrawal.pk], "confirm": "1", "reason": reason},
    )


@pytest.fixture
def patron(client, stripe_fake):
    """A patron who paid 100 EUR through Stripe (fee 1.75): 98.25 in the wallet."""
    user = UserFactory()
    _response, topup = start_topup(client, user, "100")
    stripe_fake.route(
        "get",
        f"/v1/payment_intents/pi_{topup.pk}",
        payment_intent(f"pi_{topup.pk}", FEE, f"ch_{topup.pk}"),
    )
    assert post_event(client, "checkout.session.completed", session_obj(topup)).status_code == 200
    client.logout()
    stripe_fake.route(
        "post",
        "/v1/refunds",
        lambda params, call: {"id": f"re_{params['payment_intent']}", "object": "refund"},
    )
    topup.refresh_from_db()
    assert ledger_selectors.wallet_balance(user=user) == 9825
    return user, topup


def delete_with_refund(user):
    account_delete(user=user, wallet_choice=WalletChoice.REFUND)
    refund = Withdrawal.objects.get(user=user)
    assert refund.status == WithdrawalStatus.AWAITING_REVIEW and refund.amount_cents == 9825
    return refund


def test_a_full_dispute_on_a_pending_refund_is_booked_in_full_and_cancels_it(client, staff, patron):
    user, topup = patron
    refund = delete_with_refund(user)
    outside, fees, *_ = books(user)

    dispute(client, topup, 10000)

    # The issuer took 100 EUR: 98.25 out of the pending refund, the 1.75 fee
    # (which Stripe keeps) a platform loss; nothing owed, nothing left.
    assert books(user) == (outside + 10000, fees - FEE, 0, 0, 0)
    refund.refresh_from_db()
    assert refund.status == WithdrawalStatus.CANCELLED
    assert refund.refunds == []
    assert "dp_1" in refund.reason
    topup.refresh_from_db()
    assert topup.reversed_cents == 10000
    # Staff can no longer reject it back into the deleted wallet, or pay it.
    admin_action(client, staff, refund, "reject", "too late")
    services.withdrawal_pay(withdrawal_id=refund.pk)
    refund.refresh_from_db()
    assert refund.status == WithdrawalStatus.CANCELLED
    assert books(user) == (outside + 10000, fees - FEE, 0, 0, 0)
    assert ledger_selectors.ledger_problems() == []


def test_a_partial_dispute_on_a_pending_refund_reduces_it(client, staff, stripe_fake, patron):
    user, topup = patron
    refund = delete_with_refund(user)
    outside, fees, *_ = books(user)

    dispute(client, topup, 5000)

    # 50.00 disputed: its fee share is 0.87, so 49.13 leave the pending refund
    # and 49.12 stay in it, still to be refunded to the card.
    assert books(user) == (outside + 5000, fees - 87, 0, 4912, 0)
    refund.refresh_from_db()
    assert refund.status == WithdrawalStatus.AWAITING_REVIEW
    assert refund.amount_cents == 4912
    assert refund.refunds == [{"topup_id": topup.pk, "amount_cents": 4912}]
    topup.refresh_from_db()
    assert topup.reversed_cents == 5000 + 4912

    admin_action(client, staff, refund, "approve")
    services.withdrawal_pay(withdrawal_id=refund.pk)
    refunds = [c for c in stripe_fake.calls if c["path"] == "/v1/refunds"]
    assert [c["params"]["amount"] for c in refunds] == ["4912"]
    refund.refresh_from_db()
    assert refund.status == WithdrawalStatus.PAID
    assert books(user) == (outside + 5000 + 4912, fees - 87, 0, 0, 0)
    assert ledger_selectors.ledger_problems() == []


def test_a_partial_dispute_then_a_rejected_refund_returns_only_what_is_left(client, staff, patron):
    user, topup = patron
    refund = delete_with_refund(user)
    outside, fees, *_ = books(user)
    dispute(client, topup, 5000)

    assert admin_action(client, staff, refund, "reject", "stolen card").status_code == 302

    refund.refresh_from_db()
    assert refund.status == WithdrawalStatus.REJECTED
    assert books(user) == (outside + 5000, fees - 87, 4912, 0, 0)
    topup.refresh_from_db()
    assert topup.reversed_cents == 5000
    assert ledger_selectors.ledger_problems() == []


def test_a_repeated_dispute_event_changes_nothing_more(client, patron):
    user, topup = patron
    refund = delete_with_refund(user)
    dispute(client, topup, 5000, dispute_id="dp_1")
    after = books(user)

    # The same dispute again under another event id (Stripe resends it as
    # updated, or sends created twice): booked once.
    dispute(client, topup, 5000, dispute_id="dp_1")

    assert books(user) == after
    refund.refresh_from_db()
    assert refund.amount_cents == 4912
    assert ledger_selectors.ledger_problems() == []


def test_a_full_dispute_before_the_deletion_leaves_nothing_to_refund(client, patron):
    user, topup = patron
    outside, fees, *_ = books(user)

    dispute(client, topup, 10000)
    account_delete(user=user, wallet_choice=WalletChoice.REFUND)

    assert not Withdrawal.objects.filter(user=user).exists()
    assert books(user) == (outside + 10000, fees - FEE, 0, 0, 0)
    topup.refresh_from_db()
    assert topup.reversed_cents == 10000
    assert ledger_selectors.ledger_problems() == []


def test_a_partial_dispute_before_the_deletion_refunds_the_rest(client, patron):
    user, topup = patron
    outside, fees, *_ = books(user)

    dispute(client, topup, 5000)
    account_delete(user=user, wallet_choice=WalletChoice.REFUND)

    refund = Withdrawal.objects.get(user=user)
    assert refund.refunds == [{"topup_id": topup.pk, "amount_cents": 4912}]
    assert books(user) == (outside + 5000, fees - 87, 0, 4912, 0)
    topup.refresh_from_db()
    assert topup.reversed_cents == 5000 + 4912
    assert ledger_selectors.ledger_problems() == []


def test_a_dispute_while_the_refund_is_being_paid_waits_for_its_outcome(client, staff, patron):
    user, topup = patron
    refund = delete_with_refund(user)
    admin_action(client, staff, refund, "approve")
    client.logout()
    outside, fees, *_ = books(user)

    # The refund is in flight: whether it went through is not known yet,
    # so the dispute is answered 503 and Stripe delivers it again later.
    response = post_event(
        client,
        "charge.dispute.created",
        {"id": "dp_1", "charge": topup.charge_id, "amount": 10000},
        event_id="evt_dispute_in_flight",
    )
    assert response.status_code == 503
    assert books(user) == (outside, fees, 0, 9825, 0)

    services.withdrawal_pay(withdrawal_id=refund.pk)
    response = post_event(
        client,
        "charge.dispute.created",
        {"id": "dp_1", "charge": topup.charge_id, "amount": 10000},
        event_id="evt_dispute_in_flight",
    )
    assert response.status_code == 200
    # The refund went out first: the dispute takes what the charge still had.
    assert books(user) == (outside + 9825 + FEE, fees - 4, 0, 0, 171)
    assert ledger_selectors.ledger_problems() == []
    assert TopUp.objects.get(pk=topup.pk).reversed_cents == 10000


def test_a_dispute_on_a_charge_reserved_beyond_its_net_returns_the_unrefundable_cents(
    client, stripe_fake, patron
):
    user, older = patron
    _response, newer = start_topup(client, user, "100")
    stripe_fake.route(
        "get",
        f"/v1/payment_intents/pi_{newer.pk}",
        payment_intent(f"pi_{newer.pk}", FEE, f"ch_{newer.pk}"),
    )
    post_event(client, "checkout.session.completed", session_obj(newer))
    client.logout()
    newer.refresh_from_db()
    account_delete(user=user, wallet_choice=WalletChoice.REFUND)
    refund = Withdrawal.objects.get(user=user)
    # 196.50 in the wallet: all of the newer charge, 96.50 of the older one.
    assert refund.refunds == [
        {"topup_id": newer.pk, "amount_cents": 10000},
        {"topup_id": older.pk, "amount_cents": 9650},
    ]
    outside, fees, *_ = books(user)

    dispute(client, newer, 10000)

    # 98.25 (the newer charge's net) go to the dispute; the other 1.75 the
    # plan held on that charge can no longer be refunded on it and go back
    # to the wallet; the older charge's refund stays as planned.
    assert books(user) == (outside + 10000, fees - FEE, FEE, 9650, 0)
    refund.refresh_from_db()
    assert refund.status == WithdrawalStatus.AWAITING_REVIEW
    assert refund.amount_cents == 9650
    assert refund.refunds == [{"topup_id": older.pk, "amount_cents": 9650}]
    newer.refresh_from_db()
    assert newer.reversed_cents == 10000
    assert ledger_selectors.ledger_problems() == []
