"""The earnings page and its CSV."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory, earn
from tests.withdrawals.helpers import creator_with


@pytest.mark.django_db
def test_earnings_page_chart_and_csv(client):
    import datetime as dt

    month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    user = UserFactory()
    earn(user, 900, month=month)
    client.force_login(user)
    page = client.get(reverse("earnings"))
    body = page.content.decode()
    assert "<svg" in body and month in body
    assert len(page.context["rows"]) == 12
    row = next(r for r in page.context["rows"] if r["month"] == month)
    assert row == {
        "month": month,
        "period": dt.date.fromisoformat(f"{month}-01"),
        "net": 900,
        "fee": 100,
        "gross": 1000,
        "passed_on": 0,
        "received_onward": 0,
    }
    csv_body = client.get(reverse("earnings_csv")).content.decode()
    assert f"{month},1000,100,900,0,0" in csv_body


@pytest.mark.django_db
def test_below_the_minimum_the_page_says_when_withdrawing_opens(client, test_mode):
    user = creator_with(500)
    client.force_login(user)
    body = client.get(reverse("earnings")).content.decode()
    assert "You can withdraw once your earnings reach 10.00" in body
    assert 'name="amount"' not in body
