"""The admin's "retry now" of one declined charge: due at once, then tried
like any other attempt (a new key, outside any transaction)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from funding.models import Charge, ChargeStatus
from funding.services import charge_attempt
from payments.models import PaymentMethod, PaymentMethodStatus

RETRYABLE = (ChargeStatus.FAILED, ChargeStatus.NEEDS_METHOD)


class RetryRefused(Exception):
    pass


def charge_retry_now(*, charge_id: int) -> Charge:
    """Make a declined charge due now and try it. RetryRefused (a message
    for the admin) when it is not declined, its SEPA debit was announced for
    a later date, or it waits for a way to pay the supporter has not saved."""
    now = timezone.now()
    with transaction.atomic(durable=True):
        charge = Charge.objects.select_for_update().get(pk=charge_id)
        if charge.status not in RETRYABLE:
            raise RetryRefused(
                _("Only a declined charge can be retried; this one is: %(status)s.")
                % {"status": charge.get_status_display()}
            )
        if charge.debit_from is not None and charge.debit_from > now:
            raise RetryRefused(
                _(
                    "This Direct Debit was announced to the supporter for %(date)s:"
                    " it cannot be made earlier."
                )
                % {"date": date_format(timezone.localtime(charge.debit_from), "DATETIME_FORMAT")}
            )
        has_method = PaymentMethod.objects.filter(
            user_id=charge.supporter_id, status=PaymentMethodStatus.ACTIVE
        ).exists()
        if not has_method:
            raise RetryRefused(_("The supporter has no usable way to pay saved: nothing to try."))
        charge.status = ChargeStatus.FAILED
        charge.next_attempt_at = now
        charge.save(update_fields=["status", "next_attempt_at", "updated_at"])
    charge_attempt(charge_id=charge_id, now=now)
    charge.refresh_from_db()
    return charge
