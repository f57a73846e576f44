import datetime as dt

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def period_has_run(period: dt.date) -> bool:
    """A month's flattrs are final once its payout run exists (computed,
    whatever its status): buttons refuses to take one back then."""
    from payouts.models import PayoutRun

    return PayoutRun.objects.filter(period=period).exists()


class PayoutsConfig(AppConfig):
    name = "payouts"
    verbose_name = _("Monthly payouts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from buttons.rules import period_final_check_register

        period_final_check_register(period_has_run)
