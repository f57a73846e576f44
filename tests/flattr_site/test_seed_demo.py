"""seed_demo: idempotent, and one demo creator earns more than the
withdrawal review threshold so review can be tried."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import User
from ledger import selectors as ledger_selectors
from payouts import selectors as payout_selectors
from payouts import services
from payouts.models import PayoutRun, RunStatus
from payouts.services.compute import add_months, current_period


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    counts = {User: User.objects.count()}
    call_command("seed_demo")
    assert User.objects.count() == counts[User] == 6
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password("flattr-demo")


@pytest.mark.django_db
def test_one_demo_creator_earns_more_than_the_review_threshold():
    call_command("seed_demo")
    claire = User.objects.get(email="claire@example.com")
    earnings = ledger_selectors.earnings_balance(user=claire)
    assert earnings > settings.FLATTR_WITHDRAWAL_REVIEW_ABOVE_CENTS


def _demo(email: str) -> User:
    return User.objects.get(email=email)


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["sophie@example.com", "marc@example.com"])
def test_demo_supporters_have_money_to_give_beside_the_draft_run(email):
    call_command("seed_demo")
    fan = _demo(email)
    budget = fan.monthly_budget_cents
    figures = payout_selectors.wallet_figures(user=fan)
    # The seeded draft run reserves one budget and leaves more than it.
    assert figures["reserved"] == budget
    assert figures["available"] >= 2 * budget
    dashboard = payout_selectors.supporter_dashboard(user=fan)
    assert dashboard["flattrs"], "the demo supporters flattred this month"
    assert dashboard["outlook"]["amount"] == budget
    assert sum(f.estimated_share for f in dashboard["flattrs"]) == budget
    assert all(f.estimated_share > 0 for f in dashboard["flattrs"])


@pytest.mark.django_db
def test_flattr_then_payout_demo_moves_money_to_the_creators(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    sophie, marc = _demo("sophie@example.com"), _demo("marc@example.com")
    claire, david = _demo("claire@example.com"), _demo("david@example.com")
    before = {u: ledger_selectors.earnings_balance(user=u) for u in (claire, david)}
    wallets = {u: ledger_selectors.wallet_balance(user=u) for u in (sophie, marc)}
    call_command("payout_demo")
    run = PayoutRun.objects.order_by("-period").first()
    # The month after the seeded runs: last month, in order.
    assert run.period == add_months(current_period(), -1)
    assert run.taken == sophie.monthly_budget_cents + marc.monthly_budget_cents
    run = services.payout_run_post(
        run_id=services.payout_run_approve(
            run=run, actor=_demo("admin@example.com"), queue=False
        ).pk
    )
    assert run.status == RunStatus.POSTED
    for fan in (sophie, marc):
        assert ledger_selectors.wallet_balance(user=fan) == wallets[fan] - fan.monthly_budget_cents
    gained = sum(ledger_selectors.earnings_balance(user=u) - before[u] for u in (claire, david))
    assert gained == run.net > 0
    # The posted months read in order, with no month skipped.
    periods = list(PayoutRun.objects.order_by("period").values_list("period", flat=True))
    assert periods == [add_months(run.period, -2), add_months(run.period, -1), run.period]


@pytest.mark.django_db
def test_demo_creators_are_not_suspicious():
    call_command("seed_demo")
    for run in PayoutRun.objects.all():
        assert payout_selectors.suspicious_creators(run=run) == []
    three_months_ago = dt.datetime.combine(add_months(current_period(), -3), dt.time(), dt.UTC)
    demo = User.objects.filter(email__endswith="@example.com")
    assert demo.count() == 6 and not demo.filter(date_joined__gte=three_months_ago).exists()
