"""Personal access tokens: bearer tokens a user makes for their own scripts.

Only a SHA-256 hash of the token is stored; the token itself is shown once.
OAuth2 applications, grants and tokens are django-oauth-toolkit's models.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Every personal token starts with this, so a leaked one is recognisable
# (secret scanners) and told apart from OAuth2 access tokens at once.
PERSONAL_TOKEN_PREFIX = "flattr_pat_"


class PersonalToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="personal_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=80)
    # hex SHA-256 of the whole token; the token is never stored.
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    # The first characters after the prefix, to tell tokens apart in lists.
    token_hint = models.CharField(_("token hint"), max_length=12)
    scope = models.CharField(_("scopes"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("personal access token")
        verbose_name_plural = _("personal access tokens")
        indexes = [models.Index(fields=["user", "-created_at"], name="personal_token_user")]

    def __str__(self) -> str:
        return f"{self.name} ({PERSONAL_TOKEN_PREFIX}{self.token_hint}…)"

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()


class SpentAuthorizationCode(models.Model):
    """An OAuth2 authorization code that was exchanged, and the tokens it
    gave: a second exchange of the same code revokes them (RFC 6749 4.1.2),
    since one of the two parties presenting it is not the client."""

    # hex SHA-256 of the code; the code itself is not kept.
    code_hash = models.CharField(_("code hash"), max_length=64, unique=True)
    application = models.ForeignKey(
        "oauth2_provider.Application",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("application"),
    )
    access_token = models.ForeignKey(
        "oauth2_provider.AccessToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("access token"),
    )
    # The refresh tokens rotated from the first one share this family.
    token_family = models.UUIDField(_("token family"), null=True, blank=True)
    spent_at = models.DateTimeField(_("spent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("spent authorization code")
        verbose_name_plural = _("spent authorization codes")
        indexes = [models.Index(fields=["application", "spent_at"], name="spent_code_app_time")]

    def __str__(self) -> str:
        return f"code {self.code_hash[:8]}…"
