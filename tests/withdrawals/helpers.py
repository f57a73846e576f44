from django.urls import reverse

from ledger import selectors as ledger_selectors
from ledger.models import AccountKind
from payments.withdrawals.models import PayoutAccount
from tests.factories import UserFactory, earn


def creator_with(net=5000, status="enabled", stripe_id=None):
    user = UserFactory()
    earn(user, net)
    PayoutAccount.objects.create(
        user=user, status=status, stripe_account_id=stripe_id, test_mode=stripe_id is None
    )
    return user


def earnings(user):
    return ledger_selectors.earnings_balance(user=user)


def pending(user):
    return ledger_selectors.user_balance(user=user, kind=AccountKind.PENDING_WITHDRAWAL)


def withdraw(client, user, amount):
    client.force_login(user)
    return client.post(reverse("earnings"), {"amount": amount})
