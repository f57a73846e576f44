"""``manage.py payout_demo``: close a demo month with this month's flattrs
and compute its run (DEBUG only), so a newcomer sees a payout today."""

from django.core.management.base import BaseCommand, CommandError

from payouts.services import PayoutError
from payouts.services.demo import payout_demo_close


class Command(BaseCommand):
    help = "DEBUG only: move this month's flattrs into a past month and compute its run."

    def handle(self, *args, **options):
        try:
            run = payout_demo_close()
        except PayoutError as exc:
            raise CommandError(str(exc))
        self.stdout.write(
            f"Demo month {run.label} closed with {run.flattrs} flattrs; its run is computed "
            f"({'balanced' if run.conservation_ok else 'NOT balanced'}). Review and approve it in "
            f"the admin (Monthly payouts), or: manage.py payout_approve {run.label} --by <staff e-mail>"
        )
