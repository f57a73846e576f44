from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.conf import settings
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

from accounts import selectors
from core.http import client_ip

SITE_NAME = "Open Flattr"


@dataclass(frozen=True)
class PlatformSite:
    """What allauth's e-mails call ``current_site``: the platform's name, not
    the host and port the request happened to arrive on."""

    name: str
    domain: str


def platform_site() -> PlatformSite:
    return PlatformSite(name=SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc)


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username, shallow=False):
        username = super().clean_username(username, shallow=shallow)
        if not shallow and selectors.username_taken(username=username):
            raise forms.ValidationError(_("This username is already taken."))
        return username

    def format_email_subject(self, subject: str) -> str:
        return f"[{SITE_NAME}] {force_str(subject)}"

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        super().send_mail(template_prefix, email, {**context, "current_site": platform_site()})

    def get_client_ip(self, request) -> str:
        # One reading of X-Forwarded-For (TRUSTED_PROXY_COUNT) for login
        # limits and flattr limits alike.
        return client_ip(request)

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # allauth locks an account after N failures from anywhere, so anyone
        # can lock a victim out by typing wrong passwords for their e-mail.
        # Count failures per account *and* address: the owner, from their
        # own address, still gets in (ACCOUNT_RATE_LIMITS["login_failed"]).
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{self.get_client_ip(request)}"
