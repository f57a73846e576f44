"""Demo supporters get a funded wallet through the test-mode gateway's path:
enough for the posted month, the draft run's reservation and several months
more (sophie gives 15 EUR a month, marc 10 EUR), so they have money to give.
Seeding again tops sophie's and marc's wallets up once they hold less than
three months of budget (an existing ``.data/`` gets funded too)."""

from django.db import transaction

from ledger import selectors as ledger_selectors
from payments import services
from payments.models import Gateway, TopUp

# (user key, top-up in cents, top up again below this balance; None: once)
FUNDING = (("supporter1", 8000, 4500), ("supporter2", 5000, 3000), ("patron", 30_000, None))


def seed(*, users, stdout) -> None:
    from django.conf import settings

    if settings.FLATTR_FUNDING == "after":
        # Charged after the month (funding/demo.py): no wallet to fund.
        return
    for key, cents, floor in FUNDING:
        user = users.get(key)
        if user is None:
            continue
        if TopUp.objects.filter(user=user, gateway=Gateway.TEST).exists() and (
            floor is None or ledger_selectors.wallet_balance(user=user) >= floor
        ):
            continue
        with transaction.atomic():
            topup = TopUp.objects.create(user=user, amount_cents=cents, gateway=Gateway.TEST)
        services.simulated_checkout_pay(topup=topup)
        stdout.write(f"Funded {user.email}'s wallet with a {cents / 100:.2f} EUR test top-up.")
