"""SEPA Direct Debit advance notices: a debit is never sent to the processor
before the supporter was told its amount, date and mandate
``FLATTR_SEPA_NOTICE_DAYS`` days ahead (the rule of SEPA mandates; 0: no
hold). Card charges are never held.

A notice is recorded on its charge (``notices``, ``notice_at``,
``debit_from``) in the same transaction that stores its e-mail event, so a
recorded notice is a notice that will be sent, and the debit's date is the
one the e-mail names. Given:

- when the run is posted (``run_debits_announce``, on the posting's
  commit): the amounts are final then; every queued charge of a supporter
  paying by SEPA becomes ``held`` until its date;
- when a supporter saves a SEPA mandate while a charge of theirs is not
  tried yet, declined or waiting for a way to pay (``charges_method_saved``):
  their own notice, the hold counting from it;
- when a SEPA debit is declined and a retry is scheduled: a new notice names
  the retry's date (the later of the schedule's day and the notice period);
- as a safety net, when a charge is about to be tried by SEPA without a
  notice for that attempt (``charges._claim``): the notice is given then and
  the attempt waits.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from funding.models import Charge, ChargeStatus
from funding.notices import sepa_notice_event
from notifications.services import NewEvent, events_publish
from payments.models import PaymentMethod, PaymentMethodKind, PaymentMethodStatus
from payouts.models import PayoutRun

BATCH = 2000


def notice_days() -> int:
    return int(settings.FLATTR_SEPA_NOTICE_DAYS)


def is_sepa(method: PaymentMethod | None) -> bool:
    return method is not None and method.kind == PaymentMethodKind.SEPA_DEBIT


def notice_required(method: PaymentMethod | None) -> bool:
    """Whether a debit with ``method`` must wait for an advance notice."""
    return is_sepa(method) and notice_days() > 0


def debit_announce(
    *, charge: Charge, method: PaymentMethod, now: dt.datetime, earliest: dt.datetime | None = None
) -> NewEvent:
    """Record the advance notice of ``charge``'s next attempt on the (locked)
    charge, not saved: the debit is due from ``now`` plus the notice days, or
    ``earliest`` if later. The caller saves the charge and publishes the
    returned event in the same transaction."""
    debit = now + dt.timedelta(days=notice_days())
    if earliest is not None and earliest > debit:
        debit = earliest
    charge.notices += 1
    charge.notice_at = now
    charge.debit_from = debit
    return sepa_notice_event(charge=charge, method=method)


def run_debits_announce(*, run_id: int, now: dt.datetime | None = None) -> int:
    """At posting: the advance notice of every queued charge of the run paid
    by SEPA; those charges are held until their date. A charge a worker holds
    at that moment is skipped (its claim gives the notice itself). Returns
    the notices given."""
    now = now or timezone.now()
    run = PayoutRun.objects.get(pk=run_id)
    queued = Charge.objects.filter(run=run, amount__gt=0, status=ChargeStatus.QUEUED)
    given = 0
    after = 0
    while True:
        # Keyset batches: memory stays flat whatever the run's size.
        supporters = list(
            queued.filter(supporter_id__gt=after)
            .order_by("supporter_id")
            .values_list("supporter_id", flat=True)[:BATCH]
        )
        if not supporters:
            break
        after = supporters[-1]
        methods = {
            m.user_id: m
            for m in PaymentMethod.objects.filter(
                user_id__in=supporters,
                status=PaymentMethodStatus.ACTIVE,
                kind=PaymentMethodKind.SEPA_DEBIT,
            )
        }
        if not methods:
            continue
        with transaction.atomic(durable=True):
            charges = list(
                Charge.objects.select_for_update(skip_locked=True)
                .select_related("run")
                .filter(
                    run=run,
                    amount__gt=0,
                    status=ChargeStatus.QUEUED,
                    supporter_id__in=list(methods),
                )
                .order_by("pk")
            )
            events = []
            for charge in charges:
                events.append(
                    debit_announce(charge=charge, method=methods[charge.supporter_id], now=now)
                )
                charge.status = ChargeStatus.HELD
                charge.updated_at = now
            Charge.objects.bulk_update(
                charges, ["status", "notices", "notice_at", "debit_from", "updated_at"]
            )
            events_publish(events=events)
            given += len(charges)
    return given
