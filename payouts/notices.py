"""What people hear about a posted run: the supporter's monthly statement
("where my 2.00 EUR went") and the creator's earnings statement, published
as notifications events in batches (one key per run and person, so
publishing again after a crash sends nothing twice).

Both funding modes use the same statements, built from the same derived
shares and fee parts; an after-mode run's (``data["funding"] == "after"``)
add what the supporter is charged and by what means, and whether the
creator can be paid by transfer, which the funding app tells through
``payouts.funding_hook``."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from notifications.models import EventType
from notifications.services import NewEvent, events_publish
from payouts.funding_hook import after_funding
from payouts.models import Funding, PayoutRun, RunStatus
from payouts.rules import FeeParts
from payouts.shares import counted_sql

BATCH = 2000


def _supporter_shares(
    run: PayoutRun, supporter_ids: list[int], *, fees: FeeParts
) -> dict[int, list[dict]]:
    """Each supporter's shares (derived, ``payouts.shares``), the largest
    first. ``fees`` has seen the shares of every supporter before these
    (batches go in supporter order): each share is told its part of its
    creator's monthly fee, and the parts add up to the fee the run charged.
    A share on a thing nobody owned is ``held`` (after mode: pledged) and
    carries no fee."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT s.supporter_id, t.title, t.url, s.amount, s.creator_id
              FROM ({counted_sql(supporters="sl.supporter_id = ANY(%(ids)s)")}) s
              JOIN buttons_thing t ON t.id = s.thing_id
             WHERE s.amount > 0
             ORDER BY s.supporter_id, s.rank
            """,  # noqa: S608 - only our own SQL fragment is interpolated
            {"run": run.pk, "period": run.period, "ids": supporter_ids},
        )
        shares: dict[int, list[dict]] = defaultdict(list)
        for supporter_id, title, url, amount, creator_id in cursor.fetchall():
            held = creator_id is None
            shares[supporter_id].append(
                {
                    "title": title,
                    "url": url,
                    "amount_cents": amount,
                    "held": held,
                    "fee_cents": 0 if held else fees.part(creator_id=creator_id, amount=amount),
                }
            )
    for mine in shares.values():
        mine.sort(key=lambda share: (-share["amount_cents"], share["title"]))
    return shares


def _supporter_events(
    run: PayoutRun, supporter_ids: list[int], *, fees: FeeParts
) -> list[NewEvent]:
    """Wallet mode: what the wallet gave and where it went. After mode
    (``data["funding"] == "after"``): the same shares, then what is charged
    (the shares on claimed things less what the wallet paid first) and to
    what, and the pledges on unclaimed things, which are not charged."""
    shares = _supporter_shares(run, supporter_ids, fees=fees)
    after = run.funding == Funding.AFTER
    charges = (
        after_funding().statement_charges(run=run, supporter_ids=supporter_ids) if after else {}
    )
    lines = run.supporter_lines.filter(supporter_id__in=supporter_ids, taken__gt=0, flattrs__gt=0)
    events = []
    for line in lines.values("supporter_id", "taken", "flattrs", "budget", "pledged"):
        supporter_id = line["supporter_id"]
        mine = shares[supporter_id]
        data = {
            "period": run.label,
            "taken_cents": line["taken"],
            "budget_cents": line["budget"],
            "flattrs": line["flattrs"],
            "shares": mine,
            "held_cents": sum(s["amount_cents"] for s in mine if s["held"]),
            "held_months": settings.FLATTR_UNCLAIMED_MONTHS,
            "months_path": reverse("my_months"),
        }
        if after:
            charge = charges[supporter_id]
            claimed = line["taken"] - line["pledged"]
            assert charge.charge_cents + charge.wallet_cents == claimed, (
                "a supporter pays their shares on claimed things, no more, no less"
            )
            data |= {
                "funding": Funding.AFTER.value,
                "claimed_cents": claimed,
                "wallet_cents": charge.wallet_cents,
                "charge_cents": charge.charge_cents,
                "method": charge.method,
                "method_needs_replacing": charge.method_needs_replacing,
                "method_path": reverse("payment_method"),
            }
        events.append(
            NewEvent(
                EventType.SUPPORTER_STATEMENT,
                supporter_id,
                data,
                f"statement:{run.label}:supporter:{supporter_id}",
            )
        )
    return events


ONWARD_NAMES = 20  # at most this many names each way in a creator's notice


def _creator_onward(run: PayoutRun, creator_ids: list[int]) -> dict[tuple[str, int], list[dict]]:
    """The onward lines of a batch of creators in one query: ``("to", id)``
    lists whom the creator passed on to (a creator's username, or the
    thing's title; ``held`` while the thing is unclaimed), ``("from", id)``
    who passed on to them (one row per giver, summed); each list the
    largest first, at most ``ONWARD_NAMES``, with ``more`` (how many were
    left off) on its last row."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH gave AS (
                SELECT 'to' AS side, ol.from_user_id AS user_id,
                       coalesce(nullif(t.title, ''), t.url, tu.username) AS label,
                       ol.to_user_id IS NULL AS held, ol.cents
                  FROM payouts_onwardline ol
                  LEFT JOIN buttons_thing t ON t.id = ol.thing_id
                  LEFT JOIN accounts_user tu ON tu.id = ol.to_user_id
                 WHERE ol.run_id = %(run)s AND ol.cents > 0
                   AND ol.from_user_id = ANY(%(ids)s)
                UNION ALL
                SELECT 'from', ol.to_user_id, fu.username, false, sum(ol.cents)::bigint
                  FROM payouts_onwardline ol
                  JOIN accounts_user fu ON fu.id = ol.from_user_id
                 WHERE ol.run_id = %(run)s AND ol.cents > 0
                   AND ol.to_user_id = ANY(%(ids)s)
                 GROUP BY ol.to_user_id, fu.username
            )
            SELECT side, user_id, label, held, cents, n FROM (
                SELECT gave.*,
                       row_number() OVER w AS rank,
                       count(*) OVER (PARTITION BY side, user_id) AS n
                  FROM gave
                WINDOW w AS (PARTITION BY side, user_id ORDER BY cents DESC, label)
            ) ranked
             WHERE rank <= %(names)s
             ORDER BY side, user_id, rank
            """,
            {"run": run.pk, "ids": creator_ids, "names": ONWARD_NAMES},
        )
        lists: dict[tuple[str, int], list[dict]] = defaultdict(list)
        for side, user_id, label, held, cents, n in cursor.fetchall():
            mine = lists[(side, user_id)]
            mine.append({"label": label, "cents": cents, "held": held})
            mine[-1]["more"] = n - len(mine)
    return lists


def _creator_events(run: PayoutRun, creator_ids: list[int]) -> list[NewEvent]:
    """Gross per thing, fee, net and onward shares. After mode
    (``data["funding"] == "after"``): the same figures are what the run
    expects; ``account_ready`` says whether the creator is paid by transfer
    as the supporters' charges are collected, or keeps it owed on their
    earnings until their payout account is ready."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT tl.creator_id, t.id, t.title, t.url, tl.flattrs, tl.amount
              FROM payouts_thingline tl JOIN buttons_thing t ON t.id = tl.thing_id
             WHERE tl.run_id = %s AND tl.creator_id = ANY(%s)
             ORDER BY tl.creator_id, tl.amount DESC
            """,
            [run.pk, creator_ids],
        )
        things: dict[int, list[dict]] = defaultdict(list)
        for creator_id, thing_id, title, url, flattrs, gross in cursor.fetchall():
            things[creator_id].append(
                {
                    "id": thing_id,
                    "title": title,
                    "url": url,
                    "flattrs": flattrs,
                    "gross_cents": gross,
                }
            )
    onward = _creator_onward(run, creator_ids)
    after = run.funding == Funding.AFTER
    ready = after_funding().creators_ready(creator_ids=creator_ids) if after else set()
    events = []
    # A user who only receives onward money has a line with gross 0: told too.
    lines = run.creator_lines.filter(
        Q(gross__gt=0) | Q(onward_in__gt=0), creator_id__in=creator_ids
    )
    for line in lines.values(
        "creator_id", "gross", "fee", "net", "flattrs", "onward_out", "onward_in"
    ):
        creator_id = line["creator_id"]
        kept = line["net"] - line["onward_out"]
        gave, got = onward.get(("to", creator_id), []), onward.get(("from", creator_id), [])
        data = {
            "period": run.label,
            "gross_cents": line["gross"],
            "fee_cents": line["fee"],
            "net_cents": line["net"],
            "fee_percent": settings.FLATTR_FEE_PERCENT,
            "flattrs": line["flattrs"],
            "things": things[creator_id],
            "onward_out_cents": line["onward_out"],
            "onward_in_cents": line["onward_in"],
            "kept_cents": kept,
            "credited_cents": kept + line["onward_in"],
            "onward_to": [{k: s[k] for k in ("label", "cents", "held")} for s in gave],
            "onward_to_more": gave[-1]["more"] if gave else 0,
            "onward_from": [{k: s[k] for k in ("label", "cents")} for s in got],
            "onward_from_more": got[-1]["more"] if got else 0,
            "earnings_path": reverse("earnings"),
        }
        if after:
            data |= {"funding": Funding.AFTER.value, "account_ready": creator_id in ready}
        events.append(
            NewEvent(
                EventType.PAYOUT_POSTED,
                creator_id,
                data,
                f"statement:{run.label}:creator:{creator_id}",
            )
        )
    return events


def run_statements_publish(*, run_id: int) -> int:
    """Publish every statement of a posted run, batch by batch."""
    run = PayoutRun.objects.get(pk=run_id)
    if run.status != RunStatus.POSTED:
        return 0
    published = 0
    fees = FeeParts(percent=settings.FLATTR_FEE_PERCENT)
    supporters = list(
        run.supporter_lines.order_by("supporter_id").values_list("supporter_id", flat=True)
    )
    for start in range(0, len(supporters), BATCH):
        with transaction.atomic():
            published += events_publish(
                events=_supporter_events(run, supporters[start : start + BATCH], fees=fees)
            )
    creators = list(run.creator_lines.order_by("creator_id").values_list("creator_id", flat=True))
    for start in range(0, len(creators), BATCH):
        with transaction.atomic():
            published += events_publish(
                events=_creator_events(run, creators[start : start + BATCH])
            )
    return published


def wallet_low_remind(*, now: dt.datetime | None = None, days_before: int = 3) -> int:
    """A few days before month end, tell supporters who flattred this month
    that their wallet holds less than their budget (once a month each)."""
    now = now or timezone.now()
    local = now.astimezone(zoneinfo.ZoneInfo(settings.PAYOUT_TIMEZONE))
    period = local.date().replace(day=1)
    next_month = (period + dt.timedelta(days=32)).replace(day=1)
    if (next_month - local.date()).days > days_before:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT u.id, u.monthly_budget_cents, coalesce(w.balance, 0)
              FROM accounts_user u
              LEFT JOIN ledger_account w ON w.user_id = u.id AND w.kind = 'wallet'
             WHERE coalesce(w.balance, 0) < u.monthly_budget_cents
               AND EXISTS (SELECT 1 FROM buttons_flattr f WHERE f.supporter_id = u.id AND f.period = %s)
            """,
            [period],
        )
        rows = cursor.fetchall()
    wallet = reverse("wallet")
    return events_publish(
        events=[
            NewEvent(
                EventType.WALLET_LOW,
                user_id,
                {
                    "period": f"{period:%Y-%m}",
                    "balance_cents": balance,
                    "budget_cents": budget,
                    "wallet_path": wallet,
                },
                f"wallet-low:{period:%Y-%m}:{user_id}",
            )
            for user_id, budget, balance in rows
        ]
    )
