"""A watchdog for every soundness test: a hung check kills the run with a traceback instead of hanging CI.

The kernel puts its own time limit (``timeout=``, CPU time on the main thread, with a wall-clock
backstop) on every check; this watchdog is the outer limit, on a different mechanism
(``faulthandler``, wall-clock), so the two never interfere. A test's budget is CPU time too, so
that a machine shared with other jobs slows the tests down without failing them.
"""

from __future__ import annotations

import faulthandler
import time
from collections.abc import Iterator

import pytest

#: CPU seconds one soundness test may take in all (its checks have their own, shorter limits).
TEST_LIMIT = 60.0
#: Wall-clock seconds after which a hung test kills the run (a hang, not a slow machine).
HANG_LIMIT = 600.0


@pytest.fixture(autouse=True)
def watchdog() -> Iterator[None]:
    faulthandler.dump_traceback_later(HANG_LIMIT, exit=True)
    started = time.process_time()
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
    elapsed = time.process_time() - started
    assert elapsed < TEST_LIMIT, f"took {elapsed:.1f} CPU seconds, over the {TEST_LIMIT:g} s limit"


@pytest.fixture(autouse=True)
def empty_kernel_caches() -> Iterator[None]:
    """Each statement is screened afresh: the memo of an earlier test (or process) never answers for it."""
    from kfsym.derive.kernel import operators, screen

    for cache in (screen._MEMO, screen._GENUINE, operators._CANONICAL):
        cache.clear()
    yield
