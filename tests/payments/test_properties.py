"""Any sequence of top-ups, refunds, disputes, adjustments and spending
keeps every invariant that ``ledger_check`` checks."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from ledger.models import Account, AccountKind
from payments import services
from payments.models import Gateway, TopUp, TopUpStatus
from tests.factories import UserFactory

counter = itertools.count()

operation = st.one_of(
    st.tuples(st.just("topup"), st.integers(min_value=500, max_value=50_000)),
    st.tuples(
        st.just("refund"),
        st.integers(min_value=0, max_value=10),
        st.integers(min_value=1, max_value=50_000),
    ),
    st.tuples(st.just("dispute"), st.integers(min_value=0, max_value=10)),
    st.tuples(st.just("adjust"), st.integers(min_value=-20_000, max_value=20_000).filter(bool)),
    st.tuples(st.just("spend"), st.integers(min_value=1, max_value=30_000)),
)


@pytest.mark.django_db
@given(ops=st.lists(operation, min_size=1, max_size=12))
def test_any_sequence_keeps_the_ledger_consistent(ops):
    n = next(counter)
    user = UserFactory(username=f"prop{n}")
    staff = UserFactory(username=f"propstaff{n}", is_staff=True)
    topups: list[TopUp] = []
    expected_wallet = 0
    for i, op in enumerate(ops):
        kind = op[0]
        if kind == "topup":
            topup = TopUp.objects.create(user=user, amount_cents=op[1], gateway=Gateway.TEST)
            owed_before = ledger_selectors.receivable_owed(user=user)
            services.simulated_checkout_pay(topup=topup)
            net = op[1] - services.simulated_gateway_fee(op[1])
            expected_wallet += net - min(owed_before, net)
            topups.append(topup)
        elif kind in ("refund", "dispute") and topups:
            topup = topups[op[1] % len(topups)]
            topup.refresh_from_db()
            amount = op[2] if kind == "refund" else topup.amount_cents
            before = ledger_selectors.wallet_balance(user=user)
            services.topup_reverse(
                topup=topup, amount_cents=amount, idempotency_key=f"p{n}:{i}", reason=kind
            )
            assert ledger_selectors.wallet_balance(user=user) <= before
            expected_wallet = ledger_selectors.wallet_balance(user=user)
        elif kind == "adjust":
            try:
                ledger_services.wallet_adjust(
                    user=user, amount_cents=op[1], reason="prop", staff=staff
                )
                expected_wallet += op[1]
            except ledger_services.InsufficientFunds:
                assert expected_wallet + op[1] < 0
        elif kind == "spend":
            wallet = ledger_services.wallet_account(user=user)
            clearing = ledger_services.platform_account(kind=AccountKind.PAYOUT_CLEARING)
            try:
                ledger_services.transaction_post(
                    kind="payout",
                    idempotency_key=f"p{n}:{i}",
                    legs=[(wallet, -op[1]), (clearing, op[1])],
                )
                expected_wallet -= op[1]
            except ledger_services.InsufficientFunds:
                assert expected_wallet - op[1] < 0
        assert ledger_selectors.wallet_balance(user=user) == expected_wallet
        assert ledger_selectors.wallet_balance(user=user) >= 0
        assert ledger_selectors.receivable_owed(user=user) >= 0
        assert ledger_selectors.ledger_problems() == []
    # Money is conserved: every cent that exists is somewhere.
    assert sum(Account.objects.values_list("balance", flat=True)) == 0
    for topup in TopUp.objects.filter(user=user):
        assert topup.status == TopUpStatus.SUCCEEDED
        assert 0 <= topup.reversed_cents <= topup.amount_cents
