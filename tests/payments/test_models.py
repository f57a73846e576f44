"""Top-up, withdrawal and event states are named choices the database holds to."""

import pytest
from django.db import IntegrityError, transaction

from payments.models import TopUp, TopUpStatus, WebhookEvent
from payments.withdrawals.models import Withdrawal, WithdrawalStatus
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model, fields",
    [
        (TopUp, {"amount_cents": 800, "gateway": "test", "status": "bogus"}),
        (Withdrawal, {"amount_cents": 800, "status": "bogus"}),
        (WebhookEvent, {"event_id": "evt_x", "type": "x", "result": "bogus"}),
    ],
)
def test_the_database_refuses_a_state_that_is_not_a_choice(model, fields):
    if model is not WebhookEvent:
        fields = {**fields, "user": UserFactory()}
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**fields)
    assert not model.objects.exists()


def test_every_named_state_is_accepted():
    user = UserFactory()
    for status in TopUpStatus:
        TopUp.objects.create(user=user, amount_cents=800, gateway="test", status=status)
    for status in WithdrawalStatus:
        Withdrawal.objects.create(user=UserFactory(), amount_cents=800, status=status)
    for result in WebhookEvent.Result:
        WebhookEvent.objects.create(event_id=f"evt_{result}", type="x", result=result)
    assert TopUp.objects.count() == len(TopUpStatus) == 5
