from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from buttons.models import Category, Thing

http_url = URLValidator(schemes=["http", "https"], message=_("Enter an http or https address."))


class HttpURLField(forms.URLField):
    """A URL field with one validator: Django's default one and ours would
    each report the same bad address ("Enter a valid URL." twice)."""

    default_validators = [http_url]


class ThingForm(forms.ModelForm):
    url = HttpURLField(label=_("URL"), max_length=1000, assume_scheme="https")

    class Meta:
        model = Thing
        fields = ["url", "title", "description", "category", "tags", "language", "hidden"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "tags": _("Comma-separated."),
            "hidden": _("Hidden things cannot be flattred."),
        }


class AutoSubmitForm(forms.Form):
    """The classic Flattr auto-submit parameters (also ``data-flattr-*``)."""

    user_id = forms.CharField(required=False, max_length=40)
    owner = forms.CharField(required=False, max_length=40)
    url = HttpURLField(max_length=1000, assume_scheme="https")
    title = forms.CharField(required=False, max_length=200)
    description = forms.CharField(required=False, max_length=2000)
    category = forms.ChoiceField(required=False, choices=Category.choices)
    tags = forms.CharField(required=False, max_length=300)
    language = forms.CharField(required=False, max_length=16)
    hidden = forms.CharField(required=False, max_length=5)

    def clean(self):
        from accounts.selectors import user_by_username

        data = super().clean()
        name = (data.get("owner") or data.get("user_id") or "").strip()
        data["owner_user"] = None
        if name:
            data["owner_user"] = user_by_username(username=name)
            if data["owner_user"] is None:
                raise forms.ValidationError(
                    _("No creator called %(name)s is registered here.") % {"name": name},
                    code="unknown_owner",
                )
        data["title"] = (data.get("title") or data.get("url") or "")[:200]
        data["category"] = data.get("category") or Category.REST
        data["hidden"] = (data.get("hidden") or "").lower() in {"1", "true", "yes"}
        return data

    def thing_fields(self) -> dict:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "description": d.get("description", ""),
            "category": d["category"],
            "tags": d.get("tags", ""),
            "language": d.get("language", ""),
            "hidden": d["hidden"],
        }
