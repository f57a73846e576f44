"""likes.polling against the shared fake Mastodon and GitHub servers: likes
after connecting become flattrs once; rate limits, revocation and bad
servers are handled without a flattr or a 500."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from buttons.models import Flattr
from likes.models import AccountKind, AccountStatus, ConnectedAccount, Like
from likes.polling import account_poll, accounts_poll_due, backoff_delay
from notifications.emails import email_render
from notifications.models import Email, Event, NotificationSettings
from notifications.services import event_dispatch
from tests.factories import supporter

pytestmark = pytest.mark.django_db


def _raw_token(account):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token FROM likes_connectedaccount WHERE id = %s", [account.pk]
        )
        return cursor.fetchone()[0]


def _mastodon_account(fake, user, **fields):
    return ConnectedAccount.objects.create(
        user=user,
        kind=AccountKind.MASTODON,
        url=fake.base_url,
        remote_id="1",
        remote_login=f"alice@{fake.authority}",
        access_token=fake.issue_token("alice"),
        **fields,
    )


def _github_account(fake, user, **fields):
    fields.setdefault("connected_at", timezone.now() - dt.timedelta(minutes=5))
    fields.setdefault("remote_id", "1")
    return ConnectedAccount.objects.create(
        user=user,
        kind=AccountKind.GITHUB,
        url=fake.api_url,
        remote_login="octocat",
        access_token=fake.issue_token("octocat"),
        **fields,
    )


def _poll(account):
    return account_poll(account_id=account.pk, force=True).as_dict()


# -- Mastodon ------------------------------------------------------------------


def test_mastodon_baseline_then_new_favourites_become_flattrs(mastodon_fake):
    user = supporter()
    account = _mastodon_account(mastodon_fake, user)
    mastodon_fake.favourite("alice")
    mastodon_fake.favourite("alice")

    first = _poll(account)
    assert first == {"accounts": 1, "likes_seen": 2, "flattrs": 0, "waiting": 0,
                     "skipped": {"before_connecting": 2}, "errors": 0}  # fmt: skip
    account.refresh_from_db()
    assert account.baseline_done and account.cursor

    posts = [mastodon_fake.favourite("alice") for _ in range(3)]
    second = _poll(account)
    assert (second["likes_seen"], second["flattrs"]) == (3, 3)
    flattrs = Flattr.objects.filter(supporter=user)
    assert {f.thing.url for f in flattrs} == {p["url"] for p in posts}
    assert {f.source for f in flattrs} == {"mastodon"}

    assert _poll(account)["likes_seen"] == 0  # nothing new: nothing twice
    assert Flattr.objects.filter(supporter=user).count() == 3
    # Read upwards from the cursor, never again from the top.
    last = mastodon_fake.requests_to("/api/v1/favourites")[-1]
    assert last.query.get("min_id") and last.headers["authorization"].startswith("Bearer ")


def test_mastodon_reads_every_page_of_a_burst(mastodon_fake, settings):
    settings.FLATTR_LIKES_PER_MONTH = 100
    user = supporter()
    account = _mastodon_account(mastodon_fake, user)
    mastodon_fake.favourite("alice")
    _poll(account)
    for _ in range(95):
        mastodon_fake.favourite("alice")
    summary = _poll(account)
    assert (summary["likes_seen"], summary["flattrs"]) == (95, 95)
    assert len(mastodon_fake.requests_to("/api/v1/favourites")) >= 4  # 1 + 3 pages of 40


def test_mastodon_with_nothing_at_baseline_reads_newest_first(mastodon_fake):
    user = supporter()
    account = _mastodon_account(mastodon_fake, user)
    assert _poll(account)["likes_seen"] == 0
    mastodon_fake.favourite("alice")
    mastodon_fake.favourite("alice")
    assert _poll(account)["flattrs"] == 2
    assert _poll(account)["likes_seen"] == 0


def test_revoked_token_disconnects_and_tells_the_owner(mastodon_fake):
    user = supporter()
    account = _mastodon_account(mastodon_fake, user)
    _poll(account)
    token = str(account.access_token)
    mastodon_fake.revoke(token)
    mastodon_fake.favourite("alice")

    assert _poll(account)["errors"] == 1
    account.refresh_from_db()
    assert account.status == AccountStatus.REVOKED
    assert account.access_token == "" and _raw_token(account) == ""
    event = Event.objects.get(type="likes.account_revoked")
    assert event.recipient_id == user.pk
    # The e-mail, in the owner's language.
    NotificationSettings.objects.create(user=user, language="fr")
    (email_id,), _deliveries = event_dispatch(key=event.key)
    message = email_render(email=Email.objects.get(pk=email_id))
    assert "retiré" in message.subject or "accès" in message.subject
    assert f"alice@{mastodon_fake.authority}" in message.body
    assert "/settings/connected/" in message.body
    assert token not in message.body
    assert not Flattr.objects.exists()
    # Not polled again until reconnected.
    assert _poll(account)["accounts"] == 0


def test_rate_limited_waits_without_counting_an_error(mastodon_fake):
    user = supporter()
    account = _mastodon_account(mastodon_fake, user)
    _poll(account)
    mastodon_fake.rate_limit("/api/v1/favourites", retry_after=120)
    mastodon_fake.favourite("alice")
    before = timezone.now()
    assert _poll(account)["errors"] == 0
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE and account.consecutive_errors == 0
    assert account.backoff_until >= before + dt.timedelta(seconds=110)
    assert not Flattr.objects.exists()
    # The beat task leaves it alone until then.
    assert accounts_poll_due().accounts == 0


BAD_ANSWERS = [
    ("malformed", {"status": 200, "body": "{oops"}),
    (
        "not_api",
        {
            "status": 200,
            "body": "<html><body>Hello</body></html>",
            "content_type": "text/html; charset=utf-8",
        },
    ),  # fmt: skip
    ("not_api", {"status": 200, "body": '{"error": "not a list"}'}),
    ("http_error", {"status": 503, "body": "down"}),
    ("address_refused", {"status": 302, "headers": {"Location": "http://10.1.2.3/x"}}),
    ("too_large", {"status": 200, "body": "[" + " " * (3 * 1024 * 1024) + "]"}),
]


@pytest.mark.parametrize(("code", "answer"), BAD_ANSWERS, ids=[c for c, _a in BAD_ANSWERS])
def test_bad_servers_record_a_safe_error_and_back_off(mastodon_fake, code, answer, caplog):
    user = supporter()
    account = _mastodon_account(mastodon_fake, user)
    _poll(account)
    mastodon_fake.favourite("alice")
    mastodon_fake.force("/api/v1/favourites", **answer)
    token = str(account.access_token)

    assert _poll(account)["errors"] == 1
    account.refresh_from_db()
    assert (account.status, account.last_error_code) == (AccountStatus.ERROR, code)
    assert account.last_error and token not in account.last_error
    assert account.backoff_until > timezone.now()
    assert not Flattr.objects.exists() and not Like.objects.filter(state="flattred").exists()
    assert token not in caplog.text
    # The next good poll heals it and flattrs what was waiting there.
    assert _poll(account)["flattrs"] == 1
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE and account.consecutive_errors == 0


def test_slow_server_times_out(mastodon_fake, settings):
    settings.FETCH_TOTAL_TIMEOUT = 1
    account = _mastodon_account(mastodon_fake, supporter())
    mastodon_fake.force("/api/v1/favourites", 200, "[]", delay=2)
    assert _poll(account)["errors"] == 1
    account.refresh_from_db()
    assert account.last_error_code == "timeout"


def test_not_a_mastodon_server(settings):
    from tests.localsite import LocalSite

    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    with LocalSite({}) as site:
        account = ConnectedAccount.objects.create(
            user=supporter(), kind=AccountKind.MASTODON, url=site.url(""), access_token="t"
        )
        assert _poll(account)["errors"] == 1
    account.refresh_from_db()
    assert account.last_error_code == "http_error"


def test_private_address_refused_without_the_allowlist(mastodon_fake, settings):
    settings.FETCH_ALLOWED_NETWORKS = []
    account = _mastodon_account(mastodon_fake, supporter())
    assert _poll(account)["errors"] == 1
    account.refresh_from_db()
    assert account.last_error_code == "address_refused"
    assert mastodon_fake.requests_to("/api/v1/favourites") == []


def test_backoff_grows_exponentially_and_is_capped(settings):
    settings.FLATTR_LIKES_POLL_MINUTES = 15
    assert [backoff_delay(n).total_seconds() / 60 for n in (1, 2, 3)] == [15, 30, 60]
    assert backoff_delay(30) == dt.timedelta(hours=24)


# -- GitHub --------------------------------------------------------------------


def test_github_stars_after_connecting_become_flattrs(github_fake):
    user = supporter()
    github_fake.star("octocat", at=timezone.now() - dt.timedelta(days=3))  # before connecting
    account = _github_account(github_fake, user)
    repos = [github_fake.star("octocat") for _ in range(2)]

    summary = _poll(account)
    assert (summary["likes_seen"], summary["flattrs"]) == (2, 2)
    assert {f.thing.url for f in Flattr.objects.filter(supporter=user)} == {
        r["html_url"] for r in repos
    }
    assert {f.source for f in Flattr.objects.all()} == {"github"}
    request = github_fake.requests_to("/user/starred")[-1]
    assert request.headers["accept"] == "application/vnd.github.star+json"
    assert _poll(account)["likes_seen"] == 0


def test_github_reads_pages_and_caps(github_fake, settings):
    settings.FLATTR_LIKES_PER_MONTH = 50
    user = supporter()
    account = _github_account(github_fake, user)
    for _ in range(130):
        github_fake.star("octocat")
    summary = _poll(account)
    assert (summary["likes_seen"], summary["flattrs"], summary["waiting"]) == (130, 50, 80)
    assert len(github_fake.requests_to("/user/starred")) == 2


def test_github_primary_rate_limit_waits_until_reset(github_fake):
    account = _github_account(github_fake, supporter())
    github_fake.rate_limit()
    assert _poll(account)["errors"] == 0
    account.refresh_from_db()
    assert account.backoff_until > timezone.now() + dt.timedelta(minutes=50)
    assert account.status == AccountStatus.ACTIVE


def test_github_revoked(github_fake):
    account = _github_account(github_fake, supporter())
    github_fake.revoke(str(account.access_token))
    _poll(account)
    account.refresh_from_db()
    assert account.status == AccountStatus.REVOKED and _raw_token(account) == ""


# -- the beat task's choice ----------------------------------------------------


def test_only_due_enabled_accounts_are_polled(github_fake):
    user = supporter()
    due = _github_account(github_fake, user, next_poll_at=timezone.now())
    later = _github_account(
        github_fake, user, remote_id="2", next_poll_at=timezone.now() + dt.timedelta(minutes=5)
    )
    _github_account(github_fake, user, remote_id="3", enabled=False)
    summary = accounts_poll_due()
    assert summary.accounts == 1
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.last_poll_at is not None and later.last_poll_at is None
    # Next poll one interval on.
    assert due.next_poll_at > timezone.now() + dt.timedelta(minutes=14)
