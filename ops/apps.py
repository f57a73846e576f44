from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Running the platform: metrics, the read-replica router, the pooler
    helper and the restore drill (docs/operations.md)."""

    name = "ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from ops import metrics

        metrics.install()
