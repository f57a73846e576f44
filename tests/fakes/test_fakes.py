"""The shared fakes answer as the services document, through our safe fetcher."""

import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

from core.fetch import fetch
from tests.fakes.github import STAR_TYPE
from tests.fakes.mastodon import s256

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def post(url, data, headers=None):
    return fetch(
        url, method="POST", body=urlencode(data).encode(), headers={**FORM, **(headers or {})}
    )


def get(url, token=None, headers=None):
    auth = {"Authorization": f"Bearer {token}"} if token else {}
    return fetch(url, headers={**auth, **(headers or {})})


def links(response):
    return {
        rel: url
        for url, rel in re.findall(r'<([^>]+)>;\s*rel="(\w+)"', response.headers.get("Link", ""))
    }


def test_mastodon_oauth_dance_with_pkce(mastodon_fake):
    m = mastodon_fake
    app = json.loads(
        post(
            m.url("/api/v1/apps"),
            {
                "client_name": "Flattr",
                "redirect_uris": "http://testserver/cb",
                "scopes": "read:favourites read:accounts",
            },
        ).body
    )
    verifier = "v" * 50
    query = {
        "client_id": app["client_id"],
        "redirect_uri": "http://testserver/cb",
        "response_type": "code",
        "scope": "read:favourites read:accounts",
        "state": "s1",
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    page = get(m.url("/oauth/authorize?" + urlencode(query)))
    assert page.status == 200 and "<form" in page.text and "Authorize" in page.text
    decided = fetch(
        m.url("/oauth/authorize"),
        method="POST",
        headers=FORM,
        max_redirects=0,
        body=urlencode({**query, "decision": "approve"}).encode(),
    )
    assert decided.status == 302
    back = parse_qs(urlsplit(decided.headers["Location"]).query)
    assert back["state"] == ["s1"]
    exchange = {
        "grant_type": "authorization_code",
        "code": back["code"][0],
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "redirect_uri": "http://testserver/cb",
    }
    assert post(m.url("/oauth/token"), {**exchange, "code_verifier": "wrong"}).status == 400
    # The code was spent by the failed attempt, as Doorkeeper does: start again.
    decided = fetch(
        m.url("/oauth/authorize"),
        method="POST",
        headers=FORM,
        max_redirects=0,
        body=urlencode({**query, "decision": "approve"}).encode(),
    )
    exchange["code"] = parse_qs(urlsplit(decided.headers["Location"]).query)["code"][0]
    answer = post(m.url("/oauth/token"), {**exchange, "code_verifier": verifier})
    token = json.loads(answer.body)["access_token"]
    me = get(m.url("/api/v1/accounts/verify_credentials"), token)
    assert me.status == 200 and json.loads(me.body)["username"] == "alice"
    assert me.headers["X-RateLimit-Limit"] == "300"
    assert (
        post(
            m.url("/oauth/revoke"),
            {"client_id": app["client_id"], "client_secret": app["client_secret"], "token": token},
        ).status
        == 200
    )
    assert get(m.url("/api/v1/accounts/verify_credentials"), token).status == 401


def test_mastodon_scope_is_checked(mastodon_fake):
    token = mastodon_fake.issue_token(scope="read:favourites")
    assert get(mastodon_fake.url("/api/v1/accounts/verify_credentials"), token).status == 403
    assert get(mastodon_fake.url("/api/v1/favourites"), token).status == 200


def test_mastodon_favourites_newest_first_with_link_pagination(mastodon_fake):
    m = mastodon_fake
    token = m.issue_token()
    made = [m.favourite("alice")["id"] for _ in range(5)]
    first = get(m.url("/api/v1/favourites?limit=2"), token)
    assert [s["id"] for s in json.loads(first.body)] == made[::-1][:2]
    assert int(first.headers["X-RateLimit-Remaining"]) == 299
    datetime.fromisoformat(first.headers["X-RateLimit-Reset"].replace("Z", "+00:00"))
    second = get(links(first)["next"], token)
    assert [s["id"] for s in json.loads(second.body)] == made[::-1][2:4]
    newer = links(first)["prev"]
    m.favourite("alice")
    assert len(json.loads(get(newer, token).body)) == 1
    third = get(links(second)["next"], token)
    assert [s["id"] for s in json.loads(third.body)] == [made[0]]
    assert "next" not in links(third)  # a short page is the last


def test_mastodon_revoked_token_rate_limit_and_malformed(mastodon_fake):
    m = mastodon_fake
    token = m.issue_token()
    m.rate_limit(retry_after=90)
    limited = get(m.url("/api/v1/favourites"), token)
    assert limited.status == 429 and limited.headers["Retry-After"] == "90"
    m.force("/api/v1/favourites", 200, "{not json")
    assert get(m.url("/api/v1/favourites"), token).body == b"{not json"
    m.revoke(token)
    assert get(m.url("/api/v1/favourites"), token).status == 401


def test_mastodon_lookup_is_public_with_fields(mastodon_fake):
    m = mastodon_fake
    at = datetime(2026, 1, 2, tzinfo=UTC)
    m.set_fields(
        "alice", [("Flattr", m.link_field("Flattr", "https://flattr.example/u/alice"), at)]
    )
    account = json.loads(get(m.url("/api/v1/accounts/lookup?acct=alice")).body)
    assert account["fields"][0]["verified_at"].startswith("2026-01-02T")
    assert 'rel="nofollow noopener noreferrer me"' in account["fields"][0]["value"]
    assert get(m.url("/api/v1/accounts/lookup?acct=nobody")).status == 404


def test_github_oauth_and_starred(github_fake, settings):
    g = github_fake
    assert g.base_url == settings.GITHUB_API_URL
    query = {"client_id": g.client_id, "redirect_uri": "http://testserver/gh", "state": "xyz"}
    assert get(g.url("/login/oauth/authorize?" + urlencode(query))).status == 200
    decided = fetch(
        g.url("/login/oauth/authorize"),
        method="POST",
        headers=FORM,
        max_redirects=0,
        body=urlencode({**query, "authorize": "1"}).encode(),
    )
    back = parse_qs(urlsplit(decided.headers["Location"]).query)
    assert back["state"] == ["xyz"]
    data = {"client_id": g.client_id, "client_secret": g.client_secret, "code": back["code"][0]}
    answer = post(g.url("/login/oauth/access_token"), data, {"Accept": "application/json"})
    token = json.loads(answer.body)["access_token"]
    again = post(g.url("/login/oauth/access_token"), data)
    assert parse_qs(again.text)["error"] == ["bad_verification_code"]
    user = json.loads(get(g.url("/user"), token).body)
    assert user["login"] == "octocat" and isinstance(user["id"], int)
    for n in range(3):
        g.star("octocat", f"maker/p{n}", at=datetime(2026, 1, n + 1, tzinfo=UTC))
    page = get(g.url("/user/starred?per_page=2"), token, {"Accept": STAR_TYPE})
    items = json.loads(page.body)
    assert [i["repo"]["full_name"] for i in items] == ["maker/p2", "maker/p1"]
    assert items[0]["starred_at"] == "2026-01-03T00:00:00Z"
    assert items[0]["repo"]["owner"]["login"] == "maker"
    assert set(links(page)) == {"next", "last"}
    rest = json.loads(get(links(page)["next"], token, {"Accept": STAR_TYPE}).body)
    assert [i["repo"]["full_name"] for i in rest] == ["maker/p0"]
    plain = json.loads(get(g.url("/user/starred"), token).body)
    assert "starred_at" not in plain[0] and plain[0]["full_name"] == "maker/p2"
    g.rate_limit()
    limited = get(g.url("/user/starred"), token)
    assert limited.status == 403 and limited.headers["X-RateLimit-Remaining"] == "0"
    g.rate_limit(status=429, retry_after=30)
    assert get(g.url("/user/starred"), token).headers["Retry-After"] == "30"
    g.revoke(token)
    assert get(g.url("/user"), token).status == 401
