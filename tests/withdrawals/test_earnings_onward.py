"""The creator's own earnings CSV and page carry what was passed on and
received onward each month, read from the ledger's onward transactions
(issue 26, docs/withdrawals.md)."""

import csv
import io

import pytest
from django.urls import reverse

from ledger.models import AccountKind
from payouts.onward import onward_set
from tests.factories import UserFactory, balance, earn, flattr, supporter, thing
from tests.payouts.helpers import P, compute, post

pytestmark = pytest.mark.django_db

MONTH = P.strftime("%Y-%m")
HEADER = ["month", "gross_cents", "fee_cents", "net_cents", "passed_on", "received_onward"]


@pytest.fixture
def people(settings, admin_user):
    """Sophie gives 900: 300 to Claire's, Dora's and Eve's things (net 270
    each). Claire passes 10% to Bob (27) and 33% to Dora's thing (89); Dora
    passes 50% to Claire (135); Eve passes nothing on; Bob only receives."""
    settings.FLATTR_FEE_PERCENT = 10
    claire = UserFactory(username="claire")
    dora = UserFactory(username="dora")
    eve = UserFactory(username="eve")
    bob = UserFactory(username="bob")
    sophie = supporter(budget=900, balance=5000, username="sophie")
    dora_thing = thing(owner=dora)
    for t in (thing(owner=claire), dora_thing, thing(owner=eve)):
        flattr(sophie, t, P)
    onward_set(creator=claire, entries=[("@bob", 10), (str(dora_thing.pk), 33)])
    onward_set(creator=dora, entries=[("@claire", 50)])
    run = compute()
    post(run, admin_user)
    return {"claire": claire, "dora": dora, "eve": eve, "bob": bob}


def csv_rows(client, user):
    client.force_login(user)
    response = client.get(reverse("earnings_csv"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == HEADER
    return {row[0]: [int(cell) for cell in row[1:]] for row in rows[1:]}


def test_the_csv_shows_what_each_creator_passed_on_and_received(client, people):
    # gross, fee, net (what flattrs gave, before passing on), passed on, received
    expected = {
        "claire": [300, 30, 270, 27 + 89, 135],
        "dora": [300, 30, 270, 135, 89],
        "bob": [0, 0, 0, 0, 27],
        "eve": [300, 30, 270, 0, 0],
    }
    for name, row in expected.items():
        rows = csv_rows(client, people[name])
        assert rows[MONTH] == row, name
        # Every other month is empty, and what the month left in the
        # earnings account is net - passed on + received, to the cent.
        assert all(other == [0] * 5 for month, other in rows.items() if month != MONTH)
        _gross, _fee, net, out, received = row
        assert balance(people[name], AccountKind.EARNINGS) == net - out + received


def test_the_page_shows_the_same_months(client, people):
    client.force_login(people["claire"])
    page = client.get(reverse("earnings"))
    row = next(r for r in page.context["rows"] if r["month"] == MONTH)
    assert (row["gross"], row["fee"], row["net"]) == (300, 30, 270)
    assert (row["passed_on"], row["received_onward"]) == (116, 135)
    body = page.content.decode()
    assert 'data-testid="onward-columns"' in body
    assert "1.16" in body and "1.35" in body


def test_without_onward_shares_the_rows_are_unchanged(client):
    user = UserFactory()
    earn(user, 900, month=MONTH)
    rows = csv_rows(client, user)
    assert rows[MONTH] == [1000, 100, 900, 0, 0]
    page = client.get(reverse("earnings"))
    assert 'data-testid="onward-columns"' not in page.content.decode()
