"""Case-insensitive user lookups compile to LOWER() and use the LOWER()
unique indexes instead of scanning the table."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.selectors import user_by_username, username_taken
from tests.factories import PASSWORD, UserFactory


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A tiny test table is cheapest to scan: make the planner show
        # whether an index can serve the query at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "queryset, index",
    [
        (
            lambda: User.objects.filter(email__iexact="Someone@Example.org"),
            "email_unique_case_insensitive",
        ),
        (
            lambda: User.objects.filter(username__iexact="SomeOne"),
            "username_unique_case_insensitive",
        ),
    ],
)
def test_iexact_on_email_and_username_uses_the_lower_index(queryset, index):
    UserFactory(username="someone", email="someone@example.org")
    qs = queryset()
    assert "UPPER(" not in str(qs.query)
    assert index in plan(qs)
    assert qs.get().username == "someone"


@pytest.mark.django_db
def test_selectors_use_the_lower_index():
    UserFactory(username="MixedCase")
    assert user_by_username(username="mixedcase").username == "MixedCase"
    assert username_taken(username="MIXEDCASE")
    assert "username_unique_case_insensitive" in plan(User.objects.filter(username__iexact="x"))


@pytest.mark.django_db
def test_login_and_sign_up_never_scan_with_upper(client):
    UserFactory(username="me", email="me@example.org")
    with CaptureQueriesContext(connection) as queries:
        client.post(reverse("account_login"), {"login": "ME@example.org", "password": PASSWORD})
        client.post(
            reverse("account_signup"),
            {
                "email": "New@Example.org",
                "username": "ME",
                "password1": "a-long-passphrase-1",
                "password2": "a-long-passphrase-1",
            },
        )
        client.get("/u/ME/")
    sql = [q["sql"] for q in queries.captured_queries if "accounts_user" in q["sql"]]
    assert sql
    assert not [s for s in sql if "UPPER(" in s]
