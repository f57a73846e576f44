"""The ledger admin: read-only lists, search, the staff adjustment form."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from ledger import selectors, services
from ledger.models import Posting, Transaction
from tests.concurrency import at_once
from tests.factories import UserFactory, fund, outside_account


def adjust_page(client, staff, cents: int, *, key: str):
    """``staff`` signed in, and a new user whose wallet holds ``cents``: the
    user and the URL of the wallet's adjust form."""
    user = UserFactory()
    wallet, _ = fund(user, cents, key=key)
    client.force_login(staff)
    return user, reverse("admin:ledger_account_adjust", args=[wallet.pk])


@pytest.mark.django_db
class TestAdmin:
    def test_lists_show_balances_and_refuse_changes(self, client):
        staff = UserFactory(is_staff=True, is_superuser=True)
        user = UserFactory()
        fund(user, 1234, key="adm")
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
        user, url = adjust_page(client, staff, 1000, key="adj")
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
        user, url = adjust_page(client, staff, 100, key="od")
        response = client.post(
            url, {"amount": "-5", "reason": "x", "idempotency_key": "adjustment:k", "confirm": "1"}
        )
        assert response.status_code == 200
        assert "cannot go below zero" in response.content.decode()
        assert selectors.wallet_balance(user=user) == 100

    def test_adjust_needs_the_permission(self, client):
        staff = UserFactory(is_staff=True)
        _user, url = adjust_page(client, staff, 100, key="perm")
        response = client.get(url)
        assert response.status_code == 403


@pytest.mark.django_db
class TestAdminPages:
    def test_staff_with_only_the_adjust_permission_can_adjust(self, client):
        staff = UserFactory(is_staff=True)
        staff.user_permissions.add(
            Permission.objects.get(codename="adjust_wallet", content_type__app_label="ledger")
        )
        user, url = adjust_page(client, staff, 1000, key="f")
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
        user, url = adjust_page(client, staff, 1000, key="f")
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
        url = reverse("admin:ledger_account_adjust", args=[outside_account().pk])
        assert client.get(url).status_code == 404

    def test_transaction_and_posting_lists_show_amounts(self, client):
        staff = UserFactory(is_staff=True, is_superuser=True)
        user = UserFactory()
        _, txn = fund(user, 4321, key="f")
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
class TestAdminSearch:
    @pytest.fixture
    def setup(self, client):
        staff = UserFactory(is_staff=True, is_superuser=True)
        ana = UserFactory(email="Ana@Example.org", username="ana")
        bob = UserFactory(email="bob@example.org", username="bob")
        fund(ana, 111, key="topup:ana")
        fund(bob, 222, key="topup:bob")
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
        from core.admin_utils import EstimatedCountPaginator

        monkeypatch.setattr(EstimatedCountPaginator, "estimate_above", -1)
        response = setup.get(reverse("admin:ledger_account_changelist"), {"kind": "wallet"})
        assert response.status_code == 200
        assert response.context["cl"].paginator.count >= 1


@pytest.mark.django_db
def test_adjust_link_is_shown_only_with_the_permission(client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_account", content_type__app_label="ledger")
    )
    wallet, _ = fund(UserFactory(), 500, key="f")
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

    staff = UserFactory(is_staff=True)
    user = UserFactory()
    results = at_once(
        4,
        lambda i: (
            services.wallet_adjust(
                user=user, amount_cents=500, reason="r", staff=staff, idempotency_key="form-x"
            ).pk
        ),
    )
    assert len(results) == 4 and len(set(results)) == 1
    assert selectors.wallet_balance(user=user) == 500
    assert selectors.ledger_problems() == []


@pytest.mark.django_db
class TestAdjustFormGuards:
    @pytest.fixture
    def page(self, client):
        staff = UserFactory(is_staff=True, is_superuser=True)
        user, url = adjust_page(client, staff, 1000, key="topup:1")
        return client, url, user

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
