"""buttons.rules' means rule: its Python and SQL forms agree, and the
ledger's SQL form of a supporter's means reads what its selector reads (the
flattr checks them inside its one statement)."""

import itertools

import pytest
from django.db import connection

from buttons import rules
from ledger import selectors as ledger_selectors
from tests.factories import UserFactory, fund, owe


@pytest.mark.django_db
def test_flattr_means_ok_sql_agrees_with_python_on_every_case():
    rows = list(itertools.product([-500, -1, 0, 1, 500], [-1, 0, 1, 1000]))
    values = ", ".join(["(%s, %s)"] * len(rows))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rules.flattr_means_ok_sql(owed='o', balance='b')}"  # noqa: S608
            f" FROM (VALUES {values}) v(o, b)",
            [value for row in rows for value in row],
        )
        got = [ok for (ok,) in cursor.fetchall()]
    assert got == [rules.flattr_means_ok(owed=o, balance=b) for o, b in rows]


@pytest.mark.django_db
def test_the_sql_form_of_a_supporters_means_reads_what_the_selector_reads():
    nothing, funded, owing = UserFactory(), UserFactory(), UserFactory()
    fund(funded, 700)
    fund(owing, 300)
    owe(owing, 120)
    for user in (nothing, funded, owing):
        with connection.cursor() as cursor:
            cursor.execute(ledger_selectors.flattr_means_sql(user="%s"), [user.pk])
            assert cursor.fetchone() == ledger_selectors.flattr_means(user=user)
