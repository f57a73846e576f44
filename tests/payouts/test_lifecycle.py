"""A run's stages: draft, approved, posted, cancelled (payouts.services.lifecycle)."""

import pytest
from django.utils import timezone

from payouts import services
from payouts.models import PayoutRun, RunStatus
from tests.factories import UserFactory, balance, flattr, supporter, thing
from tests.payouts.helpers import P, compute, post, shares_of

pytestmark = pytest.mark.django_db


class TestLifecycle:
    def test_draft_can_be_recomputed_and_sees_new_flattrs(self):
        s = supporter(budget=200)
        flattr(s, thing(), P)
        compute()
        flattr(s, thing(), P)
        run = services.payout_run_compute(period=P, recompute=True)
        assert run.flattrs == 2
        assert shares_of(s) == [100, 100]
        assert [e.action for e in run.events.all()] == ["computed", "recomputed"]

    def test_approval_needs_the_permission(self):
        run = compute()
        staff = UserFactory(is_staff=True)
        with pytest.raises(services.PayoutError, match="may not approve"):
            services.payout_run_approve(run=run, actor=staff, queue=False)
        run.refresh_from_db()
        assert run.status == RunStatus.DRAFT

    def test_approved_run_cannot_be_recomputed(self, admin_user):
        run = compute()
        services.payout_run_approve(run=run, actor=admin_user, queue=False)
        with pytest.raises(services.PayoutError, match="only a draft"):
            services.payout_run_compute(period=P, recompute=True)

    def test_unbalanced_run_cannot_be_approved(self, admin_user):
        run = compute()
        PayoutRun.objects.filter(pk=run.pk).update(conservation_ok=False)
        with pytest.raises(services.PayoutError, match="does not balance"):
            services.payout_run_approve(run=run, actor=admin_user, queue=False)

    def test_cancelled_run_posts_nothing(self, admin_user):
        s = supporter(budget=200)
        flattr(s, thing(), P)
        run = compute()
        services.payout_run_cancel(run=run, actor=admin_user, note="test")
        with pytest.raises(services.PayoutError):
            services.payout_run_post(run_id=run.pk)
        assert balance(s) == 1000
        assert [e.action for e in run.events.all()] == ["computed", "cancelled"]

    def test_transitions_record_who_and_when(self, admin_user):
        run = compute()
        post(run, admin_user)
        events = list(run.events.values_list("action", "actor__email"))
        assert events == [("computed", None), ("approved", "boss@example.org"), ("posted", None)]
        run.refresh_from_db()
        assert run.approved_by == admin_user and run.approved_at <= timezone.now()

    def test_approval_queues_posting(self, admin_user, django_capture_on_commit_callbacks):
        s = supporter(budget=200)
        flattr(s, thing(), P)
        run = compute()
        with django_capture_on_commit_callbacks(execute=True):
            services.payout_run_approve(run=run, actor=admin_user)
        run.refresh_from_db()
        assert run.status == RunStatus.POSTED
