"""Refunds and disputes take money back, into a receivable if it was spent."""

import pytest
from django.urls import reverse

from ledger import selectors as ledger_selectors
from ledger.models import AccountKind, Transaction
from tests.factories import platform, take
from tests.payments.helpers import start_topup
from tests.stripe_fake import payment_intent, post_event, session_obj


def _spend(user, cents: int) -> None:
    """``cents`` of the supporter's wallet gone to creators in a payout."""
    take(user, cents, to=AccountKind.PAYOUT_CLEARING, kind="payout")


@pytest.mark.django_db
class TestRefundsAndDisputes:
    def test_full_refund_takes_back_the_net_and_the_platform_eats_the_fee(self, client, paid_topup):
        user, topup = paid_topup
        post_event(
            client,
            "charge.refunded",
            {
                "id": topup.charge_id,
                "payment_intent": topup.payment_intent_id,
                "amount_refunded": 800,
            },
        )
        assert ledger_selectors.wallet_balance(user=user) == 0
        assert ledger_selectors.receivable_owed(user=user) == 0
        assert platform(AccountKind.OUTSIDE) == 0
        assert platform(AccountKind.PROCESSOR_FEES, "refunds") == -37
        assert ledger_selectors.ledger_problems() == []

    def test_partial_refunds_each_count_once(self, client, paid_topup):
        user, topup = paid_topup
        for total in (200, 200, 500):  # the second is a replay of the first state
            post_event(client, "charge.refunded", {"id": topup.charge_id, "amount_refunded": total})
        topup.refresh_from_db()
        assert topup.reversed_cents == 500
        # 500 refunded: fee share 37*500//800 = 23, wallet gives 477.
        assert ledger_selectors.wallet_balance(user=user) == 763 - 477
        assert ledger_selectors.ledger_problems() == []

    def test_refund_after_spending_records_a_receivable_and_blocks(self, client, paid_topup):
        user, topup = paid_topup
        # The supporter's money went to creators in a payout meanwhile.
        _spend(user, 700)
        post_event(
            client,
            "charge.dispute.created",
            {"id": "dp_1", "charge": topup.charge_id, "amount": 800},
        )
        assert ledger_selectors.wallet_balance(user=user) == 0
        assert ledger_selectors.receivable_owed(user=user) == 700
        assert ledger_selectors.ledger_problems() == []
        page = client.get(reverse("wallet"))
        assert "You owe" in page.content.decode()

    def test_a_later_topup_settles_the_receivable_first(self, client, paid_topup, stripe_fake):
        user, topup = paid_topup
        _spend(user, 763)
        post_event(client, "charge.refunded", {"id": topup.charge_id, "amount_refunded": 800})
        assert ledger_selectors.receivable_owed(user=user) == 763
        _, second = start_topup(client, user, "20")
        stripe_fake.route(
            "get",
            f"/v1/payment_intents/pi_{second.pk}",
            payment_intent(f"pi_{second.pk}", 55, "ch_second"),
        )
        post_event(client, "checkout.session.completed", session_obj(second))
        assert ledger_selectors.receivable_owed(user=user) == 0
        assert ledger_selectors.wallet_balance(user=user) == 2000 - 55 - 763
        assert ledger_selectors.ledger_problems() == []

    def test_refund_for_an_unknown_charge_moves_nothing(self, client, stripe_fake):
        r = post_event(client, "charge.refunded", {"id": "ch_nope", "amount_refunded": 100})
        assert r.json()["result"] == "refused"
        assert not Transaction.objects.exists()
