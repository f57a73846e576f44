import datetime as dt
import itertools

from buttons.models import Flattr, Thing
from ledger import services as ledger_services
from ledger.models import Account, AccountKind
from tests.factories import ThingFactory, UserFactory

_keys = itertools.count()


def fund(user, cents: int) -> None:
    if cents:
        ledger_services.transaction_post(
            kind="topup",
            idempotency_key=f"test-fund:{next(_keys)}:{user.pk}",
            legs=[
                (ledger_services.platform_account(kind=AccountKind.OUTSIDE), -cents),
                (ledger_services.wallet_account(user=user), cents),
            ],
        )


def owe(user, cents: int) -> None:
    ledger_services.transaction_post(
        kind="topup_reversal",
        idempotency_key=f"test-owe:{next(_keys)}:{user.pk}",
        legs=[
            (ledger_services.account_get(kind=AccountKind.RECEIVABLE, user=user), -cents),
            (ledger_services.platform_account(kind=AccountKind.OUTSIDE), cents),
        ],
    )


def supporter(budget: int = 200, balance: int = 1000, **kwargs):
    user = UserFactory(monthly_budget_cents=budget, **kwargs)
    fund(user, balance)
    return user


def flattr(user, thing: Thing, period: dt.date, day: int = 1, minute: int = 0) -> Flattr:
    at = dt.datetime(period.year, period.month, day, 12, minute, tzinfo=dt.UTC)
    return Flattr.objects.create(supporter=user, thing=thing, period=period, created_at=at)


def thing(owner="new", **kwargs) -> Thing:
    if owner == "new":
        return ThingFactory(**kwargs)
    return ThingFactory(owner=owner, **kwargs)


def balance(user, kind=AccountKind.WALLET) -> int:
    return (
        Account.objects.filter(user=user, kind=kind).values_list("balance", flat=True).first() or 0
    )


def platform(kind, ref="") -> int:
    return (
        Account.objects.filter(user__isnull=True, kind=kind, ref=ref)
        .values_list("balance", flat=True)
        .first()
        or 0
    )
