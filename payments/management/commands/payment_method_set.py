"""Save a test payment method for a supporter, as the setup page would:
``manage.py payment_method_set EMAIL PM_ID`` (test mode only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from payments.gateways import GatewayUnavailable, gateway_current
from payments.gateways.test import TEST_PAYMENT_METHODS, simulated_saved_method
from payments.models import Gateway
from payments.services.methods import payment_method_save


class Command(BaseCommand):
    help = (
        "Save a test payment method (pm_card_visa, pm_sepa_debit_success...) as the "
        "supporter's way to pay, replacing the active one. Only while the test-mode "
        "gateway is the current one (PAYMENT_GATEWAY=test, or no Stripe key) with DEBUG on."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("payment_method_id", metavar="PM_ID")

    def handle(self, *args, email: str, payment_method_id: str, **options) -> None:
        try:
            gateway = gateway_current()
        except GatewayUnavailable as exc:
            raise CommandError(str(exc)) from None
        if gateway.name != Gateway.TEST or not settings.DEBUG:
            raise CommandError(
                "payment_method_set works only with the test-mode gateway "
                "(PAYMENT_GATEWAY=test or no STRIPE_SECRET_KEY) and DEBUG on"
            )
        if payment_method_id not in TEST_PAYMENT_METHODS:
            raise CommandError(
                f"unknown test payment method {payment_method_id!r}; one of: "
                + ", ".join(TEST_PAYMENT_METHODS)
            )
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"no user with e-mail {email}")
        customer_id = gateway.customer_ensure(user_id=user.pk, email=user.email)
        method = payment_method_save(
            user=user,
            gateway_name=gateway.name,
            saved=simulated_saved_method(
                customer_id=customer_id, payment_method_id=payment_method_id
            ),
        )
        self.stdout.write(f"{user.email}: {payment_method_id} saved ({method})")
