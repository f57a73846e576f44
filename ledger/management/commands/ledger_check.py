import sys
from typing import Any

from django.core.management.base import BaseCommand

from ledger.selectors import ledger_counts, ledger_problems


class Command(BaseCommand):
    help = "Verify every ledger invariant; exit non-zero naming what is wrong."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_problems()
        if problems:
            for line in problems:
                self.stderr.write(f"ledger_check: {line}")
            sys.exit(1)
        counts = ledger_counts()
        self.stdout.write(
            "ledger_check: OK ({accounts} accounts, {transactions} transactions, "
            "{postings} postings)".format(**counts)
        )
