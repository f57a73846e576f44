"""Settings for the test suite; pytest-django loads this module (pyproject.toml).

It says "testing" through the environment before the real settings are read,
so subprocesses the tests start (with this DJANGO_SETTINGS_MODULE) agree.
"""

import os
import secrets

os.environ["FLATTR_TESTING"] = "1"
# With DEBUG off (as the suite runs) the settings want a strong key; one per
# run, shared with the subprocesses the tests start.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))

from flattr_site.settings import *  # noqa: E402, F403
from flattr_site.settings import CACHES  # noqa: E402

# Each pytest-xdist worker (gw0, gw1, ...) gets its own cache keys, as it gets
# its own database from pytest-django, so one worker's cache wipe or rate-limit
# counters never reach another's tests.
CACHES["default"]["KEY_PREFIX"] = "flattr-test-" + os.environ.get("PYTEST_XDIST_WORKER", "main")

# Every factory user gets a password: hashing it the production way (PBKDF2,
# a million rounds) would be most of the suite's time. Tests check flows, not
# hash strength.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
