from payments.models import TopUp


def statement_lines(*, postings: list) -> list[dict]:
    """Statement rows for wallet postings, with the top-up's gross and fee
    where a posting comes from a top-up (one query for the page)."""
    topup_ids = {}
    for posting in postings:
        key = posting.transaction.idempotency_key
        if posting.transaction.kind == "topup" and key.startswith("topup:"):
            topup_ids[posting.pk] = int(key.split(":")[1])
    topups = TopUp.objects.in_bulk(set(topup_ids.values()))
    lines = []
    for posting in postings:
        topup = topups.get(topup_ids.get(posting.pk))
        lines.append(
            {
                "date": posting.transaction.created_at,
                "kind": posting.transaction.get_kind_display(),
                # A top-up's memo ("Top-up #4") repeats the kind: its number
                # is enough beside the kind's (translated) name.
                "memo": f"#{topup.pk}" if topup else posting.transaction.memo,
                "amount": posting.amount,
                "gross": topup.amount_cents if topup else None,
                "fee": topup.fee_cents if topup else None,
            }
        )
    return lines
