"""Connecting GitHub (OAuth app flow against the fake) and adding a feed of
likes (fetched once, parsed before saving)."""

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from claims.models import ProvenAccount
from likes.connect.feeds import feed_parse
from likes.models import ConnectedAccount
from tests.fakes import approve
from tests.localsite import HTML, LocalSite

pytestmark = pytest.mark.django_db

RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>Alice's likes</title>
<link>https://alice.example/</link><description>x</description>
<item><title>A song</title><link>https://music.example/song</link><guid>1</guid></item>
</channel></rss>"""
ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Bookmarks</title><id>urn:x</id><updated>2026-01-01T00:00:00Z</updated>
<entry><title>Essay</title><link href="https://blog.example/essay"/><id>urn:1</id>
<updated>2026-01-01T00:00:00Z</updated></entry></feed>"""
JSON_FEED = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Liked",
        "items": [{"id": "1", "url": "https://x.example/a"}],
    }
).encode()


@pytest.fixture
def supporter(client, user, settings):
    settings.SITE_URL = "http://testserver"
    client.force_login(user)
    return user


def text(response):
    return " ".join(response.content.decode().split())


def back(client, location):
    parts = urlsplit(location)
    return client.get(f"{parts.path}?{parts.query}", follow=True)


def test_connects_github_and_stores_login_and_id(
    client, supporter, github_fake, django_capture_on_commit_callbacks
):
    response = client.post("/settings/connected/github/")
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["client_id"] == [github_fake.client_id]
    assert query["redirect_uri"] == ["http://testserver/settings/connected/github/callback/"]
    with django_capture_on_commit_callbacks(execute=True):
        page = back(client, approve(response["Location"]))
    assert "octocat is connected" in text(page)
    account = ConnectedAccount.objects.get(user=supporter)
    assert (account.kind, account.remote_login) == ("github", "octocat")
    assert account.remote_id == str(github_fake.users["octocat"]["id"])
    assert account.url == github_fake.base_url
    assert str(account.access_token) in github_fake.tokens
    # The exchange asked for JSON and sent the PKCE verifier.
    exchange = github_fake.requests_to("/login/oauth/access_token")[0]
    assert exchange.headers["accept"].startswith("application/json")
    assert exchange.form["code_verifier"]
    # A connected GitHub account proves it (claims.proofs.github_connected).
    proof = ProvenAccount.objects.get(user=supporter)
    assert (proof.kind, proof.username, proof.status) == ("github", "octocat", "active")


def test_github_tampered_state_or_code_stores_nothing(client, supporter, github_fake):
    location = approve(client.post("/settings/connected/github/")["Location"])
    assert "did not match" in text(back(client, location.replace("state=", "state=x")))
    location = approve(client.post("/settings/connected/github/")["Location"])
    assert "refused the authorisation" in text(back(client, location.replace("code=", "code=x")))
    assert not ConnectedAccount.objects.exists()


def test_github_revoked_before_the_user_call_stores_nothing(client, supporter, github_fake):
    github_fake.force("/user", 401, '{"message":"Bad credentials"}')
    location = approve(client.post("/settings/connected/github/")["Location"])
    assert "GitHub did not say whose account this is" in text(back(client, location))
    assert not ConnectedAccount.objects.exists()


def test_github_not_configured_says_so(client, supporter, settings):
    settings.GITHUB_CLIENT_ID = ""
    page = client.post("/settings/connected/github/", follow=True)
    assert "not set up on this site" in text(page)


@pytest.mark.parametrize(
    "body, kind, title",
    [
        (RSS, "application/rss+xml", "Alice's likes"),
        (ATOM, "application/atom+xml", "Bookmarks"),
        (JSON_FEED, "application/feed+json", "Liked"),
    ],
)
def test_adds_a_feed_of_likes(client, supporter, allow_loopback, body, kind, title):
    with LocalSite({"/likes": (200, {"Content-Type": kind}, body)}) as site:
        page = client.post("/settings/connected/feed/", {"url": site.url("/likes")}, follow=True)
    assert "is connected" in text(page)
    account = ConnectedAccount.objects.get(user=supporter)
    assert (account.kind, account.url, account.remote_login) == ("feed", site.url("/likes"), title)
    assert str(account.access_token) == ""


@pytest.mark.parametrize(
    "route, says",
    [
        ((200, HTML, b"<html><body><p>A page</p></body></html>"), "is not a feed"),
        ((200, {"Content-Type": "application/json"}, b'{"items": []}'), "is not a feed"),
        ((404, HTML, b"gone"), "answered with an error (HTTP 404)"),
    ],
)
def test_a_page_that_is_not_a_feed_is_a_form_error(client, supporter, allow_loopback, route, says):
    with LocalSite({"/f": route}) as site:
        response = client.post("/settings/connected/feed/", {"url": site.url("/f")})
    assert response.status_code == 400
    assert says in text(response)
    assert not ConnectedAccount.objects.exists()


def test_a_feed_on_a_private_address_is_refused(client, supporter, settings):
    settings.FETCH_ALLOWED_NETWORKS = []
    response = client.post("/settings/connected/feed/", {"url": "http://127.0.0.1:9/likes"})
    assert response.status_code == 400 and "private network" in text(response)
    assert not ConnectedAccount.objects.exists()


def test_the_same_feed_twice_is_refused(client, supporter, allow_loopback):
    with LocalSite({"/likes": (200, {"Content-Type": "application/rss+xml"}, RSS)}) as site:
        client.post("/settings/connected/feed/", {"url": site.url("/likes")})
        response = client.post("/settings/connected/feed/", {"url": site.url("/likes")})
    assert response.status_code == 400 and "already connected" in text(response)
    assert ConnectedAccount.objects.count() == 1


def test_feed_parse_tells_feeds_from_pages():
    assert feed_parse(RSS).format == "rss20"
    assert feed_parse(ATOM).format == "atom10"
    assert feed_parse(JSON_FEED).format == "json11"
    assert feed_parse(b"<html><body>hi</body></html>", "text/html") is None
    assert feed_parse(b"{not json") is None
    assert feed_parse(b"") is None


def test_a_huge_or_slow_feed_is_refused(client, supporter, allow_loopback, monkeypatch):
    huge = b"<rss><channel>" + b"<item>x</item>" * 200_000 + b"</channel></rss>"
    with LocalSite({"/big": (200, {"Content-Type": "application/rss+xml"}, huge)}) as site:
        response = client.post("/settings/connected/feed/", {"url": site.url("/big")})
    assert response.status_code == 400 and "far too large" in text(response)
    monkeypatch.setattr("likes.connect.feeds.FEED_TIMEOUT", 0.5)

    def slow(handler):
        import time

        time.sleep(2)
        return (200, {"Content-Type": "application/rss+xml"}, RSS)

    with LocalSite({"/slow": slow}) as site:
        response = client.post("/settings/connected/feed/", {"url": site.url("/slow")})
    assert response.status_code == 400 and "took too long to answer" in text(response)
    assert not ConnectedAccount.objects.exists()


def test_a_feed_redirecting_to_a_private_address_is_refused(client, supporter, settings):
    # Only the first host is allowed: the redirect's private target is checked again.
    with LocalSite({"/f": (302, {"Location": "http://10.1.2.3/likes.xml"}, b"")}) as site:
        settings.FETCH_ALLOWED_HOSTS = []
        settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
        response = client.post("/settings/connected/feed/", {"url": site.url("/f")})
    assert response.status_code == 400 and "is on a private network" in text(response)
    assert not ConnectedAccount.objects.exists()
