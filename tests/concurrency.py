"""Racing requests and workers, for tests of what must happen exactly once."""

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

T = TypeVar("T")


def at_once(n: int, work: Callable[[int], T]) -> list[T | Exception]:
    """Run ``work(0)`` ... ``work(n - 1)`` in ``n`` threads released together
    by one barrier, as racing requests or workers would. Each thread uses and
    then closes its own database connection (tests need
    ``django_db(transaction=True)`` to see each other's commits). Returns, in
    order, what each call returned or the exception it raised."""
    barrier = threading.Barrier(n)
    results: list[T | Exception] = [RuntimeError("did not run")] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test decides what is expected
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
