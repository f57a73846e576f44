from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WithdrawalsConfig(AppConfig):
    """Money out: Stripe Connect onboarding and withdrawals of earnings."""

    name = "payments.withdrawals"
    label = "withdrawals"
    verbose_name = _("Withdrawals")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registers the Connect webhook handlers.
        from payments.withdrawals import services  # noqa: F401
