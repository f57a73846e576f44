"""The payout_compute / payout_approve / payout_report commands."""

import json

import pytest
from django.core.management import CommandError, call_command

from payouts.models import PayoutRun, RunStatus

pytestmark = pytest.mark.django_db


class TestCommands:
    def test_compute_approve_report(self, month, admin_user, capsys):
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
            "creators": [
                {
                    "username": "claire",
                    "gross": 134,
                    "fee": 13,
                    "net": 121,
                    "flattrs": 2,
                    "onward_out": 0,
                    "onward_in": 0,
                    "kept": 121,
                }
            ],
            "onward": [],
        }
        call_command("payout_report", "2026-09", "--format", "csv")
        csv_out = capsys.readouterr().out.splitlines()
        assert (
            csv_out[0] == "role,username,email,budget,balance,taken,charity,gross,fee,net,flattrs,"
            "onward_out,onward_in,kept"
        )
        assert "creator,claire,claire@example.org,,,,,134,13,121,2,0,0,121" in csv_out

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
    def test_bad_arguments_are_one_clear_line(self, month, admin_user, args, message):
        with pytest.raises(CommandError, match=message):
            call_command(*args)

    def test_approving_a_posted_run_is_refused(self, month, admin_user):
        call_command("payout_compute", "2026-09")
        call_command("payout_approve", "2026-09", "--by", "boss@example.org")
        with pytest.raises(CommandError, match="only a draft can be approved"):
            call_command("payout_approve", "2026-09", "--by", "boss@example.org")


def test_approve_command_resumes_a_run_left_approved(month, admin_user, capsys):
    from payouts import services

    call_command("payout_compute", "2026-09")
    run = PayoutRun.objects.get()
    services.payout_run_approve(run=run, actor=admin_user, queue=False)  # the worker then crashed
    call_command("payout_approve", "2026-09", "--by", "boss@example.org")
    assert "resuming its posting" in capsys.readouterr().out
    assert PayoutRun.objects.get().status == RunStatus.POSTED
