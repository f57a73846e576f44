from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Registered so the `money` template tags load; no models."""

    name = "core"
    verbose_name = "Core"
