"""Writes of the API app: personal tokens, developer applications, revoking
an application's access. Flattrs, things and subscriptions are written by
the buttons services the web pages use."""

from __future__ import annotations

import hashlib
import secrets
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_refresh_token_model,
)

from accounts.models import User
from api import memo
from api.models import PERSONAL_TOKEN_PREFIX, PersonalToken
from api.scopes import SCOPES, scopes_parse

Application = get_application_model()
# The cached principal of a bearer token (api.authentication): shorter than
# personal_token_touch's minute, so a token in steady use is still seen by
# the database (last_used_at) about once a minute.
PRINCIPAL_TTL = 30
GONE = "gone"
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def principal_key(digest: str) -> str:
    return f"api:principal:{digest}"


# The user id a token hash belongs to, which never changes: lets one Lua
# script read the principal and the caller's marks on a thing together
# (api.authentication.principal_with_marks).
TOKEN_USER_TTL = 86400


def token_user_key(digest: str) -> str:
    return f"api:token-user:{digest}"


def principals_forget(digests: list[str]) -> None:
    """Drop the cached principals of these token hashes at once and again
    when the transaction that changed them commits."""
    keys = [principal_key(d) for d in digests if d]
    if keys:
        tombstone(keys, PRINCIPAL_TTL)


def tombstone(keys: list[str], ttl: int) -> None:
    """Put a tombstone on cached per-caller entries, now and on commit: a
    request that read the old state before the commit and caches it after
    (with ``cache.add``) cannot bring it back, and while the tombstone
    lasts the database answers. Should the transaction roll back, the
    database answers a little longer, that is all."""
    memo.bury(keys, GONE, ttl)  # with the news to every process's memo (api.memo)
    transaction.on_commit(lambda: memo.bury(keys, GONE, ttl))


def principals_forget_user(user_id: int) -> None:
    """Drop the cached principals of every token of a user."""
    AccessToken = get_access_token_model()
    digests = list(
        PersonalToken.objects.filter(user_id=user_id).values_list("token_hash", flat=True)
    )
    digests += AccessToken.objects.filter(user_id=user_id).values_list("token_checksum", flat=True)
    principals_forget(digests)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def scopes_validate(value: str) -> list[str]:
    scopes = scopes_parse(value)
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValidationError(
            _("Unknown scope: %(scopes)s. Known scopes: %(known)s.")
            % {"scopes": ", ".join(unknown), "known": ", ".join(SCOPES)},
            code="invalid_scope",
        )
    return sorted(set(scopes), key=list(SCOPES).index)


@transaction.atomic
def personal_token_create(*, user: User, name: str, scopes: str) -> tuple[PersonalToken, str]:
    """A new personal access token; returns the row and the token, which is
    shown once and never stored."""
    name = name.strip()
    if not name:
        raise ValidationError(_("Give the token a name."), code="required")
    scope_list = scopes_validate(scopes)
    secret = secrets.token_urlsafe(32)
    raw = PERSONAL_TOKEN_PREFIX + secret
    token = PersonalToken.objects.create(
        user=user,
        name=name[:80],
        token_hash=token_hash(raw),
        token_hint=secret[:6],
        scope=" ".join(scope_list),
    )
    return token, raw


@transaction.atomic
def personal_token_revoke(*, user: User, token_id: int) -> bool:
    tokens = PersonalToken.objects.filter(user=user, pk=token_id, revoked_at__isnull=True)
    digests = list(tokens.values_list("token_hash", flat=True))
    updated = tokens.update(revoked_at=timezone.now())
    principals_forget(digests)
    return bool(updated)


def personal_token_touch(*, token: PersonalToken) -> None:
    """Remember when a token was last used, at most once a minute per token."""
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        PersonalToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


@transaction.atomic
def application_register(
    *, user: User, name: str, redirect_uris: str, client_type: str
) -> tuple[object, str]:
    """Register a developer application (authorization code grant only: the
    implicit grant is refused, see docs/api.md). Returns the application and
    its client secret, shown once: only its hash is stored."""
    if client_type not in (Application.CLIENT_CONFIDENTIAL, Application.CLIENT_PUBLIC):
        raise ValidationError(_("Choose confidential or public."), code="invalid")
    secret = secrets.token_urlsafe(40)
    app = Application(
        user=user,
        name=name.strip(),
        redirect_uris=" ".join(redirect_uris.split()),
        client_type=client_type,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        client_secret=secret,
        hash_client_secret=True,
        skip_authorization=False,
        algorithm="",
    )
    if not app.name:
        raise ValidationError({"name": _("Give the application a name.")})
    if not app.redirect_uris:
        raise ValidationError({"redirect_uris": _("Give at least one redirect URI.")})
    for uri in app.redirect_uris.split():
        parts = urlsplit(uri)
        if parts.scheme == "http" and parts.hostname not in LOOPBACK and not settings.DEBUG:
            raise ValidationError(
                {
                    "redirect_uris": _(
                        "Use https, or http only for a loopback address (localhost, 127.0.0.1)."
                    )
                }
            )
    app.full_clean(exclude=["client_id", "client_secret"])
    app.save()
    return app, secret


@transaction.atomic
def application_delete(*, user: User, application_id: int) -> bool:
    app = Application.objects.filter(user=user, pk=application_id).first()
    if app is None:
        return False
    app.delete()
    return True


@transaction.atomic
def authorised_app_revoke(*, user: User, application_id: int) -> int:
    """Withdraw an application's access to ``user``: every access token,
    refresh token and pending grant goes. Returns the tokens removed."""
    AccessToken = get_access_token_model()
    RefreshToken = get_refresh_token_model()
    Grant = get_grant_model()
    get_refresh = RefreshToken.objects.filter(user=user, application_id=application_id)
    for refresh in get_refresh.filter(revoked__isnull=True):
        refresh.revoke()
    count, _detail = AccessToken.objects.filter(user=user, application_id=application_id).delete()
    Grant.objects.filter(user=user, application_id=application_id).delete()
    return count
