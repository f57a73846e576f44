from django import forms
from django.utils.translation import gettext_lazy as _

from api.scopes import SCOPES


class ApplicationForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=255)
    redirect_uris = forms.CharField(
        label=_("Redirect URIs"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line. The authorize page only sends codes to these addresses."),
    )
    client_type = forms.ChoiceField(
        label=_("Client type"),
        choices=[
            ("confidential", _("Confidential: a server that keeps its secret")),
            ("public", _("Public: a desktop, mobile or browser app (PKCE required)")),
        ],
        widget=forms.RadioSelect,
        initial="confidential",
    )


class PersonalTokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("What the token is for."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=[(k, f"{k}: {v}") for k, v in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
