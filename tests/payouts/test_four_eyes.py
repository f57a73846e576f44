"""Four eyes on payout runs (payouts.services.lifecycle): no approving a run that pays you a lot."""

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from payouts import services
from payouts.models import PayoutRun, RunStatus
from tests.factories import UserFactory, flattr, supporter, thing

P = dt.date(2026, 9, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_creator(settings):
    settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS = 100
    boss = UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")
    for _ in range(2):
        flattr(supporter(budget=200), thing(owner=boss), P)  # boss earns 3.60 net
    return boss


def test_staff_cannot_approve_a_run_paying_them_above_the_threshold(client, staff_creator):
    run = services.payout_run_compute(period=P)
    client.force_login(staff_creator)
    url = reverse("admin:payouts_payoutrun_action", args=[run.pk, "approve"])
    page = client.post(url, follow=True).content.decode()
    assert "another staff member must approve it" in page
    run.refresh_from_db()
    assert run.status == RunStatus.DRAFT
    with pytest.raises(CommandError, match="another staff member"):
        call_command("payout_approve", "2026-09", "--by", "boss@example.org")
    assert PayoutRun.objects.get().status == RunStatus.DRAFT

    colleague = UserFactory(is_staff=True, is_superuser=True)
    services.payout_run_approve(run=run, actor=colleague, queue=False)
    run.refresh_from_db()
    assert run.status == RunStatus.APPROVED


def test_a_small_line_does_not_stop_the_approver(settings, staff_creator):
    settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS = 1000
    run = services.payout_run_compute(period=P)
    services.payout_run_approve(run=run, actor=staff_creator, queue=False)
    run.refresh_from_db()
    assert run.status == RunStatus.APPROVED
