"""With Redis away (the cache points at a closed port), public pages answer
200 with counts from PostgreSQL, login works, flattrs are recorded and
/healthz names the cache."""

import logging

import pytest
from django.urls import reverse

from buttons.models import Flattr
from core import cache as fail_soft
from tests.factories import PASSWORD, FlattrFactory, ThingFactory, UserFactory

CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings, monkeypatch):
    monkeypatch.setattr(fail_soft, "_open_until", {})
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": CLOSED_PORT},
    }
    from buttons import counters

    counters._local.clear()
    yield


@pytest.mark.django_db
class TestRedisDown:
    def test_embed_count_and_badge_answer_with_database_counts(self, client, redis_down):
        thing = ThingFactory(title="Still here")
        FlattrFactory(thing=thing)
        FlattrFactory(thing=thing)
        embed = client.get(f"/embed/{thing.pk}/")
        assert embed.status_code == 200
        assert 'id="count">2<' in embed.content.decode()
        count = client.get(f"/things/{thing.pk}/count.json")
        assert count.status_code == 200
        assert count.json() == {"thing": thing.pk, "count": 2, "month": 2}
        badge = client.get(f"/things/{thing.pk}/badge.svg")
        assert badge.status_code == 200
        assert ">2</text>" in badge.content.decode()

    def test_thing_page_explore_and_profile_answer_200(self, client, redis_down):
        creator = UserFactory(username="ana")
        thing = ThingFactory(owner=creator, title="Visible")
        FlattrFactory(thing=thing)
        for url in (thing.get_absolute_url(), "/explore/", "/u/ana/", "/"):
            response = client.get(url)
            assert response.status_code == 200, url
            assert "Visible" in response.content.decode() or url == "/"

    def test_auto_submit_embed_answers_200(self, client, redis_down):
        creator = UserFactory(username="bob")
        response = client.get(
            "/embed/auto/", {"user_id": "bob", "url": "https://bob.example/post", "title": "P"}
        )
        assert response.status_code == 200
        assert creator.pk

    def test_login_works_and_rate_limit_fails_open_with_a_log_line(
        self, client, redis_down, caplog
    ):
        UserFactory(email="me@example.org")
        with caplog.at_level(logging.WARNING, logger="core.cache"):
            response = client.post(
                reverse("account_login"), {"login": "me@example.org", "password": PASSWORD}
            )
        assert response.status_code == 302
        assert "_auth_user_id" in client.session
        assert any("cache unavailable" in r.getMessage() for r in caplog.records)

    def test_flattrs_are_recorded(self, client, redis_down, django_capture_on_commit_callbacks):
        supporter = UserFactory(wallet_cents=1000)
        thing = ThingFactory()
        client.force_login(supporter)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("flattr_confirm", args=[thing.pk]), HTTP_ACCEPT="application/json"
            )
        assert response.status_code == 200
        assert response.json()["count"] == 1
        assert Flattr.objects.filter(thing=thing, supporter=supporter).count() == 1

    def test_healthz_is_503_naming_the_cache(self, client, redis_down):
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["cache"] == "error"
        assert response.json()["database"] == "ok"

    def test_after_a_failure_the_backend_stops_trying_for_a_while(self, redis_down):
        from django.core.cache import cache

        assert cache.get("anything", "fallback") == "fallback"
        assert not cache.is_available()
        assert cache.get_many(["a", "b"]) == {}
        assert cache.add("k", 1) is True
        with pytest.raises(ValueError):
            cache.incr("k")


@pytest.mark.django_db
def test_cache_works_normally_when_redis_is_up():
    from django.core.cache import cache

    cache.set("answer", 42)
    assert cache.get("answer") == 42
    assert cache.incr("answer") == 43
    assert cache.is_available()


@pytest.mark.django_db(transaction=True)
def test_a_flattr_answers_200_when_redis_is_also_the_dead_broker(client, redis_down, monkeypatch):
    """Redis is the cache *and* Celery's broker: the event of a committed
    flattr cannot be queued, and the supporter still gets their answer."""
    from flattr_site.celery import app as celery_app

    for name, value in [
        ("task_always_eager", False),
        ("broker_url", CLOSED_PORT),
        ("result_backend", CLOSED_PORT),
    ]:
        monkeypatch.setitem(celery_app.conf, name, value)
    monkeypatch.setattr(celery_app, "_pool", None)
    supporter = UserFactory(wallet_cents=1000)
    thing = ThingFactory()
    client.force_login(supporter)
    response = client.post(
        reverse("flattr_confirm", args=[thing.pk]), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 200
    assert Flattr.objects.filter(thing=thing, supporter=supporter).count() == 1
