"""Connecting a Mastodon-compatible account through the real OAuth dance
against the fake server: app registered once, PKCE S256, state bound to the
session, token stored encrypted; every bad server a clear message and
nothing stored."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection

from likes.connect import ConnectError
from likes.connect.mastodon import instance_normalise
from likes.models import AccountStatus, ConnectedAccount, InstanceApp
from tests.fakes import approve
from tests.fakes.mastodon import s256
from tests.localsite import HTML, LocalSite

pytestmark = pytest.mark.django_db

START = "/settings/connected/mastodon/"


@pytest.fixture
def supporter(client, user, settings):
    settings.SITE_URL = "http://testserver"
    client.force_login(user)
    return user


def start(client, instance):
    return client.post(START, {"instance": instance})


def back(client, location):
    """Follow the fake's redirect back to our callback, as the browser does."""
    parts = urlsplit(location)
    assert parts.path == "/settings/connected/mastodon/callback/"
    return client.get(f"{parts.path}?{parts.query}", follow=True)


def text(response):
    return " ".join(response.content.decode().split())


def test_connects_through_the_oauth_dance_with_pkce(client, supporter, mastodon_fake):
    response = start(client, mastodon_fake.base_url)
    assert response.status_code == 302
    authorize = urlsplit(response["Location"])
    assert authorize.netloc == mastodon_fake.authority
    query = parse_qs(authorize.query)
    assert query["scope"] == ["read:favourites read:accounts"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"] == ["http://testserver/settings/connected/mastodon/callback/"]

    page = back(client, approve(response["Location"]))
    assert page.status_code == 200
    assert f"alice@{mastodon_fake.authority} is connected" in text(page)

    account = ConnectedAccount.objects.get(user=supporter)
    assert account.kind == "mastodon" and account.status == AccountStatus.ACTIVE
    assert account.url == mastodon_fake.base_url
    assert account.remote_login == f"alice@{mastodon_fake.authority}"
    assert account.remote_id == mastodon_fake.accounts["alice"]["id"]
    assert str(account.access_token) in mastodon_fake.live_tokens()
    # The token is stored encrypted, never as itself.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token FROM likes_connectedaccount WHERE id = %s", [account.pk]
        )
        stored = cursor.fetchone()[0]
    assert stored and str(account.access_token) not in stored
    # The verifier that went to /oauth/token matches the challenge sent.
    exchange = mastodon_fake.requests_to("/oauth/token")[0].form
    assert s256(exchange["code_verifier"]) == query["code_challenge"][0]
    # The session's pending authorisation is spent.
    assert "likes_oauth_pending" not in client.session


def test_the_app_is_registered_once_per_server(client, supporter, mastodon_fake, django_user_model):
    for _ in range(2):
        back(client, approve(start(client, mastodon_fake.base_url)["Location"]))
    assert len(mastodon_fake.requests_to("/api/v1/apps")) == 1
    assert InstanceApp.objects.count() == 1
    app = InstanceApp.objects.get()
    assert app.base_url == f"http://{mastodon_fake.authority}"
    assert app.scopes == "read:favourites read:accounts"
    # Connecting the same account again updates the one row.
    assert ConnectedAccount.objects.filter(user=supporter).count() == 1


def test_a_tampered_state_stores_nothing(client, supporter, mastodon_fake):
    location = approve(start(client, mastodon_fake.base_url)["Location"])
    page = back(client, location.replace("state=", "state=x"))
    assert "did not match the authorisation" in text(page)
    assert not ConnectedAccount.objects.exists()
    # The pending authorisation was spent: the genuine answer is refused too.
    assert "not started here" in text(back(client, location))
    assert not ConnectedAccount.objects.exists()


def test_a_tampered_code_stores_nothing(client, supporter, mastodon_fake):
    location = approve(start(client, mastodon_fake.base_url)["Location"])
    page = back(client, location.replace("code=", "code=x"))
    assert "refused the authorisation; nothing was saved" in text(page)
    assert not ConnectedAccount.objects.exists()
    assert mastodon_fake.live_tokens() == []


def test_a_refusal_on_the_server_stores_nothing(client, supporter, mastodon_fake):
    page = back(client, approve(start(client, mastodon_fake.base_url)["Location"], allow=False))
    assert "The authorisation was refused" in text(page)
    assert not ConnectedAccount.objects.exists()


def test_a_callback_nobody_started_is_refused(client, supporter):
    page = client.get("/settings/connected/mastodon/callback/?code=abc&state=def", follow=True)
    assert page.status_code == 200
    assert "not started here" in text(page)


def test_verify_credentials_failing_stores_nothing(client, supporter, mastodon_fake):
    mastodon_fake.force(
        "/api/v1/accounts/verify_credentials", 200, "<html>", content_type="text/html"
    )
    page = back(client, approve(start(client, mastodon_fake.base_url)["Location"]))
    assert "did not answer as the Mastodon API does" in text(page)
    assert not ConnectedAccount.objects.exists()


def refused(client, instance):
    response = start(client, instance)
    assert response.status_code == 400
    assert not InstanceApp.objects.exists() and not ConnectedAccount.objects.exists()
    return text(response)


def test_a_server_that_is_not_mastodon_is_refused(client, supporter, allow_loopback):
    with LocalSite({"/api/v1/instance": (200, HTML, b"<html><body>Hello</body></html>")}) as site:
        page = refused(client, f"http://127.0.0.1:{site.port}")
    assert "did not answer as the Mastodon API does (it sent text/html)" in page
    with LocalSite() as site:  # 404 JSON-less everywhere
        page = refused(client, f"http://127.0.0.1:{site.port}")
    assert "did not answer as the Mastodon API does" in page


def test_a_json_answer_that_is_not_an_instance_is_refused(client, supporter, allow_loopback):
    json_type = {"Content-Type": "application/json"}
    with LocalSite({"/api/v1/instance": (200, json_type, b'["not", "an", "instance"]')}) as site:
        page = refused(client, f"http://127.0.0.1:{site.port}")
    assert "does not look like a Mastodon-compatible server" in page


def test_malformed_json_is_refused(client, supporter, mastodon_fake):
    mastodon_fake.force("/api/v1/instance", 200, '{"uri": ')
    assert "malformed data" in refused(client, mastodon_fake.base_url)


def test_a_huge_answer_is_refused(client, supporter, mastodon_fake):
    mastodon_fake.force("/api/v1/instance", 200, b'{"uri": "' + b"x" * 600_000 + b'"}')
    assert "far too large" in refused(client, mastodon_fake.base_url)


def test_a_slow_server_is_refused(client, supporter, mastodon_fake, monkeypatch):
    monkeypatch.setattr("likes.connect.API_TIMEOUT", 0.5)
    mastodon_fake.force("/api/v1/instance", 200, '{"uri": "x"}', delay=2)
    assert "took too long to answer" in refused(client, mastodon_fake.base_url)


def test_a_private_address_is_refused(client, supporter, mastodon_fake, settings):
    settings.FETCH_ALLOWED_NETWORKS = []
    assert "private network" in refused(client, mastodon_fake.base_url)
    assert mastodon_fake.requests == []


def test_a_redirect_to_a_private_address_is_refused(client, supporter, allow_loopback, settings):
    with LocalSite(
        {"/api/v1/instance": (302, {"Location": "http://10.0.0.1/api/v1/instance"}, b"")}
    ) as site:
        page = refused(client, f"http://127.0.0.1:{site.port}")
    assert "did not answer as the Mastodon API does" in page


def test_a_name_that_does_not_resolve_is_refused(client, supporter):
    assert "does not resolve" in refused(client, "no-such-server.invalid")


def test_an_empty_or_silly_instance_is_a_form_error(client, supporter):
    assert "This field is required" in refused(client, "")
    assert "is not a server&#x27;s address" in refused(client, "ftp://mastodon.example")
    assert "is not a server&#x27;s address" in refused(client, "two words")


@pytest.mark.parametrize(
    "typed, base",
    [
        ("mastodon.social", "https://mastodon.social"),
        ("  Mastodon.Social/ ", "https://mastodon.social"),
        ("@alice@mastodon.social", "https://mastodon.social"),
        ("alice@mastodon.social", "https://mastodon.social"),
        ("https://mastodon.social/@alice", "https://mastodon.social"),
        ("https://mastodon.social:443", "https://mastodon.social"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("bücher.example", "https://xn--bcher-kva.example"),
    ],
)
def test_instance_normalise(typed, base):
    assert instance_normalise(typed) == base


@pytest.mark.parametrize(
    "typed", ["", "ftp://x.example", "https://user:pw@x.example", "a b", "https://"]
)
def test_instance_normalise_refuses(typed):
    with pytest.raises(ConnectError):
        instance_normalise(typed)
