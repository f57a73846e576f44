"""Your data: downloads and the delete form."""

import csv
import datetime as dt
import html
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from tests.factories import FlattrFactory, ThingFactory, UserFactory
from tests.payouts.helpers import compute, flattr, fund, thing

pytestmark = pytest.mark.django_db


def test_json_export_holds_profile_things_flattrs_and_ledger(client):
    user = UserFactory(display_name="Ada")
    fund(user, 700)
    ThingFactory(owner=user, title="My own post")
    FlattrFactory(supporter=user, thing__title="Their post")
    client.force_login(user)
    response = client.get(reverse("your_data_json"))
    data = json.loads(response.content)
    assert data["profile"]["email"] == user.email
    assert [t["title"] for t in data["things"]] == ["My own post"]
    assert [f["title"] for f in data["flattrs"]] == ["Their post"]
    assert [row["amount_cents"] for row in data["ledger"]] == [700]


def test_csv_export_neutralises_formulas(client):
    user = UserFactory(display_name="=HYPERLINK(1)")
    ThingFactory(owner=user, title="=cmd|' /C calc'!A0")
    client.force_login(user)
    text = client.get(reverse("your_data_csv")).content.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["section", "id", "date"]
    cells = [cell for row in rows[1:] for cell in row]
    assert not any(cell.startswith("=") for cell in cells)


def test_delete_needs_the_username_and_logs_out(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("your_data"), {"confirm": "someone-else"})
    assert response.status_code == 400
    assert User.objects.get(pk=user.pk).is_active
    response = client.post(reverse("your_data"), {"confirm": user.username})
    assert response.status_code == 302
    assert not User.objects.get(pk=user.pk).is_active
    assert client.get(reverse("dashboard")).status_code == 302


def test_delete_with_wallet_left_and_no_choice_is_a_form_error(client):
    user = UserFactory()
    fund(user, 500)
    client.force_login(user)
    response = client.post(reverse("your_data"), {"confirm": user.username})
    assert response.status_code == 400
    assert "Choose what happens" in response.content.decode()
    assert User.objects.get(pk=user.pk).is_active


def _after_last_months_run(client, *, budget: int, wallet: int):
    """A signed-in user with one flattr in last month's computed run, and
    their data page."""
    user = UserFactory(monthly_budget_cents=budget)
    fund(user, wallet)
    period = (timezone.now().date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    flattr(user, thing(), period)
    compute(period)
    client.force_login(user)
    return user, html.unescape(client.get(reverse("your_data")).content.decode())


def test_delete_form_says_what_last_months_run_still_takes(client):
    _user, page = _after_last_months_run(client, budget=250, wallet=700)
    assert "2.50\xa0€ of it is already set aside for last month's payout" in page
    french = client.get(reverse("your_data"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "2,50\xa0€ en sont déjà réservés pour le versement du mois dernier" in french


def test_delete_form_asks_nothing_about_a_wallet_wholly_set_aside(client):
    user, page = _after_last_months_run(client, budget=500, wallet=500)
    assert "5.00\xa0€ of your wallet is already set aside for last month's payout." in page
    assert 'name="wallet_choice"' not in page
    response = client.post(reverse("your_data"), {"confirm": user.username})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).deleted_at is not None
