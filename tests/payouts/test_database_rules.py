"""A supporter line's run, checked by the database once per statement
(payouts migration 0009) instead of a foreign-key check per line."""

import pytest
from django.db import IntegrityError, connection, transaction

from payouts.models import PayoutRun, SupporterLine
from tests.factories import UserFactory
from tests.payouts.helpers import P, compute, flattr, supporter, thing

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run():
    for budget in (300, 500):
        flattr(supporter(budget=budget), thing(owner=UserFactory()), P)
    run = compute()
    assert run.supporter_lines.count() == 2
    return run


def _raw(sql, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_line_of_a_run_that_does_not_exist_is_refused_with_its_statement(run):
    someone = UserFactory()
    with pytest.raises(
        IntegrityError, match=f"refers to run {run.pk + 1000}, which does not exist"
    ):
        _raw(
            "INSERT INTO payouts_supporterline"
            " (run_id, supporter_id, budget, balance, taken, flattrs, charity, chunk)"
            " SELECT r, %(who)s, 100, 100, 100, 1, 0, 0 FROM unnest(%(runs)s::bigint[]) r",
            {"who": someone.pk, "runs": [run.pk, run.pk + 1000]},
        )
    assert not SupporterLine.objects.filter(supporter=someone).exists()


def test_a_run_with_lines_cannot_be_deleted_or_renumbered_behind_the_orm(run):
    with pytest.raises(IntegrityError, match=f"payout run {run.pk} still has supporter lines"):
        _raw("DELETE FROM payouts_payoutrun WHERE id = %s", [run.pk])
    with pytest.raises(IntegrityError, match="still has supporter lines"):
        _raw("UPDATE payouts_payoutrun SET id = id + 1000 WHERE id = %s", [run.pk])
    assert PayoutRun.objects.filter(pk=run.pk).exists()
    assert run.supporter_lines.count() == 2


def test_a_line_cannot_move_to_another_run(run):
    other = PayoutRun.objects.create(period=P.replace(month=8))
    with pytest.raises(IntegrityError, match="cannot move from run"):
        _raw("UPDATE payouts_supporterline SET run_id = %s", [other.pk])
    assert run.supporter_lines.count() == 2 and not other.supporter_lines.exists()


def test_deleting_a_run_through_the_orm_takes_its_lines_with_it(run):
    run.delete()
    assert not SupporterLine.objects.exists() and not PayoutRun.objects.exists()
