"""A property test of settling: random months, random charge outcomes and
disputes; after every settle the books balance, nothing rests in the run's
clearing account but what open charges owe, and every creator has received
exactly their shares of what was collected, less the fee."""

import datetime as dt
import io
import itertools
import json

import pytest
from django.core.management import call_command
from django.test import override_settings
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from funding.models import CreatorPayout
from funding.services import dispute_allocation
from ledger.selectors import ledger_problems
from payouts.models import PayoutRun
from payouts.rules import fee_cents
from tests.factories import UserFactory, flattr, thing
from tests.funding.helpers import method, ready
from tests.payouts.helpers import run_share_amounts

months = itertools.count()

METHODS = [
    "pm_card_visa",
    "pm_card_authenticationRequired",
    "pm_card_chargeDeclinedInsufficientFunds",
    "pm_card_chargeCustomerFail",
    "pm_card_createDispute",
    "pm_sepa_debit_success",
    "pm_sepa_debit_failure",
    None,
]
COLLECTED = {"pm_card_visa", "pm_sepa_debit_success"}

month_data = st.fixed_dictionaries(
    {
        "supporters": st.lists(
            st.tuples(st.integers(1, 700), st.sampled_from(METHODS), st.integers(0, 300)),
            min_size=1,
            max_size=5,
        ),
        "creators": st.lists(st.booleans(), min_size=1, max_size=3),  # ready account?
        "flattrs": st.lists(
            st.tuples(st.integers(0, 4), st.integers(-1, 5), st.integers(0, 5)), max_size=14
        ),
        "fee_percent": st.sampled_from([0, 10, 15]),
    }
)


def _settle(label):
    out = io.StringIO()
    call_command("payout_settle", label, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
@settings(
    max_examples=10,
    deadline=None,
    # Each example is a whole month through the commands: shrinking would
    # take minutes; a failure prints the example as drawn.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(data=month_data)
def test_settling_pays_every_creator_their_share_of_what_was_collected(data):
    with override_settings(
        FLATTR_FUNDING="after",
        PAYMENT_GATEWAY="test",
        DEBUG=True,
        FLATTR_TRANSFER_AFTER_DAYS=0,
        FLATTR_FEE_PERCENT=data["fee_percent"],
        # SEPA final at the second settle (no advance-notice hold to wait for).
        FLATTR_SEPA_NOTICE_DAYS=0,
    ):
        check(data)


def check(data):
    from tests.factories import fund

    n = next(months)
    period = dt.date(2001 + n // 12, n % 12 + 1, 1)
    label = f"{period:%Y-%m}"
    creators = []
    for is_ready in data["creators"]:
        c = UserFactory()
        if is_ready:
            ready(c)
        creators.append(c)
    things = [thing(owner=creators[i % len(creators)]) for i in range(4)] + [thing(owner=None)]
    supporters = []
    for budget, pm, wallet in data["supporters"]:
        s = UserFactory(monthly_budget_cents=budget)
        fund(s, wallet)
        if pm:
            method(s, pm)
        supporters.append((s, pm))
    seen = set()
    for s_i, t_i, minute in data["flattrs"]:
        s = supporters[s_i % len(supporters)][0]
        t = things[t_i % len(things)]
        if (s.pk, t.pk) not in seen:
            seen.add((s.pk, t.pk))
            flattr(s, t, period, minute=minute)
    admin = UserFactory(is_staff=True, is_superuser=True)
    call_command("payout_compute", label, stdout=io.StringIO())
    call_command("payout_approve", label, "--by", admin.email, stdout=io.StringIO())
    run = PayoutRun.objects.get(period=period)
    first = _settle(label)
    second = _settle(label)
    assert _settle(label) == second
    for figures in (first, second):
        assert figures["conservation_ok"] is True
        assert figures["charged"]["count"] == (
            figures["succeeded"]["count"] + figures["failed"]["count"] + figures["waiting"]["count"]
        )
    assert ledger_problems() == []
    # Reference: the gross a creator collects is their shares from the
    # supporters whose way to pay collects (or whose wallet covered it all);
    # disputed charges bring nothing.
    shares = run_share_amounts(run)
    owner = {t.pk: t.owner_id for t in things}
    method_of = {s.pk: pm for s, pm in supporters}
    from funding.models import Charge

    charges = {c.supporter_id: c for c in Charge.objects.filter(run=run)}
    collected_by = {
        s
        for s, c in charges.items()
        if c.amount == 0 or method_of.get(s) in COLLECTED | {"pm_card_createDispute"}
    }
    from buttons.models import Flattr

    gross: dict[int, int] = {}
    given: dict[int, dict[int, int]] = {}
    for f in Flattr.objects.filter(period=period, pk__in=shares):
        creator = owner[f.thing_id]
        if creator is not None and f.supporter_id in collected_by:
            mine = given.setdefault(f.supporter_id, {})
            mine[creator] = mine.get(creator, 0) + shares[f.pk]
    for s, mine in given.items():
        if method_of.get(s) == "pm_card_createDispute" and charges[s].amount:
            # The card part is disputed (taken back in proportion); what the
            # wallet paid stays collected.
            for creator, cents in dispute_allocation(cents=charges[s].amount, shares=mine).items():
                mine[creator] -= cents
        for creator, cents in mine.items():
            gross[creator] = gross.get(creator, 0) + cents
    percent = data["fee_percent"]
    for c in creators:
        row = CreatorPayout.objects.filter(run=run, creator=c).first()
        g = gross.get(c.pk, 0)
        due = g - fee_cents(gross=g, percent=percent)
        assert (row.due if row else 0) == due
        received = (row.sent - row.reversed - row.debt) if row else 0
        held = row.held if row else 0
        assert received + held == due
        if hasattr(c, "payout_account"):
            assert held == 0
