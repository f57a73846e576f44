from django.apps import AppConfig


class FundingConfig(AppConfig):
    """Pay after the month (``FLATTR_FUNDING=after``): each supporter is
    charged once a run is approved, creators are paid by transfer from what
    was collected, and no supporter money rests on the books between months
    (docs/payments.md, "Funding modes")."""

    name = "funding"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from funding.hooks import AfterFundingHalf
        from funding.notices import funding_notices_connect
        from funding.selectors import funding_problems
        from ledger.selectors import problems_check_register
        from payouts.funding_hook import after_funding_register

        after_funding_register(AfterFundingHalf())
        problems_check_register(funding_problems)
        funding_notices_connect()

        from funding import webhooks
        from payments.signals import payment_method_saved
        from payments.webhooks import after_mode_fetchers, after_mode_handlers

        after_mode_handlers.update(webhooks.HANDLERS)
        after_mode_fetchers.update(webhooks.FETCHERS)
        payment_method_saved.connect(_method_saved, dispatch_uid="funding_charges_method_saved")


def _method_saved(sender: object, *, user: object, **kwargs: object) -> None:
    """A supporter saved a way to pay: their charges waiting for one go on."""
    from funding.services import charges_method_saved

    charges_method_saved(user=user)  # type: ignore[arg-type]
