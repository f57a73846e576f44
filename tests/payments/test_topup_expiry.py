"""Pending top-ups expire after a day and can be cancelled by their owner."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from ledger import selectors as ledger_selectors
from payments import services
from payments.models import TopUp, TopUpStatus
from payments.tasks import topup_expire_pending
from tests.factories import UserFactory
from tests.stripe_fake import payment_intent, post_event


def pending_topup(user, hours_ago=0, amount=800):
    topup = TopUp.objects.create(user=user, amount_cents=amount, gateway="test")
    TopUp.objects.filter(pk=topup.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=hours_ago)
    )
    return topup


@pytest.mark.django_db
class TestExpiry:
    def test_the_beat_task_expires_topups_pending_for_more_than_a_day(self):
        user = UserFactory()
        old, fresh = pending_topup(user, hours_ago=25), pending_topup(user, hours_ago=23)
        assert topup_expire_pending.delay().get() == 1
        old.refresh_from_db(), fresh.refresh_from_db()
        assert (old.status, fresh.status) == (TopUpStatus.EXPIRED, TopUpStatus.PENDING)

    def test_the_wallet_lists_only_payable_pending_topups(self, client, test_mode):
        user = UserFactory()
        pending_topup(user, hours_ago=30, amount=1234)
        pending_topup(user, hours_ago=1, amount=5678)
        client.force_login(user)
        page = client.get(reverse("wallet")).content.decode()
        assert "56.78" in page and "12.34" not in page

    def test_money_paid_late_is_still_credited(self, client, stripe_fake):
        user = UserFactory()
        topup = TopUp.objects.create(
            user=user, amount_cents=800, gateway="stripe", checkout_session_id="cs_late"
        )
        TopUp.objects.filter(pk=topup.pk).update(status=TopUpStatus.EXPIRED)
        stripe_fake.route("get", "/v1/payment_intents/pi_late", payment_intent("pi_late", 37))
        session = {
            "id": "cs_late",
            "object": "checkout.session",
            "client_reference_id": str(topup.pk),
            "amount_total": 800,
            "currency": "eur",
            "payment_status": "paid",
            "payment_intent": "pi_late",
        }
        assert post_event(client, "checkout.session.completed", session).status_code == 200
        assert ledger_selectors.wallet_balance(user=user) == 763


@pytest.mark.django_db
class TestCancel:
    def test_the_owner_cancels_a_pending_topup_from_the_wallet(self, client, test_mode):
        user = UserFactory()
        client.force_login(user)
        location = client.post(reverse("topup"), {"amount": "8"})["Location"]
        topup = TopUp.objects.get()
        wallet = client.get(reverse("wallet")).content.decode()
        assert reverse("topup_cancel", args=[topup.pk]) in wallet
        response = client.post(reverse("topup_cancel", args=[topup.pk]), follow=True)
        assert "cancelled" in response.content.decode()
        topup.refresh_from_db()
        assert topup.status == TopUpStatus.CANCELLED
        # The test checkout can no longer pay it.
        client.post(location, {"action": "pay"})
        assert ledger_selectors.wallet_balance(user=user) == 0

    def test_someone_else_cannot_cancel_it(self, client, test_mode):
        topup = pending_topup(UserFactory())
        client.force_login(UserFactory())
        assert client.post(reverse("topup_cancel", args=[topup.pk])).status_code == 404
        topup.refresh_from_db()
        assert topup.status == TopUpStatus.PENDING

    def test_a_paid_topup_cannot_be_cancelled(self, client, test_mode):
        user = UserFactory()
        topup = pending_topup(user)
        services.simulated_checkout_pay(topup=topup)
        client.force_login(user)
        response = client.post(reverse("topup_cancel", args=[topup.pk]), follow=True)
        assert "Only a pending top-up can be cancelled." in response.content.decode()
        topup.refresh_from_db()
        assert topup.status == TopUpStatus.SUCCEEDED
        assert ledger_selectors.wallet_balance(user=user) == 763

    @staticmethod
    def _stripe_topup(client, stripe_fake, *, session_status):
        """A pending Stripe top-up of 8 EUR, its user logged in; Stripe says
        its checkout session is ``session_status``."""
        client.force_login(UserFactory())
        client.post(reverse("topup"), {"amount": "8"})
        topup = TopUp.objects.get()
        session = topup.checkout_session_id
        stripe_fake.route(
            "get",
            f"/v1/checkout/sessions/{session}",
            {"id": session, "object": "checkout.session", "status": session_status},
        )
        return topup, session

    def test_cancelling_a_stripe_topup_expires_its_checkout_session(self, client, stripe_fake):
        topup, session = self._stripe_topup(client, stripe_fake, session_status="open")
        stripe_fake.route(
            "post",
            f"/v1/checkout/sessions/{session}/expire",
            {"id": session, "object": "checkout.session", "status": "expired"},
        )
        client.post(reverse("topup_cancel", args=[topup.pk]))
        topup.refresh_from_db()
        assert topup.status == TopUpStatus.CANCELLED
        assert any(c["path"].endswith("/expire") for c in stripe_fake.calls)

    def test_a_checkout_already_paid_at_stripe_is_not_cancelled(self, client, stripe_fake):
        topup, _session = self._stripe_topup(client, stripe_fake, session_status="complete")
        response = client.post(reverse("topup_cancel", args=[topup.pk]), follow=True)
        assert "did not confirm the cancellation" in response.content.decode()
        topup.refresh_from_db()
        assert topup.status == TopUpStatus.PENDING
