from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ButtonsConfig(AppConfig):
    name = "buttons"
    verbose_name = _("Buttons and flattrs")
    default_auto_field = "django.db.models.BigAutoField"
