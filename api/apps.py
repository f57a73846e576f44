from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Flattr REST API v2"

    def ready(self) -> None:
        from api import signals

        signals.connect()
