"""``manage.py likes_poll [--account ID]``: poll connected accounts now,
synchronously (all that are on and not revoked, due or not; or one), and
print one JSON object: accounts polled, likes seen, flattrs made, likes
waiting over the cap, likes skipped by reason, errors."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from likes.models import AccountStatus, ConnectedAccount
from likes.polling import PollSummary, account_poll


class Command(BaseCommand):
    help = "Poll connected accounts now and print what came of it as JSON."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", type=int, help="Poll only this connected account (id).")

    def handle(self, *args: Any, **options: Any) -> None:
        summary = PollSummary()
        account_id = options.get("account")
        if account_id is not None:
            account = ConnectedAccount.objects.filter(pk=account_id).first()
            if account is None:
                raise CommandError(f"No connected account with id {account_id}.")
            if not account.enabled or account.status not in (
                AccountStatus.ACTIVE,
                AccountStatus.ERROR,
            ):
                raise CommandError(
                    f"Connected account {account_id} is not polled: it is "
                    f"{'off' if not account.enabled else account.status}."
                )
            ids = [account_id]
        else:
            ids = list(
                ConnectedAccount.objects.filter(
                    enabled=True, status__in=[AccountStatus.ACTIVE, AccountStatus.ERROR]
                )
                .order_by("id")
                .values_list("id", flat=True)
            )
        for pk in ids:
            account_poll(account_id=pk, force=True, summary=summary)
        self.stdout.write(json.dumps(summary.as_dict()))
