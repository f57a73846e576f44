from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _

# django-oauth-toolkit names its app and models in English only (no
# verbose_name, no French catalogue): the admin said "Django OAuth Toolkit",
# "Access tokens", "Grants" on French pages. Named here, translated in
# api's catalogue. Set on _meta only (not Meta's original attributes), so
# the toolkit's migrations see no change.
OAUTH_MODEL_NAMES = {
    "application": (_("OAuth application"), _("OAuth applications")),
    "accesstoken": (_("access token"), _("access tokens")),
    "refreshtoken": (_("refresh token"), _("refresh tokens")),
    "grant": (_("authorisation grant"), _("authorisation grants")),
    "idtoken": (_("ID token"), _("ID tokens")),
}


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("Flattr REST API v2")

    def ready(self) -> None:
        from api import signals

        # The cached principal and marks are replaced when tokens or users change.
        signals.connect()
        if not apps.is_installed("oauth2_provider"):
            return
        oauth = apps.get_app_config("oauth2_provider")
        oauth.verbose_name = _("OAuth (applications and tokens)")
        for model in oauth.get_models():
            names = OAUTH_MODEL_NAMES.get(model._meta.model_name or "")
            if names:
                model._meta.verbose_name, model._meta.verbose_name_plural = names
