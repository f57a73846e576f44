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
