from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = _("Claims")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The buttons publish a creator's proven accounts (rel="me",
        # fediverse:creator) without importing claims.
        from buttons.creator_links import creator_links_provider_register
        from claims.selectors import proven_creator_links

        creator_links_provider_register(proven_creator_links)
