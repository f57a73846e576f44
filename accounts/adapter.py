from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.utils.translation import gettext_lazy as _

from accounts import selectors


class AccountAdapter(DefaultAccountAdapter):
    def clean_username(self, username, shallow=False):
        username = super().clean_username(username, shallow=shallow)
        if not shallow and selectors.username_taken(username=username):
            raise forms.ValidationError(_("This username is already taken."))
        return username
