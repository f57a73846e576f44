"""Onward shares in the exports, the admin's run page and the transparency
page (issue 26): the month of tests/payouts/test_onward.py, to the cent."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from payouts import services
from payouts.transparency_report import MONTH_FIELDS
from tests.factories import UserFactory
from tests.payouts.helpers import P
from tests.payouts.test_onward import month  # noqa: F401 - the onward month

pytestmark = pytest.mark.django_db

# Claire: net 540, passes on 54 + 178 + 27 (held), receives 135 from Dora.
# Dora: net 270, passes on 135, receives 178. Bob only receives 54.
CREATOR_ROWS = {
    "bob": ["0", "0", "0", "0", "0", "54", "0"],
    "claire": ["600", "60", "540", "2", "259", "135", "281"],
    "dora": ["300", "30", "270", "1", "135", "178", "135"],
}


@pytest.fixture
def boss():
    return UserFactory(is_staff=True, is_superuser=True)


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_the_report_csv_appends_onward_kept_to_the_cent(month, capsys):  # noqa: F811
    services.payout_run_compute(period=P)
    capsys.readouterr()
    call_command("payout_report", "2026-09", "--format", "csv")
    header, *rows = rows_of(capsys.readouterr().out)
    assert ",".join(header) == (
        "role,username,email,budget,balance,taken,charity,gross,fee,net,flattrs,"
        "onward_out,onward_in,kept"
    )
    creators = {row[1]: row[7:] for row in rows if row[0] == "creator"}
    assert creators == CREATOR_ROWS
    (sophie,) = (row for row in rows if row[0] == "supporter")
    assert sophie[1] == "sophie"
    assert sophie[3:] == ["900", "5000", "900", "0", "", "", "", "3", "", "", ""]


def test_the_admin_creators_csv_appends_onward_kept_in_euros(month, client, boss):  # noqa: F811
    run = services.payout_run_compute(period=P)
    client.force_login(boss)
    response = client.get(reverse("admin:payouts_payoutrun_export", args=[run.pk, "creators"]))
    header, *rows = rows_of(b"".join(response.streaming_content).decode())
    assert header[-4:] == ["flattrs", "onward_out (EUR)", "onward_in (EUR)", "kept (EUR)"]
    assert {row[1]: row[7:] for row in rows} == {
        "bob": ["0.00", "0.00", "0.00", "0", "0.00", "0.54", "0.00"],
        "claire": ["6.00", "0.60", "5.40", "2", "2.59", "1.35", "2.81"],
        "dora": ["3.00", "0.30", "2.70", "1", "1.35", "1.78", "1.35"],
    }


def test_the_admin_run_page_shows_onward_totals_and_top_receivers(month, client, boss):  # noqa: F811
    run = services.payout_run_compute(period=P)
    client.force_login(boss)
    page = client.get(reverse("admin:payouts_payoutrun_change", args=[run.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    figures = page.context["onward"]
    assert (figures["passed_on"], figures["received"], figures["held"]) == (394, 367, 27)
    # Bob's 50% of a net of 0 is 0 cents: Claire receives from Dora only.
    assert figures["top_receivers"] == [
        {"username": "dora", "cents": 178, "givers": 1},
        {"username": "claire", "cents": 135, "givers": 1},
        {"username": "bob", "cents": 54, "givers": 1},
    ]
    for text in ("Passed on", "3.94", "Received onward", "3.67", "Held onward", "0.27"):
        assert text in body, text
    receivers = body[body.index("Top receivers of onward shares") :]
    assert receivers.index("dora") < receivers.index("1.78") < receivers.index("bob")
    # The conservation line counts what is passed on once: taken 9.00 =
    # kept + received onward + fee + unclaimed + charity.
    assert page.context["conservation_sum"] == run.taken == 900
    assert "balanced to the cent" in body


def test_the_transparency_figures_carry_what_was_passed_on(month, client, boss):  # noqa: F811
    run = services.payout_run_compute(period=P)
    services.payout_run_approve(run=run, actor=boss, queue=False)
    services.payout_run_post(run_id=run.pk)
    assert MONTH_FIELDS[-1] == "passed_on" and MONTH_FIELDS[:2] == ["period", "supporters_gave"]
    (month_figures,) = json.loads(client.get(reverse("transparency_json")).content)["months"]
    assert month_figures["passed_on"] == 394
    # Held onward cents are in held_unclaimed only, not paid to creators too.
    assert month_figures["held_unclaimed"] == 27
    assert month_figures["paid_to_creators"] == 810 - 27
    parts = ("paid_to_creators", "fee", "held_unclaimed", "charity")
    assert sum(month_figures[p] for p in parts) == month_figures["taken"] == 900
    header, row = rows_of(client.get(reverse("transparency_csv")).content.decode())
    assert header == MONTH_FIELDS and dict(zip(header, row, strict=True))["passed_on"] == "394"
    page = client.get(reverse("transparency")).content.decode()
    assert "Passed on by creators" in page and "3.94" in page
