"""The connect forms: a server's name, a feed's address."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class MastodonForm(forms.Form):
    instance = forms.CharField(
        label=_("Your server"),
        max_length=300,
        help_text=_("For example mastodon.social, or your handle @you@your.server."),
        widget=forms.TextInput(attrs={"autocomplete": "url", "placeholder": "mastodon.social"}),
    )


class FeedForm(forms.Form):
    url = forms.CharField(
        label=_("Address of the feed"),
        max_length=1000,
        help_text=_("An RSS, Atom or JSON Feed of what you liked or bookmarked."),
        widget=forms.URLInput(attrs={"autocomplete": "url", "placeholder": "https://"}),
    )
