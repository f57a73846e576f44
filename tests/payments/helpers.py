from django.urls import reverse

from payments.models import TopUp
from tests.stripe_fake import payment_intent, post_event, session_obj


def start_topup(client, user, amount="8.00"):
    client.force_login(user)
    response = client.post(reverse("topup"), {"amount": amount})
    assert response.status_code == 302, response.content
    return response, TopUp.objects.filter(user=user).latest("id")


def pay_topup(client, stripe_fake, user):
    """``user`` tops up 8 EUR through Stripe (fee 0.37, charge ``ch_<id>``):
    the paid top-up."""
    _response, topup = start_topup(client, user)
    stripe_fake.route(
        "get",
        f"/v1/payment_intents/pi_{topup.pk}",
        payment_intent(f"pi_{topup.pk}", 37, f"ch_{topup.pk}"),
    )
    assert post_event(client, "checkout.session.completed", session_obj(topup)).status_code == 200
    topup.refresh_from_db()
    return topup
