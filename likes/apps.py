from django.apps import AppConfig


class LikesConfig(AppConfig):
    """Connected accounts: likes on the open web (Mastodon favourites,
    GitHub stars, feeds of likes) become flattrs through the same flattr
    service as the button (docs/connected-accounts.md)."""

    name = "likes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # My flattrs (buttons) says where a like-flattr came from, in our words.
        from buttons.models import FlattrSource
        from buttons.origins import origin_describer_register
        from likes.overview import origins_for_flattrs

        origin_describer_register(
            sources=[FlattrSource.MASTODON, FlattrSource.GITHUB, FlattrSource.FEED],
            describer=origins_for_flattrs,
        )
