import pytest

from notifications import services
from notifications.models import EventType, NotificationSettings
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_settings_page_lists_every_kind_and_saves(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get("/settings/notifications/")
    assert page.status_code == 200
    for kind in ["topup.succeeded", "statement.supporter", "payout.posted", "withdrawal.failed"]:
        assert f'value="{kind}"' in page.content.decode()
    response = client.post(
        "/settings/notifications/",
        {"language": "fr", "digest": "weekly", "enabled": ["payout.posted"]},
    )
    assert response.status_code == 302
    prefs = NotificationSettings.objects.get(user=user)
    assert (prefs.language, prefs.digest) == ("fr", "weekly")
    assert "topup.succeeded" in prefs.muted and "payout.posted" not in prefs.muted


def test_settings_page_refuses_an_unknown_language_and_changes_nothing(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/settings/notifications/", {"language": "xx", "digest": "off"})
    assert response.status_code == 200
    assert "xx" in response.content.decode()  # "Select a valid choice. xx is not one..."
    assert not NotificationSettings.objects.filter(user=user, language="xx").exists()


def test_unsubscribe_get_asks_and_one_click_post_unsubscribes(client):
    user = UserFactory()
    token = services.unsubscribe_token(user_id=user.pk, type=EventType.SUPPORTER_STATEMENT)
    url = f"/notifications/unsubscribe/{token}/"
    page = client.get(url)
    assert page.status_code == 200 and user.email in page.content.decode()
    assert not NotificationSettings.objects.filter(user=user).exists()
    # RFC 8058: the mail client POSTs without session or CSRF token.
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert NotificationSettings.objects.get(user=user).muted == ["statement.supporter"]


def test_a_bad_unsubscribe_signature_gets_a_clear_page_and_changes_nothing(client):
    user = UserFactory()
    token = services.unsubscribe_token(user_id=user.pk, type=EventType.SUPPORTER_STATEMENT)
    response = client.post(f"/notifications/unsubscribe/{token[:-3]}abc/")
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert not NotificationSettings.objects.exists()


def test_settings_page_speaks_french(client):
    client.force_login(UserFactory())
    page = client.get("/settings/notifications/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Langue des e-mails" in page and "Reçu de rechargement" in page
