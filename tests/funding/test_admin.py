"""The admin's lists of charges and transfers grow with every supporter
and creator each month: searches are exact and indexed (the supporter's or
creator's e-mail, a payment intent, a transfer's key), never a scan, and
no page counts every row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from funding.models import Charge, ChargeAttempt, Transfer
from tests.factories import UserFactory, flattr, thing
from tests.funding.helpers import P, approve, method, ready, settle

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(after, admin_user, client):
    claire = UserFactory(email="claire@example.org", username="claire")
    ready(claire)
    for name in ("sophie", "sam"):
        s = UserFactory(email=f"{name}@example.org", username=name, monthly_budget_cents=200)
        flattr(s, thing(owner=claire), P)
        method(s, "pm_card_visa")
    approve()
    settle()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _get(client, name, term):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(f"admin:funding_{name}_changelist"), {"q": term})
    assert response.status_code == 200
    sql = " ".join(q["sql"].upper() for q in queries)
    assert " LIKE " not in sql
    return list(response.context["cl"].result_list)


def test_charges_are_found_by_exact_email_or_payment_intent(month):
    sophie = Charge.objects.get(supporter__username="sophie")
    assert _get(month, "charge", "SOPHIE@example.org") == [sophie]
    assert _get(month, "charge", "example.org") == []
    intent = ChargeAttempt.objects.get(charge=sophie).payment_intent_id
    assert intent and _get(month, "charge", intent) == [sophie]


def test_transfers_are_found_by_the_creators_email_or_their_key(month):
    (transfer,) = Transfer.objects.all()
    assert _get(month, "transfer", "claire@example.org") == [transfer]
    assert _get(month, "transfer", "claire") == [transfer]
    assert _get(month, "transfer", transfer.idempotency_key) == [transfer]
    assert _get(month, "transfer", transfer.idempotency_key[:-1]) == []


def test_the_lists_estimate_their_length(month):
    from core.admin_utils import EstimatedCountPaginator

    for name in ("charge", "transfer"):
        response = month.get(reverse(f"admin:funding_{name}_changelist"))
        assert isinstance(response.context["cl"].paginator, EstimatedCountPaginator)
