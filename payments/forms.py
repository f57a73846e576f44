from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.money import EuroAmountField

PRESETS_CENTS = (800, 2000, 5000)


class TopUpForm(forms.Form):
    amount = EuroAmountField(label=_("Amount (€)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        amount = cast(EuroAmountField, self.fields["amount"])
        amount.min_cents = settings.FLATTR_MIN_TOPUP_CENTS
        amount.max_cents = settings.FLATTR_MAX_TOPUP_CENTS
