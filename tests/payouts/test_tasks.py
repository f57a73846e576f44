"""The daily beat task that computes (and may approve) last month."""

import pytest

from payouts import services
from payouts.models import PayoutRun, RunStatus
from tests.factories import balance, flattr, supporter, thing

pytestmark = pytest.mark.django_db


class TestSchedule:
    def test_daily_task_computes_the_missing_last_month_once(self):
        from payouts.tasks import payout_compute_due

        label = payout_compute_due()
        assert label == f"{services.last_closed_period():%Y-%m}"
        assert payout_compute_due() is None
        assert PayoutRun.objects.count() == 1

    def test_auto_approve_posts_small_installations(
        self, settings, django_capture_on_commit_callbacks
    ):
        from payouts.tasks import payout_compute_due

        settings.FLATTR_PAYOUT_AUTO_APPROVE = True
        s = supporter(budget=200)
        flattr(s, thing(), services.last_closed_period())
        with django_capture_on_commit_callbacks(execute=True):
            payout_compute_due()
        assert PayoutRun.objects.get().status == RunStatus.POSTED
        assert balance(s) == 800

    def test_beat_runs_it_daily(self, settings):
        entry = settings.CELERY_BEAT_SCHEDULE["payout-compute-due"]
        assert entry["task"] == "payouts.tasks.payout_compute_due"
        assert entry["schedule"].hour == {2} and entry["schedule"].minute == {0}
