"""Posting an approved run to the ledger, exactly once, spread over workers.

Money goes supporters -> payout clearing -> creators in three stages. Each
stage is a set of chunks (``PayoutChunk`` rows) that any number of workers
post in parallel; the run moves to the next stage when every chunk of the
current one is done (``payout_run_advance``, under the run's row lock).

- ``posting:supporters``, one chunk per posting batch of supporter lines:
  ``payout:<P>:supporters:<chunk>``, wallets -taken, clearing +sum (a
  wallet that no longer covers its amount makes the database refuse the
  chunk, which is then posted again with its wallets locked and read first
  and the shortfalls recomputed: never overdrawn);
- ``posting:creators``, creator lines split by ``creator_id % n`` into ``n``
  chunks, plus chunk ``n`` for the holdings and charity:
  ``payout:<P>:creator:<user id>`` (clearing -gross, earnings +net, platform
  fees +fee), then, in the same chunk, ``payout:<P>:onward:<user id>`` for a
  creator who passes on (earnings -onward_out, each receiver's earnings or
  the unclaimed thing's holding +its share), ``payout:<P>:unclaimed:<thing
  id>`` (the part supporters' flattrs gave), ``payout:<P>:charity``;
- ``posting:settlements``, one chunk: ``payout:<P>:claim:<holding id>`` and
  ``payout:<P>:return:<holding id>`` (holdings paid to a thing's new owner
  or returned to its supporters, and their onward part to the creators
  who passed it on).

Exactly once, twice over: a worker holds the chunk's row lock while it
posts (``SKIP LOCKED``: another worker moves on to the next chunk) and marks
it done in the same database transaction as its ledger transactions, whose
idempotency keys the ledger posts once. A worker killed half-way loses only
its open chunk (rolled back, lock released); the beat sweeper
(``payout_runs_sweep``) queues the chunks nobody holds, so another worker
finishes the run without a manual command.

Every ledger write goes through ``ledger.services``' bulk posting
(``transactions_post_many``, ``transaction_post_for_users``).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Max
from django.db.models.functions import Mod
from django.utils import timezone

from ledger.models import AccountKind, TransactionKind
from ledger.services import (
    InsufficientFunds,
    NewTransaction,
    Reference,
    UserLegs,
    accounts_ensure,
    accounts_lock,
    platform_account,
    transaction_post_for_users,
    transactions_post_many,
)
from payouts.funding_hook import after_funding
from payouts.models import (
    POSTING_STAGES,
    CreatorLine,
    EventAction,
    Funding,
    HoldingStatus,
    OnwardLine,
    PayoutChunk,
    PayoutRun,
    RunStage,
    RunStatus,
    SupporterLine,
    UnclaimedLine,
)
from payouts.rules import taken_sql
from payouts.services.compute import (
    PayoutError,
    aggregate_lines,
    progress_key,
    refresh_totals,
    stage_record,
)
from payouts.services.planner import PAYDAY, POSTING_CHUNK, planner
from payouts.shares import counted_sql

# Creators per chunk of the creators' stage (each creator is one ledger
# transaction of up to three postings).
CREATOR_CHUNK_SIZE = 10_000

Chunk = tuple[str, int]


def _platform_ids() -> dict[str, int]:
    return {
        "clearing": platform_account(kind=AccountKind.PAYOUT_CLEARING).pk,
        "fees": platform_account(kind=AccountKind.PLATFORM_FEES).pk,
        "charity": platform_account(kind=AccountKind.CHARITY).pk,
    }


def _key(run: PayoutRun, key: str) -> str:
    return f"payout:{run.label}:{key}"


def _payout(
    run: PayoutRun,
    key: str,
    legs: list[tuple[int, int]],
    *,
    kind: TransactionKind = TransactionKind.PAYOUT,
    memo: str = "",
) -> NewTransaction:
    return NewTransaction(
        kind=kind,
        idempotency_key=_key(run, key),
        legs=legs,
        memo=memo or f"Payout {run.label}",
        reference=Reference.of(run, period=run.period),
    )


def _fix_shortfalls(cursor: CursorWrapper, run: PayoutRun, chunk: int, fixed: list[int]) -> None:
    """Supporters whose wallet no longer covers their amount (spent or
    refunded since computing) give what the wallet holds, split again: each
    thing line moves by the difference between the new and the old shares
    (derived, ``payouts/shares.py``), then the lines take the new amount."""
    params: dict[str, Any] = {"run": run.pk, "chunk": chunk, "fixed": fixed, "period": run.period}
    new_taken = taken_sql(budget="sl.budget", balance="w.balance")
    mine = "sl.supporter_id = ANY(%(fixed)s)"
    wallet_now = (
        f"(SELECT {new_taken} FROM ledger_account w"  # noqa: S608 - our own SQL fragment
        " WHERE w.user_id = sl.supporter_id AND w.kind = 'wallet')"
    )
    cursor.execute(
        f"""
        UPDATE payouts_thingline tl
           SET amount = tl.amount + d.delta
          FROM (SELECT s.thing_id, sum(s.amount - old.amount)::bigint AS delta
                  FROM ({counted_sql(supporters=mine, taken=wallet_now)}) s
                  JOIN ({counted_sql(supporters=mine)}) old ON old.flattr_id = s.flattr_id
                 GROUP BY s.thing_id) d
         WHERE tl.run_id = %(run)s AND tl.thing_id = d.thing_id AND d.delta <> 0
        """,  # noqa: S608 - only our own SQL fragments are interpolated
        params,
    )
    cursor.execute(
        f"""
        UPDATE payouts_supporterline sl
           SET taken = {new_taken},
               balance = w.balance,
               charity = CASE WHEN sl.flattrs = 0 THEN {new_taken} ELSE 0 END
          FROM ledger_account w
         WHERE w.user_id = sl.supporter_id AND w.kind = 'wallet'
           AND sl.run_id = %(run)s AND sl.supporter_id = ANY(%(fixed)s)
        """,  # noqa: S608 - only our own SQL fragment is interpolated
        params,
    )
    run.events.create(
        action=EventAction.SHORTFALL,
        note=f"{len(fixed)} supporters recomputed (wallet changed)",
    )


def _post_supporters(
    cursor: CursorWrapper, run: PayoutRun, chunk: int, accounts: dict[str, int], *, careful: bool
) -> None:
    """Wallets -taken, clearing +sum. First without reading balances, the
    legs read by the database straight from the chunk's lines: it refuses
    the whole chunk if a wallet no longer covers its amount (spent or
    refunded since computing), and only then is the chunk posted again
    ``careful``ly: wallets locked and read first, shortfalls recomputed.
    After mode: the registered funding half records the chunk's charges and
    receivables (``payouts/funding_hook.py``)."""
    if run.funding == Funding.AFTER:
        after_funding().post_supporters(cursor=cursor, run=run, chunk=chunk)
        return
    lines = SupporterLine.objects.filter(run=run, chunk=chunk)
    if careful:
        taken = list(lines.values_list("supporter_id", "taken"))
        wallets = accounts_ensure(kind=AccountKind.WALLET, user_ids=[s for s, _taken in taken])
        balances = accounts_lock(account_ids=wallets.values())
        fixed = [s for s, cents in taken if balances[wallets[s]] < cents]
        if fixed:
            _fix_shortfalls(cursor, run, chunk, fixed)
    transaction_post_for_users(
        kind=TransactionKind.PAYOUT,
        idempotency_key=_key(run, f"supporters:{chunk}"),
        memo=f"Payout {run.label}",
        reference=Reference.of(run, period=run.period),
        user_legs=UserLegs(
            kind=AccountKind.WALLET,
            rows=lines.filter(taken__gt=0).values_list("supporter_id", F("taken") * -1),
        ),
        balance_account_id=accounts["clearing"],
    )


def _post_creators(
    cursor: CursorWrapper, run: PayoutRun, chunk: int, accounts: dict[str, int], *, careful: bool
) -> None:
    if run.funding == Funding.AFTER:
        # Creators are credited as charges are collected (funding), and
        # unclaimed shares are pledges: nothing moves at posting.
        return
    chunks = PayoutChunk.objects.filter(run=run, stage=RunStage.POSTING_CREATORS).count() - 1
    if chunk < chunks:
        lines = list(
            CreatorLine.objects.filter(run=run, gross__gt=0)
            .alias(part=Mod("creator_id", chunks))
            .filter(part=chunk)
            .values_list("creator_id", "gross", "fee", "net", "onward_out")
        )
        givers = [creator for creator, *_, onward_out in lines if onward_out > 0]
        onward = list(
            OnwardLine.objects.filter(run=run, from_user_id__in=givers, cents__gt=0).values_list(
                "from_user_id", "to_user_id", "thing_id", "cents"
            )
        )
        earnings = accounts_ensure(
            kind=AccountKind.EARNINGS,
            user_ids=[c for c, *_ in lines] + [to for _f, to, _t, _c in onward if to is not None],
        )
        held = accounts_ensure(
            kind=AccountKind.UNCLAIMED,
            refs=[f"thing:{thing}" for _f, to, thing, _c in onward if to is None],
        )
        passed: dict[int, list[tuple[int, int]]] = {}
        for giver, to, thing, cents in onward:
            account = earnings[to] if to is not None else held[f"thing:{thing}"]
            passed.setdefault(giver, []).append((account, cents))
        items = [
            _payout(
                run,
                f"creator:{creator}",
                [
                    (accounts["clearing"], -gross),
                    (earnings[creator], net),
                    (accounts["fees"], fee),
                ],
            )
            for creator, gross, fee, net, _onward_out in lines
        ]
        items += [
            _payout(
                run,
                f"onward:{creator}",
                [(earnings[creator], -onward_out), *passed[creator]],
                memo=f"Passed on {run.label}",
            )
            for creator, *_, onward_out in lines
            if onward_out > 0
        ]
        transactions_post_many(transactions=items)
        return
    holdings = [
        (thing, amount - onward)
        for thing, amount, onward in UnclaimedLine.objects.filter(run=run).values_list(
            "thing_id", "amount", "onward"
        )
        if amount > onward
    ]
    refs = accounts_ensure(
        kind=AccountKind.UNCLAIMED, refs=[f"thing:{thing}" for thing, _ in holdings]
    )
    items = [
        _payout(
            run,
            f"unclaimed:{thing}",
            [(accounts["clearing"], -amount), (refs[f"thing:{thing}"], amount)],
        )
        for thing, amount in holdings
    ]
    if run.charity:
        items.append(
            _payout(
                run,
                "charity",
                [(accounts["clearing"], -run.charity), (accounts["charity"], run.charity)],
            )
        )
    transactions_post_many(transactions=items)


def _returned_shares(cursor: CursorWrapper, holdings: Any) -> list[tuple[int, int, int]]:
    """Who gave to each returned holding ``(id, run id, thing id)``, and how
    much: (holding, supporter, cents), from the shares of the holding's run,
    derived for the supporters who flattred the thing in that run's month."""
    by_run: dict[int, dict[int, int]] = {}
    for holding, run_id, thing in holdings:
        by_run.setdefault(run_id, {})[thing] = holding
    given = []
    gave = (
        "sl.supporter_id IN (SELECT g.supporter_id FROM buttons_flattr g"
        " WHERE g.period = %(period)s AND g.thing_id = ANY(%(things)s))"
    )
    for source in PayoutRun.objects.filter(pk__in=by_run):
        things = by_run[source.pk]
        cursor.execute(
            f"""
            SELECT thing_id, supporter_id, sum(amount)::bigint
              FROM ({counted_sql(supporters=gave)}) s
             WHERE thing_id = ANY(%(things)s)
             GROUP BY thing_id, supporter_id
            HAVING sum(amount) <> 0
            """,  # noqa: S608 - only our own SQL fragments are interpolated
            {"run": source.pk, "period": source.period, "things": list(things)},
        )
        given += [(things[thing], supporter, amount) for thing, supporter, amount in cursor]
    return given


def _returned_onward(holdings: Any) -> list[tuple[int, int, int]]:
    """Who passed on to each returned holding ``(id, run id, thing id)``,
    and how much: (holding, creator, cents), from the onward lines of the
    holding's run (its onward part goes back to those creators)."""
    wanted = {(run_id, thing): holding for holding, run_id, thing in holdings}
    if not wanted:
        return []
    rows = OnwardLine.objects.filter(
        run_id__in={run_id for run_id, _ in wanted},
        thing_id__in={thing for _, thing in wanted},
        to_user__isnull=True,
        cents__gt=0,
    ).values_list("run_id", "thing_id", "from_user_id", "cents")
    return [
        (wanted[(run_id, thing)], giver, cents)
        for run_id, thing, giver, cents in rows
        if (run_id, thing) in wanted
    ]


def _post_settlements(
    cursor: CursorWrapper, run: PayoutRun, chunk: int, accounts: dict[str, int], *, careful: bool
) -> None:
    settled = UnclaimedLine.objects.filter(settled_by=run)
    claims = list(
        settled.filter(status=HoldingStatus.CLAIMED).values_list(
            "id", "thing_id", "amount", "claimed_by_id", "claim_fee"
        )
    )
    returns = list(
        settled.filter(status=HoldingStatus.RETURNED).values_list("id", "thing_id", "amount")
    )
    refs = accounts_ensure(
        kind=AccountKind.UNCLAIMED,
        refs=[f"thing:{row[1]}" for row in claims + returns],
    )
    owners = [row[3] for row in claims if row[3] is not None]
    earnings = accounts_ensure(kind=AccountKind.EARNINGS, user_ids=owners)
    items = [
        _payout(
            run,
            f"claim:{holding}",
            [
                (refs[f"thing:{thing}"], -amount),
                (earnings[owner], amount - fee),
                (accounts["fees"], fee),
            ],
            kind=TransactionKind.UNCLAIMED_CLAIM,
            memo=f"Claimed holding of thing {thing}",
        )
        for holding, thing, amount, owner, fee in claims
    ]
    if returns:
        given = _returned_shares(
            cursor,
            settled.filter(status=HoldingStatus.RETURNED).values_list("id", "run_id", "thing_id"),
        )
        wallets = accounts_ensure(kind=AccountKind.WALLET, user_ids=[row[1] for row in given])
        back: dict[int, list[tuple[int, int]]] = {}
        for holding, supporter, amount in given:
            back.setdefault(holding, []).append((wallets[supporter], amount))
        passed_on = _returned_onward(
            settled.filter(status=HoldingStatus.RETURNED, onward__gt=0).values_list(
                "id", "run_id", "thing_id"
            )
        )
        givers = accounts_ensure(kind=AccountKind.EARNINGS, user_ids=[row[1] for row in passed_on])
        for holding, giver, amount in passed_on:
            back.setdefault(holding, []).append((givers[giver], amount))
        items += [
            _payout(
                run,
                f"return:{holding}",
                [(refs[f"thing:{thing}"], -amount), *back.get(holding, [])],
                kind=TransactionKind.UNCLAIMED_RETURN,
                memo=f"Unclaimed holding of thing {thing} returned",
            )
            for holding, thing, amount in returns
        ]
    transactions_post_many(transactions=items)


POSTERS = {
    RunStage.POSTING_SUPPORTERS: _post_supporters,
    RunStage.POSTING_CREATORS: _post_creators,
    RunStage.POSTING_SETTLEMENTS: _post_settlements,
}


def _plan(run: PayoutRun, stage: RunStage) -> list[int]:
    """The chunk numbers of ``stage``, recorded as rows to be done."""
    if stage == RunStage.POSTING_SUPPORTERS:
        # Lines are numbered into chunks 0, 1, ... in supporter order at
        # computing: the last number is one backward step of an index.
        last = run.supporter_lines.aggregate(last=Max("chunk"))["last"]
        numbers = [] if last is None else list(range(last + 1))
    elif stage == RunStage.POSTING_CREATORS and run.funding == Funding.AFTER:
        numbers = [0]
    elif stage == RunStage.POSTING_CREATORS:
        creators = run.creator_lines.filter(gross__gt=0).count()
        numbers = list(range(max(1, -(-creators // CREATOR_CHUNK_SIZE)) + 1))
    else:
        numbers = [0]
    PayoutChunk.objects.bulk_create(
        [PayoutChunk(run=run, stage=stage, number=n) for n in numbers], ignore_conflicts=True
    )
    return numbers


def _finish_supporters(run: PayoutRun) -> PayoutRun:
    """Wallets changed since computing: creators get what was really taken."""
    if not run.events.filter(action=EventAction.SHORTFALL).exists():
        return run
    with connection.cursor() as cursor, planner(cursor, PAYDAY, restore=False):
        aggregate_lines(
            cursor=cursor, params={"run": run.pk, "fee_percent": settings.FLATTR_FEE_PERCENT}
        )
    run = refresh_totals(run=run)
    if not run.conservation_ok:
        raise PayoutError(f"the run of {run.label} no longer balances after recomputing")
    return run


def _queue(chunks: list[Chunk], run_id: int) -> None:
    from payouts.tasks import payout_post_chunk

    for stage, number in chunks:
        payout_post_chunk.delay(run_id, stage, number)


def payout_run_advance(*, run_id: int, queue: bool = True) -> list[Chunk]:
    """Move an approved run to its next stage once every chunk of the current
    stage is done; returns the chunks still to post. With ``queue``, the
    chunks of a stage just entered are queued for the workers on commit.
    Safe to call any number of times, concurrently (the run row is locked)."""
    with transaction.atomic():
        run = PayoutRun.objects.select_for_update().get(pk=run_id)
        if run.status != RunStatus.APPROVED:
            return []
        entered = False
        while True:
            if run.stage in POSTING_STAGES:
                pending = list(
                    run.chunks.filter(stage=run.stage, done_at__isnull=True)
                    .order_by("number")
                    .values_list("stage", "number")
                )
                if pending:
                    break
            if run.stage == RunStage.POSTING_SETTLEMENTS:
                run.status = RunStatus.POSTED
                run.stage = RunStage.DONE
                run.progress = ""
                run.posted_at = timezone.now()
                run.save(update_fields=["status", "stage", "progress", "posted_at"])
                run.events.create(action=EventAction.POSTED)
                _after_posting(run)
                return []
            if run.stage == RunStage.POSTING_SUPPORTERS:
                run = _finish_supporters(run)
                following = RunStage.POSTING_CREATORS
            elif run.stage == RunStage.POSTING_CREATORS:
                following = RunStage.POSTING_SETTLEMENTS
            else:
                following = RunStage.POSTING_SUPPORTERS
            _plan(run, following)
            stage_record(run, following)
            entered = True
        if queue and entered:
            transaction.on_commit(lambda: _queue(pending, run_id))
        return pending


def payout_chunk_post(*, run_id: int, stage: str, number: int) -> bool:
    """Post one chunk, once. False when it is done already, being posted by
    another worker, or not of an approved run."""
    try:
        posted = _chunk_post(run_id=run_id, stage=stage, number=number, careful=False)
    except InsufficientFunds:
        # A wallet changed since computing; nothing of the chunk was written.
        posted = _chunk_post(run_id=run_id, stage=stage, number=number, careful=True)
    if posted:
        _progress(run_id=run_id, stage=stage)
    return posted


def _chunk_post(*, run_id: int, stage: str, number: int, careful: bool) -> bool:
    with transaction.atomic():
        chunk = (
            PayoutChunk.objects.select_for_update(skip_locked=True)
            .filter(run_id=run_id, stage=stage, number=number, done_at__isnull=True)
            .first()
        )
        if chunk is None:
            return False
        run = PayoutRun.objects.get(pk=run_id)
        if run.status != RunStatus.APPROVED or run.stage != stage:
            return False
        with (
            connection.cursor() as cursor,
            planner(cursor, PAYDAY, POSTING_CHUNK, restore=False),
        ):
            POSTERS[RunStage(stage)](cursor, run, number, _platform_ids(), careful=careful)
        chunk.done_at = timezone.now()
        chunk.save(update_fields=["done_at"])
    return True


def _progress(*, run_id: int, stage: str) -> None:
    """Chunks done, for the admin's live view (the cache, not the run row,
    which chunk workers never lock)."""
    from django.core.cache import cache

    chunks = PayoutChunk.objects.filter(run_id=run_id, stage=stage)
    done, total = chunks.filter(done_at__isnull=False).count(), chunks.count()
    cache.set(progress_key(run_id), f"{stage} {done}/{total}", 3600)


def payout_run_post(*, run_id: int, poll_seconds: float = 0.5) -> PayoutRun:
    """Post an approved run in this process (the command and tests), taking
    whatever chunks no worker holds; returns once the run is posted. Safe to
    call any number of times, concurrently, beside any number of workers."""
    run = PayoutRun.objects.get(pk=run_id)
    if run.status not in (RunStatus.APPROVED, RunStatus.POSTED):
        raise PayoutError(
            f"the run of {run.label} is {run.status}; only an approved run can be posted"
        )
    while True:
        pending = payout_run_advance(run_id=run_id, queue=False)
        run = PayoutRun.objects.get(pk=run_id)
        if run.status == RunStatus.POSTED:
            return run
        if run.status != RunStatus.APPROVED:
            raise PayoutError(f"the run of {run.label} is {run.status}; posting stopped")
        posted = [payout_chunk_post(run_id=run_id, stage=s, number=n) for s, n in pending]
        if pending and not any(posted):
            # Other workers hold the remaining chunks: wait for them.
            time.sleep(poll_seconds)


def payout_runs_sweep() -> list[Chunk]:
    """Beat: queue every chunk of an approved run that nobody is posting
    (its worker died, or the broker lost the message). Chunks a live worker
    holds are skipped; queueing a chunk twice posts it once."""
    queued: list[Chunk] = []
    for run_id in PayoutRun.objects.filter(status=RunStatus.APPROVED).values_list("pk", flat=True):
        payout_run_advance(run_id=run_id)
        with transaction.atomic():
            free = list(
                PayoutChunk.objects.select_for_update(skip_locked=True)
                .filter(run_id=run_id, done_at__isnull=True)
                .filter(stage=PayoutRun.objects.filter(pk=run_id).values("stage")[:1])
                .values_list("stage", "number")
            )
        if free:
            _queue(free, run_id)
            queued += free
    return queued


def _after_posting(run: PayoutRun) -> None:
    """The run's Merkle commitment is fixed with the posting; statements go
    out once it has committed, in both modes (an after-mode statement reads
    the charges the posting recorded), queued before charging so that the
    statement is usually the first thing a supporter hears of the month."""
    from payouts import tasks, transparency

    transparency.run_commit(run=run)
    transaction.on_commit(lambda: tasks.payout_statements_publish.delay(run.pk))
    if run.funding == Funding.AFTER:
        after_funding().run_posted(run=run)
