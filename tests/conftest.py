import itertools
import os
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db.backends.postgresql.operations import DatabaseOperations as _PostgresOperations
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis.database import DirectoryBasedExampleDatabase

from flattr_site.celery import app as celery_app

# Property tests keep the examples they found (failures first) in one example
# database at the repository root, replayed by every later run and profile.
# HYPOTHESIS_PROFILE picks how hard they search: "dev" (the default), "ci"
# (seconds; the default when CI is set) or "deep" (`make test-deep`, minutes).
_examples = DirectoryBasedExampleDatabase(Path(__file__).resolve().parent.parent / ".hypothesis")
_common = {
    "database": _examples,
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
hypothesis_settings.register_profile("dev", max_examples=40, **_common)
hypothesis_settings.register_profile("ci", max_examples=10, **_common)
hypothesis_settings.register_profile("deep", max_examples=2_000, **_common)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

# Tasks run in-process during tests: the real task functions, no broker hop.
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True

# The ledger refuses TRUNCATE (ledger migration 0007). Between transactional
# tests Django empties the database with one TRUNCATE: it runs as a replica
# session (superuser only), where user triggers stay quiet.
_sql_flush = _PostgresOperations.sql_flush


def _sql_flush_past_ledger_guards(self, style, tables, **kwargs):
    sql = _sql_flush(self, style, tables, **kwargs)
    return ["SET LOCAL session_replication_role = replica", *sql] if sql else sql


_PostgresOperations.sql_flush = _sql_flush_past_ledger_guards


def _clear_cache() -> None:
    """Drop our keys only: a shared Redis may also serve `make run`."""
    client = cache._cache.get_client(write=True)
    prefix = cache.make_key("")
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def allow_loopback(settings):
    """The safe fetcher may reach a LocalSite (tests/localsite.py)."""
    settings.FETCH_ALLOWED_HOSTS = []
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture(autouse=True)
def english_first():
    """Each test starts in the default language: a request with a French
    Accept-Language (or a notice rendered in French) leaves its language
    active in the thread, which would make the next test's messages French."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def clean_cache():
    from buttons import counters

    _clear_cache()
    counters._local.clear()
    yield


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def staff(db):
    from tests.factories import UserFactory

    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def test_mode(settings):
    """No Stripe keys, DEBUG on: top-ups and payouts go through the test-mode
    stand-in gateway."""
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""


def _fake_stripe(settings, fake_class):
    """The real ``stripe`` library talking to a ``FakeStripe`` (or subclass)
    instead of the network, with the routes top-ups and withdrawals use."""
    from payments import stripe_client
    from tests.stripe_fake import WEBHOOK_SECRET

    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.SITE_URL = "http://testserver"
    fake = fake_class()
    stripe_client.HTTP_CLIENT_FACTORY = lambda: fake
    sessions = itertools.count(1)
    transfers = itertools.count(1)

    def create_session(params, call):
        n = next(sessions)
        return {
            "id": f"cs_test_{n}",
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/cs_test_{n}",
            "client_reference_id": params.get("client_reference_id"),
        }

    fake.route("post", "/v1/checkout/sessions", create_session)
    fake.route(
        "post",
        "/v1/transfers",
        lambda params, call: {
            "id": f"tr_{next(transfers)}",
            "object": "transfer",
            "amount": int(params["amount"]),
        },
    )
    fake.route("post", "/v1/accounts", {"id": "acct_1", "object": "account"})
    fake.route(
        "post",
        "/v1/account_links",
        {"object": "account_link", "url": "https://connect.stripe.com/setup/e/acct_1/xyz"},
    )
    return fake


@pytest.fixture
def stripe_fake(settings):
    """A ``FakeStripe`` in place of the network. Tests add or override routes."""
    from payments import stripe_client
    from tests.stripe_fake import FakeStripe

    yield _fake_stripe(settings, FakeStripe)
    stripe_client.HTTP_CLIENT_FACTORY = None


@pytest.fixture
def watching_stripe(settings):
    """The same routes through a ``WatchingStripe``: it notes whether a
    database transaction was open at each call, and can lose answers."""
    from payments import stripe_client
    from tests.stripe_fake import WatchingStripe

    yield _fake_stripe(settings, WatchingStripe)
    stripe_client.HTTP_CLIENT_FACTORY = None


def database_url_for_subprocess() -> str:
    """A DATABASE_URL that points a child process at the test database,
    whether it is on a TCP server or the embedded one's unix socket."""
    from django.db import connection

    s = connection.settings_dict
    host = s["HOST"] or s.get("OPTIONS", {}).get("host", "")
    auth = f"{s['USER']}:{s['PASSWORD'] or ''}"
    if host.startswith("/"):
        return f"postgresql://{auth}@/{s['NAME']}?host={host}"
    return f"postgresql://{auth}@{host or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


# The shared fakes of outside services (tests/fakes): mastodon_fake, github_fake.
from tests.fakes import github_fake, mastodon_fake  # noqa: E402, F401
