"""GET /rest/v2/user/likes: the supporter's like-flattrs with their source."""

import datetime as dt

import pytest
from django.utils import timezone

from buttons.services import current_period
from likes.flattring import RemoteLike, likes_record
from likes.models import AccountKind
from tests.api.conftest import ApiClient, token_for
from tests.factories import supporter
from tests.likes.helpers import account

pytestmark = pytest.mark.django_db


def likes(n):
    now = timezone.now()
    return [
        RemoteLike(
            str(i),
            f"https://blog.example.net/post/{i}",
            f"Post {i}",
            now - dt.timedelta(minutes=n - i),
        )
        for i in range(n)
    ]


def test_lists_like_flattrs_with_their_source_newest_first():
    fan = supporter()
    masto = account(
        fan, kind=AccountKind.MASTODON, url="https://mastodon.example",
        remote_login="fan@mastodon.example", access_token="t",
    )  # fmt: skip
    likes_record(account=masto, likes=likes(2))
    likes_record(account=account(supporter()), likes=likes(1))  # someone else's
    api = ApiClient(token_for(fan))
    response = api.get("/user/likes")
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 2
    item = body[0]
    assert item["type"] == "like" and item["url"].startswith("https://blog.example.net/post/")
    assert item["period"] == current_period().strftime("%Y-%m")
    assert item["thing"]["url"] == item["url"] and item["flattred_at"] > 0
    assert item["source"] == {
        "kind": "mastodon",
        "account": "fan@mastodon.example",
        "address": "https://mastodon.example",
        "description": "Favourited on mastodon.example",
    }
    page = api.get("/user/likes", {"count": 1, "page": 2}).json()
    assert [i["id"] for i in page] == [body[1]["id"]]


def test_empty_for_a_supporter_without_likes():
    assert ApiClient(token_for(supporter())).get("/user/likes").json() == []


def test_needs_a_token():
    response = ApiClient().get("/user/likes")
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


def test_a_private_feeds_secret_never_leaves_in_the_address():
    """A private feed's address can carry its secret (a token in the query,
    a user and password): an application reading the likes sees where they
    came from, not the key to the feed."""
    fan = supporter()
    feed = account(
        fan, kind=AccountKind.FEED,
        url="https://reader:hunter2@likes.example.org/u/fan/feed.xml?key=s3cret#top",
    )  # fmt: skip
    likes_record(account=feed, likes=likes(1))
    response = ApiClient(token_for(fan)).get("/user/likes")
    assert response.status_code == 200
    source = response.json()[0]["source"]
    assert source["address"] == "https://likes.example.org/u/fan/feed.xml"
    assert "s3cret" not in response.content.decode() and "hunter2" not in response.content.decode()
