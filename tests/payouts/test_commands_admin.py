import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from payouts.models import PayoutRun, RunStatus
from tests.factories import UserFactory
from tests.payouts.helpers import balance, flattr, supporter, thing

P = dt.date(2026, 9, 1)
pytestmark = pytest.mark.django_db


@pytest.fixture
def month():
    creator = UserFactory(username="claire", email="claire@example.org")
    s = supporter(budget=200, username="sophie", email="sophie@example.org")
    flattr(s, thing(owner=creator), P)
    flattr(s, thing(owner=creator), P)
    flattr(s, thing(owner=None), P)
    return creator, s


@pytest.fixture
def boss():
    return UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")


class TestCommands:
    def test_compute_approve_report(self, month, boss, capsys):
        call_command("payout_compute", "2026-09")
        assert "balanced" in capsys.readouterr().out
        with pytest.raises(CommandError, match="pass --recompute"):
            call_command("payout_compute", "2026-09")
        call_command("payout_compute", "2026-09", "--recompute")
        call_command("payout_approve", "2026-09", "--by", "boss@example.org")
        assert PayoutRun.objects.get().status == RunStatus.POSTED
        capsys.readouterr()
        call_command("payout_report", "2026-09", "--format", "json")
        report = json.loads(capsys.readouterr().out)
        assert report == {
            "period": "2026-09",
            "status": "posted",
            "totals": {
                "supporters": 1,
                "flattrs": 3,
                "taken": 200,
                "gross": 134,
                "fee": 13,
                "net": 121,
                "unclaimed": 66,
                "charity": 0,
            },
            "supporters": [
                {"username": "sophie", "email": "sophie@example.org", "taken": 200, "flattrs": 3}
            ],
            "creators": [{"username": "claire", "gross": 134, "fee": 13, "net": 121, "flattrs": 2}],
        }
        call_command("payout_report", "2026-09", "--format", "csv")
        csv_out = capsys.readouterr().out.splitlines()
        assert (
            csv_out[0] == "role,username,email,budget,balance,taken,charity,gross,fee,net,flattrs"
        )
        assert "creator,claire,claire@example.org,,,,,134,13,121,2" in csv_out

    @pytest.mark.parametrize(
        "args, message",
        [
            (["payout_compute", "2026-13"], "is not a month"),
            (["payout_compute", "26-09"], "is not a month"),
            (["payout_compute", "2999-01"], "not closed yet"),
            (["payout_approve", "2026-08", "--by", "boss@example.org"], "no run for 2026-08"),
            (["payout_approve", "2026-09", "--by", "nobody@example.org"], "no user"),
            (["payout_report", "2026-08"], "no run for 2026-08"),
        ],
    )
    def test_bad_arguments_are_one_clear_line(self, month, boss, args, message):
        with pytest.raises(CommandError, match=message):
            call_command(*args)

    def test_approving_a_posted_run_is_refused(self, month, boss):
        call_command("payout_compute", "2026-09")
        call_command("payout_approve", "2026-09", "--by", "boss@example.org")
        with pytest.raises(CommandError, match="only a draft can be approved"):
            call_command("payout_approve", "2026-09", "--by", "boss@example.org")


class TestAdmin:
    def test_review_page_shows_totals_and_the_check(self, client, month, boss):
        call_command("payout_compute", "2026-09")
        run = PayoutRun.objects.get()
        client.force_login(boss)
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
        self, client, month, boss, django_capture_on_commit_callbacks
    ):
        creator, s = month
        call_command("payout_compute", "2026-09")
        run = PayoutRun.objects.get()
        client.force_login(boss)
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

    def test_approve_needs_the_permission(self, client, month):
        call_command("payout_compute", "2026-09")
        run = PayoutRun.objects.get()
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

    def test_cancel_and_recompute_actions(self, client, month, boss):
        call_command("payout_compute", "2026-09")
        run = PayoutRun.objects.get()
        client.force_login(boss)
        client.post(reverse("admin:payouts_payoutrun_action", args=[run.pk, "recompute"]))
        assert run.events.filter(action="recomputed").exists()
        client.post(
            reverse("admin:payouts_payoutrun_action", args=[run.pk, "cancel"]),
            {"note": "duplicate"},
        )
        run.refresh_from_db()
        assert run.status == RunStatus.CANCELLED

    def test_csv_export(self, client, month, boss):
        call_command("payout_compute", "2026-09")
        run = PayoutRun.objects.get()
        client.force_login(boss)
        response = client.get(reverse("admin:payouts_payoutrun_export", args=[run.pk, "creators"]))
        body = b"".join(response.streaming_content).decode()
        assert body.splitlines() == [
            "role,username,email,budget,balance,taken,charity,gross,fee,net,flattrs",
            "creator,claire,claire@example.org,,,,,134,13,121,2",
        ]


def test_approve_command_resumes_a_run_left_approved(month, boss, capsys):
    from payouts import services

    call_command("payout_compute", "2026-09")
    run = PayoutRun.objects.get()
    services.payout_run_approve(run=run, actor=boss, queue=False)  # the worker then crashed
    call_command("payout_approve", "2026-09", "--by", "boss@example.org")
    assert "resuming its posting" in capsys.readouterr().out
    assert PayoutRun.objects.get().status == RunStatus.POSTED
