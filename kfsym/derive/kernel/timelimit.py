"""The time limit that guards every check.

On the main thread the limit counts CPU time: an ``ITIMER_PROF`` timer (the CPU time of the
whole process, all its threads, user and system) interrupts the computation itself with
:class:`CheckTimeout`, so a check gets the same budget on a quiet machine and on one shared
with other jobs (a wall-clock limit turned slow-but-sound proofs into failures under load). A
wall-clock ``ITIMER_REAL`` timer at :data:`WALL_FACTOR` times the limit backs it up, for a
check that waits instead of computing. A limit set inside another one never outlives it, and
the outer one is restored, interval included. A timer that someone else is running (a
profiler's ``ITIMER_PROF``, an ``alarm``) is left alone: the limit then does without it (the
CPU timer taken: wall-clock time; both taken: the worker thread below).

On any other thread (no timer signals there) the limit is wall-clock time: the check runs in a
worker thread; when the limit expires the caller gets :class:`CheckTimeout` at once, the
worker's result (if it ever comes) is discarded, and :class:`CheckTimeout` is *injected* into
the worker (``PyThreadState_SetAsyncExc``) so that it stops at its next Python bytecode instead
of running on in the background; a worker that is itself waiting on a nested check passes the
stop on to it. SymPy is pure Python, so this stops it within a moment; :func:`runaway_checks`
counts workers that are still alive after being told to stop (so a test can notice one).

Cleaning up never depends on timing: the state a limit will restore is recorded before its
timer is armed, and its handler falls silent (raises nothing) from the first statement of the
cleanup on, so a limit that expires at any moment, however short, leaves no timer or handler
behind.
"""

from __future__ import annotations

import ctypes
import signal
import threading
import time
from collections.abc import Callable
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


class _Expiry:
    """The signal handler of one limit: raises CheckTimeout while the limit is active, nothing after."""

    kfsym_limit = True  # marks the handlers of kfsym's own limits (an outer limit, not someone else's timer)

    def __init__(self) -> None:
        self.active = True

    def __call__(self, signum: int, frame: object) -> None:
        if self.active:
            raise CheckTimeout


# (timer, signal, the handler to restore, the outer timer's (value, interval), when it was read, its clock)
_Armed = tuple[int, int, Any, tuple[float, float], float, Callable[[], float]]


# (timer, its signal, its clock)
_Timer = tuple[int, int, Callable[[], float]]


def _free(timer: _Timer) -> bool:
    """The timer is not running, or runs for an enclosing kfsym limit (so it may be nested)."""
    which, signum, _ = timer
    running, _ = signal.getitimer(which)
    return running == 0 or bool(getattr(signal.getsignal(signum), "kfsym_limit", False))


def _arm(timer: _Timer, seconds: float, expiry: _Expiry, armed: list[_Armed]) -> None:
    """Record what to restore (first), then install ``expiry`` and start the timer, never beyond an outer one."""
    which, signum, clock = timer
    outer = signal.getitimer(which)
    armed.append((which, signum, signal.getsignal(signum), outer, clock(), clock))
    signal.signal(signum, expiry)
    # The timer repeats: an exception raised where Python cannot propagate it (a weakref callback or __del__
    # during garbage collection prints "Exception ignored" and carries on) is raised again a moment later.
    signal.setitimer(which, min(seconds, outer[0]) if outer[0] > 0 else seconds, _REPEAT)


def _settle() -> None:
    """Nothing: calling it lets Python run a signal handler already due (the silent one, before it is replaced)."""


def _disarm(armed: list[_Armed]) -> None:
    """Stop every timer and restore its handler, then restart the outer timers with what is left of them."""
    for which, _, _, _, _, _ in armed:
        signal.setitimer(which, 0)
    _settle()
    for _, signum, previous, _, _, _ in reversed(armed):
        signal.signal(signum, previous)
    for which, _, _, (value, interval), started, clock in armed:
        if value > 0:  # give the enclosing limit back what is left of it (at least a moment, so it still fires)
            signal.setitimer(which, max(value - (clock() - started), 1e-3), interval)


# (getattr: Windows has neither timer, and never takes this path)
_CPU: _Timer = (getattr(signal, "ITIMER_PROF", 0), getattr(signal, "SIGPROF", 0), time.process_time)
_WALL: _Timer = (getattr(signal, "ITIMER_REAL", 0), getattr(signal, "SIGALRM", 0), time.monotonic)


def _on_main_thread(function: Callable[[], _T], seconds: float) -> _T:
    """``function()`` under ``seconds`` of CPU time (and WALL_FACTOR times as much wall-clock time)."""
    cpu, wall = _free(_CPU), _free(_WALL)
    if not (cpu or wall):
        return _in_worker(function, seconds)  # both timers are someone else's: wall-clock, in a worker
    expiry = _Expiry()
    armed: list[_Armed] = []
    try:
        if wall:  # the backstop, or the limit itself when the CPU timer is someone else's
            _arm(_WALL, WALL_FACTOR * seconds if cpu else seconds, expiry, armed)
        if cpu:
            _arm(_CPU, seconds, expiry, armed)
        return function()
    finally:
        expiry.active = False  # first, before any call: from here on the handler raises nothing
        _disarm(armed)


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
    end = time.monotonic() + wait
    while True:  # workers told to stop meanwhile (a nested check's, stopped by its parent) count too
        _workers[:] = [worker for worker in _workers if worker.is_alive()]
        left = end - time.monotonic()
        if not _workers or left <= 0:
            return len(_workers)
        _workers[0].join(min(left, _REPEAT))


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
        return _on_main_thread(function, seconds)
    return _in_worker(function, seconds)


def _in_worker(function: Callable[[], _T], seconds: float) -> _T:
    """``function()`` in a worker thread, stopped after ``seconds`` of wall-clock time."""
    outcome: dict[str, Any] = {}
    finished = threading.Event()

    def _worker() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # handed back to the caller below
            outcome["error"] = error
        finally:
            finished.set()

    worker = threading.Thread(target=_worker, daemon=True, name="kfsym-check")
    deadline = time.monotonic() + seconds
    worker.start()
    try:
        # Waits in slices, so that a stop injected into this thread (it may be a worker itself) lands within one;
        # on an Event, not worker.join: an exception that interrupts join marks the running thread as stopped.
        while not finished.is_set() and (remaining := deadline - time.monotonic()) > 0:
            finished.wait(min(remaining, _REPEAT))
    except CheckTimeout:  # this thread was told to stop (an enclosing limit expired): so is its check
        _stop(worker)
        raise
    if not finished.is_set():
        _stop(worker)
        raise CheckTimeout
    if "error" in outcome:
        raise outcome["error"]
    if "value" not in outcome:  # pragma: no cover - the worker always records one or the other
        raise CheckTimeout
    value: _T = outcome["value"]
    return value
