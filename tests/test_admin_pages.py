"""The admin speaks euros, has one Accounts section and exports EUR."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from payments.models import TopUp
from payments.withdrawals.models import Withdrawal, WithdrawalStatus
from payouts.models import CreatorLine, PayoutRun, SupporterLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(staff):
    call_command("seed_demo")
    return staff


def test_admin_index_has_one_accounts_section(client, demo):
    client.force_login(demo)
    page = client.get(reverse("admin:index")).content.decode()
    sections = re.findall(r'class="section"[^>]*>([^<]+)<', page)
    assert sections.count("Accounts") == 1
    assert "Email addresses" not in page


@pytest.mark.parametrize(
    "model, raw",
    [
        (TopUp, "amount_cents"),
        (Withdrawal, "amount_cents"),
        (SupporterLine, "taken"),
        (CreatorLine, "gross"),
    ],
)
def test_money_detail_pages_show_euros(client, demo, model, raw):
    if model is Withdrawal:
        Withdrawal.objects.create(
            user=TopUp.objects.first().user, amount_cents=1234, status=WithdrawalStatus.PAID
        )
    obj = model.objects.order_by("pk").first()
    info = (model._meta.app_label, model._meta.model_name)
    client.force_login(demo)
    page = client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk])).content.decode()
    assert "€" in page
    assert "Amount cents" not in page
    listing = client.get(reverse("admin:{}_{}_changelist".format(*info))).content.decode()
    assert "€" in listing


def test_user_list_and_page_show_the_budget_in_euros(client, demo):
    client.force_login(demo)
    listing = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "15.00\xa0€" in listing
    assert "Monthly budget cents" not in listing


def test_payout_csv_headers_say_eur_and_amounts_are_euros(client, demo):
    run = PayoutRun.objects.order_by("period").first()
    client.force_login(demo)
    response = client.get(reverse("admin:payouts_payoutrun_export", args=[run.pk, "creators"]))
    lines = b"".join(response.streaming_content).decode().splitlines()
    header = lines[0].split(",")
    assert "gross (EUR)" in header and "net (EUR)" in header
    assert not any(name in header for name in ("gross", "net", "fee", "taken"))
    line = CreatorLine.objects.filter(run=run).order_by("id").first()
    assert any(f"{line.gross / 100:.2f}" in row for row in lines[1:])
