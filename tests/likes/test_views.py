"""Settings → Connected accounts: the list with its figures and states, the
switch, disconnecting (tokens deleted, Mastodon revoked best-effort), the
likes waiting to be flattred by hand, My flattrs saying where a like-flattr
came from, and GET /rest/v2/user/likes."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from buttons.models import Flattr
from likes.flattring import RemoteLike, likes_record
from likes.models import AccountKind, AccountStatus, InstanceApp, Like, LikeState
from tests.factories import UserFactory, supporter
from tests.likes.helpers import account

pytestmark = pytest.mark.django_db


def text(response):
    """The page's words, without its tags."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split()).replace(
        " · ", " · "
    )


def likes(n, host="https://blog.example.net", start=0):
    now = timezone.now()
    return [
        RemoteLike(str(i), f"{host}/post/{i}", f"Post {i}", now - dt.timedelta(minutes=n - i))
        for i in range(start, start + n)
    ]


@pytest.fixture
def fan(client):
    user = supporter()
    client.force_login(user)
    return user


def test_the_page_lists_each_account_with_its_month_and_state(client, fan):
    gh = account(fan, kind=AccountKind.GITHUB, url="https://api.github.com", remote_login="octo")
    likes_record(account=gh, likes=likes(3))
    account(
        fan,
        kind=AccountKind.MASTODON,
        url="https://mastodon.example",
        remote_login="fan@mastodon.example",
        status=AccountStatus.ERROR,
        last_error="mastodon.example took too long to answer",
        last_error_code="timeout",
    )
    account(fan, url="https://feed.example/likes.xml", remote_login="My likes", enabled=False)
    account(UserFactory(), remote_login="Someone else's feed")
    page = text(client.get("/settings/connected/"))
    assert "GitHub · octo" in page and "This month: 3 likes seen, 3 flattred." in page
    assert "Not working: its server was too slow to answer. We keep trying." in page
    assert "Feed of likes · My likes" in page and "Paused: its likes are not read." in page
    assert "Someone else" not in page
    assert "Not read yet." in page


def test_the_page_needs_a_login(client):
    response = client.get("/settings/connected/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_switch_pauses_and_resumes(client, fan):
    feed = account(fan)
    client.post(f"/settings/connected/{feed.pk}/switch/", {"enabled": "0"})
    feed.refresh_from_db()
    assert not feed.enabled
    client.post(f"/settings/connected/{feed.pk}/switch/", {"enabled": "1"})
    feed.refresh_from_db()
    assert feed.enabled


def test_nobody_switches_or_disconnects_anothers_account(client, fan):
    other = account(UserFactory())
    page = client.post(f"/settings/connected/{other.pk}/switch/", {"enabled": "0"}, follow=True)
    assert "There is no such connected account." in text(page)
    page = client.post(f"/settings/connected/{other.pk}/disconnect/", follow=True)
    assert "There is no such connected account." in text(page)
    other.refresh_from_db()
    assert other.enabled and other.status == AccountStatus.ACTIVE


def test_disconnect_asks_then_deletes_tokens_and_revokes_at_the_server(client, fan, mastodon_fake):
    token = mastodon_fake.issue_token()
    app = InstanceApp.objects.create(
        base_url=mastodon_fake.base_url, client_id="cid", client_secret="secret"
    )
    mastodon_fake.apps["cid"] = {"client_id": "cid", "client_secret": "secret"}
    acc = account(
        fan, kind=AccountKind.MASTODON, url=mastodon_fake.base_url, instance_app=app,
        access_token=token, remote_login="alice@x",
    )  # fmt: skip
    confirm = client.get(f"/settings/connected/{acc.pk}/disconnect/")
    assert "Disconnect alice@x?" in text(confirm)
    acc.refresh_from_db()
    assert acc.status == AccountStatus.ACTIVE  # asking changed nothing
    page = client.post(f"/settings/connected/{acc.pk}/disconnect/", follow=True)
    assert "alice@x is disconnected" in text(page)
    acc.refresh_from_db()
    assert (acc.status, str(acc.access_token), acc.enabled) == ("disconnected", "", False)
    assert token not in mastodon_fake.live_tokens()
    assert "alice@x" not in text(client.get("/settings/connected/"))


def test_disconnect_works_when_the_server_is_gone(client, fan, allow_loopback):
    app = InstanceApp.objects.create(
        base_url="http://127.0.0.1:9", client_id="cid", client_secret="secret"
    )
    acc = account(
        fan, kind=AccountKind.MASTODON, url="http://127.0.0.1:9", instance_app=app,
        access_token="tok", remote_login="alice@x",
    )  # fmt: skip
    client.post(f"/settings/connected/{acc.pk}/disconnect/")
    acc.refresh_from_db()
    assert acc.status == AccountStatus.DISCONNECTED and str(acc.access_token) == ""


def test_disconnecting_github_deletes_the_grant_at_github(client, fan, github_fake, caplog):
    token = github_fake.issue_token("octocat")
    other = github_fake.issue_token("octocat")  # the same grant, another token
    acc = account(
        fan, kind=AccountKind.GITHUB, url=github_fake.api_url, access_token=token,
        remote_login="octocat",
    )  # fmt: skip
    page = client.post(f"/settings/connected/{acc.pk}/disconnect/", follow=True)
    assert "octocat is disconnected" in text(page)
    acc.refresh_from_db()
    assert (acc.status, str(acc.access_token), acc.enabled) == ("disconnected", "", False)
    (asked,) = github_fake.requests_to(f"/applications/{github_fake.client_id}/grant", "DELETE")
    assert asked.form == {"access_token": token}
    assert github_fake.live_tokens() == []  # GitHub drops every token of the grant
    assert token not in caplog.text and other not in caplog.text


def test_disconnecting_one_github_account_keeps_the_proof_of_another(client, fan, github_fake):
    from claims import proof_urls, proofs

    for remote_id, login in ((1, "one"), (2, "two")):
        account(
            fan, kind=AccountKind.GITHUB, url=github_fake.api_url, remote_id=str(remote_id),
            remote_login=login, access_token=github_fake.issue_token(login),
        )  # fmt: skip
        proofs.github_connected(user_id=fan.pk, login=login, github_user_id=remote_id)
    github_host = "https://" + proof_urls.github_host()
    first = fan.connected_accounts.get(remote_id="1")
    client.post(f"/settings/connected/{first.pk}/disconnect/")
    assert proofs.owner_for_url(f"{github_host}/one/tool") is None
    assert proofs.owner_for_url(f"{github_host}/two/tool") == fan.pk


@pytest.mark.parametrize("answer", ["refused", "slow"])
def test_disconnecting_github_when_github_refuses_or_is_slow(
    client, fan, github_fake, settings, answer
):
    import time

    token = github_fake.issue_token("octocat")
    path = f"/applications/{github_fake.client_id}/grant"
    if answer == "refused":
        github_fake.force(path, 500, '{"message":"Server Error"}')
    else:
        github_fake.force(path, 204, delay=8)
    acc = account(fan, kind=AccountKind.GITHUB, url=github_fake.api_url, access_token=token)
    started = time.monotonic()
    page = client.post(f"/settings/connected/{acc.pk}/disconnect/", follow=True)
    assert page.status_code == 200
    assert time.monotonic() - started < 7  # the revocation's deadline, not GitHub's pace
    acc.refresh_from_db()
    assert (acc.status, str(acc.access_token), acc.enabled) == ("disconnected", "", False)
    assert len(github_fake.requests_to(path, "DELETE")) == 1


def test_waiting_likes_are_listed_and_flattred_by_hand(client, fan, settings):
    settings.FLATTR_LIKES_PER_MONTH = 1
    gh = account(fan, kind=AccountKind.GITHUB, url="https://api.github.com")
    likes_record(account=gh, likes=likes(3))
    assert "2 likes wait to be flattred by hand" in text(client.get("/settings/connected/"))
    page = text(client.get("/settings/connected/waiting/"))
    assert "Post 1" in page and "Post 2" in page and "Starred on GitHub" in page
    waiting = Like.objects.filter(state=LikeState.WAITING).order_by("id").first()
    done = client.post(f"/settings/connected/waiting/{waiting.pk}/flattr/", follow=True)
    assert f"You flattred “{waiting.title}”" in text(done)
    waiting.refresh_from_db()
    assert waiting.state == LikeState.FLATTRED
    assert Flattr.objects.filter(supporter=fan, source="github").count() == 2
    again = client.post(f"/settings/connected/waiting/{waiting.pk}/flattr/", follow=True)
    assert "not waiting to be flattred" in text(again)
    assert Flattr.objects.filter(supporter=fan).count() == 2


def test_nobody_flattrs_anothers_waiting_like(client, fan, settings):
    settings.FLATTR_LIKES_PER_MONTH = 0
    other = supporter()
    likes_record(account=account(other), likes=likes(1))
    like = Like.objects.get(supporter=other)
    page = client.post(f"/settings/connected/waiting/{like.pk}/flattr/", follow=True)
    assert "no such like of yours" in text(page)
    assert not Flattr.objects.exists()


def test_my_flattrs_says_where_each_like_flattr_came_from(client, fan):
    masto = account(
        fan, kind=AccountKind.MASTODON, url="https://mastodon.example", access_token="t"
    )
    gh = account(fan, kind=AccountKind.GITHUB, url="https://api.github.com", access_token="t")
    likes_record(account=masto, likes=likes(1, host="https://a.example"))
    likes_record(account=gh, likes=likes(1, host="https://b.example"))
    page = client.get("/flattrs/")
    origins = [o.strip() for o in page.content.decode().split('data-testid="origin">')[1:]]
    said = sorted(o.split("<")[0] for o in origins)
    assert said == ["Favourited on mastodon.example", "Starred on GitHub"]
    # Undo is there as for any flattr.
    flattr = Flattr.objects.filter(supporter=fan, source="github").get()
    assert f"/flattrs/{flattr.pk}/undo/" in page.content.decode() or "Undo" in text(page)


def test_the_pages_and_messages_speak_french(client, fan, settings):
    settings.FLATTR_LIKES_PER_MONTH = 1
    settings.FETCH_ALLOWED_NETWORKS = []
    masto = account(
        fan, kind=AccountKind.MASTODON, url="https://mastodon.example", access_token="t"
    )
    likes_record(account=masto, likes=likes(2))
    fr = {"HTTP_ACCEPT_LANGUAGE": "fr"}
    page = text(client.get("/settings/connected/", **fr))
    assert "Comptes connectés" in page and "Connecter un compte Mastodon" in page
    assert "Ce mois-ci : 2 « j’aime » vus, 1 flattrés." in page
    assert "1 « j’aime » attend d’être flattré à la main" in page
    refused = text(
        client.post("/settings/connected/mastodon/", {"instance": "http://127.0.0.1:9"}, **fr)
    )
    assert "127.0.0.1:9 est sur un réseau privé" in refused
    assert "Mis en favori sur mastodon.example" in text(
        client.get("/settings/connected/waiting/", **fr)
    )
    assert "Mis en favori sur mastodon.example" in text(client.get("/flattrs/", **fr))
    masto.status, masto.last_error_code = "error", "timeout"
    masto.last_error = "The server was too slow to answer."
    masto.save()
    page = text(client.get("/settings/connected/", **fr))
    assert (
        "Ne fonctionne pas : son serveur a mis trop de temps à répondre. Nous réessayons." in page
    )
    english = text(client.get("/settings/connected/"))
    assert "Not working: its server was too slow to answer. We keep trying." in english


@pytest.mark.parametrize("code", ["internal", "error", "something_new"])
def test_a_failure_without_words_of_its_own_is_said_in_french_too(client, fan, code):
    """The stored ``last_error`` is English (for the admin and the logs):
    a French page says the failure in French whatever its code."""
    acc = account(fan, kind=AccountKind.MASTODON, url="https://mastodon.example")
    acc.status, acc.last_error_code = "error", code
    acc.last_error = "Reading the account failed."
    acc.save()
    page = text(client.get("/settings/connected/", HTTP_ACCEPT_LANGUAGE="fr"))
    assert "Reading the account failed" not in page
    assert "Ne fonctionne pas" in page


def test_the_pages_read_no_token_and_a_damaged_one_still_disconnects(client, fan):
    """The supporter's likes pages never decrypt a stored token (a key
    dropped too early, a damaged row: the pages still answer)."""
    from django.db import connection

    from api import services as api_services

    gh = account(fan, kind=AccountKind.GITHUB, url="https://api.github.com", access_token="t")
    likes_record(account=gh, likes=likes(2))
    Like.objects.filter(account=gh).update(state=LikeState.WAITING)
    likes_record(account=gh, likes=likes(1, start=10))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE likes_connectedaccount SET access_token = 'damaged' WHERE id = %s", [gh.pk]
        )
    assert client.get("/settings/connected/").status_code == 200
    assert client.get("/settings/connected/waiting/").status_code == 200
    assert client.get("/flattrs/").status_code == 200
    _token, raw = api_services.personal_token_create(user=fan, name="t", scopes="flattr")
    api = client.get("/rest/v2/user/likes", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 200 and len(api.json()) == 1
    # Nor does pausing or disconnecting it (nothing to revoke with).
    assert client.post(f"/settings/connected/{gh.pk}/switch/", {"enabled": "0"}).status_code == 302
    page = client.post(f"/settings/connected/{gh.pk}/disconnect/", follow=True)
    assert page.status_code == 200 and "is disconnected" in text(page)
    gh.refresh_from_db()
    assert (gh.status, str(gh.access_token)) == ("disconnected", "")
