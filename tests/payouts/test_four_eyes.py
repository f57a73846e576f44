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


def test_even_a_small_line_stops_the_approver(settings, staff_creator):
    # Nobody approves what pays them: the withdrawal review threshold is
    # not an allowance for approving one's own payout.
    settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS = 1_000_000
    run = services.payout_run_compute(period=P)
    with pytest.raises(services.PayoutError, match="another staff member must approve it"):
        services.payout_run_approve(run=run, actor=staff_creator, queue=False)
    run.refresh_from_db()
    assert run.status == RunStatus.DRAFT


def _post(run, staff):
    services.payout_run_approve(run=run, actor=staff, queue=False)
    services.payout_run_post(run_id=run.pk)


@pytest.fixture
def colleague():
    return UserFactory(is_staff=True, is_superuser=True, email="colleague@example.org")


def test_staff_cannot_approve_a_run_paying_them_a_claimed_holding(settings, client, colleague):
    """225 EUR held for an unclaimed thing, which the approver then claimed:
    the next run pays it to them though they have no creator line in it."""
    settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS = 100
    boss = UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")
    orphan = thing(owner=None)
    flattr(supporter(budget=22500, balance=30000), orphan, P)
    _post(services.payout_run_compute(period=P), colleague)
    orphan.owner = boss
    orphan.save(update_fields=["owner"])
    october = dt.date(2026, 10, 1)
    flattr(supporter(budget=200), thing(), october)
    run = services.payout_run_compute(period=october)
    holding = run.settled_holdings.get()
    assert (holding.claimed_by_id, holding.amount) == (boss.pk, 22500)
    assert not run.creator_lines.filter(creator=boss).exists()

    with pytest.raises(services.PayoutError, match="another staff member must approve it"):
        services.payout_run_approve(run=run, actor=boss, queue=False)
    client.force_login(boss)
    url = reverse("admin:payouts_payoutrun_action", args=[run.pk, "approve"])
    assert "another staff member must approve it" in client.post(url, follow=True).content.decode()
    run.refresh_from_db()
    assert (run.status, run.approved_by) == (RunStatus.DRAFT, None)
    services.payout_run_approve(run=run, actor=colleague, queue=False)
    assert PayoutRun.objects.get(pk=run.pk).status == RunStatus.APPROVED


def test_staff_cannot_approve_a_run_returning_a_holding_to_their_wallet(settings, colleague):
    settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS = 100
    settings.FLATTR_UNCLAIMED_MONTHS = 1
    boss = supporter(budget=5000, balance=5000, is_staff=True, is_superuser=True)
    flattr(boss, thing(owner=None), P)
    _post(services.payout_run_compute(period=P), colleague)
    october = dt.date(2026, 10, 1)
    flattr(supporter(budget=200), thing(), october)
    run = services.payout_run_compute(period=october)
    assert run.returned == 5000

    with pytest.raises(services.PayoutError, match="another staff member must approve it"):
        services.payout_run_approve(run=run, actor=boss, queue=False)
    assert PayoutRun.objects.get(pk=run.pk).status == RunStatus.DRAFT


def test_everything_the_run_pays_the_approver_counts(settings, colleague):
    """A creator line and a claimed holding, each under the threshold,
    together above it."""
    boss = UserFactory(is_staff=True, is_superuser=True)
    orphan = thing(owner=None)
    flattr(supporter(budget=1000), orphan, P)
    _post(services.payout_run_compute(period=P), colleague)
    orphan.owner = boss
    orphan.save(update_fields=["owner"])
    october = dt.date(2026, 10, 1)
    flattr(supporter(budget=1000), thing(owner=boss), october)
    run = services.payout_run_compute(period=october)
    line, holding = run.creator_lines.get(creator=boss), run.settled_holdings.get()
    paid = line.net + holding.amount - holding.claim_fee
    settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS = max(line.net, holding.amount) + 1
    assert paid > settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS
    with pytest.raises(services.PayoutError, match="another staff member must approve it"):
        services.payout_run_approve(run=run, actor=boss, queue=False)
    settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS = paid
    with pytest.raises(services.PayoutError, match="another staff member must approve it"):
        services.payout_run_approve(run=run, actor=boss, queue=False)
    services.payout_run_approve(run=run, actor=colleague, queue=False)
    assert PayoutRun.objects.get(pk=run.pk).approved_by == colleague
