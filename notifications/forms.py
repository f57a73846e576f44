from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import OPTIONAL_EMAIL_TYPES, WEBHOOK_TYPES, DigestFrequency, Language


class NotificationSettingsForm(forms.Form):
    language = forms.ChoiceField(label=_("Language of e-mails"), choices=Language.choices)
    digest = forms.ChoiceField(
        label=_("Digest of new flattrs and subscribers"), choices=DigestFrequency.choices
    )
    enabled = forms.MultipleChoiceField(
        label=_("E-mail me about"),
        choices=[(t.value, t.label) for t in OPTIONAL_EMAIL_TYPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class WebhookEndpointForm(forms.Form):
    url = forms.CharField(label=_("Endpoint URL"), max_length=1000)
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    types = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(t.value, t.value) for t in WEBHOOK_TYPES],
        widget=forms.CheckboxSelectMultiple,
    )
