"""The health check names what is down."""

import pytest
from django.db import OperationalError

from flattr_site.celery import app as celery_app


@pytest.mark.django_db
def test_healthz_all_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_healthz_names_a_down_cache(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["cache"] == "error"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_healthz_names_a_down_broker(client):
    old = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        celery_app.conf.broker_url = old
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "ok", "broker": "error"}


@pytest.mark.django_db
def test_healthz_names_a_down_database(client, monkeypatch):
    from django.db.backends.postgresql.base import DatabaseWrapper

    def refuse(self, *args, **kwargs):
        raise OperationalError("connection refused")

    # The outside world (the PostgreSQL server) is what fails here.
    monkeypatch.setattr(DatabaseWrapper, "create_cursor", refuse)
    response = client.get("/healthz")
    monkeypatch.undo()
    assert response.status_code == 503
    assert response.json()["database"] == "error"
