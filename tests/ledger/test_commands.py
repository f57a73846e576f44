"""The ledger_check and wallet_adjust management commands."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ledger import selectors, services
from ledger.models import Transaction
from tests.factories import UserFactory, fund


@pytest.mark.django_db
class TestWalletAdjust:
    def test_command_credits_and_records_staff_and_reason(self, capsys):
        staff = UserFactory(is_staff=True, is_superuser=True, email="boss@example.org")
        user = UserFactory(email="ana@example.org")
        call_command(
            "wallet_adjust", "ANA@example.org", "8.00", reason="goodwill", by="boss@example.org"
        )
        assert selectors.wallet_balance(user=user) == 800
        txn = Transaction.objects.get(kind="adjustment")
        assert txn.created_by == staff
        assert "goodwill" in txn.memo
        call_command(
            "wallet_adjust", "ana@example.org", "-2.5", reason="correction", by="boss@example.org"
        )
        assert selectors.wallet_balance(user=user) == 550
        assert selectors.ledger_problems() == []

    @pytest.mark.parametrize(
        "args, message",
        [
            (["nobody@example.org", "5"], "no user with e-mail"),
            (["ana@example.org", "5.005"], "more than two decimals"),
            (["ana@example.org", "abc"], "not an amount"),
            (["ana@example.org", "-9"], "cannot go below zero"),
            (["ana@example.org", "0"], "must not be zero"),
        ],
    )
    def test_bad_input_is_one_clear_error_and_writes_nothing(self, args, message):
        from django.core.management import CommandError

        UserFactory(is_staff=True, is_superuser=True)
        UserFactory(email="ana@example.org")
        with pytest.raises(CommandError, match=message):
            call_command("wallet_adjust", *args, reason="x")
        assert not Transaction.objects.exists()

    def test_missing_reason_is_refused(self):
        staff = UserFactory(is_staff=True)
        user = UserFactory()
        with pytest.raises(services.AdjustmentRefused):
            services.wallet_adjust(user=user, amount_cents=100, reason="  ", staff=staff)
        assert not Transaction.objects.exists()

    def test_same_form_key_posts_once(self):
        staff = UserFactory(is_staff=True)
        user = UserFactory()
        for _ in range(2):
            services.wallet_adjust(
                user=user, amount_cents=100, reason="r", staff=staff, idempotency_key="form-1"
            )
        assert selectors.wallet_balance(user=user) == 100


@pytest.mark.django_db
class TestWalletAdjustCommandInput:
    def test_missing_reason_is_one_line_and_writes_nothing(self):
        UserFactory(is_staff=True, is_superuser=True)
        UserFactory(email="ana@example.org")
        with pytest.raises(CommandError, match="a reason is required"):
            call_command("wallet_adjust", "ana@example.org", "5")
        assert not Transaction.objects.exists()

    def test_by_must_be_staff(self):
        UserFactory(email="plain@example.org")
        UserFactory(email="ana@example.org")
        with pytest.raises(CommandError, match="no staff member"):
            call_command(
                "wallet_adjust", "ana@example.org", "5", reason="x", by="plain@example.org"
            )
        assert not Transaction.objects.exists()

    def test_refusal_names_the_balance(self):
        UserFactory(is_staff=True, is_superuser=True)
        user = UserFactory(email="ana@example.org")
        fund(user, 150, key="f")
        with pytest.raises(CommandError, match=r"holds 1\.50"):
            call_command("wallet_adjust", "ana@example.org", "-1.51", reason="x")
        assert selectors.wallet_balance(user=user) == 150
        assert Transaction.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_ledger_check_names_an_unbalanced_transaction(capsys):
    user = UserFactory()
    wallet, topup = fund(user, 1000, key="t")
    with connection.cursor() as cursor:
        # Corruption that bypassed the zero-sum rule (as a bad restore could).
        cursor.execute("ALTER TABLE ledger_posting DISABLE TRIGGER ledger_posting_zero_sum")
        try:
            cursor.execute(
                "INSERT INTO ledger_posting (transaction_id, account_id, amount) VALUES (%s, %s, 5)",
                [topup.pk, wallet.pk],
            )
        finally:
            cursor.execute("ALTER TABLE ledger_posting ENABLE TRIGGER ledger_posting_zero_sum")
    problems = selectors.ledger_problems()
    assert f"transaction {topup.pk} is unbalanced: 3 posting(s) sum to 5" in problems
    assert "balances of all accounts sum to 5, not 0" in problems
    with pytest.raises(SystemExit) as exit_info:
        call_command("ledger_check")
    assert exit_info.value.code == 1
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == len(problems) == 2
    assert all(line.startswith("ledger_check: ") for line in err_lines)


def _manage(*args):
    import os
    import subprocess
    import sys

    from tests.conftest import database_url_for_subprocess

    url = database_url_for_subprocess()
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": url},
        timeout=60,
    )


@pytest.mark.django_db(transaction=True)
def test_commands_exit_non_zero_with_one_line():
    UserFactory(is_staff=True, is_superuser=True)
    UserFactory(email="ana@example.org")
    done = _manage("wallet_adjust", "ana@example.org", "8.00", "--reason", "goodwill")
    assert done.returncode == 0, done.stderr
    assert "8.00" in done.stdout
    for args, message in [
        (["nobody@example.org", "1", "--reason", "x"], "no user with e-mail"),
        (["ana@example.org", "-8.01", "--reason", "x"], "cannot go below zero"),
        (["ana@example.org", "1"], "a reason is required"),
    ]:
        refused = _manage("wallet_adjust", *args)
        assert refused.returncode == 1
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0]
    assert Transaction.objects.count() == 1
    check = _manage("ledger_check")
    assert check.returncode == 0 and "OK" in check.stdout
