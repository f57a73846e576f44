from django.apps import AppConfig


class WithdrawalsConfig(AppConfig):
    """Money out: Stripe Connect onboarding and withdrawals of earnings."""

    name = "payments.withdrawals"
    label = "withdrawals"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the Connect webhook handlers.
        from payments.withdrawals import services  # noqa: F401
