"""One date format and one date-time format per language (issue 28, item
10): pages showed "12/07/2026 6:11 p.m.", "7 December" and "25-12"."""

import datetime as dt
import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from payments.withdrawals.models import Withdrawal
from tests.factories import FlattrFactory, UserFactory, earn
from tests.withdrawals.helpers import creator_with, withdraw

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 12, 7, 18, 11, tzinfo=dt.UTC)
EXPECTED = {
    "en": {"date": "7 December 2026", "datetime": "7 December 2026, 18:11"},
    "fr": {"date": "7 décembre 2026", "datetime": "7 décembre 2026 à 18:11"},
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_date_format_name_gives_the_one_format(lang):
    """Whatever name a template uses, a date reads the same."""
    names = ["DATE_FORMAT", "SHORT_DATE_FORMAT", "DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"]
    with translation.override(lang):
        out = [
            Template("{{ at|date:'" + name + "' }}").render(Context({"at": AT})) for name in names
        ]
    assert out == [EXPECTED[lang]["date"]] * 2 + [EXPECTED[lang]["datetime"]] * 2


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_earnings_page_dates(client, test_mode, lang):
    user = creator_with(50_000)
    earn(user, 900, month=f"{dt.date.today().replace(day=1) - dt.timedelta(days=1):%Y-%m}")
    withdraw(client, user, "20")
    Withdrawal.objects.update(created_at=AT)
    body = client.get(reverse("earnings"), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert EXPECTED[lang]["datetime"] in body
    last = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    with translation.override(lang):
        month = Template("{{ d|date:'F Y' }}").render(Context({"d": last}))
        short = Template("{{ d|date:'N' }}").render(Context({"d": last}))
    assert f'<td class="nowrap">{month}</td>' in body
    assert f">{short}</text>" in body  # the chart's label
    assert f">{last:%y-%m}<" not in body
    assert not re.search(r"\d/\d{1,2}/\d{4}|\d [ap]\.m\.", body)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_my_flattrs_dates(client, lang):
    supporter = UserFactory()
    FlattrFactory(supporter=supporter, thing__title="Old post", created_at=AT)
    client.force_login(supporter)
    body = client.get(reverse("my_flattrs"), HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert EXPECTED[lang]["date"] in body
    assert not re.search(r"\d/\d{1,2}/\d{4}|\d [ap]\.m\.", body)
