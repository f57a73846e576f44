"""Production settings plus the benchmark's own URL: bench/http.py runs the
server with DJANGO_SETTINGS_MODULE=bench.settings, so production code carries
no benchmark hook."""

from flattr_site.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
