"""Bearer tokens for the API: OAuth2 access tokens (django-oauth-toolkit)
and personal access tokens (``flattr_pat_...``, stored hashed).

``request.auth`` is a ``Grant`` with the token's scopes, whatever its kind.

The authenticated principal (the user and the grant) is cached in Redis for
``PRINCIPAL_TTL`` seconds under the token's SHA-256, so a busy token costs
one cache round trip instead of a query with a join. The entry goes as soon
as what it was made of changes: a personal token revoked, an OAuth token
deleted (revoked, refreshed, its application's access withdrawn), the user
saved (deactivated, erased, profile edited); an OAuth token's expiry is still
checked on every request. A cache outage falls back to the database.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.models import get_access_token_model
from rest_framework.authentication import BaseAuthentication

from api import memo
from api.errors import ApiError
from api.models import PERSONAL_TOKEN_PREFIX, PersonalToken
from api.selectors import UNREAD, marks_key
from api.services import (
    GONE,
    PRINCIPAL_TTL,
    TOKEN_USER_TTL,
    personal_token_touch,
    principal_key,
    token_user_key,
)
from core.cache import script as cache_script


@dataclass(frozen=True)
class Grant:
    kind: str  # "oauth" or "personal"
    token_id: int
    scopes: frozenset[str]

    @property
    def ident(self) -> str:
        return f"{self.kind}:{self.token_id}"


def bearer(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _load(raw: str, digest: str):
    """(user, grant, expires or None) from the database; raises ApiError."""
    if raw.startswith(PERSONAL_TOKEN_PREFIX):
        token = (
            PersonalToken.objects.select_related("user")
            .filter(token_hash=digest, revoked_at__isnull=True)
            .first()
        )
        if token is None or not token.user.is_active:
            raise ApiError("unauthorized", _("The token is invalid or was revoked."))
        personal_token_touch(token=token)
        return token.user, Grant("personal", token.pk, frozenset(token.scopes)), None
    AccessToken = get_access_token_model()
    token = AccessToken.objects.select_related("user").filter(token_checksum=digest).first()
    if token is None or token.user is None or not token.user.is_active:
        raise ApiError("unauthorized", _("The token is invalid or was revoked."))
    return token.user, Grant("oauth", token.pk, frozenset(token.scope.split())), token.expires


def principal(raw: str, *, cached=UNREAD) -> tuple:
    """(user, grant) of the bearer token ``raw``: from the cache (or what
    the caller read of it, ``cached``), else from the database (and
    cached); raises ApiError (401) for a token that is unknown, revoked,
    expired or whose user is inactive."""
    digest = hashlib.sha256(raw.encode()).hexdigest()
    key = principal_key(digest)
    if cached is UNREAD:
        cached = cache.get(key)
    if cached is None:
        cached = _load(raw, digest)
        cache.add(key, cached, PRINCIPAL_TTL)
        cache.set(token_user_key(digest), cached[0].pk, TOKEN_USER_TTL)
    elif cached == GONE:
        cached = _load(raw, digest)
    user, grant, expires = cached
    if expires is not None and expires <= timezone.now():
        raise ApiError("unauthorized", _("The token has expired. Refresh it or ask again."))
    return user, grant


# The principal, the token's user id and, when that is known, the caller's
# marks on a thing (api.selectors.viewer_marks' entry): one round trip.
_PRINCIPAL_AND_MARKS = """
local principal = redis.call('GET', KEYS[1])
local user_id = redis.call('GET', KEYS[2])
if not user_id then return {principal, false, false} end
return {principal, user_id, redis.call('GET', ARGV[1] .. user_id .. ARGV[2])}
"""


def principal_with_marks(raw: str, *, thing_id: int) -> tuple:
    """(user, grant, marks entry) for a read of one thing with a bearer
    token: the principal as ``principal`` gives it and what the cache
    holds of the caller's marks on the thing (``UNREAD`` when it could not
    be read with it: pass it on to ``api.selectors.viewer_marks``), in one
    Redis round trip when the cache is warm, none when this process read
    them less than a second ago (api.memo). Raises as ``principal``."""
    digest = hashlib.sha256(raw.encode()).hexdigest()
    found = memo.get((digest, thing_id))
    if found is not None:  # each request its own user object (a shallow copy)
        found = [(copy.copy(found[0][0]), *found[0][1:]), *found[1:]]
    else:
        generation = memo.generation()
        found = _principal_and_marks(digest, thing_id)
        # Only a whole answer is remembered: misses and tombstones go on
        # asking the cache and the database.
        if (
            found is not None
            and isinstance(found[0], tuple)
            and found[1] is not None
            and isinstance(found[2], tuple)
        ):
            memo.put((digest, thing_id), found, generation)
    if found is None:  # the cache is away: the database answers
        return (*principal(raw), UNREAD)
    cached, user_id, marks = found
    user, grant = principal(raw, cached=cached)
    return user, grant, (marks if user_id == user.pk else UNREAD)


def _principal_and_marks(digest: str, thing_id: int) -> list | None:
    # The marks key of user 0, cut where the user id goes (the default
    # KEY_FUNCTION: prefix:version:key).
    marks_prefix, _sep, marks_suffix = cache.make_key(
        marks_key(viewer_id=0, thing_id=thing_id)
    ).rpartition(":0:")
    return cache_script(
        _PRINCIPAL_AND_MARKS,
        keys=[principal_key(digest), token_user_key(digest)],
        args=(marks_prefix + ":", ":" + marks_suffix),
        decode=True,
    )


class BearerAuthentication(BaseAuthentication):
    def authenticate(self, request):
        raw = bearer(request)
        if raw is None:
            return None
        return principal(raw)

    def authenticate_header(self, request):
        return 'Bearer realm="flattr"'
