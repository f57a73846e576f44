from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from payouts import services
from payouts.models import PayoutRun, RunStatus


class Command(BaseCommand):
    help = "Approve a draft run and post it: payout_approve YYYY-MM --by EMAIL"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("period", help="YYYY-MM")
        parser.add_argument("--by", required=True, help="e-mail of the staff member approving")

    def handle(self, *args: Any, period, by, **options: Any):
        try:
            day = services.parse_period(period)
            actor = get_user_model().objects.filter(email__iexact=by, is_active=True).first()
            if actor is None:
                raise services.PayoutError(f"no user with e-mail {by}")
            run = PayoutRun.objects.filter(period=day).first()
            if run is None:
                raise services.PayoutError(f"no run for {period}; compute it first")
            # Same services as the admin; posting here, not in a worker, so the
            # command returns once the run is posted. A run left approved by a
            # crashed worker is finished (posting resumes where it stopped).
            if run.status == RunStatus.APPROVED:
                self.stdout.write(f"{run.label} is already approved; resuming its posting")
            else:
                run = services.payout_run_approve(run=run, actor=actor, queue=False)
            run = services.payout_run_post(run_id=run.pk)
        except services.PayoutError as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"{run.label}: {run.status} (net {run.net}, fee {run.fee} cents)")
