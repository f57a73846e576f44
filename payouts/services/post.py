"""Posting an approved run to the ledger, exactly once.

Money goes supporters -> payout clearing -> creators, in stages that each
commit on their own and carry idempotency keys derived from the run:

- ``payout:<P>:supporters:<chunk>``: wallets -taken, clearing +sum (one
  transaction per chunk of supporter lines; wallets are locked first and a
  wallet that no longer covers its amount is recomputed, never overdrawn);
- ``payout:<P>:creator:<user id>``: clearing -gross, earnings +net,
  platform fees +fee (one per creator);
- ``payout:<P>:unclaimed:<thing id>``: clearing -> the thing's holding;
- ``payout:<P>:charity``: clearing -> charity;
- ``payout:<P>:claim:<holding id>`` / ``payout:<P>:return:<holding id>``:
  holdings paid to a thing's new owner or returned to its supporters.

A session advisory lock keeps two workers apart; whoever comes second finds
the work done. A worker killed half-way leaves whole stages committed, and
running it again skips every key already posted (ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

import os
import time
from typing import Any

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from ledger.models import AccountKind
from ledger.services import platform_account
from payouts.models import PayoutRun, RunStatus
from payouts.services.compute import (
    PayoutError,
    _counted_flattrs_sql,
    _stage,
    _tune,
    aggregate_lines,
    refresh_totals,
)

LOCK_BASE = 0x5041_0000  # "PA": payout advisory locks


def _pause_for_tests(stage: str) -> None:
    """Crash tests set FLATTR_TEST_POST_PAUSE to widen the window between
    committed stages, so a process can be killed half-way on purpose."""
    delay = os.environ.get("FLATTR_TEST_POST_PAUSE")
    if delay:
        print(f"stage {stage} committed", flush=True)  # noqa: T201
        time.sleep(float(delay))


def _key_exists(cursor: CursorWrapper, key: str) -> bool:
    cursor.execute("SELECT 1 FROM ledger_transaction WHERE idempotency_key = %s", [key])
    return cursor.fetchone() is not None


def _ensure_accounts(cursor: CursorWrapper, run: PayoutRun) -> None:
    """Earnings accounts for every creator and holdings for every thing."""
    cursor.execute(
        """
        INSERT INTO ledger_account (kind, user_id, ref, balance, created_at)
        SELECT 'earnings', creator_id, '', 0, now() FROM payouts_creatorline WHERE run_id = %(run)s
        UNION
        SELECT 'earnings', claimed_by_id, '', 0, now() FROM payouts_unclaimedline
         WHERE settled_by_id = %(run)s AND status = 'claimed'
        ON CONFLICT DO NOTHING
        """,
        {"run": run.pk},
    )
    cursor.execute(
        """
        INSERT INTO ledger_account (kind, user_id, ref, balance, created_at)
        SELECT DISTINCT 'unclaimed', NULL::bigint, 'thing:' || thing_id, 0, now()
          FROM payouts_unclaimedline WHERE run_id = %(run)s OR settled_by_id = %(run)s
        ON CONFLICT DO NOTHING
        """,
        {"run": run.pk},
    )
    cursor.execute(
        """
        INSERT INTO ledger_account (kind, user_id, ref, balance, created_at)
        SELECT 'wallet', s.supporter_id, '', 0, now()
          FROM payouts_unclaimedline h JOIN payouts_share s ON s.run_id = h.run_id AND s.thing_id = h.thing_id
         WHERE h.settled_by_id = %(run)s AND h.status = 'returned'
        ON CONFLICT DO NOTHING
        """,
        {"run": run.pk},
    )


def _post_supporter_chunk(
    cursor: CursorWrapper, run: PayoutRun, chunk: int, clearing_id: int
) -> None:
    key = f"payout:{run.label}:supporters:{chunk}"
    if _key_exists(cursor, key):
        return
    params: dict[str, Any] = {
        "run": run.pk,
        "chunk": chunk,
        "key": key,
        "memo": f"Payout {run.label}",
        "clearing": clearing_id,
    }
    # Lock this chunk's wallets in id order, then fix any that no longer
    # cover their amount (spent or refunded since computing).
    cursor.execute(
        """
        SELECT w.id FROM ledger_account w
          JOIN payouts_supporterline sl ON sl.supporter_id = w.user_id AND w.kind = 'wallet'
         WHERE sl.run_id = %(run)s AND sl.chunk = %(chunk)s
         ORDER BY w.id FOR UPDATE OF w
        """,
        params,
    )
    cursor.execute(
        """
        UPDATE payouts_supporterline sl
           SET taken = least(sl.budget, greatest(w.balance, 0)),
               balance = w.balance,
               charity = CASE WHEN sl.flattrs = 0 THEN least(sl.budget, greatest(w.balance, 0)) ELSE 0 END
          FROM ledger_account w
         WHERE w.user_id = sl.supporter_id AND w.kind = 'wallet'
           AND sl.run_id = %(run)s AND sl.chunk = %(chunk)s AND w.balance < sl.taken
        RETURNING sl.supporter_id
        """,
        params,
    )
    fixed = [row[0] for row in cursor.fetchall()]
    if fixed:
        params["fixed"] = fixed
        cursor.execute(
            "DELETE FROM payouts_share WHERE run_id = %(run)s AND supporter_id = ANY(%(fixed)s)",
            params,
        )
        cursor.execute(
            f"""
            INSERT INTO payouts_share (flattr_id, run_id, supporter_id, thing_id, creator_id, amount)
            SELECT c.id, %(run)s, c.supporter_id, c.thing_id, c.owner_id,
                   s.taken / s.flattrs
                   + CASE WHEN row_number() OVER (PARTITION BY c.supporter_id ORDER BY c.created_at, c.id)
                               <= s.taken %% s.flattrs THEN 1 ELSE 0 END
              FROM ({_counted_flattrs_sql()}) c
              JOIN payouts_supporterline s ON s.run_id = %(run)s AND s.supporter_id = c.supporter_id
             WHERE s.flattrs > 0 AND s.taken > 0 AND c.supporter_id = ANY(%(fixed)s)
            """,  # noqa: S608
            {**params, "period": run.period},
        )
        run.events.create(
            action="shortfall", note=f"{len(fixed)} supporters recomputed (wallet changed)"
        )
    cursor.execute(
        "SELECT coalesce(sum(taken), 0) FROM payouts_supporterline WHERE run_id = %(run)s AND chunk = %(chunk)s",
        params,
    )
    if cursor.fetchone()[0] == 0:
        return
    cursor.execute(
        """
        WITH new AS (
            INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)
            VALUES ('payout', %(key)s, %(memo)s, now())
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
        )
        INSERT INTO ledger_posting (transaction_id, account_id, amount)
        SELECT new.id, w.id, -sl.taken
          FROM new, payouts_supporterline sl
          JOIN ledger_account w ON w.user_id = sl.supporter_id AND w.kind = 'wallet'
         WHERE sl.run_id = %(run)s AND sl.chunk = %(chunk)s AND sl.taken > 0
        UNION ALL
        SELECT new.id, %(clearing)s, (SELECT sum(taken) FROM payouts_supporterline
                                       WHERE run_id = %(run)s AND chunk = %(chunk)s)
          FROM new
        """,
        params,
    )


def _post_creators_and_holdings(cursor: CursorWrapper, run: PayoutRun, accounts: dict) -> None:
    params = {"run": run.pk, "label": run.label, "memo": f"Payout {run.label}", **accounts}
    cursor.execute(
        """
        WITH new AS (
            INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)
            SELECT 'payout', 'payout:' || %(label)s || ':creator:' || creator_id, %(memo)s, now()
              FROM payouts_creatorline WHERE run_id = %(run)s AND gross > 0
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key
        )
        INSERT INTO ledger_posting (transaction_id, account_id, amount)
        SELECT new.id, x.account_id, x.amount
          FROM new
          JOIN payouts_creatorline cl
            ON cl.run_id = %(run)s AND new.idempotency_key = 'payout:' || %(label)s || ':creator:' || cl.creator_id
          JOIN ledger_account e ON e.user_id = cl.creator_id AND e.kind = 'earnings'
          CROSS JOIN LATERAL (VALUES (%(clearing)s::bigint, -cl.gross), (e.id, cl.net), (%(fees)s::bigint, cl.fee))
                AS x(account_id, amount)
         WHERE x.amount <> 0
        """,
        params,
    )
    cursor.execute(
        """
        WITH new AS (
            INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)
            SELECT 'payout', 'payout:' || %(label)s || ':unclaimed:' || thing_id, %(memo)s, now()
              FROM payouts_unclaimedline WHERE run_id = %(run)s AND amount > 0
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key
        )
        INSERT INTO ledger_posting (transaction_id, account_id, amount)
        SELECT new.id, x.account_id, x.amount
          FROM new
          JOIN payouts_unclaimedline h
            ON h.run_id = %(run)s AND new.idempotency_key = 'payout:' || %(label)s || ':unclaimed:' || h.thing_id
          JOIN ledger_account a ON a.kind = 'unclaimed' AND a.user_id IS NULL AND a.ref = 'thing:' || h.thing_id
          CROSS JOIN LATERAL (VALUES (%(clearing)s::bigint, -h.amount), (a.id, h.amount)) AS x(account_id, amount)
        """,
        params,
    )
    if run.charity:
        cursor.execute(
            """
            WITH new AS (
                INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)
                VALUES ('payout', 'payout:' || %(label)s || ':charity', %(memo)s, now())
                ON CONFLICT (idempotency_key) DO NOTHING RETURNING id
            )
            INSERT INTO ledger_posting (transaction_id, account_id, amount)
            SELECT new.id, x.account_id, x.amount FROM new
             CROSS JOIN (VALUES (%(clearing)s::bigint, -%(charity)s::bigint), (%(charity_account)s::bigint, %(charity)s::bigint))
                   AS x(account_id, amount)
            """,
            {**params, "charity": run.charity},
        )


def _post_settlements(cursor: CursorWrapper, run: PayoutRun, accounts: dict) -> None:
    params = {"run": run.pk, "label": run.label, **accounts}
    cursor.execute(
        """
        WITH new AS (
            INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)
            SELECT 'unclaimed_claim', 'payout:' || %(label)s || ':claim:' || id,
                   'Claimed holding of thing ' || thing_id, now()
              FROM payouts_unclaimedline WHERE settled_by_id = %(run)s AND status = 'claimed'
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key
        )
        INSERT INTO ledger_posting (transaction_id, account_id, amount)
        SELECT new.id, x.account_id, x.amount
          FROM new
          JOIN payouts_unclaimedline h ON new.idempotency_key = 'payout:' || %(label)s || ':claim:' || h.id
          JOIN ledger_account a ON a.kind = 'unclaimed' AND a.user_id IS NULL AND a.ref = 'thing:' || h.thing_id
          JOIN ledger_account e ON e.kind = 'earnings' AND e.user_id = h.claimed_by_id
          CROSS JOIN LATERAL (VALUES (a.id, -h.amount), (e.id, h.amount - h.claim_fee), (%(fees)s::bigint, h.claim_fee))
                AS x(account_id, amount)
         WHERE x.amount <> 0
        """,
        params,
    )
    cursor.execute(
        """
        WITH new AS (
            INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)
            SELECT 'unclaimed_return', 'payout:' || %(label)s || ':return:' || id,
                   'Unclaimed holding of thing ' || thing_id || ' returned', now()
              FROM payouts_unclaimedline WHERE settled_by_id = %(run)s AND status = 'returned'
            ON CONFLICT (idempotency_key) DO NOTHING RETURNING id, idempotency_key
        ),
        holdings AS (
            SELECT new.id AS txn, h.* FROM new
              JOIN payouts_unclaimedline h ON new.idempotency_key = 'payout:' || %(label)s || ':return:' || h.id
        )
        INSERT INTO ledger_posting (transaction_id, account_id, amount)
        SELECT holdings.txn, a.id, -holdings.amount
          FROM holdings JOIN ledger_account a ON a.kind = 'unclaimed' AND a.user_id IS NULL AND a.ref = 'thing:' || holdings.thing_id
        UNION ALL
        SELECT holdings.txn, w.id, sum(s.amount)
          FROM holdings
          JOIN payouts_share s ON s.run_id = holdings.run_id AND s.thing_id = holdings.thing_id
          JOIN ledger_account w ON w.kind = 'wallet' AND w.user_id = s.supporter_id
         GROUP BY holdings.txn, w.id
        HAVING sum(s.amount) <> 0
        """,
        params,
    )


def payout_run_post(*, run_id: int) -> PayoutRun:
    """Post an approved run. Safe to call any number of times, concurrently."""
    lock = LOCK_BASE + run_id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock])
    try:
        run = PayoutRun.objects.get(pk=run_id)
        if run.status == RunStatus.POSTED:
            return run
        if run.status != RunStatus.APPROVED:
            raise PayoutError(
                f"the run of {run.label} is {run.status}; only an approved run can be posted"
            )
        accounts = {
            "clearing": platform_account(kind=AccountKind.PAYOUT_CLEARING).pk,
            "fees": platform_account(kind=AccountKind.PLATFORM_FEES).pk,
            "charity_account": platform_account(kind=AccountKind.CHARITY).pk,
        }
        with transaction.atomic(), connection.cursor() as cursor:
            _ensure_accounts(cursor, run)
        chunks = list(
            run.supporter_lines.order_by("chunk").values_list("chunk", flat=True).distinct()
        )
        for index, chunk in enumerate(chunks):
            with transaction.atomic(), connection.cursor() as cursor:
                _tune(cursor)
                _post_supporter_chunk(cursor, run, chunk, accounts["clearing"])
                _stage(run, "posting:supporters", f"{index + 1}/{len(chunks)}")
            _pause_for_tests(f"supporters:{chunk}")
        with transaction.atomic(), connection.cursor() as cursor:
            _tune(cursor)
            run = PayoutRun.objects.select_for_update().get(pk=run_id)
            if (
                run.stage.startswith("posting:supporters")
                and run.events.filter(action="shortfall").exists()
            ):
                # Wallets changed since computing: creators get what was really taken.
                aggregate_lines(
                    cursor=cursor, params={"run": run.pk, "fee_percent": _fee_percent()}
                )
                refresh_totals(run=run)
                if not run.conservation_ok:
                    raise PayoutError(
                        f"the run of {run.label} no longer balances after recomputing"
                    )
                _ensure_accounts(cursor, run)
            _stage(run, "posting:creators")
        with transaction.atomic(), connection.cursor() as cursor:
            _tune(cursor)
            # Keys are matched to lines by an expression: a hash join, not a
            # 20,000 x 20,000 loop.
            cursor.execute("SET LOCAL enable_nestloop = off")
            _post_creators_and_holdings(cursor, run, accounts)
            _stage(run, "posting:settlements")
        _pause_for_tests("creators")
        with transaction.atomic(), connection.cursor() as cursor:
            _post_settlements(cursor, run, accounts)
            run = PayoutRun.objects.select_for_update().get(pk=run_id)
            run.status = RunStatus.POSTED
            run.stage = "done"
            run.progress = ""
            run.posted_at = timezone.now()
            run.save(update_fields=["status", "stage", "progress", "posted_at"])
            run.events.create(action="posted")
            _after_posting(run)
        return run
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock])


def _after_posting(run: PayoutRun) -> None:
    """The run's Merkle commitment is fixed with the posting; statements go
    out once it has committed."""
    from payouts import tasks, transparency

    transparency.run_commit(run=run)
    transaction.on_commit(lambda: tasks.payout_statements_publish.delay(run.pk))


def _fee_percent() -> int:
    from django.conf import settings

    return settings.FLATTR_FEE_PERCENT
