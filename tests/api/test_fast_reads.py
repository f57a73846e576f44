"""GET /rest/v2/things/:id skips DRF on its hot paths (api.views.things:
anonymous, and with a bearer token). Each answer must be the general (DRF)
path's, byte for byte and header for header: a query parameter (``full=0``,
which changes nothing in the body) sends the same request down the general
path. Two tokens of the same user keep their hourly counts apart, so the
rate-limit headers can be compared too."""

import datetime as dt
import time
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from api import services as api_services
from buttons.subscriptions import subscription_create
from tests.api.conftest import ApiClient, assert_error, token_for
from tests.factories import FlattrFactory, ThingFactory, UserFactory

# Per request, not per path.
VOLATILE = {"X-Request-ID"}


def _same(fast, general) -> None:
    assert fast.status_code == general.status_code
    assert fast.content == general.content
    fast_headers = {k: v for k, v in fast.items() if k not in VOLATILE}
    general_headers = {k: v for k, v in general.items() if k not in VOLATILE}
    assert fast_headers == general_headers


def _pair(client_a: ApiClient, client_b: ApiClient, path: str, **extra):
    """The fast path's answer to ``client_a`` and the general path's to
    ``client_b`` for the same resource."""
    return client_a.get(path, **extra), client_b.get(path, {"full": "0"}, **extra)


def _oauth_token(user, raw: str, *, scope: str = "flattr", expires_in: int = 3600):
    app, _created = Application.objects.get_or_create(
        name="app",
        defaults={
            "client_type": "confidential",
            "authorization_grant_type": "authorization-code",
            "redirect_uris": "https://app.example/cb",
        },
    )
    return AccessToken.objects.create(
        user=user,
        application=app,
        token=raw,
        expires=timezone.now() + dt.timedelta(seconds=expires_in),
        scope=scope,
    )


@pytest.mark.django_db
class TestTheSameAnswer:
    def test_personal_token(self, supporter, thing):
        a, b = ApiClient(token_for(supporter)), ApiClient(token_for(supporter))
        fast, general = _pair(a, b, f"/things/{thing.pk}")
        assert fast.status_code == 200
        assert fast.json()["flattred"] is False
        _same(fast, general)
        assert fast["X-RateLimit-Current"] == "1"
        assert fast["Vary"] == general["Vary"] and "Authorization" in fast["Vary"]
        # Warm now: the same again, from the caches.
        _same(*_pair(a, b, f"/things/{thing.pk}"))

    def test_personal_token_of_a_supporter_who_flattred_and_subscribed(self, supporter, thing):
        FlattrFactory(supporter=supporter, thing=thing)
        FlattrFactory(thing=thing)
        subscription_create(supporter=supporter, thing=thing, months=3)
        a, b = ApiClient(token_for(supporter)), ApiClient(token_for(supporter))
        fast, general = _pair(a, b, f"/things/{thing.pk}")
        body = fast.json()
        assert (body["flattred"], body["subscribed"], body["flattrs"]) == (True, True, 2)
        _same(fast, general)

    def test_oauth_token(self, supporter, thing):
        _oauth_token(supporter, "oauth-a")
        _oauth_token(supporter, "oauth-b")
        fast, general = _pair(ApiClient("oauth-a"), ApiClient("oauth-b"), f"/things/{thing.pk}")
        assert fast.status_code == 200 and "flattred" in fast.json()
        _same(fast, general)

    def test_a_token_without_scopes_reads_like_any_other(self, supporter, thing):
        a = ApiClient(token_for(supporter, scopes=""))
        b = ApiClient(token_for(supporter, scopes=""))
        fast, general = _pair(a, b, f"/things/{thing.pk}")
        assert fast.status_code == 200
        _same(fast, general)

    def test_anonymous(self, anon, thing):
        fast = anon.get(f"/things/{thing.pk}", REMOTE_ADDR="192.0.2.1")
        general = anon.get(f"/things/{thing.pk}", {"full": "0"}, REMOTE_ADDR="192.0.2.2")
        assert fast.status_code == 200 and "flattred" not in fast.json()
        _same(fast, general)

    def test_unicode_and_line_separators_are_written_as_drf_writes_them(self, supporter):
        thing = ThingFactory(title="Café \u2028 naïve \u2029 “quoted” 🎧", description="é\u2028")
        a, b = ApiClient(token_for(supporter)), ApiClient(token_for(supporter))
        fast, general = _pair(a, b, f"/things/{thing.pk}")
        assert "Café".encode() in fast.content and b"\\u2028" in fast.content
        _same(fast, general)

    def test_the_owner_gets_the_owners_fields(self, creator, thing):
        a, b = ApiClient(token_for(creator)), ApiClient(token_for(creator))
        fast, general = _pair(a, b, f"/things/{thing.pk}")
        assert "last_flattr_at" in fast.json()
        _same(fast, general)


@pytest.mark.django_db
class TestTheSameRefusal:
    def test_a_revoked_personal_token(self, supporter, thing):
        token, raw = api_services.personal_token_create(user=supporter, name="x", scopes="")
        client = ApiClient(raw)
        assert client.get(f"/things/{thing.pk}").status_code == 200  # cached now
        api_services.personal_token_revoke(user=supporter, token_id=token.pk)
        fast, general = _pair(client, client, f"/things/{thing.pk}")
        assert_error(fast, 401, "unauthorized")
        assert fast["WWW-Authenticate"] == 'Bearer realm="flattr"'
        _same(fast, general)

    def test_an_unknown_token(self, thing):
        client = ApiClient("flattr_pat_nonsense")
        fast, general = _pair(client, client, f"/things/{thing.pk}")
        assert_error(fast, 401, "unauthorized")
        _same(fast, general)

    def test_an_expired_oauth_token(self, supporter, thing):
        _oauth_token(supporter, "oauth-soon", expires_in=2)
        client = ApiClient("oauth-soon")
        assert client.get(f"/things/{thing.pk}").status_code == 200  # cached now
        later = timezone.now() + dt.timedelta(seconds=5)
        with mock.patch("api.authentication.timezone.now", return_value=later):
            fast, general = _pair(client, client, f"/things/{thing.pk}")
        assert_error(fast, 401, "unauthorized")
        _same(fast, general)

    def test_a_deactivated_user(self, supporter, thing):
        client = ApiClient(token_for(supporter))
        assert client.get(f"/things/{thing.pk}").status_code == 200
        supporter.is_active = False
        supporter.save()
        fast, general = _pair(client, client, f"/things/{thing.pk}")
        assert_error(fast, 401, "unauthorized")
        _same(fast, general)

    def test_a_missing_thing_is_counted_once(self, supporter):
        a, b = ApiClient(token_for(supporter)), ApiClient(token_for(supporter))
        fast, general = _pair(a, b, "/things/987654321")
        assert_error(fast, 404, "not_found")
        assert fast["X-RateLimit-Current"] == "1"
        _same(fast, general)

    def test_over_the_hourly_limit(self, supporter, thing, settings):
        settings.FLATTR_API_RATE_LIMIT = 1
        a, b = ApiClient(token_for(supporter)), ApiClient(token_for(supporter))
        _same(*_pair(a, b, f"/things/{thing.pk}"))  # the one allowed
        fast, general = _pair(a, b, f"/things/{thing.pk}")
        assert_error(fast, 403, "rate_limit_exceeded")
        assert (fast["X-RateLimit-Current"], fast["X-RateLimit-Remaining"]) == ("2", "0")
        _same(fast, general)

    def test_anonymous_over_the_hourly_limit(self, anon, thing, settings):
        settings.FLATTR_API_RATE_LIMIT = 1
        for _ in range(2):
            fast = anon.get(f"/things/{thing.pk}", REMOTE_ADDR="192.0.2.1")
            general = anon.get(f"/things/{thing.pk}", {"full": "0"}, REMOTE_ADDR="192.0.2.2")
        assert_error(fast, 403, "rate_limit_exceeded")
        assert fast["X-RateLimit-Current"] == "2"
        _same(fast, general)


@pytest.mark.django_db
def test_the_token_read_makes_no_query_once_warm(supporter, thing):
    client = ApiClient(token_for(supporter))
    client.get(f"/things/{thing.pk}")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/things/{thing.pk}")
    assert response.status_code == 200
    assert queries.captured_queries == []


@pytest.mark.django_db
def test_another_users_token_sees_its_own_marks(thing):
    first, second = UserFactory(), UserFactory()
    FlattrFactory(supporter=first, thing=thing)
    assert ApiClient(token_for(first)).get(f"/things/{thing.pk}").json()["flattred"] is True
    assert ApiClient(token_for(second)).get(f"/things/{thing.pk}").json()["flattred"] is False


@pytest.mark.django_db
def test_the_hot_reads_do_not_go_through_drf(supporter, thing, anon):
    """Else the comparisons above compare the general path with itself."""
    token = ApiClient(token_for(supporter))
    with mock.patch("api.views.base.ApiView.initial", side_effect=AssertionError("DRF")):
        assert token.get(f"/things/{thing.pk}").status_code == 200
        assert anon.get(f"/things/{thing.pk}").status_code == 200


def _listening() -> None:
    from api import memo

    memo.get("nothing")  # starts the subscriber
    deadline = time.monotonic() + 5
    while not memo._state["listening"] and time.monotonic() < deadline:
        time.sleep(0.01)
    assert memo._state["listening"]


@pytest.mark.django_db
@pytest.mark.parametrize(("memo_seconds", "trips"), [(0, 1), (1, 0)])
def test_the_token_read_takes_one_redis_round_trip_once_warm(
    supporter, thing, settings, memo_seconds, trips
):
    """The principal and the caller's marks come back from one Lua script,
    or from the process's memo (api.memo) within a second; the hourly count
    and the public thing are held in the process for a second (their
    clocks stand still here, as within that second)."""
    from types import SimpleNamespace

    from django.core.cache import caches

    settings.FLATTR_API_MEMO_SECONDS = memo_seconds
    if memo_seconds:
        _listening()
    still = SimpleNamespace(monotonic=lambda: 1000.0, time=time.time)
    client = ApiClient(token_for(supporter))
    pool = caches["default"]._cache.get_client(None, write=True).connection_pool
    counted = []
    real = pool.get_connection

    def counting(*args, **kwargs):
        counted.append(args)
        return real(*args, **kwargs)

    with (
        mock.patch("api.ratelimit.time", still),
        mock.patch("buttons.counters.time", still),
        mock.patch("api.memo.time", still),
    ):
        client.get(f"/things/{thing.pk}")
        client.get(f"/things/{thing.pk}")
        with mock.patch.object(pool, "get_connection", counting):
            response = client.get(f"/things/{thing.pk}")
    assert response.status_code == 200 and response.json()["flattred"] is False
    assert len(counted) == trips


@pytest.mark.django_db
def test_a_change_in_another_process_empties_this_processs_memo(supporter, thing, settings):
    """Another web process's tombstone reaches this one through Redis
    pub/sub; in the same process a tombstone empties the memo at once
    (the revocation tests above)."""
    import redis
    from django.core.cache import caches

    from api import memo

    settings.FLATTR_API_MEMO_SECONDS = 30
    _listening()
    client = ApiClient(token_for(supporter))
    client.get(f"/things/{thing.pk}")
    client.get(f"/things/{thing.pk}")
    assert memo._memo, "the read was remembered"
    backend = caches["default"]
    other_process = redis.Redis.from_url(settings.REDIS_URL)
    other_process.publish(backend.make_key(memo.CHANNEL), "1")
    deadline = time.monotonic() + 2
    while memo._memo and time.monotonic() < deadline:
        time.sleep(0.005)
    assert not memo._memo
    memo.forget_all()
