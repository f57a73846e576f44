from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from payouts import services


class Command(BaseCommand):
    help = "Compute the payout run of a closed month: payout_compute YYYY-MM [--recompute]"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("period", help="YYYY-MM")
        parser.add_argument("--recompute", action="store_true", help="recompute an existing draft")

    def handle(self, *args: Any, period, recompute, **options: Any):
        try:
            run = services.payout_run_compute(
                period=services.parse_period(period), recompute=recompute
            )
        except services.PayoutError as exc:
            raise CommandError(str(exc))
        check = "balanced" if run.conservation_ok else "NOT BALANCED"
        self.stdout.write(
            f"{run.label}: {run.status}, {run.supporters} supporters, {run.flattrs} flattrs, "
            f"taken {run.taken}, net {run.net}, fee {run.fee}, unclaimed {run.unclaimed}, "
            f"charity {run.charity} (cents; {check})"
        )
