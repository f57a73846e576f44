"""Corrections (reversals, staff adjustments) and the ledger check on a dirty ledger."""

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from ledger import selectors, services
from ledger.models import Account, AccountKind, Posting, Transaction, TransactionKind
from tests.factories import UserFactory


def _outside():
    return services.platform_account(kind=AccountKind.OUTSIDE)


def _fund(user, cents, key):
    wallet = services.wallet_account(user=user)
    txn, _ = services.transaction_post(
        kind="topup", idempotency_key=key, legs=[(_outside(), -cents), (wallet, cents)]
    )
    return wallet, txn


@pytest.mark.django_db
class TestTransactionReverse:
    def test_posts_the_exact_negation_once_per_key(self):
        user = UserFactory()
        wallet, topup = _fund(user, 800, "t1")
        first, created1 = services.transaction_reverse(
            transaction=topup, idempotency_key="rev:t1", memo="refund"
        )
        second, created2 = services.transaction_reverse(
            transaction=topup, idempotency_key="rev:t1", memo="refund"
        )
        assert (created1, created2) == (True, False)
        assert first.pk == second.pk
        assert first.kind == TransactionKind.REVERSAL
        assert first.memo == "refund"
        assert sorted(first.postings.values_list("account_id", "amount")) == sorted(
            (account_id, -amount)
            for account_id, amount in topup.postings.values_list("account_id", "amount")
        )
        assert selectors.wallet_balance(user=user) == 0
        assert selectors.ledger_problems() == []

    def test_refused_when_the_money_was_already_spent(self):
        user = UserFactory()
        wallet, topup = _fund(user, 800, "t2")
        services.transaction_post(
            kind="adjustment", idempotency_key="spend", legs=[(wallet, -500), (_outside(), 500)]
        )
        with pytest.raises(services.InsufficientFunds):
            services.transaction_reverse(transaction=topup, idempotency_key="rev:t2", memo="")
        assert not Transaction.objects.filter(idempotency_key="rev:t2").exists()
        assert selectors.wallet_balance(user=user) == 300


@pytest.mark.django_db
class TestWalletAdjustService:
    def test_credit_is_an_adjustment_against_the_adjustments_account(self):
        staff = UserFactory(is_staff=True)
        user = UserFactory()
        txn = services.wallet_adjust(user=user, amount_cents=250, reason="goodwill", staff=staff)
        assert txn.kind == TransactionKind.ADJUSTMENT
        assert txn.created_by == staff
        assert "goodwill" in txn.memo
        counter = Account.objects.get(kind=AccountKind.OUTSIDE, ref=services.ADJUSTMENTS_REF)
        assert dict(txn.postings.values_list("account_id", "amount")) == {
            services.wallet_account(user=user).pk: 250,
            counter.pk: -250,
        }

    def test_debit_to_exactly_zero_is_allowed_and_one_cent_more_is_not(self):
        staff = UserFactory(is_staff=True)
        user = UserFactory()
        _fund(user, 300, "f")
        with pytest.raises(services.InsufficientFunds):
            services.wallet_adjust(user=user, amount_cents=-301, reason="r", staff=staff)
        assert Transaction.objects.filter(kind="adjustment").count() == 0
        services.wallet_adjust(user=user, amount_cents=-300, reason="r", staff=staff)
        assert selectors.wallet_balance(user=user) == 0

    @pytest.mark.parametrize(
        "amount, reason, is_staff",
        [(0, "r", True), (100, "", True), (100, "r", False)],
    )
    def test_bad_input_is_refused_and_writes_nothing(self, amount, reason, is_staff):
        staff = UserFactory(is_staff=is_staff)
        user = UserFactory()
        with pytest.raises(services.AdjustmentRefused):
            services.wallet_adjust(user=user, amount_cents=amount, reason=reason, staff=staff)
        assert not Transaction.objects.exists()
        assert not Account.objects.exists()

    def test_default_keys_are_distinct(self):
        staff = UserFactory(is_staff=True)
        user = UserFactory()
        services.wallet_adjust(user=user, amount_cents=100, reason="a", staff=staff)
        services.wallet_adjust(user=user, amount_cents=100, reason="b", staff=staff)
        assert selectors.wallet_balance(user=user) == 200


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
        _fund(user, 150, "f")
        with pytest.raises(CommandError, match=r"holds 1\.50"):
            call_command("wallet_adjust", "ana@example.org", "-1.51", reason="x")
        assert selectors.wallet_balance(user=user) == 150
        assert Transaction.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_ledger_check_names_an_unbalanced_transaction(capsys):
    user = UserFactory()
    wallet, topup = _fund(user, 1000, "t")
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


@pytest.mark.django_db
class TestAdminPages:
    def test_staff_with_only_the_adjust_permission_can_adjust(self, client):
        staff = UserFactory(is_staff=True)
        staff.user_permissions.add(
            Permission.objects.get(codename="adjust_wallet", content_type__app_label="ledger")
        )
        user = UserFactory()
        wallet, _ = _fund(user, 1000, "f")
        client.force_login(staff)
        url = reverse("admin:ledger_account_adjust", args=[wallet.pk])
        page = client.get(url)
        assert page.status_code == 200
        key = page.context["form"]["idempotency_key"].initial
        data = {"amount": "3", "reason": "late top-up", "idempotency_key": key}
        review = client.post(url, data)
        body = review.content.decode()
        assert "10.00" in body and "13.00" in body
        assert Transaction.objects.count() == 1
        client.post(url, {**data, "confirm": "1"})
        assert selectors.wallet_balance(user=user) == 1300
        assert Transaction.objects.get(kind="adjustment").created_by == staff

    def test_adjust_form_refuses_bad_amounts_without_posting(self, client):
        staff = UserFactory(is_staff=True, is_superuser=True)
        user = UserFactory()
        wallet, _ = _fund(user, 1000, "f")
        client.force_login(staff)
        url = reverse("admin:ledger_account_adjust", args=[wallet.pk])
        for amount in ["abc", "1.005", "0"]:
            response = client.post(
                url,
                {
                    "amount": amount,
                    "reason": "x",
                    "idempotency_key": "adjustment:k",
                    "confirm": "1",
                },
            )
            assert response.status_code == 200
            assert response.context["form"].errors["amount"]
        assert Transaction.objects.count() == 1

    def test_adjust_is_only_for_wallets(self, client):
        staff = UserFactory(is_staff=True, is_superuser=True)
        client.force_login(staff)
        url = reverse("admin:ledger_account_adjust", args=[_outside().pk])
        assert client.get(url).status_code == 404

    def test_transaction_and_posting_lists_show_amounts(self, client):
        staff = UserFactory(is_staff=True, is_superuser=True)
        user = UserFactory()
        _, txn = _fund(user, 4321, "f")
        client.force_login(staff)
        response = client.get(reverse("admin:ledger_transaction_changelist"))
        assert response.status_code == 200
        assert "f" in response.content.decode()
        response = client.get(reverse("admin:ledger_transaction_change", args=[txn.pk]))
        assert "43.21" in response.content.decode()
        response = client.get(reverse("admin:ledger_posting_changelist"), {"q": user.email})
        assert response.status_code == 200
        assert "43.21" in response.content.decode()
        assert Posting.objects.count() == 2


@pytest.mark.django_db
class TestStatementPages:
    def _wallet_with(self, n):
        user = UserFactory()
        wallet = services.wallet_account(user=user)
        for i in range(n):
            services.transaction_post(
                kind="topup",
                idempotency_key=f"s{i}",
                legs=[(_outside(), -(i + 1)), (wallet, i + 1)],
            )
        return wallet

    def test_pages_link_newer_and_older_without_counting(self, django_assert_num_queries):
        wallet = self._wallet_with(7)
        with django_assert_num_queries(1):
            first = selectors.statement_page(account=wallet, page=1, per_page=3)
            assert [p.amount for p in first] == [7, 6, 5]
            assert first.has_next() and not first.has_previous()
            assert first.next_page_number() == 2
            assert first[0].transaction.kind == "topup"  # joined, no extra query
        last = selectors.statement_page(account=wallet, page="3", per_page=3)
        assert [p.amount for p in last] == [1]
        assert not last.has_next() and last.previous_page_number() == 2

    @pytest.mark.parametrize("number, expected", [("abc", [7, 6, 5]), ("0", [7, 6, 5]), (99, [1])])
    def test_bad_numbers_give_first_page_and_past_the_end_the_last(self, number, expected):
        wallet = self._wallet_with(7)
        page = selectors.statement_page(account=wallet, page=number, per_page=3)
        assert [p.amount for p in page] == expected

    def test_an_empty_statement_is_one_empty_page(self):
        wallet = services.wallet_account(user=UserFactory())
        page = selectors.statement_page(account=wallet, page=1)
        assert list(page) == [] and not page.has_next()


@pytest.mark.django_db
class TestAdminSearch:
    @pytest.fixture
    def setup(self, client):
        staff = UserFactory(is_staff=True, is_superuser=True)
        ana = UserFactory(email="Ana@Example.org", username="ana")
        bob = UserFactory(email="bob@example.org", username="bob")
        _fund(ana, 111, "topup:ana")
        _fund(bob, 222, "topup:bob")
        client.force_login(staff)
        return client

    @pytest.mark.parametrize(
        "model, term, shown, hidden",
        [
            ("account", "ANA@example.ORG", "1.11", "2.22"),
            ("account", "Ana", "1.11", "2.22"),
            ("transaction", "ana@example.org", "topup:ana", "topup:bob"),
            ("transaction", "topup:bob", "topup:bob", "topup:ana"),
            ("posting", "BOB@example.org", "2.22", "1.11"),
            ("posting", "topup:ana", "1.11", "2.22"),
        ],
    )
    def test_exact_searches_find_the_owner_or_key(self, setup, model, term, shown, hidden):
        response = setup.get(reverse(f"admin:ledger_{model}_changelist"), {"q": term})
        body = response.content.decode()
        assert response.status_code == 200
        assert shown in body and hidden not in body

    def test_a_partial_term_finds_nothing_rather_than_scanning(self, setup):
        response = setup.get(reverse("admin:ledger_account_changelist"), {"q": "example"})
        assert response.status_code == 200
        assert "1.11" not in response.content.decode()

    def test_large_filtered_lists_use_the_planner_estimate(self, setup, monkeypatch):
        from ledger.admin import PlannerCountPaginator

        monkeypatch.setattr(PlannerCountPaginator, "estimate_above", -1)
        response = setup.get(reverse("admin:ledger_account_changelist"), {"kind": "wallet"})
        assert response.status_code == 200
        assert response.context["cl"].paginator.count >= 1


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


@pytest.mark.django_db
def test_unknown_transaction_kind_is_refused():
    wallet = services.wallet_account(user=UserFactory())
    with pytest.raises(ValueError, match="unknown transaction kind"):
        services.transaction_post(
            kind="gift", idempotency_key="g", legs=[(_outside(), -1), (wallet, 1)]
        )
    assert not Transaction.objects.exists()


@pytest.mark.django_db
def test_adjust_link_is_shown_only_with_the_permission(client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_account", content_type__app_label="ledger")
    )
    wallet, _ = _fund(UserFactory(), 500, "f")
    url = reverse("admin:ledger_account_adjust", args=[wallet.pk])
    client.force_login(viewer)
    listing = client.get(reverse("admin:ledger_account_changelist"))
    assert listing.status_code == 200
    assert "5.00" in listing.content.decode() and url not in listing.content.decode()
    detail = client.get(reverse("admin:ledger_account_change", args=[wallet.pk]))
    assert detail.status_code == 200 and url not in detail.content.decode()
    viewer.user_permissions.add(
        Permission.objects.get(codename="adjust_wallet", content_type__app_label="ledger")
    )
    viewer = type(viewer).objects.get(pk=viewer.pk)  # drop the permission cache
    client.force_login(viewer)
    assert url in client.get(reverse("admin:ledger_account_changelist")).content.decode()
    assert (
        url in client.get(reverse("admin:ledger_account_change", args=[wallet.pk])).content.decode()
    )


@pytest.mark.django_db(transaction=True)
def test_a_double_submitted_adjustment_posts_once_even_concurrently():
    import threading

    staff = UserFactory(is_staff=True)
    user = UserFactory()
    barrier = threading.Barrier(4)
    results = []

    def submit():
        try:
            barrier.wait()
            txn = services.wallet_adjust(
                user=user, amount_cents=500, reason="r", staff=staff, idempotency_key="form-x"
            )
            results.append(txn.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len(set(results)) == 1
    assert selectors.wallet_balance(user=user) == 500
    assert selectors.ledger_problems() == []


@pytest.mark.django_db
class TestAdjustFormGuards:
    @pytest.fixture
    def page(self, client):
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        user = UserFactory()
        wallet, _ = _fund(user, 1000, "topup:1")
        return client, reverse("admin:ledger_account_adjust", args=[wallet.pk]), user

    def test_an_overdraft_is_refused_at_the_review_step(self, page):
        client, url, user = page
        response = client.post(
            url, {"amount": "-10.01", "reason": "x", "idempotency_key": "adjustment:a"}
        )
        assert "cannot go below zero" in response.content.decode()
        assert "will hold" not in response.content.decode()
        assert selectors.wallet_balance(user=user) == 1000

    def test_a_key_not_made_by_the_form_is_refused(self, page):
        client, url, user = page
        response = client.post(
            url, {"amount": "1", "reason": "x", "idempotency_key": "topup:1", "confirm": "1"}
        )
        assert response.status_code == 200
        assert response.context["form"].errors["idempotency_key"]
        assert Transaction.objects.count() == 1
        assert selectors.wallet_balance(user=user) == 1000
