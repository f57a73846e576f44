"""A supporter line's run, checked by the database once per statement
(payouts migration 0009) instead of a foreign-key check per line, and its
supporter (0010)."""

import threading

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

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


# The line's supporter, checked the same way (payouts migration 0010).


def test_a_line_of_a_user_who_does_not_exist_is_refused_with_its_statement(run):
    someone = UserFactory()
    missing = someone.pk + 1000
    with pytest.raises(IntegrityError, match=f"refers to user {missing}, which does not exist"):
        _raw(
            "INSERT INTO payouts_supporterline"
            " (run_id, supporter_id, budget, balance, taken, flattrs, charity, chunk)"
            " SELECT %(run)s, s, 100, 100, 100, 1, 0, 0 FROM unnest(%(who)s::bigint[]) s",
            {"run": run.pk, "who": [someone.pk, missing]},
        )
    assert run.supporter_lines.count() == 2


def test_a_user_with_lines_cannot_be_deleted_or_renumbered_behind_the_orm(run):
    line = run.supporter_lines.first()
    who = line.supporter_id
    with pytest.raises(IntegrityError, match=f"user {who} still has payout supporter lines"):
        _raw("DELETE FROM accounts_user WHERE id = %s", [who])
    with pytest.raises(IntegrityError, match="still has payout supporter lines"):
        _raw("UPDATE accounts_user SET id = id + 1000 WHERE id = %s", [who])
    assert SupporterLine.objects.get(pk=line.pk).supporter_id == who


def test_a_line_cannot_move_to_another_supporter(run):
    someone = UserFactory()
    with pytest.raises(IntegrityError, match="cannot move from supporter"):
        _raw("UPDATE payouts_supporterline SET supporter_id = %s", [someone.pk])
    assert not SupporterLine.objects.filter(supporter=someone).exists()


def test_a_user_is_deleted_only_once_no_open_transaction_writes_lines(run):
    """No race between the statement's check and its commit: a transaction
    that wrote supporter lines holds them against user deletions until it
    ends, and the deletion then sees its lines."""
    someone = UserFactory()
    written, release = threading.Event(), threading.Event()

    def write_line():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO payouts_supporterline"
                    " (run_id, supporter_id, budget, balance, taken, flattrs, charity, chunk)"
                    " VALUES (%s, %s, 100, 100, 100, 1, 0, 0)",
                    [run.pk, someone.pk],
                )
                written.set()
                release.wait(10)
        finally:
            connection.close()

    writer = threading.Thread(target=write_line)
    writer.start()
    try:
        assert written.wait(10)
        with pytest.raises(OperationalError, match="lock timeout"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '300ms'")
                cursor.execute("DELETE FROM accounts_user WHERE id = %s", [someone.pk])
    finally:
        release.set()
        writer.join()
    with pytest.raises(IntegrityError, match="still has payout supporter lines"):
        _raw("DELETE FROM accounts_user WHERE id = %s", [someone.pk])
    assert SupporterLine.objects.filter(supporter=someone).count() == 1
