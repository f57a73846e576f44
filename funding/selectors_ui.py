"""What the pages of pay after the month read (``FLATTR_FUNDING=after``):
the dashboard's forecast of the next charge, a supporter's charges per
month, a creator's earnings per month and the admin's charging progress.
The forecast applies the split's rules (``payouts.rules``): no copy of
them here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from accounts.models import User
from buttons.selectors import counted_flattrs
from funding.models import Charge, ChargeStatus, Transfer
from funding.selectors import creator_earnings, run_progress, supporter_months
from ledger import selectors as ledger_selectors
from payments.models import PaymentMethodKind
from payments.selectors import payment_method_active
from payouts.models import PayoutRun
from payouts.rules import shares_cents, taken_cents, wallet_part_cents
from payouts.services.compute import add_months, current_period


def funding_after() -> bool:
    return settings.FLATTR_FUNDING == "after"


def after_forecast(*, user: User) -> dict[str, Any]:
    """If the month ended now: the charge after it. ``amount`` is the
    budget split among this month's counted flattrs; the shares on claimed
    things are ``claimed`` (money left in the wallet pays first:
    ``wallet_part``, the rest ``charged`` to the saved way to pay), the
    shares on unclaimed things ``pledged`` (not charged). Without a usable
    way to pay nothing is charged: ``claimed`` is what saving one gives.
    By SEPA the date is ``debit_on`` (the advance notice's days later);
    ``held`` lists the debits of closed months announced for a date to come."""
    period = current_period()
    rows = list(
        counted_flattrs(supporter=user, period=period)
        .select_related("thing", "thing__owner")
        .order_by("created_at", "id")
    )
    flattrs = [f.thing.owner_id for f in rows]
    n = len(flattrs)
    amount = taken_cents(budget=user.monthly_budget_cents, balance=0, after=True) if n else 0
    shares = shares_cents(amount=amount, n=n) if n else []
    claimed = sum(cents for owner, cents in zip(flattrs, shares, strict=True) if owner)
    wallet = wallet_part_cents(claimed=claimed, balance=ledger_selectors.wallet_balance(user=user))
    method = payment_method_active(user=user)
    usable = method is not None and method.status == "active"
    charge_on = add_months(period, 1)
    sepa = usable and method is not None and method.kind == PaymentMethodKind.SEPA_DEBIT
    return {
        "period": period,
        "charge_on": charge_on,
        # A SEPA debit waits for its advance notice, given when the month's
        # run is approved: at the earliest this many days after the 1st.
        "debit_on": charge_on + dt.timedelta(days=settings.FLATTR_SEPA_NOTICE_DAYS)
        if sepa
        else charge_on,
        # Debits of closed months announced and waiting for their date.
        "held": [
            {"period": c.run.period, "amount": c.amount, "debit_from": c.debit_from}
            for c in Charge.objects.filter(supporter=user, status=ChargeStatus.HELD)
            .select_related("run")
            .order_by("run__period")
        ],
        "flattrs": n,
        "claimed_flattrs": sum(1 for owner in flattrs if owner),
        "amount": amount,
        "claimed": claimed,
        "pledged": amount - claimed,
        "wallet_part": wallet,
        "charged": claimed - wallet,
        "method": method,
        "usable": usable,
        "shares": [
            {"thing": f.thing, "amount": cents, "pledged": not f.thing.owner_id}
            for f, cents in zip(rows[:50], shares, strict=False)
        ],
    }


def my_charges(*, user: User) -> list[dict[str, Any]]:
    """A supporter's charges per month (``funding.selectors``), each with
    the words the page shows: ``bucket`` (charged, failed, waiting),
    ``confirm`` when it waits for them and ``debit_on`` when a SEPA debit
    waits for the date its advance notice named."""
    rows = supporter_months(user=user)
    for row in rows:
        status = row["status"]
        row["bucket"] = (
            "charged"
            if status == ChargeStatus.SUCCEEDED
            else "failed"
            if status in (ChargeStatus.FAILED, ChargeStatus.NEEDS_METHOD, ChargeStatus.GIVEN_UP)
            else "waiting"
        )
        row["confirm"] = status == ChargeStatus.REQUIRES_ACTION
        row["debit_on"] = row["debit_from"] if status == ChargeStatus.HELD else None
        row["status_display"] = row["charge"].get_status_display()
    return rows


def my_earnings(*, user: User) -> dict[str, Any]:
    """A creator's after-mode months and their totals."""
    rows = creator_earnings(user=user)
    keys = ("expected", "collected", "transferred", "owed", "debt")
    return {"rows": rows, "totals": {k: sum(row[k] for row in rows) for k in keys}}


def run_charging(*, run: PayoutRun, transfers: int = 50) -> dict[str, Any]:
    """The admin run page: ``run_progress`` (aggregates on indexed columns)
    with each state's label, and the latest transfers."""
    progress = run_progress(run=run)
    states = progress["states"]
    progress["rows"] = [
        {
            "status": status,
            "label": label,
            **states.get(status, {"count": 0, "cents": 0}),
        }
        for status, label in ChargeStatus.choices
    ]
    progress["transfers"] = list(
        Transfer.objects.filter(payout__run=run)
        .select_related("payout__creator")
        .order_by("-pk")[:transfers]
    )
    progress["retry_list_url"] = None
    progress["failed_charges"] = Charge.objects.filter(
        run=run, status__in=(ChargeStatus.FAILED, ChargeStatus.NEEDS_METHOD)
    ).count()
    return progress
