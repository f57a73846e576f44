"""Saving a way to pay (after mode): the settings page, Checkout in setup
mode (Stripe over HTTP, and test mode's own page), the signed return,
replacing and removing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from payments.gateways.test import TEST_PAYMENT_METHODS
from payments.models import PaymentMethod, PaymentMethodSetup, PaymentMethodStatus, SetupStatus
from tests.factories import UserFactory
from tests.stripe_fake import post_event

pytestmark = pytest.mark.django_db


def start_setup(client, user):
    client.force_login(user)
    response = client.post(reverse("payment_method_setup"))
    assert response.status_code == 302, response.content
    return response["Location"]


def test_wallet_mode_has_no_payment_method_page(client, user, test_mode):
    client.force_login(user)
    assert client.get(reverse("payment_method")).status_code == 404
    assert client.post(reverse("payment_method_setup")).status_code == 404


def test_without_a_method_the_page_says_what_saving_one_gives(client, user, test_mode, after_mode):
    client.force_login(user)
    response = client.get(reverse("payment_method"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "without one your flattrs count as pledges" in text
    assert "Save a card or SEPA mandate" in text
    assert "TEST MODE" in text


@pytest.mark.django_db(transaction=True)
def test_save_a_test_card_through_our_test_checkout(
    client, user, test_mode, after_mode, saved_signals
):
    url = start_setup(client, user)
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Test mode, no real money." in text
    for pm_id in TEST_PAYMENT_METHODS:
        assert pm_id in text
    back = client.post(url, {"payment_method": "pm_card_visa"})
    assert back.status_code == 302
    done = client.get(back["Location"], follow=True)
    assert done.status_code == 200
    assert "Saved: Visa ending 4242." in done.content.decode()
    assert "Visa ending 4242" in client.get(reverse("payment_method")).content.decode()
    method = PaymentMethod.objects.get(user=user)
    assert (method.payment_method_id, method.kind, method.status) == (
        "pm_card_visa",
        "card",
        PaymentMethodStatus.ACTIVE,
    )
    assert method.customer_id == f"test_cus_{user.pk}"
    assert saved_signals == [(user.pk, method.pk)]
    # Coming back to the same return address saves nothing more.
    assert client.get(back["Location"]).status_code == 302
    assert PaymentMethod.objects.filter(user=user).count() == 1
    assert len(saved_signals) == 1


def test_a_second_click_reuses_the_pending_setup(client, user, test_mode, after_mode):
    first = start_setup(client, user)
    second = start_setup(client, user)
    assert first == second
    assert PaymentMethodSetup.objects.filter(user=user).count() == 1


def test_an_unknown_test_method_is_refused_on_the_test_page(client, user, test_mode, after_mode):
    url = start_setup(client, user)
    response = client.post(url, {"payment_method": "pm_card_nope"})
    assert response.status_code == 400
    assert "Choose one of the test payment methods." in response.content.decode()
    assert not PaymentMethod.objects.exists()


def _return_address(client, user) -> str:
    url = start_setup(client, user)
    return client.post(url, {"payment_method": "pm_card_visa"})["Location"]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda url: url.replace("setup=", "setup=x"),
        lambda url: url.replace("session_id=test_cs_", "session_id=test_cs_9"),
        lambda url: url.split("&")[0],
    ],
    ids=["token", "session", "no-session"],
)
def test_a_tampered_return_address_saves_nothing(client, user, test_mode, after_mode, tamper):
    address = _return_address(client, user)
    response = client.get(tamper(address))
    assert response.status_code == 400
    assert "This return link is not valid for your account. Nothing was saved." in (
        response.content.decode()
    )
    assert not PaymentMethod.objects.exists()


def test_anothers_return_address_saves_nothing(client, user, test_mode, after_mode):
    address = _return_address(client, user)
    client.force_login(UserFactory())
    response = client.get(address)
    assert response.status_code == 400
    assert not PaymentMethod.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_replacing_a_card_by_a_sepa_mandate(client, user, test_mode, after_mode, saved_signals):
    client.get(_return_address(client, user))
    url = start_setup(client, user)
    back = client.post(url, {"payment_method": "pm_sepa_debit_success"})
    client.get(back["Location"])
    methods = {m.payment_method_id: m.status for m in PaymentMethod.objects.filter(user=user)}
    assert methods == {
        "pm_card_visa": PaymentMethodStatus.REMOVED,
        "pm_sepa_debit_success": PaymentMethodStatus.ACTIVE,
    }
    text = client.get(reverse("payment_method")).content.decode()
    assert "SEPA Direct Debit ending 3000" in text
    assert "mandate reference TEST-TEST_CUS_" in text
    assert len(saved_signals) == 2


def test_remove_asks_first_then_removes_once(client, user, test_mode, after_mode):
    client.get(_return_address(client, user))
    method = PaymentMethod.objects.get(user=user)
    confirm = client.get(reverse("payment_method_remove"))
    assert confirm.status_code == 200
    assert "Remove your way to pay?" in confirm.content.decode()
    response = client.post(reverse("payment_method_remove"), {"method": method.pk}, follow=True)
    assert "Your way to pay was removed." in response.content.decode()
    assert "without one your flattrs count as pledges" in response.content.decode()
    method.refresh_from_db()
    assert method.status == PaymentMethodStatus.REMOVED
    again = client.post(reverse("payment_method_remove"), {"method": method.pk}, follow=True)
    assert again.status_code == 200
    assert "This way to pay was already removed." in again.content.decode()
    bad = client.post(reverse("payment_method_remove"), {"method": "x"}, follow=True)
    assert bad.status_code == 200


def test_remove_is_a_post_with_csrf(user, test_mode, after_mode):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(reverse("payment_method_remove"), {"method": 1}).status_code == 403
    assert client.post(reverse("payment_method_setup")).status_code == 403


# --- through Stripe (over HTTP, a local server answering as Stripe does) ----


def test_stripe_setup_one_customer_and_a_keyed_session(client, user, after_mode, stripe_server):
    url = start_setup(client, user)
    assert url.startswith("https://checkout.stripe.com/c/pay/cs_test_")
    setup = PaymentMethodSetup.objects.get(user=user)
    requests = stripe_server.state.requests
    assert [(r["path"], r["idempotency_key"]) for r in requests] == [
        ("/v1/customers", f"customer:{user.pk}"),
        ("/v1/checkout/sessions", f"setup:{setup.pk}"),
    ]
    params = requests[1]["params"]
    assert params["mode"] == "setup"
    assert params["customer"] == setup.customer_id
    assert params["success_url"].startswith("http://testserver/settings/payment-method/return/")
    assert params["success_url"].endswith("&session_id={CHECKOUT_SESSION_ID}")
    # A second click: the same session, no new customer or session at Stripe.
    assert start_setup(client, user) == url
    assert len(stripe_server.state.requests) == 2


def _stripe_return(setup) -> str:
    from payments.services.methods import setup_return_url

    return setup_return_url(setup).replace("{CHECKOUT_SESSION_ID}", setup.session_id)


@pytest.mark.django_db(transaction=True)
def test_stripe_return_page_then_webhook_save_once(
    client, user, after_mode, stripe_server, saved_signals
):
    start_setup(client, user)
    setup = PaymentMethodSetup.objects.get(user=user)
    # Back before Stripe finished: nothing saved yet, the page says so.
    pending = client.get(_stripe_return(setup))
    assert pending.status_code == 200
    assert "has not confirmed it yet" in pending.content.decode()
    stripe_server.state.complete_setup(setup.session_id, "pm_card_visa")
    assert client.get(_stripe_return(setup)).status_code == 302
    session = {"id": setup.session_id, "object": "checkout.session", "mode": "setup"}
    response = post_event(client, "checkout.session.completed", session)
    assert response.status_code == 200
    method = PaymentMethod.objects.get(user=user)
    assert (method.brand, method.last4, method.customer_id) == ("visa", "4242", setup.customer_id)
    assert saved_signals == [(user.pk, method.pk)]
    setup.refresh_from_db()
    assert setup.status == SetupStatus.COMPLETED


@pytest.mark.django_db(transaction=True)
def test_stripe_webhook_first_then_return_page_save_once(
    client, user, after_mode, stripe_server, saved_signals
):
    start_setup(client, user)
    setup = PaymentMethodSetup.objects.get(user=user)
    stripe_server.state.complete_setup(setup.session_id, "pm_sepa_debit_success")
    session = {"id": setup.session_id, "object": "checkout.session", "mode": "setup"}
    assert post_event(client, "checkout.session.completed", session).json()["result"] == (
        "processed"
    )
    response = client.get(_stripe_return(setup), follow=True)
    assert "Saved: SEPA Direct Debit ending 3000." in response.content.decode()
    method = PaymentMethod.objects.get(user=user)
    assert method.mandate_reference.startswith("MANDATE-")
    assert len(saved_signals) == 1


def test_a_setup_webhook_for_no_setup_of_ours_is_a_logged_no_op(client, after_mode, stripe_server):
    session = {"id": "cs_test_stranger", "object": "checkout.session", "mode": "setup"}
    response = post_event(client, "checkout.session.completed", session)
    assert response.status_code == 200
    assert response.json()["result"] == "refused"
    assert not PaymentMethod.objects.exists()


def test_stripe_unreachable_keeps_the_setup_for_a_retry(client, user, after_mode, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_local"
    settings.PAYMENT_GATEWAY = "stripe"
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 1000
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    client.force_login(user)
    response = client.post(reverse("payment_method_setup"), follow=True)
    assert response.status_code == 200
    assert "could not be reached" in response.content.decode()
    assert PaymentMethodSetup.objects.filter(user=user, status=SetupStatus.PENDING).count() == 1


def test_the_page_speaks_french(client, user, test_mode, after_mode):
    client.force_login(user)
    response = client.get(reverse("payment_method"), HTTP_ACCEPT_LANGUAGE="fr")
    text = response.content.decode()
    assert "Enregistrer une carte ou un mandat SEPA" in text
    assert "sans lui, vos flattrs comptent comme des promesses" in text


def test_a_failed_session_start_keeps_the_customer_for_the_retry(
    client, user, after_mode, stripe_server
):
    stripe_server.state.next_answers.extend(
        [
            (200, {"id": "cus_kept", "object": "customer"}, {}),
            (500, {"error": {"type": "api_error", "message": "boom"}}, {}),
            (500, {"error": {"type": "api_error", "message": "boom"}}, {}),
        ]
    )
    client.force_login(user)
    failed = client.post(reverse("payment_method_setup"), follow=True)
    assert "could not be reached" in failed.content.decode()
    url = start_setup(client, user)
    assert url.startswith("https://checkout.stripe.com/")
    setup = PaymentMethodSetup.objects.get(user=user)
    assert setup.customer_id == "cus_kept"
    customers = [r for r in stripe_server.state.requests if r["path"] == "/v1/customers"]
    assert len(customers) == 1
    sessions = [r for r in stripe_server.state.requests if r["path"] == "/v1/checkout/sessions"]
    assert {r["idempotency_key"] for r in sessions} == {f"setup:{setup.pk}"}
    assert sessions[-1]["params"]["customer"] == "cus_kept"
