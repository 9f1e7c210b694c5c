"""The time limit that guards every check.

The limit counts CPU time: on the main thread an ``ITIMER_PROF`` timer (the process's CPU
time, user and system) interrupts the computation itself with :class:`CheckTimeout`, so a
check gets the same budget on a quiet machine and on one shared with other jobs (a
wall-clock limit turned slow-but-sound proofs into failures under load). A wall-clock
``ITIMER_REAL`` timer at :data:`WALL_FACTOR` times the limit backs it up, for a check that
waits instead of computing. A limit set inside another one never outlives it, and the
outer one is restored (both timers). On any other thread (no timer signals there) the
limit is wall-clock time: the check runs in a worker thread; when the limit expires the
caller gets :class:`CheckTimeout` at once, the worker's result (if it ever comes) is
discarded, and :class:`CheckTimeout` is *injected* into the worker
(``PyThreadState_SetAsyncExc``) so that it stops at its next Python bytecode instead of
running on in the background. SymPy is pure Python, so this stops it within a moment;
:func:`runaway_checks` counts workers that are still alive after being told to stop (so a
test can notice one).
"""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["MAX_TIMEOUT", "WALL_FACTOR", "CheckTimeout", "run_with_time_limit", "runaway_checks", "validate_timeout"]

_T = TypeVar("_T")
_REPEAT = 0.05  # seconds between repeated alarms once a limit has expired
_STOP_GRACE = 2.0  # seconds a stopped worker may take to unwind before it counts as a runaway
_workers: list[threading.Thread] = []


class CheckTimeout(BaseException):
    """Raised inside a check when its time limit expires.

    It derives from :class:`BaseException` so that SymPy's own broad
    ``except Exception`` clauses cannot swallow it.
    """


#: The wall-clock backstop of a limit on the main thread, in multiples of its CPU time.
WALL_FACTOR = 30.0


@contextmanager
def _timer(which: int, signum: int, seconds: float, clock: Callable[[], float]) -> Iterator[None]:
    """Raise CheckTimeout after ``seconds`` of ``clock`` (the timer ``which``, signal ``signum``), nested safely."""

    def _on_expiry(signum: int, frame: object) -> None:
        raise CheckTimeout

    outer, _ = signal.getitimer(which)  # a limit already running (a nested check)
    started = clock()
    previous = signal.signal(signum, _on_expiry)
    # The timer repeats: an exception raised where Python cannot propagate it (a weakref callback or __del__
    # during garbage collection prints "Exception ignored" and carries on) is raised again a moment later.
    first = min(seconds, outer) if outer > 0 else seconds
    signal.setitimer(which, first, _REPEAT)
    try:
        yield
    finally:
        signal.setitimer(which, 0)
        signal.signal(signum, previous)
        if outer > 0:  # give the enclosing limit back what is left of it (at least a moment, so it still fires)
            signal.setitimer(which, max(outer - (clock() - started), 1e-3), _REPEAT)


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """``seconds`` of CPU time, and WALL_FACTOR times as much wall-clock time, on the main thread."""
    with (
        _timer(signal.ITIMER_REAL, signal.SIGALRM, WALL_FACTOR * seconds, time.monotonic),
        _timer(signal.ITIMER_PROF, signal.SIGPROF, seconds, time.process_time),
    ):
        yield


def _stop(worker: threading.Thread) -> None:
    """Inject :class:`CheckTimeout` into ``worker`` so it unwinds at its next bytecode."""
    ident = worker.ident
    if ident is not None and worker.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(CheckTimeout))
    _workers.append(worker)


def runaway_checks(wait: float = _STOP_GRACE) -> int:
    """Number of timed-out worker threads still running after ``wait`` seconds.

    Examples
    --------
    >>> runaway_checks(0.0)
    0
    """
    for worker in list(_workers):
        worker.join(wait)
        if not worker.is_alive():
            _workers.remove(worker)
    return len(_workers)


#: The longest time limit accepted (seconds).
MAX_TIMEOUT = 3600.0


def validate_timeout(seconds: Any) -> float:
    """``seconds`` as a float if it is a finite number with 0 < seconds <= 3600, else ``ValueError`` naming timeout."""
    import math

    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ValueError(f"timeout must be a number of seconds, got {seconds!r}")
    value = float(seconds)
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise ValueError(
            f"timeout must be positive and finite, 0 < timeout <= {MAX_TIMEOUT:g} seconds; got {seconds!r}"
        )
    return value


def run_with_time_limit(function: Callable[[], _T], seconds: float) -> _T:
    """Call ``function()`` and raise :class:`CheckTimeout` after ``seconds`` of CPU time.

    Parameters
    ----------
    function : callable
        The check, without arguments.
    seconds : float
        Positive time limit: CPU seconds on the main thread (with a wall-clock backstop of
        ``WALL_FACTOR * seconds``), wall-clock seconds on any other thread.

    Returns
    -------
    object
        What ``function`` returned, only if it returned within the limit.

    Examples
    --------
    >>> run_with_time_limit(lambda: 6 * 7, 1.0)
    42
    """
    validate_timeout(seconds)
    on_main_thread = threading.current_thread() is threading.main_thread()
    if on_main_thread and hasattr(signal, "setitimer"):
        with _alarm(seconds):
            return function()

    outcome: dict[str, Any] = {}

    def _worker() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # handed back to the caller below
            outcome["error"] = error

    worker = threading.Thread(target=_worker, daemon=True, name="kfsym-check")
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        _stop(worker)
        raise CheckTimeout
    if "error" in outcome:
        raise outcome["error"]
    if "value" not in outcome:  # pragma: no cover - the worker always records one or the other
        raise CheckTimeout
    value: _T = outcome["value"]
    return value
