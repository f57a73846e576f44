import datetime as dt

from payouts import services
from payouts.models import PayoutRun, SupporterLine
from payouts.shares import run_shares

P = dt.date(2026, 9, 1)


def compute(period=P):
    return services.payout_run_compute(period=period)


def post(run, admin_user):
    services.payout_run_approve(run=run, actor=admin_user, queue=False)
    return services.payout_run_post(run_id=run.pk)


def shares_of(user):
    """The user's shares in every run, derived from the lines, by flattr id."""
    shares = [
        share
        for run in PayoutRun.objects.filter(supporter_lines__supporter=user)
        for share in run_shares(run=run, supporter_ids=[user.pk])
    ]
    return [share.amount for share in sorted(shares, key=lambda share: share.flattr_id)]


def run_share_amounts(run):
    """{flattr id: cents} of every share of ``run``, derived."""
    supporters = list(SupporterLine.objects.filter(run=run).values_list("supporter_id", flat=True))
    return {
        share.flattr_id: share.amount for share in run_shares(run=run, supporter_ids=supporters)
    }


# These moved to tests/factories.py; kept importable from here for branches
# written before the move.
from tests.factories import balance, flattr, fund, owe, platform, supporter, thing  # noqa: E402, F401, I001
