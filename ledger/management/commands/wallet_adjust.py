from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from core.money import AmountTooLarge, format_cents, parse_euros
from ledger import selectors, services


class Command(BaseCommand):
    help = (
        "Credit (positive) or debit (negative) a wallet: wallet_adjust EMAIL AMOUNT --reason TEXT"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("amount", help="euros, signed, at most two decimals: 8.00, -2.5")
        # Checked in handle() rather than by argparse, so a missing reason is
        # one clear line like every other refusal.
        parser.add_argument("--reason", default="", help="why (recorded in the memo)")
        parser.add_argument("--by", help="e-mail of the staff member recording it")

    def handle(self, *args: Any, email, amount, reason, by: User | None = None, **options: Any):
        User = get_user_model()
        if not reason.strip():
            raise CommandError("a reason is required: --reason TEXT")
        limit = settings.FLATTR_MAX_ADJUSTMENT_CENTS
        try:
            cents = parse_euros(amount, allow_negative=True)
        except AmountTooLarge as exc:
            raise CommandError(
                f"bad amount: {exc}; an adjustment is at most {limit / 100:,.2f} either way"
            ) from None
        except ValueError as exc:
            raise CommandError(f"bad amount: {exc}") from None
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"no user with e-mail {email}")
        if by:
            staff = User.objects.filter(email__iexact=by, is_staff=True).first()
            if staff is None:
                raise CommandError(f"no staff member with e-mail {by}")
        else:
            staff = (
                User.objects.filter(is_superuser=True, is_staff=True, is_active=True)
                .order_by("pk")
                .first()
            )
            if staff is None:
                raise CommandError("no superuser to record the adjustment; pass --by STAFF_EMAIL")
        try:
            txn = services.wallet_adjust(user=user, amount_cents=cents, reason=reason, staff=staff)
        except services.InsufficientFunds:
            # Rolled back: the wallet is as it was.
            balance = selectors.wallet_balance(user=user)
            raise CommandError(
                f"refused: the wallet holds {format_cents(balance)}, it cannot go below zero"
            ) from None
        except services.AdjustmentRefused as exc:
            raise CommandError(f"refused: {exc}") from None
        self.stdout.write(
            f"transaction #{txn.pk}: {format_cents(cents, sign=True)} on {user.email}'s wallet, "
            f"now {format_cents(selectors.wallet_balance(user=user))}"
        )
