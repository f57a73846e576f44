"""Form helpers shared by the apps' views."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError


def form_add_refusal(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on ``form``: each field's messages
    on that field (on the form when it has no such field), plain messages
    on the form."""
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error)
