from typing import Any, cast

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from buttons.addresses import url_normalize
from buttons.models import THING_DESCRIPTION, Category, Thing

http_url = URLValidator(schemes=["http", "https"], message=_("Enter an http or https address."))

DESCRIPTION_MAX = cast(int, Thing._meta.get_field("description").max_length)


def text_shorten(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with
    an ellipsis; unchanged when it fits."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


# What a button's link says when its page gave no description: classic
# snippets (and our load.js) send the link's text as the description, and
# most links just read "Flattr". Such a label describes nothing.
BUTTON_LABELS = {"flattr", "flattr this", "flattr me", "flattr us", "flattr it"}


def description_clean(text: str) -> str:
    """The description a button sent, cut to the limit; empty when it is
    only the button's label."""
    label = " ".join(text.split()).strip(" !.…").lower()
    if label in BUTTON_LABELS:
        return ""
    return text_shorten(text, DESCRIPTION_MAX)


class HttpURLField(forms.URLField):
    """A URL field with one validator: Django's default one and ours would
    each report the same bad address ("Enter a valid URL." twice)."""

    default_validators = [http_url]


class ThingForm(forms.ModelForm):
    url = HttpURLField(label=_("URL"), max_length=1000, assume_scheme="https")

    class Meta:
        model = Thing
        fields = [*THING_DESCRIPTION, "hidden", "unlisted"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "tags": _("Comma-separated."),
            "hidden": _("Hidden things cannot be flattred."),
            "unlisted": _(
                "Unlisted things can be flattred but are not shown in explore or on your profile."
            ),
        }

    def clean_url(self):
        return url_normalize(self.cleaned_data["url"])


class AutoSubmitForm(forms.Form):
    """The classic Flattr auto-submit parameters (also ``data-flattr-*``)."""

    user_id = forms.CharField(required=False, max_length=40)
    owner = forms.CharField(required=False, max_length=40)
    url = HttpURLField(max_length=1000, assume_scheme="https")
    title = forms.CharField(required=False, max_length=200)
    # Real plugins send the whole post: cut to the limit, never refused.
    description = forms.CharField(required=False)
    category = forms.ChoiceField(required=False, choices=Category.choices)
    tags = forms.CharField(required=False, max_length=300)
    language = forms.CharField(required=False, max_length=16)
    # Classic ``hidden=1``: unlisted, still flattrable.
    hidden = forms.CharField(required=False, max_length=5)

    def clean_url(self):
        return url_normalize(self.cleaned_data["url"])

    def clean_description(self):
        return description_clean(self.cleaned_data.get("description") or "")

    def clean(self):
        from accounts.selectors import user_by_username

        data = cast(dict[str, Any], super().clean())
        name = (data.get("owner") or data.get("user_id") or "").strip()
        data["owner_user"] = None
        # A name nobody has here (an old snippet whose creator has not joined
        # yet) makes an unclaimed thing: its shares wait for a claim (issue 12).
        data["named_owner"] = name
        if name:
            data["owner_user"] = user_by_username(username=name)
        if data.get("url"):
            self._apply_verified_site(data)
        data["title"] = (data.get("title") or data.get("url") or "")[:200]
        data["category"] = data.get("category") or Category.REST
        data["hidden"] = (data.get("hidden") or "").lower() in {"1", "true", "yes"}
        return data

    def _apply_verified_site(self, data) -> None:
        """A verified site's things belong to its owner (see claims/)."""
        from buttons.classic_selectors import verified_site_for_url

        site = verified_site_for_url(url=data["url"])
        if site is None:
            return
        if data["owner_user"] is not None and data["owner_user"].pk != site.owner_id:
            raise forms.ValidationError(
                _("This site is verified by another creator: only they can add its pages."),
                code="site_owned",
            )
        data["owner_user"] = site.owner

    def thing_fields(self) -> dict:
        d = self.cleaned_data
        return {
            "title": d["title"],
            "description": d.get("description", ""),
            "category": d["category"],
            "tags": d.get("tags", ""),
            "language": d.get("language", ""),
            "unlisted": d["hidden"],
        }


class AutoSubmitPolicyForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("Supporters may submit my pages with auto-submit buttons"), required=False
    )
    url_prefixes = forms.CharField(
        label=_("Only addresses starting with"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "One address prefix a line, such as https://my-blog.example/. Empty: any address."
        ),
    )

    def clean_url_prefixes(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["url_prefixes"].splitlines()]
        prefixes = []
        for line in filter(None, lines):
            try:
                http_url(line)
                prefixes.append(url_normalize(line))
            except forms.ValidationError as exc:
                raise forms.ValidationError(
                    _("“%(line)s” is not an http or https address: %(reason)s")
                    % {"line": line, "reason": " ".join(exc.messages)}
                ) from exc
        if len(prefixes) > 50:
            raise forms.ValidationError(_("At most 50 prefixes."))
        return prefixes
