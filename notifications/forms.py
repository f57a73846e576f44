from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.models import OPTIONAL_EMAIL_TYPES, DigestFrequency, Language


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
