from django import forms
from django.utils.translation import gettext_lazy as _

from claims.models import ClaimKind, ClaimMethod


class ClaimForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is yours?"), choices=ClaimKind.choices, initial="site")
    url = forms.CharField(
        label=_("Address"),
        max_length=1000,
        help_text=_("The page, the site (optionally with a path like /blog/) or the feed."),
        widget=forms.URLInput(attrs={"placeholder": "https://example.org/"}),
    )
    method = forms.ChoiceField(
        label=_("How will you prove it?"), choices=ClaimMethod.choices, initial="meta"
    )


class FediverseProofForm(forms.Form):
    handle = forms.CharField(
        label=_("Your fediverse address"),
        max_length=300,
        help_text=_("@name@instance, or the address of your profile there."),
        widget=forms.TextInput(
            attrs={
                "placeholder": "@ada@mastodon.social",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
