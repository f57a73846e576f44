"""Demo supporters get a funded wallet through the test-mode gateway's path."""

from django.db import transaction

from payments import services
from payments.models import Gateway, TopUp


def seed(*, users, stdout) -> None:
    for key in ("supporter1", "supporter2"):
        user = users[key]
        if TopUp.objects.filter(user=user, gateway=Gateway.TEST).exists():
            continue
        with transaction.atomic():
            topup = TopUp.objects.create(user=user, amount_cents=2000, gateway=Gateway.TEST)
        services.test_checkout_pay(topup=topup)
        stdout.write(f"Funded {user.email}'s wallet with a 20.00 EUR test top-up.")
