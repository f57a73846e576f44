"""Authorization codes that cannot be misused (RFC 6749 4.1.2, RFC 7636,
RFC 9700 2.1.1), on top of django-oauth-toolkit's validator:

- a code exchanged a second time revokes every token the first exchange
  gave, refreshed ones included (``SpentAuthorizationCode`` remembers them);
- a wrong PKCE verifier burns the code: it cannot be exchanged afterwards,
  not even with the right verifier;
- PKCE ``plain`` (also a challenge sent without a method, which means
  plain) is refused at the authorization request, before consent, with an
  ``invalid_request`` sent back to the client.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2 import Server
from oauthlib.oauth2.rfc6749 import errors
from oauthlib.oauth2.rfc6749.grant_types.authorization_code import code_challenge_method_s256

from api.models import SpentAuthorizationCode

log = logging.getLogger(__name__)

# Long enough for any replay worth catching (codes live 120 s); older
# records are pruned as new codes are spent.
SPENT_CODE_MEMORY = dt.timedelta(days=30)
CODE_CHALLENGE_METHODS = {"S256": code_challenge_method_s256}


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def _checksum(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _revoke(*, access_token_id: int | None, token_family) -> None:
    RefreshToken = get_refresh_token_model()
    AccessToken = get_access_token_model()
    with transaction.atomic():
        if token_family:
            RefreshToken.revoke_family(token_family)
        if access_token_id:
            for refresh in RefreshToken.objects.filter(access_token_id=access_token_id):
                refresh.revoke()
            AccessToken.objects.filter(pk=access_token_id).delete()


class FlattrOAuth2Validator(OAuth2Validator):
    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        grant = get_grant_model().objects.filter(code=code, application=client).first()
        if grant is None:
            self._revoke_if_spent(code=code, client=client)
            return False
        verifier = getattr(request, "code_verifier", None)
        if grant.code_challenge and verifier is not None:
            method = CODE_CHALLENGE_METHODS.get(grant.code_challenge_method)
            if method is None or not method(verifier, grant.code_challenge):
                # Whoever holds the code without the verifier may try again:
                # the code goes, the client starts over.
                grant.delete()
                log.warning("oauth: wrong PKCE verifier for client %s; code burnt", client_id)
                return False
        return super().validate_code(client_id, code, client, request, *args, **kwargs)

    def _revoke_if_spent(self, *, code: str, client) -> None:
        spent = SpentAuthorizationCode.objects.filter(
            code_hash=_hash(code), application=client
        ).first()
        if spent is None:
            return
        log.warning("oauth: authorization code of client %s reused; tokens revoked", client.pk)
        _revoke(access_token_id=spent.access_token_id, token_family=spent.token_family)

    def save_bearer_token(self, token, request, *args, **kwargs):
        result = super().save_bearer_token(token, request, *args, **kwargs)
        request.flattr_issued_checksum = _checksum(token["access_token"])
        return result

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        AccessToken = get_access_token_model()
        RefreshToken = get_refresh_token_model()
        checksum = getattr(request, "flattr_issued_checksum", None)
        access_token = (
            AccessToken.objects.filter(token_checksum=checksum).first() if checksum else None
        )
        family = (
            RefreshToken.objects.filter(access_token=access_token)
            .values_list("token_family", flat=True)
            .first()
            if access_token
            else None
        )
        with transaction.atomic():
            deleted, _ = (
                get_grant_model().objects.filter(code=code, application=request.client).delete()
            )
            if not deleted:
                # Another exchange of this code got there first: neither's
                # tokens stand.
                _revoke(access_token_id=access_token and access_token.pk, token_family=family)
                self._revoke_if_spent(code=code, client=request.client)
                raise errors.InvalidGrantError(request=request)
            SpentAuthorizationCode.objects.filter(
                application=request.client, spent_at__lt=timezone.now() - SPENT_CODE_MEMORY
            ).delete()
            SpentAuthorizationCode.objects.create(
                code_hash=_hash(code),
                application=request.client,
                access_token=access_token,
                token_family=family,
            )


class FlattrOAuthServer(Server):
    """oauthlib's server with PKCE S256 only: ``plain`` is refused while the
    authorization request is validated, before the consent page."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.auth_grant._code_challenge_methods = dict(CODE_CHALLENGE_METHODS)
