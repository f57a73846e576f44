"""Reading thing fields and URLs as the old clients send them."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from api.errors import ApiError
from api.languages import language_normalise
from api.views.base import parse_bool
from buttons.models import Category

_url_validator = URLValidator(schemes=["http", "https"])


def url_clean(value, *, name: str = "url") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError("invalid_parameters", _("%(name)s is required.") % {"name": name})
    url = value.strip()
    if len(url) > 1000:
        raise ApiError("invalid_parameters", _("The URL is too long."))
    try:
        _url_validator(url)
    except ValidationError:
        raise ApiError("invalid_parameters", _("Invalid url: give an http or https address."))
    return url


def tags_clean(value) -> str:
    parts = [str(v) for v in value] if isinstance(value, list) else str(value).split(",")
    return ", ".join(p.strip() for p in parts if p.strip())


def thing_fields(data: dict, *, creating: bool) -> dict:
    """Validated thing fields from a request body; only those present."""
    fields: dict = {}
    for name in ("title", "description"):
        if name in data:
            if not isinstance(data[name], str):
                raise ApiError("invalid_parameters", _("%(name)s must be text.") % {"name": name})
            fields[name] = data[name]
    if "category" in data:
        category = str(data["category"]).strip().lower()
        if category not in Category.values:
            raise ApiError(
                "invalid_parameters",
                _("Unknown category. See /rest/v2/categories."),
            )
        fields["category"] = category
    if "language" in data:
        language = language_normalise(str(data["language"]))
        if language is None:
            raise ApiError("invalid_parameters", _("Unknown language. See /rest/v2/languages."))
        fields["language"] = language
    elif creating:
        fields["language"] = "en_GB"
    if "tags" in data:
        fields["tags"] = tags_clean(data["tags"])
    if "hidden" in data:
        # Flattr's "hidden" is ours "unlisted": left out of listings and
        # search, still flattrable.
        fields["unlisted"] = parse_bool(data["hidden"], name="hidden")
    return fields


def validation_error(exc: ValidationError) -> ApiError:
    return ApiError("invalid_parameters", " ".join(exc.messages))


def auto_submit_params(url: str) -> dict | None:
    """The query of an auto-submit URL (``.../submit/auto?url=...``, on our
    host or flattr.com's), else None."""
    parts = urlsplit(url)
    if not parts.path.rstrip("/").endswith("/submit/auto"):
        return None
    return dict(parse_qsl(parts.query, keep_blank_values=True))


def thing_id_from_link(url: str, host: str) -> int | None:
    """A link to one of our thing pages (``https://HOST/things/12/``)."""
    parts = urlsplit(url)
    if parts.netloc != host:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) == 2 and segments[0] in ("things", "thing") and segments[1].isdigit():
        return int(segments[1])
    return None
