from django.urls import reverse

from payments.models import TopUp


def start_topup(client, user, amount="8.00"):
    client.force_login(user)
    response = client.post(reverse("topup"), {"amount": amount})
    assert response.status_code == 302, response.content
    return response, TopUp.objects.filter(user=user).latest("id")
