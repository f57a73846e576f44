"""The payout run admin: review, approve, cancel, export."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from payouts.models import PayoutRun, RunStatus
from tests.factories import UserFactory, balance

pytestmark = pytest.mark.django_db


class TestAdmin:
    @pytest.fixture
    def run(self, month):
        """The month computed: its draft run."""
        call_command("payout_compute", "2026-09")
        return PayoutRun.objects.get()

    def test_review_page_shows_totals_and_the_check(self, client, run, admin_user):
        client.force_login(admin_user)
        listing = client.get(reverse("admin:payouts_payoutrun_changelist"))
        assert listing.status_code == 200 and "2026-09" in listing.content.decode()
        page = client.get(reverse("admin:payouts_payoutrun_change", args=[run.pk]))
        body = page.content.decode()
        assert page.status_code == 200
        assert "balanced to the cent" in body
        assert "claire" in body
        lines = client.get(
            reverse("admin:payouts_supporterline_changelist"),
            {"run__id__exact": run.pk, "q": "SOPHIE@example.org"},
        )
        assert lines.status_code == 200 and "sophie" in lines.content.decode()

    def test_approve_asks_for_confirmation_then_posts(
        self, client, month, run, admin_user, django_capture_on_commit_callbacks
    ):
        creator, s = month
        client.force_login(admin_user)
        url = reverse("admin:payouts_payoutrun_action", args=[run.pk, "approve"])
        confirm = client.get(url)
        assert "Yes, I am sure" in confirm.content.decode()
        run.refresh_from_db()
        assert run.status == RunStatus.DRAFT
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url)
        run.refresh_from_db()
        assert run.status == RunStatus.POSTED
        assert balance(s) == 800

    def test_approve_needs_the_permission(self, client, run):
        staff = UserFactory(is_staff=True)
        client.force_login(staff)
        assert (
            client.post(
                reverse("admin:payouts_payoutrun_action", args=[run.pk, "approve"])
            ).status_code
            == 403
        )
        run.refresh_from_db()
        assert run.status == RunStatus.DRAFT

    def test_cancel_and_recompute_actions(self, client, run, admin_user):
        client.force_login(admin_user)
        client.post(reverse("admin:payouts_payoutrun_action", args=[run.pk, "recompute"]))
        assert run.events.filter(action="recomputed").exists()
        client.post(
            reverse("admin:payouts_payoutrun_action", args=[run.pk, "cancel"]),
            {"note": "duplicate"},
        )
        run.refresh_from_db()
        assert run.status == RunStatus.CANCELLED

    def test_csv_export(self, client, run, admin_user):
        client.force_login(admin_user)
        response = client.get(reverse("admin:payouts_payoutrun_export", args=[run.pk, "creators"]))
        body = b"".join(response.streaming_content).decode()
        assert body.splitlines() == [
            "role,username,email,budget (EUR),balance (EUR),taken (EUR),charity (EUR),"
            "gross (EUR),fee (EUR),net (EUR),flattrs,onward_out (EUR),onward_in (EUR),kept (EUR)",
            "creator,claire,claire@example.org,,,,,1.34,0.13,1.21,2,0.00,0.00,1.21",
        ]

    def test_csv_export_needs_the_view_permissions_of_the_run_and_its_lines(self, client, run):
        from django.contrib.auth.models import Permission

        staff = UserFactory(is_staff=True)
        client.force_login(staff)
        url = reverse("admin:payouts_payoutrun_export", args=[run.pk, "supporters"])
        assert client.get(url).status_code == 403
        staff.user_permissions.add(Permission.objects.get(codename="view_payoutrun"))
        assert client.get(url).status_code == 403  # the run, but not its supporters' lines
        staff.user_permissions.add(Permission.objects.get(codename="view_supporterline"))
        staff = type(staff).objects.get(pk=staff.pk)  # permissions are cached per instance
        client.force_login(staff)
        response = client.get(url)
        assert response.status_code == 200
        assert "sophie@example.org" in b"".join(response.streaming_content).decode()
        creators = reverse("admin:payouts_payoutrun_export", args=[run.pk, "creators"])
        assert client.get(creators).status_code == 403
        unknown = reverse("admin:payouts_payoutrun_export", args=[run.pk, "wallets"])
        assert client.get(unknown).status_code == 404
