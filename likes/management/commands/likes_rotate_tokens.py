"""``manage.py likes_rotate_tokens``: encrypt every stored third-party token
again with the newest key of FIELD_ENCRYPTION_KEY (after a new key was put
in front), so the old key can then be dropped. Prints one JSON object."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from core.crypto import SecretError, secret_rotate
from likes.models import ConnectedAccount, InstanceApp

COLUMNS = [
    (ConnectedAccount, ["access_token", "refresh_token"]),
    (InstanceApp, ["client_secret"]),
]


class Command(BaseCommand):
    help = "Encrypt stored tokens again with the newest FIELD_ENCRYPTION_KEY."

    def handle(self, *args: Any, **options: Any) -> None:
        rotated = 0
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                for model, columns in COLUMNS:
                    table = model._meta.db_table
                    names = ", ".join(columns)
                    cursor.execute(f"SELECT id, {names} FROM {table} FOR UPDATE")  # noqa: S608 - our names
                    for row in cursor.fetchall():
                        values = [secret_rotate(value or "") for value in row[1:]]
                        sets = ", ".join(f"{column} = %s" for column in columns)
                        cursor.execute(
                            f"UPDATE {table} SET {sets} WHERE id = %s",  # noqa: S608 - our names
                            [*values, row[0]],
                        )
                        rotated += 1
        except SecretError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps({"rows": rotated}))
