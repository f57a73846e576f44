#!/usr/bin/env python
import os
import sys
from pathlib import Path

NO_DATABASE = (
    "DATABASE_URL is not set: set it to your PostgreSQL "
    "(postgres://user:password@host:5432/name), or set DEBUG=1 on a development "
    "machine to start the embedded PostgreSQL and Redis under .data/ (make run does)."
)


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flattr_site.settings")
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        import environ

        # The development signal is DEBUG, set on purpose (`make run` sets it):
        # a production process missing DATABASE_URL stops here, and with REDIS_URL
        # unset uses the settings' local Redis; it never starts a server itself.
        if not environ.Env().bool("DEBUG", default=False):
            if not os.environ.get("DATABASE_URL"):
                sys.exit(NO_DATABASE)
        else:
            from flattr_site import embedded

            if not embedded.installed():  # the production image has no embedded extra
                sys.exit(
                    "DATABASE_URL is not set and the embedded PostgreSQL and Redis are not "
                    "installed here (requirements/dev.txt has them: make venv)."
                )
            data_dir = Path(
                os.environ.get("FLATTR_DATA_DIR", Path(__file__).resolve().parent / ".data")
            )
            os.environ.update(embedded.ensure_env(data_dir))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
