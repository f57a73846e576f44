import csv
import json

from django.core.management.base import BaseCommand, CommandError

from payouts import selectors, services
from payouts.models import PayoutRun


class Command(BaseCommand):
    help = "Print a run's figures: payout_report YYYY-MM --format json|csv"

    def add_arguments(self, parser):
        parser.add_argument("period", help="YYYY-MM")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args, period, format, **options):
        try:
            day = services.parse_period(period)
        except services.PayoutError as exc:
            raise CommandError(str(exc))
        run = PayoutRun.objects.filter(period=day).first()
        if run is None:
            raise CommandError(f"no run for {period}")
        report = selectors.payout_report(run=run)
        if format == "json":
            self.stdout.write(json.dumps(report, indent=2))
            return
        writer = csv.writer(self.stdout)
        writer.writerow(["role", "username", "email", "taken", "gross", "fee", "net", "flattrs"])
        for line in report["supporters"]:
            writer.writerow(
                [
                    "supporter",
                    line["username"],
                    line["email"],
                    line["taken"],
                    "",
                    "",
                    "",
                    line["flattrs"],
                ]
            )
        for line in report["creators"]:
            writer.writerow(
                [
                    "creator",
                    line["username"],
                    "",
                    "",
                    line["gross"],
                    line["fee"],
                    line["net"],
                    line["flattrs"],
                ]
            )
