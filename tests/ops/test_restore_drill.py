"""make restore-drill: dump, restore into a fresh database, verify."""

import datetime as dt
import io

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from ops.dburl import connection_url
from payouts import services
from payouts.models import RunCommitment
from tests.factories import flattr, supporter, thing

P = dt.date(2026, 9, 1)


@pytest.fixture
def posted(transactional_db, django_capture_on_commit_callbacks):
    creator = supporter(budget=0, username="claire")
    for i in range(3):
        flattr(supporter(budget=200, username=f"fan{i}"), thing(owner=creator), P)
    run = services.payout_run_compute(period=P)
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_run_approve(run=run, actor=None)
    assert RunCommitment.objects.count() == 1
    return run


def test_the_drill_restores_and_verifies(posted, capsys):
    call_command("restore_drill")
    assert "restore drill: OK" in capsys.readouterr().out


def test_a_different_copy_fails_with_the_difference(posted, capsys):
    """A copy whose published root no longer matches its lines (a line
    changed after publication) fails the drill, naming the month."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # past the guards
        cursor.execute(
            "UPDATE payouts_supporterline SET flattrs = flattrs + 1 WHERE run_id = %s",
            [posted.pk],
        )
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("restore_drill", stderr=err)
    assert exit_.value.code == 1
    assert "transparency root 2026-09: published" in err.getvalue()


def test_a_non_empty_target_is_refused(posted):
    url = connection_url(connection.settings_dict)  # the source itself: not empty
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore_drill", target_url=url)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM accounts_user").fetchone()[0] == 4
