"""Settings come from the environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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
