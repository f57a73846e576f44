"""likes.sources.feeds: RSS, Atom and JSON Feed served locally; every new
item's link is a like; conditional GET; a page that is not a feed is an
error, never a flattr."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from buttons.models import Flattr
from likes.models import AccountKind, AccountStatus, ConnectedAccount
from likes.polling import account_poll
from tests.factories import supporter
from tests.localsite import LocalSite

pytestmark = pytest.mark.django_db


def _rfc822(moment):
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def rss(items):
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        + (f"<pubDate>{_rfc822(when)}</pubDate>" if when else "")
        + "</item>"
        for title, link, when in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Likes</title>'
        f"<link>https://me.example/</link>{entries}</channel></rss>"
    ).encode()


def atom(items):
    entries = "".join(
        f'<entry><title>{title}</title><link href="{link}"/><id>tag:{link}</id>'
        f"<updated>{when.isoformat()}</updated></entry>"
        for title, link, when in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Bookmarks</title><id>tag:me</id><updated>2026-01-01T00:00:00Z</updated>{entries}</feed>"
    ).encode()


def json_feed(items):
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Liked",
            "items": [
                {"id": link, "url": link, "title": title, "date_published": when.isoformat()}
                for title, link, when in items
            ],
        }
    ).encode()


@pytest.fixture
def site(settings):
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with LocalSite({}) as site:
        yield site


def _feed_account(site, user, path="/likes"):
    return ConnectedAccount.objects.create(
        user=user,
        kind=AccountKind.FEED,
        url=site.url(path),
        connected_at=timezone.now() - dt.timedelta(hours=1),
    )


def _poll(account):
    return account_poll(account_id=account.pk, force=True).as_dict()


@pytest.mark.parametrize(
    ("make", "content_type"),
    [
        (rss, "application/rss+xml"),
        (atom, "application/atom+xml"),
        (json_feed, "application/feed+json"),
    ],
)
def test_each_kind_of_feed_new_items_become_flattrs(site, make, content_type):
    user = supporter()
    now = timezone.now()
    old = ("Old", "https://a.example/old", now - dt.timedelta(days=3))
    items = [old, ("One", "https://a.example/1", now - dt.timedelta(minutes=5))]
    site.routes["/likes"] = (200, {"Content-Type": content_type}, make(items))
    account = _feed_account(site, user)

    summary = _poll(account)
    assert (summary["likes_seen"], summary["flattrs"]) == (2, 1)
    assert summary["skipped"] == {"before_connecting": 1}
    flattr = Flattr.objects.get(supporter=user)
    assert (flattr.thing.url, flattr.thing.title, flattr.source) == (
        "https://a.example/1", "One", "feed"
    )  # fmt: skip

    items.append(("Two", "https://a.example/2", now))
    site.routes["/likes"] = (200, {"Content-Type": content_type}, make(items))
    assert _poll(account)["flattrs"] == 1
    assert _poll(account)["likes_seen"] == 0


def test_conditional_get_spares_an_unchanged_feed(site):
    user = supporter()
    body = rss([("One", "https://a.example/1", timezone.now())])

    def answer(handler):
        if handler.headers.get("If-None-Match") == '"v1"':
            return (304, {"ETag": '"v1"'}, b"")
        return (200, {"Content-Type": "application/rss+xml", "ETag": '"v1"'}, body)

    site.routes["/likes"] = answer
    account = _feed_account(site, user)
    assert _poll(account)["flattrs"] == 1
    assert _poll(account) == {"accounts": 1, "likes_seen": 0, "flattrs": 0, "waiting": 0,
                              "skipped": {}, "errors": 0}  # fmt: skip
    assert site.requests[-1][2].get("If-None-Match") == '"v1"'


def test_undated_items_at_the_first_poll_are_the_baseline(site):
    user = supporter()
    site.routes["/likes"] = (
        200, {"Content-Type": "application/rss+xml"}, rss([("A", "https://a.example/a", None)])
    )  # fmt: skip
    account = _feed_account(site, user)
    assert _poll(account)["skipped"] == {"before_connecting": 1}
    site.routes["/likes"] = (
        200,
        {"Content-Type": "application/rss+xml"},
        rss([("A", "https://a.example/a", None), ("B", "https://a.example/b", None)]),
    )
    assert _poll(account)["flattrs"] == 1
    assert Flattr.objects.get().thing.url == "https://a.example/b"


@pytest.mark.parametrize(
    ("content_type", "body", "code"),
    [
        ("text/html", b"<!doctype html><html><body><p>My blog</p></body></html>", "not_feed"),
        ("application/json", b'{"hello": "world"}', "not_feed"),
        (
            "application/json",
            b'{"version": "https://jsonfeed.org/version/1", "items": [',
            "malformed",
        ),
        ("text/plain", b"just some text", "not_feed"),
    ],
)
def test_not_a_feed_is_a_safe_error(site, content_type, body, code):
    site.routes["/likes"] = (200, {"Content-Type": content_type}, body)
    account = _feed_account(site, supporter())
    assert _poll(account)["errors"] == 1
    account.refresh_from_db()
    assert (account.status, account.last_error_code) == (AccountStatus.ERROR, code)
    assert not Flattr.objects.exists()
