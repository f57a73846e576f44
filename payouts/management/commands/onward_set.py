from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from payouts.onward import OnwardRefused, onward_label, onward_set, pairs


class Command(BaseCommand):
    help = (
        "Replace a creator's whole list of onward shares: onward_set EMAIL [TARGET PERCENT ...]"
        " (TARGET: @username, a thing id or an address; no pairs: clears the list)"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("entries", nargs="*", help="TARGET PERCENT pairs")

    def handle(self, *args: Any, email, entries, **options: Any):
        creator = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if creator is None:
            raise CommandError(f"no user with e-mail {email}")
        try:
            shares = onward_set(creator=creator, entries=pairs(entries))
        except OnwardRefused as exc:
            raise CommandError(exc.line)
        if not shares:
            self.stdout.write(f"{creator.username} passes nothing on")
            return
        listed = ", ".join(f"{share.percent}% to {onward_label(share)}" for share in shares)
        self.stdout.write(f"{creator.username} passes on {listed}")
