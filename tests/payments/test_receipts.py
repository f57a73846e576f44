import pytest
from django.core import mail

from payments import services
from payments.models import Gateway, TopUp
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_fulfilled_topup_emails_one_receipt_with_gross_fee_and_net(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()
    topup = TopUp.objects.create(user=user, amount_cents=1000, gateway=Gateway.TEST, currency="eur")
    for _ in range(2):  # Stripe delivers the event twice
        with django_capture_on_commit_callbacks(execute=True):
            services.topup_fulfil(
                topup_id=topup.pk, amount_cents=1000, currency="eur", fee_cents=40
            )
    [receipt] = mail.outbox
    assert receipt.to == [user.email]
    assert "Paid: 10.00\xa0€" in receipt.body
    assert "Payment processor's fee: 0.40\xa0€" in receipt.body
    assert "Added to your wallet: 9.60\xa0€" in receipt.body
