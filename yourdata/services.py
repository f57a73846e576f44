"""Deleting an account: personal data erased, every ledger row kept."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from buttons import selectors as button_selectors
from buttons.subscriptions import subscriptions_cancel_all
from core.money import format_cents
from ledger import selectors as ledger_selectors
from payments.withdrawals import wallet_refunds
from yourdata import selectors


class WalletChoice(models.TextChoices):
    # The remaining wallet becomes this month's budget: the month-end split
    # gives all of it to the creators of this month's flattrs.
    GIVE = "give", _("Give it to the creators of this month's flattrs")
    # The wallet is emptied into a wallet refund (a withdrawal staff
    # review) that pays it back to the cards of the person's top-ups.
    REFUND = "refund", _("Refund it to the cards I paid with")


class DeletionRefused(Exception):
    """The account was not deleted; the message says why."""


@transaction.atomic(durable=True)
def account_delete(*, user: User, wallet_choice: str = "") -> User:
    """Erase ``user``'s personal data. Ledger accounts, postings and flattrs
    stay (pointing at an anonymous row), the person's things are hidden and
    their subscriptions cancelled.
    A non-empty wallet needs a ``wallet_choice``: given to this month's
    creators (it becomes the month's budget), or refunded to the cards it
    came from through a wallet refund that staff review in the admin (less
    what a computed, unposted run will still take for last month).
    Raises DeletionRefused and changes nothing otherwise."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.deleted_at is not None:
        raise DeletionRefused(_("This account is already deleted."))
    if ledger_selectors.receivable_owed(user=user) > 0:
        raise DeletionRefused(
            _("A payment of yours was refunded or disputed: settle it before deleting.")
        )
    # Earnings that can be withdrawn go to the person, not to an anonymous
    # row: below the minimum withdrawal they stay in the ledger, untouched.
    earnings = ledger_selectors.earnings_balance(user=user)
    if earnings >= settings.FLATTR_MIN_WITHDRAWAL_CENTS:
        raise DeletionRefused(
            _("You have %(amount)s of earnings: withdraw them before deleting your account.")
            % {"amount": format_cents(earnings)}
        )
    # What a computed, unposted run takes stays for last month's creators:
    # the choice is about the rest.
    available = ledger_selectors.wallet_balance(user=user) - selectors.wallet_committed(user=user)
    budget = 0
    if available > 0:
        if wallet_choice not in WalletChoice.values:
            raise DeletionRefused(_("Choose what happens to the money left in your wallet."))
        if wallet_choice == WalletChoice.GIVE:
            if not button_selectors.counted_flattrs(supporter=user).exists():
                raise DeletionRefused(
                    _("You flattred nothing this month: there is nobody to give it to.")
                )
            budget = available
        else:
            try:
                wallet_refunds.wallet_refund_request(user=user, amount_cents=available)
            except wallet_refunds.WalletRefundRefused as exc:
                raise DeletionRefused(str(exc)) from exc
    user.things.update(hidden=True)
    # Nobody is left to flattr for: no renewal, no "skipped" notice to the
    # erased address, no flattr if money comes back to the wallet later.
    subscriptions_cancel_all(supporter=user)
    EmailAddress.objects.filter(user=user).delete()
    label = f"deleted-{user.pk}"
    user.email = f"{label}@deleted.invalid"
    user.username = label
    user.display_name = ""
    user.bio = ""
    user.website = ""
    user.first_name = ""
    user.last_name = ""
    user.flattrs_public = False
    user.monthly_budget_cents = budget
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.deleted_at = timezone.now()
    user.set_unusable_password()
    user.save()
    return user
