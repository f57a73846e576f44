"""The run's admin page follows the run's progress by itself."""

import datetime as dt

import pytest
from django.urls import reverse

from payouts.models import PayoutRun, RunStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "status, stage, follows",
    [
        (RunStatus.APPROVED, "computed", True),
        (RunStatus.DRAFT, "computing:shares", True),
        (RunStatus.APPROVED, "posting:supporters", True),
        (RunStatus.DRAFT, "computed", False),
        (RunStatus.POSTED, "done", False),
    ],
)
def test_run_page_reloads_itself_only_while_work_is_under_way(
    client, staff, status, stage, follows
):
    run = PayoutRun.objects.create(
        period=dt.date(2026, 9, 1), status=status, stage=stage, conservation_ok=True
    )
    client.force_login(staff)
    page = client.get(reverse("admin:payouts_payoutrun_change", args=[run.pk])).content.decode()
    assert ('http-equiv="refresh"' in page) is follows
