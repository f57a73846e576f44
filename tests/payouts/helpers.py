import datetime as dt

from payouts import services
from payouts.models import Share

P = dt.date(2026, 9, 1)


def compute(period=P):
    return services.payout_run_compute(period=period)


def post(run, admin_user):
    services.payout_run_approve(run=run, actor=admin_user, queue=False)
    return services.payout_run_post(run_id=run.pk)


def shares_of(user):
    return list(
        Share.objects.filter(supporter_id=user.pk)
        .order_by("flattr_id")
        .values_list("amount", flat=True)
    )


# These moved to tests/factories.py; kept importable from here for branches
# written before the move.
from tests.factories import balance, flattr, fund, owe, platform, supporter, thing  # noqa: E402, F401, I001
