import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import csv as safe_csv
from payouts import selectors, services
from payouts.models import PayoutRun


class Command(BaseCommand):
    help = "Print a run's figures: payout_report YYYY-MM --format json|csv"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("period", help="YYYY-MM")
        parser.add_argument("--format", choices=["json", "csv"], default="json")

    def handle(self, *args: Any, period, format, **options: Any):
        try:
            day = services.parse_period(period)
        except services.PayoutError as exc:
            raise CommandError(str(exc))
        run = PayoutRun.objects.filter(period=day).first()
        if run is None:
            raise CommandError(f"no run for {period}")
        if format == "json":
            self._write_json(run)
            return
        writer = safe_csv.writer(self.stdout)
        writer.writerows(selectors.payout_report_rows(run=run))

    def _write_json(self, run) -> None:
        """The JSON document, written line by line: a million supporters
        stream through instead of being held in memory."""
        head = json.dumps(selectors.payout_report_totals(run=run), indent=2)
        out = self.stdout
        out.write(head[:-2] + ",\n", ending="")
        sections = (
            ("supporters", selectors.payout_report_supporters(run=run)),
            ("creators", selectors.payout_report_creators(run=run)),
            ("onward", selectors.payout_report_onward(run=run)),
        )
        for index, (name, lines) in enumerate(sections):
            out.write(f'  "{name}": [', ending="")
            separator = "\n    "
            for line in lines:
                out.write(separator + json.dumps(line), ending="")
                separator = ",\n    "
            out.write("\n  ]" if separator != "\n    " else "]", ending="")
            out.write(",\n" if index < len(sections) - 1 else "\n", ending="")
        out.write("}")
