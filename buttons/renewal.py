"""The monthly renewal of subscriptions, set-based.

At the start of each month (in PAYOUT_TIMEZONE) every active subscription
with months left that has not yet had this month gets its flattr, in one
statement: a data-modifying CTE UPDATEs the due subscriptions (one month
fewer, ``last_period`` = this month) and INSERTs their flattrs from what it
returned (ON CONFLICT DO NOTHING: a manual flattr this month simply
counts). Running it twice, or a day late, gives the same rows.

A supporter whose wallet is empty (or who owes a refunded payment) skips the
month: ``last_period`` moves to this month so later runs leave it alone,
``months_remaining`` stays, so the subscription is not shortened, only
postponed, and the supporter gets a notice.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction
from django.utils import timezone

from buttons.services import period_of
from notifications.services import NewEvent, events_publish

# Due this month, whatever the wallet holds. Written as UPDATE conditions so
# that a subscription paused or cancelled while the statement waits for its
# row lock is re-checked on its new version (READ COMMITTED) and left alone.
_DUE = """
       t.id = s.thing_id AND s.status = 'active' AND s.months_remaining > 0
   AND (s.last_period IS NULL OR s.last_period < %(period)s)
   AND NOT t.hidden AND NOT t.removed
   AND t.owner_id IS DISTINCT FROM s.supporter_id
"""
_HAS_MEANS = """
    EXISTS (SELECT 1 FROM ledger_account w
             WHERE w.user_id = s.supporter_id AND w.kind = 'wallet' AND w.balance > 0)
    AND NOT EXISTS (SELECT 1 FROM ledger_account r
                     WHERE r.user_id = s.supporter_id AND r.kind = 'receivable' AND r.balance < 0)
"""

# One statement: the UPDATE picks and advances the due subscriptions, the
# INSERT makes their flattrs (a manual flattr this month already counts).
RENEW_SQL = f"""
WITH renewed AS (
    UPDATE buttons_subscription s
       SET months_remaining = s.months_remaining - 1, last_period = %(period)s, updated_at = %(at)s
      FROM buttons_thing t
     WHERE {_DUE} AND {_HAS_MEANS}
    RETURNING s.supporter_id, s.thing_id
), flattrs AS (
    INSERT INTO buttons_flattr (supporter_id, thing_id, period, created_at, source)
    SELECT supporter_id, thing_id, %(period)s, %(at)s, 'subscription' FROM renewed
    ON CONFLICT (supporter_id, thing_id, period) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM renewed), (SELECT count(*) FROM flattrs)
"""  # noqa: S608

SKIP_SQL = f"""
UPDATE buttons_subscription s SET last_period = %(period)s, updated_at = %(at)s
  FROM buttons_thing t
 WHERE {_DUE} AND NOT ({_HAS_MEANS})
RETURNING s.id, s.supporter_id, t.title, t.url
"""  # noqa: S608


def subscriptions_renew(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Make this month's flattrs for due subscriptions. Returns counts."""
    now = now or timezone.now()
    period = period_of(now)
    params = {"period": period, "at": now}
    with transaction.atomic(durable=True), connection.cursor() as cursor:
        cursor.execute(RENEW_SQL, params)
        renewed, created = cursor.fetchone()
        cursor.execute(SKIP_SQL, params)
        skipped = cursor.fetchall()
        events_publish(
            events=[
                NewEvent(
                    "subscription.skipped",
                    supporter_id,
                    {"title": title, "url": url, "period": f"{period:%Y-%m}"},
                    f"subscription:{subscription_id}:skipped:{period:%Y-%m}",
                )
                for subscription_id, supporter_id, title, url in skipped
            ]
        )
    return {"renewed": renewed, "flattrs_created": created, "skipped": len(skipped)}
