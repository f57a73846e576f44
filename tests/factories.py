import datetime as dt
import itertools

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import User
from buttons.models import Category, Flattr, Thing
from ledger import services as ledger_services
from ledger.models import Account, AccountKind, Transaction

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    display_name = factory.Faker("name")
    monthly_budget_cents = 200

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)

    @factory.post_generation
    def wallet_cents(obj, create, extracted, **kwargs):
        """``UserFactory(wallet_cents=1000)``: a user whose wallet holds 10 EUR."""
        if create and extracted:
            fund(obj, extracted)


class ThingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Thing

    owner = factory.SubFactory(UserFactory)
    url = factory.Sequence(lambda n: f"https://blog.example.org/post-{n}")
    title = factory.Sequence(lambda n: f"Post number {n}")
    description = "A thing worth flattring."
    category = Category.TEXT


def month_start(when: dt.datetime) -> dt.date:
    return when.date().replace(day=1)


class FlattrFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flattr

    supporter = factory.SubFactory(UserFactory)
    thing = factory.SubFactory(ThingFactory)
    created_at = factory.LazyFunction(timezone.now)
    period = factory.LazyAttribute(lambda o: month_start(o.created_at))


# --- Money helpers: post real ledger transactions, read real balances --------

_keys = itertools.count()


def outside_account() -> Account:
    return ledger_services.platform_account(kind=AccountKind.OUTSIDE)


def fund(
    user: User, cents: int = 1000, *, key: str | None = None
) -> tuple[Account, Transaction | None]:
    """Credit ``user``'s wallet as a top-up would; returns (wallet, transaction).
    Zero cents posts nothing (a transaction moves money or does not exist)."""
    wallet = ledger_services.wallet_account(user=user)
    if not cents:
        return wallet, None
    txn, _ = ledger_services.transaction_post(
        kind="topup",
        idempotency_key=key or f"test-fund:{next(_keys)}:{user.pk}",
        legs=[(outside_account(), -cents), (wallet, cents)],
    )
    return wallet, txn


def take(
    user: User, cents: int, *, to: str = AccountKind.OUTSIDE, kind: str = "topup_reversal"
) -> None:
    """Take ``cents`` out of ``user``'s wallet to the platform account ``to``:
    by default a card refund; ``to=PAYOUT_CLEARING, kind="payout"`` spends
    them in a payout."""
    ledger_services.transaction_post(
        kind=kind,
        idempotency_key=f"test-take:{next(_keys)}:{user.pk}",
        legs=[
            (ledger_services.wallet_account(user=user), -cents),
            (ledger_services.platform_account(kind=to), cents),
        ],
    )


def owe(user: User, cents: int) -> None:
    """Leave ``user`` owing ``cents`` (a receivable), as a refund after spending does."""
    ledger_services.transaction_post(
        kind="topup_reversal",
        idempotency_key=f"test-owe:{next(_keys)}:{user.pk}",
        legs=[
            (ledger_services.account_get(kind=AccountKind.RECEIVABLE, user=user), -cents),
            (outside_account(), cents),
        ],
    )


def earn(user: User, net: int, month: str = "2026-08") -> None:
    """A payout-shaped credit to ``user``'s earnings, as the monthly run posts it."""
    fee = net // 9
    year, number = month.split("-")
    ledger_services.transaction_post(
        kind="payout",
        idempotency_key=f"payout:{month}:creator:{user.pk}:{next(_keys)}",
        reference=ledger_services.Reference(
            source="payouts.payoutrun", period=dt.date(int(year), int(number), 1)
        ),
        legs=[
            (ledger_services.platform_account(kind=AccountKind.PAYOUT_CLEARING), -(net + fee)),
            (ledger_services.earnings_account(user=user), net),
            (ledger_services.platform_account(kind=AccountKind.PLATFORM_FEES), fee),
        ],
    )


def supporter(budget: int = 200, balance: int = 1000, **kwargs) -> User:
    """A user with a monthly budget and a funded wallet."""
    return UserFactory(monthly_budget_cents=budget, wallet_cents=balance, **kwargs)


def flattr(user: User, thing: Thing, period: dt.date, day: int = 1, minute: int = 0) -> Flattr:
    at = dt.datetime(period.year, period.month, day, 12, minute, tzinfo=dt.UTC)
    return Flattr.objects.create(supporter=user, thing=thing, period=period, created_at=at)


def thing(owner: User | None | str = "new", **kwargs) -> Thing:
    if owner == "new":
        return ThingFactory(**kwargs)
    return ThingFactory(owner=owner, **kwargs)


def balance(user: User, kind: str = AccountKind.WALLET) -> int:
    return (
        Account.objects.filter(user=user, kind=kind).values_list("balance", flat=True).first() or 0
    )


def platform(kind: str, ref: str = "") -> int:
    """The balance of a platform account (0 if it was never used)."""
    return (
        Account.objects.filter(user__isnull=True, kind=kind, ref=ref)
        .values_list("balance", flat=True)
        .first()
        or 0
    )
