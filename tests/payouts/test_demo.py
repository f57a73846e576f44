"""payout_demo: a newcomer sees a payout without waiting for the month end."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from buttons.models import Flattr
from buttons.services import current_period
from payouts.models import PayoutRun, RunStatus
from payouts.services.compute import add_months
from payouts.services.demo import payout_demo_close
from tests.factories import FlattrFactory
from tests.payouts.helpers import supporter

pytestmark = pytest.mark.django_db


def test_payout_demo_closes_the_month_after_the_latest_run(settings, capsys):
    settings.DEBUG = True
    fan = supporter(budget=300, balance=1000)
    FlattrFactory(supporter=fan)
    FlattrFactory(supporter=fan)
    three_ago = add_months(current_period(), -3)
    PayoutRun.objects.create(period=three_ago)
    call_command("payout_demo")
    # The month right after the latest run, not the latest month without one.
    run = PayoutRun.objects.get(period=add_months(three_ago, 1))
    assert run.status == RunStatus.DRAFT and run.conservation_ok
    assert run.taken == 300 and run.flattrs == 2
    assert not Flattr.objects.filter(period=current_period()).exists()
    assert "closed with 2 flattrs" in capsys.readouterr().out


def test_payout_demo_never_goes_back_before_the_latest_run(settings):
    settings.DEBUG = True
    FlattrFactory(supporter=supporter(budget=300, balance=1000))
    last = add_months(current_period(), -1)
    # Two months ago has no run, but last month has: nothing is left to close.
    PayoutRun.objects.create(period=last)
    with pytest.raises(CommandError, match=f"latest run is {last:%Y-%m}"):
        call_command("payout_demo")
    assert PayoutRun.objects.count() == 1
    assert Flattr.objects.filter(period=current_period()).count() == 1


def test_payout_demo_without_any_run_closes_last_month(settings):
    settings.DEBUG = True
    FlattrFactory(supporter=supporter(budget=300, balance=1000))
    call_command("payout_demo")
    assert PayoutRun.objects.get().period == add_months(current_period(), -1)


def test_payout_demo_keeps_a_flattr_the_demo_month_already_has(settings):
    settings.DEBUG = True
    fan = supporter(budget=300, balance=1000)
    month = add_months(current_period(), -1)
    before = FlattrFactory(supporter=fan, period=month)
    again = FlattrFactory(supporter=fan, thing=before.thing)
    other = FlattrFactory(supporter=fan)
    run = payout_demo_close()
    assert run.period == month and run.flattrs == 2
    again.refresh_from_db()
    other.refresh_from_db()
    assert again.period == current_period() and other.period == month


def test_payout_demo_refuses_without_debug_and_changes_nothing(settings):
    settings.DEBUG = False
    FlattrFactory()
    with pytest.raises(CommandError, match="only runs with DEBUG on"):
        call_command("payout_demo")
    assert Flattr.objects.filter(period=current_period()).count() == 1
    assert not PayoutRun.objects.exists()


def test_payout_demo_without_flattrs_is_one_clear_line(settings):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="nobody flattred anything this month"):
        call_command("payout_demo")


def test_admin_demo_button_only_with_debug(client, staff, settings):
    client.force_login(staff)
    settings.DEBUG = False
    listing = client.get(reverse("admin:payouts_payoutrun_changelist")).content.decode()
    assert "Close a demo month" not in listing
    assert client.post(reverse("admin:payouts_payoutrun_demo")).status_code == 403
    settings.DEBUG = True
    listing = client.get(reverse("admin:payouts_payoutrun_changelist")).content.decode()
    assert "Close a demo month" in listing
    FlattrFactory(supporter=supporter(budget=300, balance=1000))
    response = client.post(reverse("admin:payouts_payoutrun_demo"))
    run = PayoutRun.objects.get()
    assert response["Location"] == reverse("admin:payouts_payoutrun_change", args=[run.pk])
