"""Connecting a Mastodon-compatible account (Mastodon, GoToSocial,
Pleroma/Akkoma, Pixelfed): the server the supporter names, our application
registered there once (``POST /api/v1/apps``, an ``InstanceApp``), the
authorisation with PKCE S256 and a state bound to the session, the code
exchanged for a token and ``verify_credentials`` saying whose it is.

The scopes: ``read:favourites`` to read favourites, and ``read:accounts``
because Mastodon answers ``verify_credentials`` only to a token with it
(``profile`` is newer and unknown to older servers).
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode, urlsplit

from django.db import IntegrityError
from django.utils.translation import gettext as _

from accounts.models import User
from likes.connect import ConnectError, host_of, request_json, text_field
from likes.connect.accounts import account_store, account_take_baseline
from likes.connect.oauth import Pending
from likes.models import AccountKind, ConnectedAccount, InstanceApp

log = logging.getLogger("likes.connect")

SCOPES = "read:favourites read:accounts"
CLIENT_NAME = "Open Flattr"


def what() -> str:
    return _("the Mastodon API")


def instance_normalise(raw: str) -> str:
    """What a supporter types, as a server's base URL: ``mastodon.example``,
    ``@alice@mastodon.example``, ``https://Mastodon.Example/@alice`` are all
    ``https://mastodon.example``. Plain http only when typed so."""
    text = (raw or "").strip()
    invalid = ConnectError(
        "bad_instance",
        _("“%(text)s” is not a server's address (for example mastodon.social).")
        % {"text": text[:100]},
    )
    if not text or len(text) > 300 or any(c.isspace() for c in text):
        raise invalid
    if "://" not in text:
        if "@" in text:  # a handle: @name@server or name@server
            text = text.rpartition("@")[2]
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
        host = (parts.hostname or "").rstrip(".")
        host = host.encode("idna").decode("ascii").lower()
    except (ValueError, UnicodeError):
        raise invalid from None
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise invalid
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    netloc = host if port in (None, default) else f"{host}:{port}"
    return f"{parts.scheme}://{netloc}"


def _check_server(base_url: str) -> None:
    """The server must answer the Mastodon API's instance document."""
    response, data = request_json(base_url + "/api/v1/instance", what=what())
    if (
        not response.ok
        or not isinstance(data, dict)
        or not (
            text_field(data, "uri") or text_field(data, "domain") or text_field(data, "version")
        )
    ):
        raise ConnectError(
            "not_mastodon",
            _("%(host)s does not look like a Mastodon-compatible server.")
            % {"host": host_of(base_url)},
        )


def instance_app_for(*, base_url: str, redirect_uri: str) -> InstanceApp:
    """Our application on that server: registered once, then reused."""
    app = InstanceApp.objects.filter(base_url=base_url).first()
    if app is not None and app.redirect_uri == redirect_uri and SCOPES in app.scopes:
        return app
    _check_server(base_url)
    response, data = request_json(
        base_url + "/api/v1/apps",
        method="POST",
        form={
            "client_name": CLIENT_NAME,
            "redirect_uris": redirect_uri,
            "scopes": SCOPES,
            "website": redirect_uri.split("/settings/")[0],
        },
        what=what(),
    )
    client_id = text_field(data, "client_id", limit=300)
    client_secret = text_field(data, "client_secret", limit=1000)
    if not response.ok or not client_id or not client_secret:
        log.warning(
            "connect: %s refused to register our app (%s)", host_of(base_url), response.status
        )
        raise ConnectError(
            "register",
            _("%(host)s did not let us register as an application.") % {"host": host_of(base_url)},
        )
    fields = {
        "client_id": client_id,
        "client_secret": client_secret,
        "scopes": SCOPES,
        "redirect_uri": redirect_uri,
    }
    try:
        app, _created = InstanceApp.objects.update_or_create(base_url=base_url, defaults=fields)
    except IntegrityError:  # registered at the same moment by another request
        app = InstanceApp.objects.get(base_url=base_url)
    return app


def mastodon_connect_start(*, instance: str, redirect_uri: str) -> tuple[Pending, str]:
    """(the pending authorisation to keep in the session, the server's
    authorisation page to send the browser to)."""
    base_url = instance_normalise(instance)
    app = instance_app_for(base_url=base_url, redirect_uri=redirect_uri)
    pending = Pending.begin(kind=AccountKind.MASTODON, base_url=base_url, redirect_uri=redirect_uri)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": pending.state,
            "code_challenge": pending.challenge,
            "code_challenge_method": "S256",
        }
    )
    return pending, f"{base_url}/oauth/authorize?{query}"


def mastodon_connect_finish(*, user: User, pending: Pending, code: str) -> ConnectedAccount:
    """Exchange the code (outside any transaction), ask whose token it is,
    then save the account with its token encrypted."""
    base_url = pending.base_url
    host = host_of(base_url)
    app = InstanceApp.objects.filter(base_url=base_url).first()
    if app is None:
        raise ConnectError("register", _("Please start again."))
    response, data = request_json(
        base_url + "/oauth/token",
        method="POST",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app.client_id,
            "client_secret": str(app.client_secret),
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.verifier,
            "scope": SCOPES,
        },
        what=what(),
    )
    token = text_field(data, "access_token", limit=2000)
    if not response.ok or not token:
        log.warning("connect: %s refused the code (%s)", host, response.status)
        raise ConnectError(
            "code", _("%(host)s refused the authorisation; nothing was saved.") % {"host": host}
        )
    response, me = request_json(
        base_url + "/api/v1/accounts/verify_credentials", token=token, what=what()
    )
    remote_id = text_field(me, "id")
    username = text_field(me, "username") or text_field(me, "acct")
    if not response.ok or not remote_id or not username:
        log.warning("connect: %s verify_credentials answered %s", host, response.status)
        raise ConnectError(
            "credentials",
            _("%(host)s did not say whose account this is; nothing was saved.") % {"host": host},
        )
    scopes = text_field(data, "scope", limit=300) or SCOPES
    account = account_store(
        user=user,
        kind=AccountKind.MASTODON,
        url=base_url,
        remote_id=remote_id,
        remote_login=f"{username.split('@')[0]}@{host}",
        access_token=token,
        scopes=scopes,
        instance_app=app,
    )
    account_take_baseline(account=account)
    return account
