"""Production never starts the embedded servers nor turns DEBUG on by itself.

Without DATABASE_URL, manage.py (and anything that reads the settings: wsgi,
asgi, Celery) stops with one line naming the variable, unless DEBUG says this
is a development machine; then manage.py starts the embedded PostgreSQL.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(argv: list[str], env: dict[str, str], drop: tuple[str, ...] = ()):
    """A fresh interpreter as production starts one: not under pytest, real
    settings module, a real SECRET_KEY."""
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "flattr_site.settings",
        "SECRET_KEY": "a-real-secret-" + "x" * 40,
        **env,
    }
    for name in ("FLATTR_TESTING", *drop):
        full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_manage_without_database_url_stops_with_one_line(tmp_path):
    data_dir = tmp_path / "data"
    for debug in ({"DEBUG": "0"}, {}):
        out = _run(
            ["manage.py", "check"],
            {**debug, "FLATTR_DATA_DIR": str(data_dir)},
            drop=("DATABASE_URL", "REDIS_URL", *(() if debug else ("DEBUG",))),
        )
        assert out.returncode != 0
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1, out.stderr
        assert "DATABASE_URL" in lines[0]
        assert out.stdout == ""
        # No embedded server was started (it would have made its folder).
        assert not data_dir.exists()


def test_wsgi_and_celery_without_database_url_refuse_to_configure():
    for code in (
        "import flattr_site.wsgi",
        "import flattr_site.asgi",
        "from flattr_site.celery import app; app.conf.broker_url",
    ):
        out = _run(["-c", code], {"DEBUG": "0"}, drop=("DATABASE_URL",))
        assert out.returncode != 0, code
        last = out.stderr.strip().splitlines()[-1]
        assert "ImproperlyConfigured" in last and "DATABASE_URL" in last, out.stderr


def test_manage_with_debug_starts_the_embedded_postgres(tmp_path):
    """The development signal: DEBUG=1 (set by hand, or by `make run`)."""
    data_dir = tmp_path / "data"
    # Redis stays the suite's own: only PostgreSQL is started here.
    out = _run(
        ["manage.py", "check", "--database", "default"],
        {"DEBUG": "1", "FLATTR_DATA_DIR": str(data_dir)},
        drop=("DATABASE_URL",),
    )
    assert out.returncode == 0, out.stderr
    assert "System check identified no issues" in out.stdout
    assert (data_dir / "pg").is_dir()


def test_manage_with_database_url_and_debug_off_runs():
    out = _run(["manage.py", "check"], {"DEBUG": "0"})
    assert out.returncode == 0, out.stderr
    assert "System check identified no issues" in out.stdout
