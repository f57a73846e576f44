"""``payout_settle`` for crash tests, run as a child process.

    python -m tests.funding.crash_charger 2026-09

The real command with one hook installed here (not in production code): the
test gateway's charge answers, then the process prints ``holding`` and
sleeps before the answer is recorded, so the test can SIGKILL it between
the processor charging and our books knowing it.
"""

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flattr_site.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from payments.gateways.test import TestModeGateway  # noqa: E402

answer = TestModeGateway.charge_off_session


def charged_then_hold(self, **kwargs):
    result = answer(self, **kwargs)
    print(f"holding {kwargs['idempotency_key']}", flush=True)
    time.sleep(600)
    return result


TestModeGateway.charge_off_session = charged_then_hold  # type: ignore[method-assign]

if __name__ == "__main__":
    call_command("payout_settle", *sys.argv[1:])
