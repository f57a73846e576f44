"""Secrets at rest: third-party tokens encrypted with Fernet keys from the
environment, and a model field that stores them so.

``FIELD_ENCRYPTION_KEY`` is a list of Fernet keys, newest first: the newest
encrypts, any of them decrypts (``MultiFernet``), so a key is rotated by
putting a new one in front, running ``secret_rotate`` over the stored values
(``manage.py likes_rotate_tokens`` for connected accounts) and then dropping
the old key. With the list empty and DEBUG (or the test suite) on, one key is
derived from SECRET_KEY; with DEBUG off it is refused, clearly, the first
time a secret is read or written.

A decrypted value is a :class:`Secret`: a ``str`` whose ``repr`` is masked,
so a model's or a traceback's repr, a debug page or a log line with ``%r``
never shows it. Code that needs the plaintext uses it as the string it is.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class SecretError(Exception):
    """A stored secret cannot be decrypted with the configured keys."""


class Secret(str):
    """A plaintext secret that does not show itself in a repr."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Secret('***')" if self else "Secret('')"


def _derived_key(secret_key: str) -> bytes:
    digest = hashlib.sha256(b"flattr-field-encryption:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY holds a value that is not a Fernet key "
            "(32 url-safe base64-encoded bytes; make one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)"
        ) from exc


def keys_configured() -> tuple[str, ...]:
    """The Fernet keys in use, newest first. Raises ImproperlyConfigured when
    none is set outside development."""
    keys = tuple(key.strip() for key in settings.FIELD_ENCRYPTION_KEY if key.strip())
    if keys:
        return keys
    if settings.DEBUG or getattr(settings, "TESTING", False):
        return (_derived_key(settings.SECRET_KEY).decode(),)
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEY is empty: with DEBUG off, third-party tokens (connected "
        "accounts) cannot be stored or read. Set FIELD_ENCRYPTION_KEY to one or more Fernet "
        "keys, comma-separated, newest first."
    )


def _fernet() -> MultiFernet:
    return _multifernet(keys_configured())


def secret_encrypt(plaintext: str) -> str:
    """The ciphertext (a Fernet token, ASCII) of ``plaintext``; empty stays empty."""
    if not plaintext:
        return ""
    return _fernet().encrypt(str(plaintext).encode()).decode("ascii")


def secret_decrypt(ciphertext: str) -> Secret:
    """The plaintext of a value ``secret_encrypt`` made with any configured key."""
    if not ciphertext:
        return Secret("")
    try:
        return Secret(_fernet().decrypt(ciphertext.encode("ascii")).decode())
    except (InvalidToken, UnicodeError) as exc:
        raise SecretError(
            "a stored secret cannot be decrypted with any key of FIELD_ENCRYPTION_KEY "
            "(was a key removed before the values were rotated?)"
        ) from exc


def secret_rotate(ciphertext: str) -> str:
    """``ciphertext`` encrypted again with the newest key (MultiFernet.rotate)."""
    if not ciphertext:
        return ""
    try:
        return _fernet().rotate(ciphertext.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise SecretError("a stored secret cannot be decrypted with any configured key") from exc


class EncryptedTextField(models.TextField):
    """A text field stored encrypted (a Fernet token) and read back as a
    :class:`Secret`. It cannot be searched or ordered by: each save makes a
    new ciphertext. Keep it out of forms, admin pages and serializers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def from_db_value(self, value: str | None, expression: object, connection: object) -> Any:
        if value is None:
            return value
        return secret_decrypt(value)

    def to_python(self, value: Any) -> Any:
        if value is None or isinstance(value, Secret):
            return value
        return Secret(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return value
        return secret_encrypt(value)

    def value_to_string(self, obj: models.Model) -> str:
        # Serialisation (dumpdata, fixtures) never carries the plaintext.
        return ""
