"""The shared Stripe limiter: all workers together stay under the rate."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest

from payments import limiter
from payments.gateways import GatewayUnreachable


def most_in_any_window(times: list[float], seconds: float = 1.0) -> int:
    """The most grants in any half-open window [t, t + seconds)."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def _hammer(until: float, out: list[float], lock: threading.Lock) -> None:
    while time.time() < until:
        limiter.stripe_slot()
        with lock:
            out.append(time.time())


def test_threads_together_never_exceed_the_rate_in_any_second(settings):
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 20
    grants: list[float] = []
    lock = threading.Lock()
    until = time.time() + 2.6
    threads = [threading.Thread(target=_hammer, args=(until, grants, lock)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most_in_any_window(grants) <= 20
    # ... and the limiter is not needlessly slow: about 20 a second.
    assert len(grants) >= 20 * 2


def _process_hammer(until: float, queue) -> None:
    times = []
    while time.time() < until:
        limiter.stripe_slot()
        times.append(time.time())
    queue.put(times)


def test_processes_share_one_window_through_redis(settings):
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 15
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    until = time.time() + 2.6
    workers = [context.Process(target=_process_hammer, args=(until, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    grants: list[float] = []
    for _ in workers:
        grants.extend(queue.get(timeout=30))
    for worker in workers:
        worker.join(timeout=10)
        assert worker.exitcode == 0
    # Four processes each pacing itself alone would grant 60 a second.
    assert most_in_any_window(grants) <= 15
    assert len(grants) >= 15 * 2


def test_a_rate_below_one_grants_one_request_per_period(settings):
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 4
    started = time.monotonic()
    for _ in range(5):
        limiter.stripe_slot()
    # Four in the first window, the fifth once the first leaves it.
    assert time.monotonic() - started >= 0.9
    assert limiter.window() == (1.0 + limiter.GUARD, 4)
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 0.5
    assert limiter.window() == (2.0 + limiter.GUARD, 1)


def test_the_deadline_gives_up_with_a_temporary_failure(settings):
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 1
    limiter.stripe_slot()
    with pytest.raises(GatewayUnreachable):
        limiter.stripe_slot(timeout=0.2)


@pytest.fixture
def no_redis(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def test_without_redis_and_debug_off_charging_waits(settings, no_redis):
    settings.DEBUG = False
    with pytest.raises(GatewayUnreachable, match="rate limiter"):
        limiter.stripe_slot()


def test_without_redis_in_debug_one_process_paces_its_threads(settings, no_redis):
    settings.DEBUG = True
    settings.STRIPE_MAX_REQUESTS_PER_SECOND = 10
    limiter._local.grants.clear()
    grants: list[float] = []
    lock = threading.Lock()
    until = time.time() + 1.6
    threads = [threading.Thread(target=_hammer, args=(until, grants, lock)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most_in_any_window(grants) <= 10
    assert len(grants) >= 10
