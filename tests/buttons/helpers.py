from django.urls import reverse


def flattr_post(client, thing, **extra):
    return client.post(
        reverse("flattr_confirm", args=[thing.pk]), HTTP_ACCEPT="application/json", **extra
    )
