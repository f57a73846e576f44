from collections.abc import Iterator

from django.conf import settings
from django.db.models import F, QuerySet

from accounts.models import User
from buttons import selectors as button_selectors
from ledger import selectors as ledger_selectors
from payouts.models import CreatorLine, PayoutRun, RunStatus, SupporterLine
from payouts.rules import share_cents, shares_cents, taken_cents
from payouts.services.compute import add_months, current_period


def payout_report_totals(*, run: PayoutRun) -> dict:
    """The run's head and totals (stored on the run row, no counting)."""
    return {
        "period": run.label,
        "status": run.status,
        "totals": {
            "supporters": run.supporters,
            "flattrs": run.flattrs,
            "taken": run.taken,
            "gross": run.gross,
            "fee": run.fee,
            "net": run.net,
            "unclaimed": run.unclaimed,
            "charity": run.charity,
        },
    }


# Lines read a page at a time by the reports and exports.
REPORT_PAGE = 10_000


def _pages_by_username(lines: QuerySet, key: str, *fields: str) -> Iterator[tuple]:
    """Rows of (key, *fields) in key order (a username, unique), a page at a
    time by key: each page is one short query of its own, never a cursor
    that outlives its transaction (a ``.iterator()`` outside a transaction
    declares one ``WITH HOLD``, which another pooled connection of PgBouncer
    in transaction mode does not have). A million lines never sit in memory
    at once, and each page starts from an index (the username's)."""
    ordered = lines.order_by(key)
    last = None
    while True:
        page = ordered if last is None else ordered.filter(**{f"{key}__gt": last})
        rows = list(page.values_list(key, *fields)[:REPORT_PAGE])
        yield from rows
        if len(rows) < REPORT_PAGE:
            return
        last = rows[-1][0]


def payout_report_supporters(*, run: PayoutRun) -> Iterator[dict]:
    """Supporter lines, streamed a page at a time (by username)."""
    rows = _pages_by_username(
        run.supporter_lines.all(), "supporter__username", "supporter__email", "taken", "flattrs"
    )
    for username, email, taken, flattrs in rows:
        yield {"username": username, "email": email, "taken": taken, "flattrs": flattrs}


def payout_report_creators(*, run: PayoutRun) -> Iterator[dict]:
    """Creator lines, streamed a page at a time (by username): with what
    each passed on (``onward_out``), received onward (``onward_in``) and
    kept of their net (``net - onward_out``)."""
    rows = _pages_by_username(
        run.creator_lines.all(),
        "creator__username",
        "gross",
        "fee",
        "net",
        "flattrs",
        "onward_out",
        "onward_in",
    )
    for username, gross, fee, net, flattrs, onward_out, onward_in in rows:
        yield {
            "username": username,
            "gross": gross,
            "fee": fee,
            "net": net,
            "flattrs": flattrs,
            "onward_out": onward_out,
            "onward_in": onward_in,
            "kept": net - onward_out,
        }


def payout_report_onward(*, run: PayoutRun) -> Iterator[dict]:
    """The run's onward shares of more than 0 cents: who passed on, the
    user credited (the thing's owner for a thing; None while held), the
    thing and the cents; in (from, to, thing) order, a page at a time."""
    lines = (
        run.onward_lines.filter(cents__gt=0)
        .order_by("from_user__username", "to_user__username", "thing_id", "id")
        .values_list("id", "from_user__username", "to_user__username", "thing_id", "cents")
    )
    offset = 0
    while True:
        page = list(lines[offset : offset + REPORT_PAGE])
        for _id, giver, to, thing, cents in page:
            yield {"from": giver, "to": to, "thing": thing, "cents": cents}
        if len(page) < REPORT_PAGE:
            return
        offset += REPORT_PAGE


CSV_HEADER = ["role", "username", "email"]
CSV_MONEY = ["budget", "balance", "taken", "charity", "gross", "fee", "net"]
# Appended after ``flattrs`` (existing consumers read the first columns):
# what a creator passed on, received onward and kept (``net - onward_out``).
CSV_ONWARD = ["onward_out", "onward_in", "kept"]


def payout_report_rows(
    *, run: PayoutRun, roles: tuple[str, ...] = ("supporter", "creator"), euros: bool = False
) -> Iterator[list]:
    """The run's lines as CSV rows, header first, streamed: the one shape of
    ``payout_report --format csv`` (cents) and the admin's exports
    (``euros``: amounts as decimals, the currency in the header)."""
    from core.money import cents_to_decimal

    def money(cents: object) -> object:
        return cents_to_decimal(cents) if euros and isinstance(cents, int) else cents

    suffix = f" ({settings.CURRENCY})" if euros else ""
    yield [
        *CSV_HEADER,
        *(f"{name}{suffix}" for name in CSV_MONEY),
        "flattrs",
        *(f"{name}{suffix}" for name in CSV_ONWARD),
    ]
    if "supporter" in roles:
        rows = _pages_by_username(
            run.supporter_lines.all(),
            "supporter__username",
            "supporter__email",
            "budget",
            "balance",
            "taken",
            "charity",
            "flattrs",
        )
        for username, email, budget, balance, taken, charity, flattrs in rows:
            amounts = [budget, balance, taken, charity, "", "", ""]
            yield ["supporter", username, email, *map(money, amounts), flattrs, "", "", ""]
    if "creator" in roles:
        creator_rows = _pages_by_username(
            run.creator_lines.all(),
            "creator__username",
            "creator__email",
            "gross",
            "fee",
            "net",
            "flattrs",
            "onward_out",
            "onward_in",
        )
        for username, email, gross, fee, net, flattrs, out, received in creator_rows:
            amounts = ["", "", "", "", gross, fee, net]
            onward = [out, received, net - out]
            yield [
                "creator",
                username,
                email,
                *map(money, amounts),
                flattrs,
                *map(money, onward),
            ]


def payout_report(*, run: PayoutRun) -> dict:
    """The run's figures in the shape of ``payout_report --format json``
    (whole, for small runs and tests; the command streams the same shape)."""
    return {
        **payout_report_totals(run=run),
        "supporters": list(payout_report_supporters(run=run)),
        "creators": list(payout_report_creators(run=run)),
        "onward": list(payout_report_onward(run=run)),
    }


def onward_figures(*, run: PayoutRun, limit: int = 10) -> dict:
    """The run's onward shares for its admin page: cents passed on, received
    onward (credited to users) and held (for unclaimed things), and the
    ``limit`` users who received most (username, cents, how many gave)."""
    from django.db.models import Count, Sum

    receivers = (
        run.onward_lines.filter(cents__gt=0, to_user__isnull=False)
        .values("to_user_id", "to_user__username")
        .annotate(cents=Sum("cents"), givers=Count("from_user_id", distinct=True))
        .order_by("-cents", "to_user__username")[:limit]
    )
    return {
        "passed_on": run.onward,
        "received": run.onward_received,
        "held": run.onward - run.onward_received,
        "top_receivers": [
            {"username": r["to_user__username"], "cents": r["cents"], "givers": r["givers"]}
            for r in receivers
        ],
    }


def top_creators(*, run: PayoutRun, limit: int = 10) -> QuerySet[CreatorLine]:
    return run.creator_lines.select_related("creator").order_by("-gross")[:limit]


def suspicious_creators(*, run: PayoutRun, limit: int = 10) -> list[dict]:
    """Creators most of whose flattrs came from accounts created that month.

    Counted when the run is computed (``flattrs_from_new`` on each creator
    line), so the page reads the run's creator lines and nothing else."""
    rows = (
        run.creator_lines.alias(twice_new=F("flattrs_from_new") * 2)
        .filter(flattrs__gte=3, twice_new__gt=F("flattrs"))
        .order_by("-flattrs_from_new", "creator_id")
        .values_list("creator_id", "creator__username", "flattrs", "flattrs_from_new")[:limit]
    )
    return [
        {"creator_id": c, "username": u, "flattrs": n, "from_new_accounts": new}
        for c, u, n, new in rows
    ]


def supporter_months(*, user: User, limit: int = 12) -> list[dict]:
    """A supporter's posted months, newest first: amount taken and where
    each share went (thing, creator, cents)."""
    from buttons.models import Thing
    from payouts.models import RunStatus, SupporterLine, UnclaimedLine
    from payouts.services.compute import add_months
    from payouts.shares import supporter_shares

    lines = list(
        SupporterLine.objects.filter(supporter=user, run__status=RunStatus.POSTED)
        .select_related("run")
        .order_by("-run__period")[:limit]
    )
    # Four statements whatever the number of months: the lines, every
    # month's shares, their things and their holdings.
    by_run = supporter_shares(runs=[line.run for line in lines], supporter_id=user.pk)
    things = Thing.objects.select_related("owner").in_bulk(
        {s.thing_id for shares in by_run.values() for s in shares}
    )
    unowned = {s.thing_id for shares in by_run.values() for s in shares if not s.creator_id}
    # Shares of unclaimed things: held, claimed since, or returned.
    holdings = {
        (run_id, thing_id): status
        for run_id, thing_id, status in UnclaimedLine.objects.filter(
            run_id__in=list(by_run), thing_id__in=unowned
        ).values_list("run_id", "thing_id", "status")
    }
    months = []
    for line in lines:
        shares = sorted(by_run[line.run_id], key=lambda s: -s.amount)
        months.append(
            {
                "period": line.run.period,
                "taken": line.taken,
                "charity": line.charity,
                # Held shares come back with the run of this month, if unclaimed.
                "returns_after": add_months(line.run.period, settings.FLATTR_UNCLAIMED_MONTHS),
                "shares": [
                    {
                        "thing": things.get(s.thing_id),
                        "amount": s.amount,
                        "claimed": s.creator_id,
                        "holding": holdings.get((line.run_id, s.thing_id), ""),
                    }
                    for s in shares
                ],
            }
        )
    return months


def supporter_month_preview(*, user: User) -> dict:
    """If the month ended now: the same rules as the split, for one person."""
    from payouts.services.compute import current_period

    period = current_period()
    flattrs = list(
        button_selectors.counted_flattrs(supporter=user, period=period)
        .select_related("thing", "thing__owner")
        .order_by("created_at", "id")
    )
    outlook = supporter_outlook(user=user)
    owes, amount = outlook["owes"], outlook["amount"]
    n = len(flattrs)
    shares = shares_cents(amount=amount, n=n) if n else []
    return {
        "period": period,
        "amount": amount,
        "owes": owes,
        "count": n,
        # "About ... each": the share of the latest flattr (no extra cent).
        "each": share_cents(amount=amount, n=n, rank=n) if n else 0,
        # The wallet as the outlook read it (the page shows it too).
        "figures": outlook["figures"],
        "shares": [
            {"thing": f.thing, "amount": cents} for f, cents in zip(flattrs, shares, strict=True)
        ],
    }


def wallet_figures(*, user: User) -> dict:
    """The wallet as every page shows it (``includes/wallet_figures.html``):
    ``balance`` (what the ledger holds), ``reserved`` (what computed but
    unposted runs will take: still in the wallet, already promised) and
    ``available`` (``balance - reserved``, never below 0: what this month's
    split can take), with the pending months behind ``reserved``, oldest
    first (``period``, ``taken``, ``status``)."""
    balance = ledger_selectors.wallet_balance(user=user)
    rows = (
        SupporterLine.objects.filter(
            supporter=user,
            run__status__in=[RunStatus.DRAFT, RunStatus.APPROVED],
            taken__gt=0,
        )
        .order_by("run__period")
        .values_list("run__period", "taken", "run__status")
    )
    pending = [
        {"period": period, "taken": taken, "status": status} for period, taken, status in rows
    ]
    reserved = sum(taken for _period, taken, _status in rows)
    return {
        "balance": balance,
        "reserved": reserved,
        "available": max(balance - reserved, 0),
        "pending": pending,
    }


def supporter_outlook(*, user: User, adding: bool = False) -> dict:
    """What this month's split will really take from ``user`` and share.

    ``amount = min(budget, wallet - committed)``, where ``committed`` is what
    a computed but unposted run will take, so it is not counted twice; 0 for
    someone who owes a receivable, whom the split skips. My months' preview
    takes its amount from here.
    ``adding`` counts one more flattr (the one being confirmed).
    """
    figures = wallet_figures(user=user)
    balance, committed, available = figures["balance"], figures["reserved"], figures["available"]
    budget = user.monthly_budget_cents
    # The split skips anyone who owes (payouts.services.compute).
    owes = ledger_selectors.receivable_owed(user=user) > 0
    amount = taken_cents(budget=budget, balance=available, owes=owes)
    count = button_selectors.counted_flattrs(supporter=user).count() + (1 if adding else 0)
    period = current_period()
    return {
        "balance": balance,
        "committed": committed,
        "available": available,
        "figures": figures,
        "owes": owes,
        "budget": budget,
        "amount": amount,
        "short": available < budget,
        "flattrs": count,
        "each": share_cents(amount=amount, n=count, rank=count) if count else 0,
        "period": period,
        "next_run": add_months(period, 1),
    }


def supporter_dashboard(*, user: User) -> dict:
    """Everything the dashboard shows, in one place: this month's outlook and
    flattrs, earnings if any, and the things that need the person's attention
    (each a short code the template words)."""
    from django.apps import apps
    from django.conf import settings

    outlook = supporter_outlook(user=user)
    flattrs = list(
        button_selectors.counted_flattrs(supporter=user)
        .select_related("thing", "thing__owner")
        .order_by("created_at", "id")[:50]
    )
    # The split's rule (the earliest flattr has rank 1).
    n, amount = outlook["flattrs"], outlook["amount"]
    for rank, flattr in enumerate(flattrs, start=1):
        flattr.estimated_share = share_cents(amount=amount, n=n, rank=rank) if n else 0
    earnings = ledger_selectors.earnings_balance(user=user)
    owed = ledger_selectors.receivable_owed(user=user)
    # payments is a sibling app: its rows are looked up by name.
    payout_account = apps.get_model("withdrawals", "PayoutAccount")
    topup = apps.get_model("payments", "TopUp")
    withdrawal = apps.get_model("withdrawals", "Withdrawal")
    attention = []
    if owed:
        attention.append("owes")
    if outlook["flattrs"] and outlook["short"]:
        attention.append("wallet_short")
    things = user.things.filter(removed=False).count()
    # "Top up to flattr" is for people who flattr: not for a creator who
    # only receives.
    if not outlook["balance"] and (outlook["flattrs"] or not things):
        attention.append("wallet_empty")
    if topup.objects.filter(user=user, status="pending").exists():
        attention.append("topup_pending")
    has_account = payout_account.objects.filter(user=user, status="enabled").exists()
    if earnings >= settings.FLATTR_MIN_WITHDRAWAL_CENTS and not has_account:
        attention.append("connect_payout_account")
    if withdrawal.objects.filter(user=user, status="awaiting_review").exists():
        attention.append("withdrawal_in_review")
    return {
        "outlook": outlook,
        "flattrs": flattrs,
        "earnings": earnings,
        "owed": owed,
        "attention": attention,
        "things": things,
    }


def creator_thing_earnings(*, user: User, limit: int = 50) -> list[dict]:
    """Per thing of ``user``: flattrs this month (not paid yet), and the gross
    shares (before the platform fee) of last month's run and of every posted
    run, from the thing lines of posted runs, one grouped query."""
    from django.db import connection

    from buttons.models import Thing

    period = current_period()
    last = add_months(period, -1)
    things = list(Thing.objects.filter(owner=user, removed=False).order_by("-created_at")[:limit])
    if not things:
        return []
    ids = [t.pk for t in things]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT tl.thing_id,
                   coalesce(sum(tl.amount) FILTER (WHERE r.period = %(last)s), 0)::bigint,
                   sum(tl.amount)::bigint
              FROM payouts_thingline tl
              JOIN payouts_payoutrun r ON r.id = tl.run_id AND r.status = 'posted'
             WHERE tl.creator_id = %(user)s AND tl.thing_id = ANY(%(ids)s)
             GROUP BY tl.thing_id
            """,
            {"last": last, "user": user.pk, "ids": ids},
        )
        money = {thing_id: (last_gross, total) for thing_id, last_gross, total in cursor}
    month_counts = dict(button_selectors.flattr_counts(thing_ids=ids, period=period))
    rows = []
    for thing in things:
        last_gross, total = money.get(thing.pk, (0, 0))
        rows.append(
            {
                "thing": thing,
                "month_flattrs": month_counts.get(thing.pk, 0),
                "last_month": last_gross,
                "all_time": total,
                "supporters": button_selectors.public_supporters(thing=thing, limit=5),
            }
        )
    return rows
