from django.apps import AppConfig


class FundingConfig(AppConfig):
    """Pay after the month (``FLATTR_FUNDING=after``): each supporter is
    charged once a run is approved, creators are paid by transfer from what
    was collected, and no supporter money rests on the books between months
    (docs/payments.md, "Funding modes")."""

    name = "funding"
    default_auto_field = "django.db.models.BigAutoField"
