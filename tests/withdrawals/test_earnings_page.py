"""The earnings page tells one story about a withdrawal."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments.withdrawals.models import Withdrawal, WithdrawalStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_withdrawal_notice_and_table_come_from_one_read(client):
    user = UserFactory()
    Withdrawal.objects.create(user=user, amount_cents=3000, status=WithdrawalStatus.PROCESSING)
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("earnings")).content.decode()
    reads = [q["sql"] for q in queries if 'FROM "withdrawals_withdrawal"' in q["sql"]]
    assert len(reads) == 1
    assert "is in progress (Processing)" in page


def test_paid_withdrawal_shows_no_in_progress_notice(client):
    user = UserFactory()
    Withdrawal.objects.create(user=user, amount_cents=3000, status=WithdrawalStatus.PAID)
    client.force_login(user)
    page = client.get(reverse("earnings")).content.decode()
    assert "in progress" not in page
    assert "Paid" in page
