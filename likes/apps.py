from django.apps import AppConfig


class LikesConfig(AppConfig):
    """Connected accounts: likes on the open web (Mastodon favourites,
    GitHub stars, feeds of likes) become flattrs through the same flattr
    service as the button (docs/connected-accounts.md)."""

    name = "likes"
    default_auto_field = "django.db.models.BigAutoField"
