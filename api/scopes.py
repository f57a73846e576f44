"""The four OAuth2 scopes of Flattr's API and what each one allows."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

FLATTR = "flattr"
THING = "thing"
EMAIL = "email"
EXTENDEDREAD = "extendedread"

SCOPES = {
    FLATTR: _("Flattr things and manage your subscriptions for you."),
    THING: _("Create, update and delete your things."),
    EMAIL: _("Read your e-mail address."),
    EXTENDEDREAD: _("Read private details of your account (e-mail, registration date)."),
}


def scopes_parse(value: str | None) -> list[str]:
    """Scopes as Flattr's clients send them: separated by spaces, commas or
    both (``"flattr,thing"``, ``"flattr thing"``, ``"flattr, thing"``)."""
    return [s for s in re.split(r"[\s,+]+", value or "") if s]


def scopes_normalise(value: str | None) -> str:
    return " ".join(scopes_parse(value))
