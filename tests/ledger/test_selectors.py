"""Reading the ledger: statements paginated without counting."""

import pytest

from ledger import selectors, services
from tests.factories import UserFactory, outside_account


@pytest.mark.django_db
class TestStatementPages:
    def _wallet_with(self, n):
        user = UserFactory()
        wallet = services.wallet_account(user=user)
        for i in range(n):
            services.transaction_post(
                kind="topup",
                idempotency_key=f"s{i}",
                legs=[(outside_account(), -(i + 1)), (wallet, i + 1)],
            )
        return wallet

    def test_pages_link_newer_and_older_without_counting(self, django_assert_num_queries):
        wallet = self._wallet_with(7)
        with django_assert_num_queries(1):
            first = selectors.statement_page(account=wallet, page=1, per_page=3)
            assert [p.amount for p in first] == [7, 6, 5]
            assert first.has_next() and not first.has_previous()
            assert first.next_page_number() == 2
            assert first[0].transaction.kind == "topup"  # joined, no extra query
        last = selectors.statement_page(account=wallet, page="3", per_page=3)
        assert [p.amount for p in last] == [1]
        assert not last.has_next() and last.previous_page_number() == 2

    @pytest.mark.parametrize("number, expected", [("abc", [7, 6, 5]), ("0", [7, 6, 5]), (99, [1])])
    def test_bad_numbers_give_first_page_and_past_the_end_the_last(self, number, expected):
        wallet = self._wallet_with(7)
        page = selectors.statement_page(account=wallet, page=number, per_page=3)
        assert [p.amount for p in page] == expected

    def test_an_empty_statement_is_one_empty_page(self):
        wallet = services.wallet_account(user=UserFactory())
        page = selectors.statement_page(account=wallet, page=1)
        assert list(page) == [] and not page.has_next()
