"""A watchdog for every soundness test: a hung check kills the run with a traceback instead of hanging CI.

The kernel puts its own time limit (``timeout=``, SIGALRM on the main thread)
on every check; this watchdog is the outer limit, on a different mechanism
(``faulthandler``), so the two never interfere.
"""

from __future__ import annotations

import faulthandler
import time
from collections.abc import Iterator

import pytest

#: Seconds one soundness test may take in all (its checks have their own, shorter limits).
TEST_LIMIT = 60.0


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    faulthandler.dump_traceback_later(TEST_LIMIT * 2, exit=True)
    started = time.perf_counter()
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
    elapsed = time.perf_counter() - started
    assert elapsed < TEST_LIMIT, f"took {elapsed:.1f} s, over the {TEST_LIMIT:g} s limit"


@pytest.fixture(autouse=True)
def empty_kernel_caches() -> Iterator[None]:
    """Each statement is screened afresh: the memo of an earlier test (or process) never answers for it."""
    from kfsym.derive.kernel import operators, screen

    for cache in (screen._MEMO, screen._GENUINE, operators._CANONICAL):
        cache.clear()
    yield
