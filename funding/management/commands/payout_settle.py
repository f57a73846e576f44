import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from funding.selectors import run_figures
from funding.services import run_settle
from payouts.models import PayoutRun
from payouts.services import PayoutError, parse_period


class Command(BaseCommand):
    help = (
        "Do everything due now for an after-mode run (charges, retries, transfers,"
        " disputes) and print its state as one JSON object: payout_settle YYYY-MM"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("period", help="YYYY-MM")

    def handle(self, *args: Any, period: str, **options: Any) -> None:
        try:
            day = parse_period(period)
            run = PayoutRun.objects.filter(period=day).first()
            if run is None:
                raise PayoutError(f"no run for {period}; compute and approve it first")
            run = run_settle(run=run)
        except PayoutError as exc:
            raise CommandError(str(exc))
        self.stdout.write(json.dumps(run_figures(run=run)))
