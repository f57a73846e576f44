"""likes.models: tokens are encrypted at rest and never shown."""

import pytest
from cryptography.fernet import Fernet
from django.db import IntegrityError, connection

from likes.models import AccountKind, ConnectedAccount, Like, LikeState
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _raw_token(account_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token FROM likes_connectedaccount WHERE id = %s", [account_id]
        )
        return cursor.fetchone()[0]


def test_token_is_ciphertext_in_the_database_and_decrypts(settings):
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    account = ConnectedAccount.objects.create(
        user=UserFactory(),
        kind=AccountKind.MASTODON,
        url="https://m.example",
        access_token="secret-token-abc",
    )
    raw = _raw_token(account.pk)
    assert raw and "secret-token-abc" not in raw
    assert ConnectedAccount.objects.get(pk=account.pk).access_token == "secret-token-abc"


def test_token_survives_key_rotation(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [old]
    account = ConnectedAccount.objects.create(
        user=UserFactory(),
        kind=AccountKind.GITHUB,
        url="https://api.github.com",
        access_token="gho_abc",
    )
    settings.FIELD_ENCRYPTION_KEY = [new, old]
    assert ConnectedAccount.objects.get(pk=account.pk).access_token == "gho_abc"


def test_token_absent_from_repr_and_str():
    account = ConnectedAccount.objects.create(
        user=UserFactory(),
        kind=AccountKind.MASTODON,
        url="https://m.example",
        access_token="secret-token-abc",
    )
    loaded = ConnectedAccount.objects.get(pk=account.pk)
    assert "secret-token-abc" not in repr(loaded.__dict__)
    assert "secret-token-abc" not in str(loaded) + repr(loaded)


def test_one_like_per_account_and_remote_id():
    user = UserFactory()
    account = ConnectedAccount.objects.create(
        user=user, kind=AccountKind.FEED, url="https://feed.example/likes.xml"
    )
    fields = {
        "account": account,
        "supporter": user,
        "url": "https://x.example/1",
        "liked_at": account.connected_at,
        "state": LikeState.WAITING,
    }
    Like.objects.create(remote_id="1", **fields)
    with pytest.raises(IntegrityError):
        Like.objects.create(remote_id="1", **fields)


def test_rotate_command_moves_tokens_to_the_newest_key(settings):
    import io

    from django.core.management import call_command

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [old]
    account = ConnectedAccount.objects.create(
        user=UserFactory(),
        kind=AccountKind.GITHUB,
        url="https://api.github.com",
        access_token="gho_rotate",
    )
    settings.FIELD_ENCRYPTION_KEY = [new, old]
    out = io.StringIO()
    call_command("likes_rotate_tokens", stdout=out)
    assert '"rows": 1' in out.getvalue()
    settings.FIELD_ENCRYPTION_KEY = [new]
    assert ConnectedAccount.objects.get(pk=account.pk).access_token == "gho_rotate"
