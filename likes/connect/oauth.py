"""What both OAuth dances share: the pending authorisation kept in the
supporter's session (state, PKCE verifier, where it started), and the
checks made when the other site sends the browser back."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any

from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from likes.connect import PENDING_SECONDS, ConnectError

SESSION_KEY = "likes_oauth_pending"


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge) as RFC 7636 defines them."""
    verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Pending:
    """One authorisation under way; it lives in the session, never in a
    database row, and is spent by the callback whatever happens."""

    kind: str  # "mastodon" or "github"
    state: str
    verifier: str
    challenge: str
    base_url: str  # the Mastodon server; GitHub's OAuth address
    redirect_uri: str
    started: float

    @classmethod
    def begin(cls, *, kind: str, base_url: str, redirect_uri: str) -> Pending:
        verifier, challenge = pkce_pair()
        return cls(
            kind=kind,
            state=secrets.token_urlsafe(32),
            verifier=verifier,
            challenge=challenge,
            base_url=base_url,
            redirect_uri=redirect_uri,
            started=time.time(),
        )

    def save(self, session: Any) -> None:
        session[SESSION_KEY] = asdict(self)

    @classmethod
    def take(cls, session: Any, *, kind: str, params: dict[str, str]) -> tuple[Pending, str]:
        """Spend the session's pending authorisation against the callback's
        ``params``: (pending, code). A missing, stale or other pending
        authorisation, a state that differs, a refusal or no code is a
        :class:`ConnectError`."""
        raw = session.pop(SESSION_KEY, None)
        try:
            pending = cls(**raw) if isinstance(raw, dict) else None
        except TypeError:
            pending = None
        if pending is None or pending.kind != kind:
            raise ConnectError(
                "no_pending", _("This authorisation was not started here; please start again.")
            )
        if not constant_time_compare(params.get("state") or "", pending.state):
            raise ConnectError(
                "state",
                _("The answer did not match the authorisation we asked for; nothing was saved."),
            )
        if time.time() - pending.started > PENDING_SECONDS:
            raise ConnectError("expired", _("The authorisation took too long; please start again."))
        if params.get("error"):
            raise ConnectError("denied", _("The authorisation was refused; nothing was saved."))
        code = (params.get("code") or "").strip()
        if not code or len(code) > 512:
            raise ConnectError(
                "no_code", _("The answer carried no authorisation code; nothing was saved.")
            )
        return pending, code
