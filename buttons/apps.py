from django.apps import AppConfig


class ButtonsConfig(AppConfig):
    name = "buttons"
    default_auto_field = "django.db.models.BigAutoField"
