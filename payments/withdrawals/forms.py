from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.money import EuroAmountField


class WithdrawForm(forms.Form):
    amount = EuroAmountField(label=_("Amount to withdraw (€)"))

    def __init__(self, *args, balance: int, **kwargs):
        super().__init__(*args, **kwargs)
        amount = cast(EuroAmountField, self.fields["amount"])
        amount.min_cents = settings.FLATTR_MIN_WITHDRAWAL_CENTS
        amount.max_cents = balance
        amount.initial = balance
