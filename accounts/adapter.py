from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import selectors
from flattr_site.http import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username, shallow=False):
        username = super().clean_username(username, shallow=shallow)
        if not shallow and selectors.username_taken(username=username):
            raise forms.ValidationError(_("This username is already taken."))
        return username

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
