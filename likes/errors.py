"""Why the last poll of a connected account failed, in the reader's
language: ``ConnectedAccount.last_error_code`` (stable) to a sentence for
the supporter's page. ``last_error`` keeps the English sentence for the
admin and the logs."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ERROR_MESSAGES: dict[str, Promise] = {
    "revoked": _("The server withdrew our access: connect the account again."),
    "malformed": _("The server answered with malformed data."),
    "not_api": _("The server did not answer as the API does (is it the right address?)."),
    "not_feed": _("The address does not serve a feed (RSS, Atom or JSON Feed)."),
    "http_error": _("The server answered with an error."),
    "bad_url": _("The address is not an http or https address we may read."),
    "dns": _("The server's name does not resolve."),
    "address_refused": _("The server is on a private network; only public servers can be read."),
    "connect": _("Could not connect to the server."),
    "timeout": _("The server was too slow to answer."),
    "redirects": _("The server redirected too many times."),
    "too_large": _("The server's answer was too large."),
    "protocol": _("The server did not answer in HTTP."),
    "internal": _("Reading the account failed; we keep trying."),
}


def error_message(code: str) -> str:
    """The sentence for ``code`` (a generic one for a code not listed)."""
    message = ERROR_MESSAGES.get(code)
    return str(message) if message is not None else str(_("The last attempts to read it failed."))
