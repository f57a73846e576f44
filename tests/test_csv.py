"""CSV exports neutralise cells a spreadsheet would run as formulas."""

import csv
import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.csv import csv_safe
from payouts import services
from tests.factories import UserFactory, flattr, supporter, thing

P = dt.date(2026, 9, 1)
EVIL = ['=HYPERLINK("http://evil.example")', "+1+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("cell", EVIL)
def test_formula_starts_get_a_leading_quote(cell):
    assert csv_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["claire", "a=b", "", 42, -500, None, "2026-09"])
def test_other_cells_are_unchanged(cell):
    assert csv_safe(cell) == cell


@pytest.fixture
def evil_run(db):
    creator = UserFactory(username='=HYPERLINK("http://evil.example")', email="+1@example.org")
    fan = supporter(budget=200, username="@SUM(A1)", email="-2+3@example.org")
    flattr(fan, thing(owner=creator), P)
    return services.payout_run_compute(period=P)


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_no_formula(all_cells: list[str]) -> None:
    text_cells = [c for c in all_cells if c and not c.lstrip("-").isdigit()]
    assert text_cells, "the export is empty"
    for cell in text_cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["supporters", "creators"])
def test_admin_payout_exports_are_neutralised(client, evil_run, kind):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:payouts_payoutrun_export", args=[evil_run.pk, kind]))
    body = b"".join(response.streaming_content).decode()
    assert_no_formula(cells(body))
    assert "'" in body


@pytest.mark.django_db
def test_payout_report_csv_is_neutralised(evil_run, capsys):
    call_command("payout_report", "2026-09", "--format", "csv")
    out = capsys.readouterr().out
    all_cells = cells(out)
    assert_no_formula(all_cells)
    assert "'@SUM(A1)" in all_cells and "'-2+3@example.org" in all_cells


@pytest.mark.django_db
def test_earnings_csv_goes_through_the_safe_writer(client):
    client.force_login(UserFactory())
    response = client.get(reverse("earnings_csv"))
    assert response.status_code == 200
    assert_no_formula(cells(response.content.decode()))
