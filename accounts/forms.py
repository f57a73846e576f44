from typing import cast

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import User, username_validator
from core.money import EuroAmountField


class SignupForm(AllauthSignupForm):
    """allauth's sign-up with our username rules (case-insensitive unique)."""

    def clean_username(self):
        value = super().clean_username()
        username_validator(value)
        return value


class SettingsForm(forms.ModelForm):
    monthly_budget = EuroAmountField(
        label=_("Monthly budget (€)"),
        help_text=_("Split at the end of each month among everything you flattred."),
    )

    class Meta:
        model = User
        fields = ["display_name", "bio", "website", "flattrs_public"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4, "maxlength": 1000})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(EuroAmountField, self.fields["monthly_budget"])
        field.min_cents = settings.FLATTR_MIN_BUDGET_CENTS
        field.max_cents = settings.FLATTR_MAX_BUDGET_CENTS
        field.initial = self.instance.monthly_budget_cents
