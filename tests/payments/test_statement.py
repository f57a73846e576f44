"""The wallet statement names each line once."""

import re

import pytest
from django.urls import reverse

from payments.models import TopUp
from tests.factories import UserFactory


@pytest.mark.django_db
def test_topup_line_reads_top_up_and_its_number_once(client, settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    user = UserFactory()
    client.force_login(user)
    checkout = client.post(reverse("topup"), {"amount": "8"})["Location"]
    client.post(checkout, {"action": "pay"})
    topup = TopUp.objects.get(user=user)
    wallet = client.get(reverse("wallet")).content.decode()
    text = re.sub(r"<[^>]+>", " ", wallet)
    assert "Top-up Top-up" not in " ".join(text.split())
    assert f"#{topup.pk}" in text
