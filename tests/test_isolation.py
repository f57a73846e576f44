"""The suite runs in parallel (pytest-xdist): workers share nothing mutable."""

import os

from django.conf import settings
from django.core.cache import cache


def test_each_worker_has_its_own_cache_keys():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    assert settings.CACHES["default"]["KEY_PREFIX"] == f"flattr-test-{worker}"
    assert cache.make_key("k").startswith(f"flattr-test-{worker}:")
