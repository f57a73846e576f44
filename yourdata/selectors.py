"""Everything we hold about one person, as plain data (JSON/CSV export)."""

from __future__ import annotations

from django.apps import apps
from django.db.models import Sum

from accounts.models import User
from buttons.models import Flattr, Thing
from ledger import selectors as ledger_selectors
from ledger.models import Posting
from payments.models import TopUp
from payments.withdrawals.models import Withdrawal


def user_data_export(*, user: User) -> dict:
    """Profile, things, flattrs, ledger postings, top-ups and withdrawals.
    Amounts are integer cents, dates ISO 8601."""
    return {
        "profile": {
            "email": user.email,
            "username": user.username,
            "display_name": user.display_name,
            "bio": user.bio,
            "website": user.website,
            "monthly_budget_cents": user.monthly_budget_cents,
            "flattrs_public": user.flattrs_public,
            "date_joined": user.date_joined.isoformat(),
            "last_login": user.last_login.isoformat() if user.last_login else None,
        },
        "things": [
            {
                "id": t.pk,
                "url": t.url,
                "title": t.title,
                "description": t.description,
                "category": t.category,
                "tags": t.tags,
                "language": t.language,
                "hidden": t.hidden,
                "created_at": t.created_at.isoformat(),
            }
            for t in Thing.objects.filter(owner=user).order_by("pk")
        ],
        "flattrs": [
            {
                "thing": f.thing_id,
                "title": f.thing.title,
                "url": f.thing.url,
                "month": f"{f.period:%Y-%m}",
                "created_at": f.created_at.isoformat(),
            }
            for f in Flattr.objects.filter(supporter=user).select_related("thing").order_by("pk")
        ],
        "ledger": [
            {
                "account": p.account.kind,
                "transaction": p.transaction_id,
                "kind": p.transaction.kind,
                "memo": p.transaction.memo,
                "amount_cents": p.amount,
                "created_at": p.transaction.created_at.isoformat(),
            }
            for p in Posting.objects.filter(account__user=user)
            .select_related("account", "transaction")
            .order_by("pk")
        ],
        "topups": [
            {
                "id": t.pk,
                "amount_cents": t.amount_cents,
                "fee_cents": t.fee_cents,
                "status": t.status,
                "created_at": t.created_at.isoformat(),
            }
            for t in TopUp.objects.filter(user=user).order_by("pk")
        ],
        "withdrawals": [
            {
                "id": w.pk,
                "amount_cents": w.amount_cents,
                "status": w.status,
                "created_at": w.created_at.isoformat(),
            }
            for w in Withdrawal.objects.filter(user=user).order_by("pk")
        ],
    }


CSV_HEADER = ["section", "id", "date", "what", "url", "amount_cents", "status"]


def _safe(value: object) -> str:
    """Spreadsheet-safe cell: a leading = + - @ (or tab/CR) would run as a
    formula in Excel or LibreOffice."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def user_data_rows(*, data: dict) -> list[list[str]]:
    """The export flattened to one CSV table, one row per record."""
    p = data["profile"]
    rows = [["profile", p["username"], p["date_joined"], p["display_name"], p["website"], "", ""]]
    rows += [["profile_email", "", "", p["email"], "", "", ""]]
    rows += [
        ["thing", t["id"], t["created_at"], t["title"], t["url"], "", ""] for t in data["things"]
    ]
    rows += [
        ["flattr", f["thing"], f["created_at"], f["title"], f["url"], "", f["month"]]
        for f in data["flattrs"]
    ]
    rows += [
        ["ledger", r["transaction"], r["created_at"], f"{r['account']}: {r['memo'] or r['kind']}"]
        + ["", r["amount_cents"], r["kind"]]
        for r in data["ledger"]
    ]
    rows += [
        ["topup", t["id"], t["created_at"], "", "", t["amount_cents"], t["status"]]
        for t in data["topups"]
    ]
    rows += [
        ["withdrawal", w["id"], w["created_at"], "", "", w["amount_cents"], w["status"]]
        for w in data["withdrawals"]
    ]
    return [[_safe(cell) for cell in row] for row in rows]


def wallet_committed(*, user: User) -> int:
    """Cents of the wallet promised to a computed month that is not posted
    yet: they belong to last month's creators and stay for that run when
    the account is deleted. payouts is looked up by name (nothing imports
    it)."""
    line = apps.get_model("payouts", "SupporterLine")
    total = line.objects.filter(supporter=user, run__status__in=["draft", "approved"]).aggregate(
        total=Sum("taken")
    )["total"]
    return int(total or 0)


def wallet_left(*, user: User) -> dict:
    """For the delete form: the wallet's ``balance``, the part ``committed``
    to last month's run and the ``available`` rest the person decides about
    (cents)."""
    balance = ledger_selectors.wallet_balance(user=user)
    committed = wallet_committed(user=user)
    return {"balance": balance, "committed": committed, "available": balance - committed}
