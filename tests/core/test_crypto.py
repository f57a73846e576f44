"""core.crypto: secrets at rest (Fernet, MultiFernet rotation, masked repr)."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from core.crypto import Secret, SecretError, secret_decrypt, secret_encrypt, secret_rotate


def test_round_trip_and_ciphertext_is_not_the_plaintext(settings):
    settings.FIELD_ENCRYPTION_KEY = [Fernet.generate_key().decode()]
    stored = secret_encrypt("tok-123")
    assert "tok-123" not in stored
    assert secret_decrypt(stored) == "tok-123"
    assert secret_encrypt("") == "" and secret_decrypt("") == ""


def test_rotation_old_values_still_read_and_rotate_to_the_new_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEY = [old]
    stored = secret_encrypt("tok")
    settings.FIELD_ENCRYPTION_KEY = [new, old]
    assert secret_decrypt(stored) == "tok"
    rotated = secret_rotate(stored)
    settings.FIELD_ENCRYPTION_KEY = [new]
    assert secret_decrypt(rotated) == "tok"
    with pytest.raises(SecretError):
        secret_decrypt(stored)


def test_secret_repr_is_masked():
    value = Secret("tok-123")
    assert value == "tok-123"
    assert "tok-123" not in repr(value)
    assert "tok-123" not in repr({"token": value})


def test_no_key_with_debug_off_is_refused_clearly(settings):
    settings.FIELD_ENCRYPTION_KEY = []
    settings.DEBUG = False
    settings.TESTING = False
    with pytest.raises(ImproperlyConfigured, match="FIELD_ENCRYPTION_KEY"):
        secret_encrypt("tok")


def test_no_key_with_debug_on_derives_one_from_secret_key(settings):
    settings.FIELD_ENCRYPTION_KEY = []
    settings.DEBUG = True
    assert secret_decrypt(secret_encrypt("tok")) == "tok"


def test_a_bad_key_is_refused_clearly(settings):
    settings.FIELD_ENCRYPTION_KEY = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        secret_encrypt("tok")
