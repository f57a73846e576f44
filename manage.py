#!/usr/bin/env python
import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flattr_site.settings")
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        # Nothing configured: a developer's machine. Start (or join) the embedded
        # PostgreSQL and Redis under .data/, as `make run` does; settings only read URLs.
        from flattr_site import embedded

        data_dir = Path(
            os.environ.get("FLATTR_DATA_DIR", Path(__file__).resolve().parent / ".data")
        )
        os.environ.update(embedded.ensure_env(data_dir))
        os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
