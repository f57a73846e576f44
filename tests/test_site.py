import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError

from accounts.models import User
from flattr_site.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent


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


@pytest.mark.django_db
def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    counts = {User: User.objects.count()}
    call_command("seed_demo")
    assert User.objects.count() == counts[User] == 6
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff and admin.is_superuser
    assert admin.check_password("flattr-demo")


def _settings_in_subprocess(env: dict, expr: str):
    code = f"import json, django; from django.conf import settings; print(json.dumps({expr}))"
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "flattr_site.settings", **env}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_settings_come_from_the_environment():
    values = _settings_in_subprocess(
        {
            "DEBUG": "1",
            "FLATTR_MIN_BUDGET_CENTS": "300",
            "FLATTR_FEE_PERCENT": "7",
            "PAYOUT_TIMEZONE": "Europe/Paris",
            "ALLOWED_HOSTS": "a.example,b.example",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        },
        "[settings.DEBUG, settings.FLATTR_MIN_BUDGET_CENTS, settings.FLATTR_FEE_PERCENT,"
        " settings.PAYOUT_TIMEZONE, settings.ALLOWED_HOSTS, settings.CELERY_BROKER_URL]",
    )
    assert values == [
        True,
        300,
        7,
        "Europe/Paris",
        ["a.example", "b.example"],
        "redis://127.0.0.1:6379/3",
    ]


def test_redis_socket_url_is_spelled_for_celery():
    from flattr_site.settings import celery_url

    assert celery_url("unix:///tmp/x/redis.socket") == "redis+socket:///tmp/x/redis.socket"
    assert celery_url("redis://h:6379/0") == "redis://h:6379/0"


def test_https_settings_turn_on_secure_cookies():
    values = _settings_in_subprocess(
        {"HTTPS": "1", "DEBUG": "0"},
        "[settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE, settings.SECURE_HSTS_SECONDS > 0]",
    )
    assert values == [True, True, True]
