"""The wallet statement names each line once."""

import re

import pytest
from django.urls import reverse

from payments.models import TopUp
from tests.factories import UserFactory


@pytest.mark.django_db
def test_topup_line_reads_top_up_and_its_number_once(client, settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    user = UserFactory()
    client.force_login(user)
    checkout = client.post(reverse("topup"), {"amount": "8"})["Location"]
    client.post(checkout, {"action": "pay"})
    topup = TopUp.objects.get(user=user)
    wallet = client.get(reverse("wallet")).content.decode()
    text = re.sub(r"<[^>]+>", " ", wallet)
    assert "Top-up Top-up" not in " ".join(text.split())
    assert f"#{topup.pk}" in text


@pytest.mark.django_db
@pytest.mark.parametrize("lang, month", [("en", "October 2026"), ("fr", "octobre 2026")])
def test_payout_line_names_its_month_in_the_page_language(client, lang, month):
    """Issue 28, item 13: the French statement said "Payout 2026-10" (the
    stored memo, in English)."""
    import datetime as dt

    from ledger import services as ledger
    from ledger.models import AccountKind

    user = UserFactory(wallet_cents=1000)
    ledger.transaction_post(
        kind="payout",
        idempotency_key=f"payout:2026-10:supporter:{user.pk}",
        memo="Payout 2026-10",
        reference=ledger.Reference(source="payouts.payoutrun", period=dt.date(2026, 10, 1)),
        legs=[
            (ledger.wallet_account(user=user), -250),
            (ledger.platform_account(kind=AccountKind.PAYOUT_CLEARING), 250),
        ],
    )
    client.force_login(user)
    wallet = client.get(reverse("wallet"), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert "Payout 2026-10" not in wallet
    assert month in wallet
