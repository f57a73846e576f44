import threading

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from ledger import selectors, services
from ledger.models import AccountKind, Posting, Transaction
from tests.factories import UserFactory


def _outside():
    return services.platform_account(kind=AccountKind.OUTSIDE)


def _fund(user, cents, key):
    wallet = services.wallet_account(user=user)
    services.transaction_post(
        kind="topup", idempotency_key=key, legs=[(_outside(), -cents), (wallet, cents)]
    )
    return wallet


@pytest.mark.django_db
class TestTransactionPost:
    def test_same_key_twice_posts_once_and_returns_the_first(self):
        user = UserFactory()
        wallet = services.wallet_account(user=user)
        first, created1 = services.transaction_post(
            kind="topup", idempotency_key="k1", legs=[(_outside(), -800), (wallet, 800)]
        )
        second, created2 = services.transaction_post(
            kind="topup", idempotency_key="k1", legs=[(_outside(), -800), (wallet, 800)]
        )
        assert (created1, created2) == (True, False)
        assert first.pk == second.pk
        assert selectors.wallet_balance(user=user) == 800
        assert Posting.objects.filter(transaction=first).count() == 2

    def test_unbalanced_legs_are_refused_before_the_database(self):
        user = UserFactory()
        with pytest.raises(services.UnbalancedTransaction):
            services.transaction_post(
                kind="topup",
                idempotency_key="bad",
                legs=[(_outside(), -800), (services.wallet_account(user=user), 799)],
            )
        assert not Transaction.objects.filter(idempotency_key="bad").exists()

    def test_floats_are_refused(self):
        user = UserFactory()
        with pytest.raises(TypeError):
            services.transaction_post(
                kind="topup",
                idempotency_key="f",
                legs=[(_outside(), -8.0), (services.wallet_account(user=user), 8.0)],
            )

    def test_overdraft_raises_and_writes_nothing(self):
        user = UserFactory()
        wallet = _fund(user, 500, "fund")
        with pytest.raises(services.InsufficientFunds):
            services.transaction_post(
                kind="adjustment", idempotency_key="over", legs=[(wallet, -501), (_outside(), 501)]
            )
        assert selectors.wallet_balance(user=user) == 500
        assert not Transaction.objects.filter(idempotency_key="over").exists()

    def test_balance_follows_many_postings(self):
        user = UserFactory()
        wallet = services.wallet_account(user=user)
        for i in range(50):
            services.transaction_post(
                kind="topup",
                idempotency_key=f"m{i}",
                legs=[(_outside(), -(i + 1)), (wallet, i + 1)],
            )
        assert selectors.wallet_balance(user=user) == sum(range(1, 51))
        assert selectors.ledger_problems() == []

    def test_statement_is_newest_first_and_paginated(self):
        user = UserFactory()
        wallet = services.wallet_account(user=user)
        for i in range(30):
            services.transaction_post(
                kind="topup",
                idempotency_key=f"s{i}",
                legs=[(_outside(), -(i + 1)), (wallet, i + 1)],
            )
        page = selectors.statement_page(account=wallet, page=1, per_page=25)
        assert [p.amount for p in page][:3] == [30, 29, 28]
        assert page.paginator.num_pages == 2
        assert [
            p.amount for p in selectors.statement_page(account=wallet, page=2, per_page=25)
        ] == [5, 4, 3, 2, 1]


@pytest.mark.django_db(transaction=True)
class TestDatabaseRefusesRawWrites:
    """Each money rule is enforced by PostgreSQL itself."""

    def _balanced(self):
        user = UserFactory()
        _fund(user, 1000, "raw")
        return Transaction.objects.get(idempotency_key="raw"), user

    def test_unbalanced_transaction_is_refused_at_commit(self):
        txn, user = self._balanced()
        wallet = services.wallet_account(user=user)
        with pytest.raises(IntegrityError, match="sealed"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO ledger_posting (transaction_id, account_id, amount) VALUES (%s, %s, 5)",
                    [txn.pk, wallet.pk],
                )
        assert selectors.wallet_balance(user=user) == 1000
        assert selectors.ledger_problems() == []

    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE ledger_posting SET amount = amount * 2",
            "DELETE FROM ledger_posting",
            "UPDATE ledger_transaction SET memo = 'changed'",
            "DELETE FROM ledger_transaction",
        ],
    )
    def test_postings_and_transactions_are_insert_only(self, sql):
        self._balanced()
        with pytest.raises(DatabaseError, match="insert-only"), connection.cursor() as cursor:
            cursor.execute(sql)
        assert Posting.objects.count() == 2
        assert Transaction.objects.get().memo == ""

    def test_balance_cannot_be_written_directly(self):
        txn, user = self._balanced()
        with (
            pytest.raises(DatabaseError, match="derived from postings"),
            connection.cursor() as cursor,
        ):
            cursor.execute("UPDATE ledger_account SET balance = balance + 100")
        assert selectors.wallet_balance(user=user) == 1000

    def test_wallet_cannot_go_negative_even_by_raw_sql(self):
        txn, user = self._balanced()
        wallet = services.wallet_account(user=user)
        with pytest.raises(IntegrityError, match="balance_never_negative"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)"
                    " VALUES ('adjustment', 'neg', '', now()) RETURNING id"
                )
                new_id = cursor.fetchone()[0]
                cursor.execute(
                    "INSERT INTO ledger_posting (transaction_id, account_id, amount) VALUES (%s, %s, -1001), (%s, %s, 1001)",
                    [new_id, wallet.pk, new_id, _outside().pk],
                )
        assert selectors.wallet_balance(user=user) == 1000

    def test_single_posting_transaction_is_refused(self):
        user = UserFactory()
        wallet = services.wallet_account(user=user)
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO ledger_transaction (kind, idempotency_key, memo, created_at)"
                " VALUES ('adjustment', 'one', '', now()) RETURNING id"
            )
            new_id = cursor.fetchone()[0]
            cursor.execute(
                "INSERT INTO ledger_posting (transaction_id, account_id, amount) VALUES (%s, %s, 0)",
                [new_id, wallet.pk],
            )
        assert not Transaction.objects.filter(idempotency_key="one").exists()

    def test_concurrent_posts_with_one_key_post_once(self):
        user = UserFactory()
        wallet = services.wallet_account(user=user)
        outside = _outside()
        barrier = threading.Barrier(8)
        results = []

        def post():
            try:
                barrier.wait()
                txn, created = services.transaction_post(
                    kind="topup", idempotency_key="race", legs=[(outside, -700), (wallet, 700)]
                )
                results.append((txn.pk, created))
            finally:
                connection.close()

        threads = [threading.Thread(target=post) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len({pk for pk, _ in results}) == 1
        assert sum(created for _, created in results) == 1
        assert selectors.wallet_balance(user=user) == 700
        assert selectors.ledger_problems() == []

    def test_concurrent_debits_never_overdraw(self):
        user = UserFactory()
        wallet = _fund(user, 1000, "fund")
        outside = _outside()
        barrier = threading.Barrier(6)
        outcomes = []

        def spend(i):
            try:
                barrier.wait()
                services.transaction_post(
                    kind="adjustment",
                    idempotency_key=f"spend{i}",
                    legs=[(wallet, -300), (outside, 300)],
                )
                outcomes.append("ok")
            except services.InsufficientFunds:
                outcomes.append("refused")
            finally:
                connection.close()

        threads = [threading.Thread(target=spend, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes.count("ok") == 3
        assert selectors.wallet_balance(user=user) == 100
        assert selectors.ledger_problems() == []

    def test_ledger_check_names_a_broken_balance(self, capsys):
        txn, user = self._balanced()
        call_command("ledger_check")
        assert "OK" in capsys.readouterr().out
        wallet = services.wallet_account(user=user)
        with connection.cursor() as cursor:
            # Simulate corruption that bypasses the rules (e.g. a restore gone wrong).
            cursor.execute("ALTER TABLE ledger_account DISABLE TRIGGER ledger_account_guard")
            cursor.execute("UPDATE ledger_account SET balance = 999 WHERE id = %s", [wallet.pk])
            cursor.execute("ALTER TABLE ledger_account ENABLE TRIGGER ledger_account_guard")
        with pytest.raises(SystemExit) as exit_info:
            call_command("ledger_check")
        assert exit_info.value.code == 1
        err = capsys.readouterr().err
        assert (
            f"account {wallet.pk} (wallet) stores balance 999 but its postings sum to 1000" in err
        )


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
class TestAdmin:
    def test_lists_show_balances_and_refuse_changes(self, client):
        staff = UserFactory(is_staff=True, is_superuser=True)
        user = UserFactory()
        _fund(user, 1234, "adm")
        client.force_login(staff)
        response = client.get(reverse("admin:ledger_account_changelist"))
        assert response.status_code == 200
        assert "12.34" in response.content.decode()
        response = client.get(reverse("admin:ledger_account_changelist"), {"q": user.email.upper()})
        assert user.email in response.content.decode()
        txn = Transaction.objects.get()
        assert (
            client.get(reverse("admin:ledger_transaction_change", args=[txn.pk])).status_code == 200
        )
        assert client.get(reverse("admin:ledger_transaction_add")).status_code == 403
        response = client.post(
            reverse("admin:ledger_transaction_delete", args=[txn.pk]), {"post": "yes"}
        )
        assert response.status_code == 403
        assert Transaction.objects.count() == 1

    def test_adjust_needs_confirmation_then_posts(self, client):
        staff = UserFactory(is_staff=True, is_superuser=True)
        user = UserFactory()
        wallet = _fund(user, 1000, "adj")
        client.force_login(staff)
        url = reverse("admin:ledger_account_adjust", args=[wallet.pk])
        form = client.get(url)
        key = form.context["form"]["idempotency_key"].initial
        data = {"amount": "-2.50", "reason": "duplicate top-up", "idempotency_key": key}
        review = client.post(url, data)
        assert review.status_code == 200
        assert "will hold 7.50" in review.content.decode()
        assert selectors.wallet_balance(user=user) == 1000
        done = client.post(url, {**data, "confirm": "1"})
        assert done.status_code == 302
        client.post(url, {**data, "confirm": "1"})  # double submit
        assert selectors.wallet_balance(user=user) == 750

    def test_adjust_refuses_overdraft(self, client):
        staff = UserFactory(is_staff=True, is_superuser=True)
        user = UserFactory()
        wallet = _fund(user, 100, "od")
        client.force_login(staff)
        url = reverse("admin:ledger_account_adjust", args=[wallet.pk])
        response = client.post(
            url, {"amount": "-5", "reason": "x", "idempotency_key": "adjustment:k", "confirm": "1"}
        )
        assert response.status_code == 200
        assert "cannot go below zero" in response.content.decode()
        assert selectors.wallet_balance(user=user) == 100

    def test_adjust_needs_the_permission(self, client):
        staff = UserFactory(is_staff=True)
        user = UserFactory()
        wallet = _fund(user, 100, "perm")
        client.force_login(staff)
        response = client.get(reverse("admin:ledger_account_adjust", args=[wallet.pk]))
        assert response.status_code == 403
