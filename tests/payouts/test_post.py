"""Posting a run to the ledger (payouts.services.post)."""

import pytest

from ledger import selectors as ledger_selectors
from ledger.models import AccountKind, Transaction
from payouts import services
from payouts.models import CreatorLine, RunStatus
from tests.factories import UserFactory, balance, flattr, platform, supporter, take, thing
from tests.payouts.helpers import P, compute, post, shares_of

pytestmark = pytest.mark.django_db


class TestConservationAndPosting:
    def test_taken_equals_net_plus_fee_plus_unclaimed_plus_charity(self, admin_user):
        creators = [UserFactory() for _ in range(3)]
        for i in range(7):
            s = supporter(budget=97 + i * 13)
            for j in range(i % 4 + 1):
                flattr(s, thing(owner=creators[(i + j) % 3]), P, minute=j)
            flattr(s, thing(owner=None), P, minute=59)
        run = compute()
        assert run.conservation_ok
        assert run.taken == run.net + run.fee + run.unclaimed + run.charity
        before_fees = platform(AccountKind.PLATFORM_FEES)
        post(run, admin_user)
        run.refresh_from_db()
        assert run.status == RunStatus.POSTED
        for c in creators:
            assert (
                balance(c, AccountKind.EARNINGS) == CreatorLine.objects.get(run=run, creator=c).net
            )
        assert platform(AccountKind.PLATFORM_FEES) - before_fees == run.fee
        assert platform(AccountKind.PAYOUT_CLEARING) == 0
        assert ledger_selectors.ledger_problems() == []

    def test_posting_follows_the_ledger_contract(self, admin_user):
        creator = UserFactory()
        s = supporter(budget=200)
        flattr(s, thing(owner=creator), P)
        post(compute(), admin_user)
        txn = Transaction.objects.get(idempotency_key=f"payout:2026-09:creator:{creator.pk}")
        legs = {p.account.kind: p.amount for p in txn.postings.select_related("account")}
        assert legs == {"payout_clearing": -200, "earnings": 180, "platform_fees": 20}
        assert txn.kind == "payout" and txn.memo == "Payout 2026-09"
        assert Transaction.objects.filter(idempotency_key="payout:2026-09:supporters:0").exists()

    def test_a_wallet_spent_since_computing_is_recomputed_never_overdrawn(self, admin_user):
        creator = UserFactory()
        s = supporter(budget=300, balance=300)
        flattr(s, thing(owner=creator), P)
        flattr(s, thing(owner=creator), P)
        run = compute()
        assert run.taken == 300
        take(s, 250)  # a card refund takes most of the wallet after computing
        run = post(run, admin_user)
        assert run.taken == 50 and run.conservation_ok
        assert balance(s) == 0
        assert balance(creator, AccountKind.EARNINGS) == 45
        assert sorted(shares_of(s)) == [25, 25]
        assert ledger_selectors.ledger_problems() == []

    def test_a_shortfall_refuses_the_chunk_then_posts_it_once_with_every_wallet(self, admin_user):
        creator = UserFactory()
        spender, steady = supporter(budget=300, balance=300), supporter(budget=120, balance=500)
        for s in (spender, steady):
            flattr(s, thing(owner=creator), P)
        run = compute()
        assert run.supporter_lines.values("chunk").distinct().count() == 1
        take(spender, 200)  # a card refund after computing
        run = post(run, admin_user)
        assert (balance(spender), balance(steady)) == (0, 380)
        assert run.taken == 100 + 120 and run.conservation_ok
        assert balance(creator, AccountKind.EARNINGS) == 90 + 108
        assert (
            Transaction.objects.filter(
                idempotency_key__startswith="payout:2026-09:supporters:"
            ).count()
            == 1
        )
        assert ledger_selectors.ledger_problems() == []

    def test_posting_twice_posts_once(self, admin_user):
        s = supporter(budget=200)
        flattr(s, thing(), P)
        run = post(compute(), admin_user)
        count = Transaction.objects.count()
        services.payout_run_post(run_id=run.pk)
        assert Transaction.objects.count() == count
        assert balance(s) == 800
