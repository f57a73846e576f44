"""``payout_settle``: each test payment method's path, figures to the cent."""

import pytest

from funding.models import Charge, ChargeStatus, CreatorPayout, Transfer
from ledger.models import AccountKind
from ledger.selectors import ledger_problems
from tests.factories import UserFactory, balance, flattr, thing
from tests.funding.helpers import P, approve, method, ready, settle

pytestmark = pytest.mark.django_db


def zero(count=0, cents=0):
    return {"count": count, "cents": cents}


@pytest.fixture
def month(after, admin_user):
    """Sophie (budget 2.00) flattred four of Claire's things and one
    unclaimed thing: 40 cents each; 1.60 charged, 0.40 pledged."""
    claire = UserFactory(username="claire")
    ready(claire)
    sophie = UserFactory(username="sophie", monthly_budget_cents=200)
    for minute in range(4):
        flattr(sophie, thing(owner=claire), P, minute=minute)
    flattr(sophie, thing(owner=None), P, minute=9)
    return claire, sophie


def test_visa_is_charged_once_and_the_creator_paid_net_of_the_fee(month):
    claire, sophie = month
    method(sophie, "pm_card_visa")
    approve()
    charge = Charge.objects.get()
    assert (charge.amount, charge.status) == (160, ChargeStatus.QUEUED)
    assert balance(sophie, AccountKind.RECEIVABLE) == -160
    figures = settle()
    assert figures == {
        "charged": zero(1, 160),
        "succeeded": zero(1, 160),
        "failed": zero(),
        "waiting": zero(),
        "pledged": zero(1, 40),
        "transferred": zero(1, 144),
        "disputed": zero(),
        "conservation_ok": True,
    }
    assert balance(sophie, AccountKind.RECEIVABLE) == 0
    assert balance(claire, AccountKind.EARNINGS) == 0
    assert Transfer.objects.get().idempotency_key.startswith("transfer:")
    assert settle() == figures
    assert ledger_problems() == []
