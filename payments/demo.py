"""Demo supporters get a funded wallet through the test-mode gateway's path."""

from django.db import transaction

from payments import services
from payments.models import Gateway, TopUp


def seed(*, users, stdout) -> None:
    for key, cents in (("supporter1", 2000), ("supporter2", 2000), ("patron", 30_000)):
        user = users.get(key)
        if user is None or TopUp.objects.filter(user=user, gateway=Gateway.TEST).exists():
            continue
        with transaction.atomic():
            topup = TopUp.objects.create(user=user, amount_cents=cents, gateway=Gateway.TEST)
        services.simulated_checkout_pay(topup=topup)
        stdout.write(f"Funded {user.email}'s wallet with a {cents / 100:.2f} EUR test top-up.")
