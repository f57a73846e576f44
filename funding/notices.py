"""What people hear about pay after the month: e-mails (through
``notifications`` events) on each event of a charge, a transfer or a
dispute, each once (the event key names the row and, for a charge, the
attempt, so a replayed webhook or a second settle sends nothing twice).

The events follow the rows, not the services: ``funding_notices_connect``
(``FundingConfig.ready``) listens to the saves of ``Charge``, ``Transfer``,
``ChargeDispute`` and ``RunFunding``. A charge's event is stored in the
same transaction as its new state; the others once the transaction that
made the row commits (a dispute's shares and a run's charges exist then).

- ``charge.sepa_notice``: the advance notice of a SEPA Direct Debit: the
  amount, the date and the mandate reference, ``FLATTR_SEPA_NOTICE_DAYS``
  before the debit; given and recorded on the charge by
  ``funding.services.advance`` (when a run is posted, a mandate is saved
  later, a retry is scheduled), stored in that same transaction;
- ``charge.action_required``: the charge waits for the supporter, with
  the link of the confirm page (``funding.views_charges``);
- ``charge.declined``: with the date of the next try;
- ``charge.needs_method``: the way to pay expired or was refused, with the
  link to save a new one;
- ``charge.given_up``: no more tries; the month's flattrs are pledges;
- ``transfer.sent``: a creator's transfer left;
- ``charge.disputed`` / ``dispute.recovered``: a supporter's dispute, told
  to them and to every creator it takes money back from.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone

from funding.models import (
    Charge,
    ChargeDispute,
    ChargeStatus,
    RunFunding,
    Transfer,
    TransferStatus,
)
from notifications.models import EventType
from notifications.services import NewEvent, events_publish
from payments.models import PaymentMethod


def sepa_notice_event(*, charge: Charge, method: PaymentMethod) -> NewEvent:
    """The advance notice of ``charge``'s next SEPA debit (recorded on the
    charge by ``funding.services.advance.debit_announce``): amount, the date
    of ``debit_from`` and the mandate reference. Keyed by run, supporter and
    the notice's number (a retry or a new mandate is a new notice)."""
    assert charge.debit_from is not None
    key = f"sepa-notice:{charge.run.label}:{charge.supporter_id}"
    if charge.notices > 1:
        key = f"{key}:{charge.notices}"
    return NewEvent(
        EventType.CHARGE_SEPA_NOTICE,
        charge.supporter_id,
        {
            "period": charge.run.label,
            "amount_cents": charge.amount,
            "date": timezone.localdate(charge.debit_from).isoformat(),
            "last4": method.last4,
            "mandate_reference": method.mandate_reference,
            "months_path": reverse("my_months"),
        },
        key,
    )


def _charge_event(charge: Charge) -> NewEvent | None:
    """The event a charge's new state calls for, None for the others."""
    label = charge.run.label
    data: dict[str, Any] = {
        "period": label,
        "amount_cents": charge.amount,
        "reason": charge.reason,
        "months_path": reverse("my_months"),
    }
    base = f"charge:{label}:{charge.supporter_id}"
    if charge.status == ChargeStatus.REQUIRES_ACTION:
        data["confirm_path"] = reverse("charge_confirm", args=[charge.pk])
        return NewEvent(
            EventType.CHARGE_ACTION, charge.supporter_id, data, f"{base}:action:{charge.attempts}"
        )
    if charge.status == ChargeStatus.FAILED and charge.next_attempt_at:
        data["next_attempt"] = charge.next_attempt_at.date().isoformat()
        return NewEvent(
            EventType.CHARGE_DECLINED,
            charge.supporter_id,
            data,
            f"{base}:declined:{charge.attempts}",
        )
    if charge.status == ChargeStatus.NEEDS_METHOD:
        data["method_path"] = reverse("payment_method")
        return NewEvent(
            EventType.CHARGE_NEEDS_METHOD,
            charge.supporter_id,
            data,
            f"{base}:needs-method:{charge.attempts}",
        )
    if charge.status == ChargeStatus.GIVEN_UP:
        return NewEvent(EventType.CHARGE_GIVEN_UP, charge.supporter_id, data, f"{base}:given-up")
    return None


def _charge_saved(sender: type, instance: Charge, **kwargs: Any) -> None:
    event = _charge_event(instance)
    if event is not None:
        events_publish(events=[event])


def _transfer_saved(sender: type, instance: Transfer, **kwargs: Any) -> None:
    if instance.status != TransferStatus.SENT:
        return
    payout = instance.payout
    events_publish(
        events=[
            NewEvent(
                EventType.TRANSFER_SENT,
                payout.creator_id,
                {
                    "period": payout.run.label,
                    "amount_cents": instance.amount,
                    "earnings_path": reverse("earnings"),
                },
                f"transfer:{instance.idempotency_key}:sent",
            )
        ]
    )


def dispute_notices_publish(*, dispute_id: int) -> int:
    """The supporter and every creator a dispute takes money back from."""
    dispute = ChargeDispute.objects.select_related("charge__run").get(pk=dispute_id)
    charge = dispute.charge
    label = charge.run.label
    events = [
        NewEvent(
            EventType.CHARGE_DISPUTED,
            charge.supporter_id,
            {
                "period": label,
                "amount_cents": dispute.amount,
                "months_path": reverse("my_months"),
            },
            f"dispute:{dispute.dispute_id}:supporter",
        )
    ]
    events += [
        NewEvent(
            EventType.DISPUTE_RECOVERED,
            creator_id,
            {
                "period": label,
                "gross_cents": gross,
                "earnings_path": reverse("earnings"),
            },
            f"dispute:{dispute.dispute_id}:creator:{creator_id}",
        )
        for creator_id, gross in dispute.shares.filter(gross__gt=0).values_list(
            "creator_id", "gross"
        )
    ]
    return events_publish(events=events)


def _dispute_saved(sender: type, instance: ChargeDispute, created: bool, **kwargs: Any) -> None:
    if created:
        pk = instance.pk
        transaction.on_commit(lambda: dispute_notices_publish(dispute_id=pk), robust=True)


def _run_funding_saved(sender: type, instance: RunFunding, created: bool, **kwargs: Any) -> None:
    if created:
        from funding.services.advance import run_debits_announce

        run_id = instance.run_id
        transaction.on_commit(lambda: run_debits_announce(run_id=run_id), robust=True)


def funding_notices_connect() -> None:
    post_save.connect(_charge_saved, sender=Charge, dispatch_uid="funding_charge_notice")
    post_save.connect(_transfer_saved, sender=Transfer, dispatch_uid="funding_transfer_notice")
    post_save.connect(_dispute_saved, sender=ChargeDispute, dispatch_uid="funding_dispute_notice")
    post_save.connect(_run_funding_saved, sender=RunFunding, dispatch_uid="funding_sepa_notice")
