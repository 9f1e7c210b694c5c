"""The time limit every check runs under (kfsym/derive/kernel/timelimit.py), checked directly.

A result within the limit is returned and an exception passed on; off the main thread a computation past the
limit is stopped with CheckTimeout and the worker is told to stop, and does; the limit itself must be a finite
number of seconds in (0, 3600]. The main thread's timers (CPU time with a wall-clock backstop, nested, others'
timers left alone, nothing left behind however short the limit) are tested in tests/test_engine.py.
"""

from __future__ import annotations

import math
import threading
import time

import pytest

from kfsym.derive.kernel.timelimit import MAX_TIMEOUT, CheckTimeout, _in_worker, run_with_time_limit, runaway_checks
from kfsym.derive.kernel.timelimit import validate_timeout as valid

#: Generous bounds: the limits below are 0.1-0.3 s, a stop must come well before these.
LATE = 5.0


def _spin(seconds: float = 30.0) -> str:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "finished"


def _boom() -> None:
    raise KeyError("inner")


def test_a_result_within_the_limit_is_returned_and_an_error_passed_on() -> None:
    assert run_with_time_limit(lambda: 6 * 7, 1.0) == 42
    with pytest.raises(KeyError, match="inner"):
        run_with_time_limit(_boom, 1.0)


def test_off_the_main_thread_a_late_worker_is_stopped() -> None:
    outcome: dict[str, object] = {}

    def caller() -> None:
        try:
            outcome["quick"] = run_with_time_limit(lambda: 6 * 7, 1.0)
            try:
                run_with_time_limit(_boom, 1.0)
            except KeyError as error:
                outcome["error"] = error
            started = time.monotonic()
            try:
                run_with_time_limit(_spin, 0.1)
            except CheckTimeout:
                outcome["stopped after"] = time.monotonic() - started
        except BaseException as error:  # reported below
            outcome["unexpected"] = error

    thread = threading.Thread(target=caller)
    thread.start()
    thread.join(LATE * 2)
    assert outcome.get("quick") == 42 and isinstance(outcome.get("error"), KeyError)
    assert "unexpected" not in outcome
    assert isinstance(outcome.get("stopped after"), float) and outcome["stopped after"] < LATE
    assert runaway_checks(LATE) == 0  # the worker was told to stop, and stopped


def test_a_check_off_the_main_thread_runs_in_a_daemon_worker_and_its_own_error_is_passed_on() -> None:
    """The worker is a daemon named kfsym-check (a runaway never holds up exit); the very error it raised comes back."""
    worker = _in_worker(threading.current_thread, 1.0)
    assert worker is not threading.current_thread() and worker.daemon and worker.name == "kfsym-check"
    error = ValueError("inner")

    def fail() -> None:
        raise error

    with pytest.raises(ValueError, match="inner") as raised:
        _in_worker(fail, 1.0)
    assert raised.value is error


def test_a_stopped_worker_passes_the_stop_on_to_the_check_it_waits_on() -> None:
    """An outer limit that expires while its worker waits on a nested check stops the nested check's worker too."""
    how: list[str] = []
    ended = threading.Event()

    def nested() -> str:
        try:
            how.append(_spin(2 * LATE))
        except CheckTimeout:
            how.append("stopped")
            raise
        finally:
            ended.set()
        return how[0]

    with pytest.raises(CheckTimeout):
        _in_worker(lambda: _in_worker(nested, 30.0), 0.2)
    assert ended.wait(LATE) and how == ["stopped"]
    assert runaway_checks(LATE) == 0


def test_a_stopped_worker_still_running_is_a_runaway_until_it_ends() -> None:
    """runaway_checks(wait) counts a stopped worker alive after ``wait`` seconds, and waits up to ``wait`` for it."""
    assert runaway_checks(LATE) == 0
    release = threading.Event()
    with pytest.raises(CheckTimeout):
        _in_worker(lambda: release.wait(LATE), 0.05)  # blocked in C: the stop lands only once it is released
    try:
        assert runaway_checks(0.0) == 1  # not waited for: still running
    finally:
        threading.Timer(0.05, release.set).start()
    assert runaway_checks(1.0) == 0  # released within the wait: it stopped, so it is no runaway


@pytest.mark.parametrize("seconds", [1e-3, 1, 2.5, MAX_TIMEOUT])
def test_finite_limits_up_to_an_hour_are_valid(seconds: float) -> None:
    assert valid(seconds) == float(seconds) and isinstance(valid(seconds), float)


@pytest.mark.parametrize("seconds", [0, -1.0, MAX_TIMEOUT + 1, math.inf, math.nan])
def test_other_numbers_are_not(seconds: float) -> None:
    with pytest.raises(ValueError, match=r"^timeout must be positive and finite, 0 < timeout <= 3600 seconds"):
        valid(seconds)


@pytest.mark.parametrize("seconds", [True, "1", None, [1]])
def test_non_numbers_are_not(seconds: object) -> None:
    with pytest.raises(ValueError, match=r"^timeout must be a number of seconds"):
        valid(seconds)
    with pytest.raises(ValueError, match="timeout"):
        run_with_time_limit(lambda: 1, seconds)  # type: ignore[arg-type]
