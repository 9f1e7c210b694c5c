"""The proof engine itself: errors, time limits, soundness guards, output, compile."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import sympy as sp

from kfsym.derive import Case, Derivation, ProofError, Result, Step, get, prove_equal
from kfsym.derive.checks import CheckTimeout, residual, run_with_time_limit
from kfsym.derive.kernel.timelimit import WALL_FACTOR, runaway_checks
from tests.tolerance import assert_rel

a, b = sp.symbols("a b", real=True)
p, q = sp.symbols("p q", positive=True)
x = sp.Symbol("x", real=True)


def square(steps: tuple[Step, ...], rhs: object = None) -> Derivation:
    return Derivation(
        name="test.square",
        title="square of a sum",
        lhs=(a + b) ** 2,
        rhs=a**2 + 2 * a * b + b**2 if rhs is None else rhs,
        steps=steps,
    )


def test_valid_chain_verifies_with_timings() -> None:
    d = square(
        (
            Step((a + b) * (a + b), "definition of a square", restatement=True),
            Step(a**2 + 2 * a * b + b**2, "expand", "expand"),
        )
    )
    report = d.verify()
    assert report.steps == 2
    assert len(report.step_seconds) == 2
    assert report.seconds >= 0


def test_wrong_step_names_derivation_step_and_residual() -> None:
    d = square((Step(a**2 + b**2, "forgot the cross term", "expand"), Step(a**2 + 2 * a * b + b**2, "add it back")))
    with pytest.raises(ProofError) as caught:
        d.verify()
    error = caught.value
    assert (error.derivation, error.step) == ("test.square", 1)
    assert sp.expand(error.residual - 2 * a * b) == 0
    assert "test.square, step 1" in str(error)
    assert "2*a*b" in str(error)


def test_chain_must_end_at_the_claim() -> None:
    d = square((Step((a + b) * (a + b), "definition of a square", restatement=True),))
    with pytest.raises(ProofError, match="does not end at the claim") as caught:
        d.verify()
    assert caught.value.step is None


def test_a_wrong_lemma_fails_even_off_the_chain() -> None:
    lemma = Step(a**2, "bogus lemma", "expand", lhs=(a + 1) ** 2)
    d = square((lemma, Step(a**2 + 2 * a * b + b**2, "expand", "expand")))
    with pytest.raises(ProofError) as caught:
        d.verify()
    assert caught.value.step == 1


def test_check_timeout_is_a_failure_not_a_hang() -> None:
    t = sp.Symbol("t", real=True)
    slow = sp.Integral(sp.exp(-(t**2) / 2 - t * x) * sp.sin(t) ** 3 / (1 + t**2), (t, -sp.oo, sp.oo))
    d = Derivation(name="test.slow", title="slow", lhs=slow, rhs=sp.Integer(0), steps=(Step(0, "hard"),), timeout=0.2)
    with pytest.raises(ProofError, match=r"timed out after 0\.2 s"):
        d.verify()


def test_a_swallowed_timeout_fires_again() -> None:
    """A CheckTimeout raised where Python drops it (a weakref callback or __del__) must not end the limit."""
    swallowed: list[int] = []

    def stubborn() -> None:
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline:
            try:
                while time.monotonic() < deadline:
                    pass
            except CheckTimeout:  # swallowed once, as an "Exception ignored in ..." would be
                if swallowed:
                    raise
                swallowed.append(1)

    started = time.monotonic()
    with pytest.raises(CheckTimeout):
        run_with_time_limit(stubborn, 0.1)
    assert swallowed == [1]
    assert time.monotonic() - started < 1.0


def test_the_limit_counts_cpu_time_not_waiting() -> None:
    """On the main thread the limit is CPU time: waiting (here 0.3 s, no CPU) does not use it up."""
    assert run_with_time_limit(lambda: threading.Event().wait(0.3) or 7, 0.1) == 7


def test_a_check_that_only_waits_is_stopped_by_the_wall_clock_backstop() -> None:
    started = time.monotonic()
    with pytest.raises(CheckTimeout):
        run_with_time_limit(lambda: threading.Event().wait(3.0), 0.02)  # backstop: WALL_FACTOR * 0.02 s = 0.6 s
    assert time.monotonic() - started < WALL_FACTOR * 0.02 + 2.0


def test_a_nested_limit_gives_the_outer_one_back() -> None:
    """An inner limit that ends in time restores the outer one, which still fires on its own budget."""
    inner_done: list[int] = []

    def outer() -> None:
        inner_done.append(run_with_time_limit(lambda: 1, 5.0))
        _spin()  # CPU until the outer limit (0.2 s) stops it

    started = time.process_time()
    with pytest.raises(CheckTimeout):
        run_with_time_limit(outer, 0.2)
    assert inner_done == [1]
    assert time.process_time() - started < 2.0
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)  # nothing left running afterwards
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def timeouts_off_the_main_thread(function: Any, seconds: float) -> list[BaseException]:
    """The CheckTimeouts that run_with_time_limit(function, seconds) raises in another thread (waited for 5 s)."""
    caught: list[BaseException] = []

    def worker() -> None:
        try:
            run_with_time_limit(function, seconds)
        except CheckTimeout as error:
            caught.append(error)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5.0)
    return caught


#: CPU seconds a spinning check runs if no limit stops it: a limit that never fires fails its test in this time
#: instead of hanging it (under mutation testing a hang costs a timeout of minutes).
SPIN_LIMIT = 2.0


def _spin() -> str:
    """CPU until a limit stops it, or SPIN_LIMIT CPU seconds: then it returns, and the test expecting a stop fails."""
    end = time.process_time() + SPIN_LIMIT
    while time.process_time() < end:
        pass
    return "not stopped"


def test_a_limit_that_expires_at_once_leaves_no_timer_or_handler_behind() -> None:
    """However short the limit (it may expire while being set up), both timers and handlers are restored."""
    handlers = signal.getsignal(signal.SIGPROF), signal.getsignal(signal.SIGALRM)
    for seconds in (1e-8, 1e-7, 1e-6, 1e-5) * 10:
        with pytest.raises(CheckTimeout):
            run_with_time_limit(_spin, seconds)
        assert signal.getitimer(signal.ITIMER_PROF) == signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert (signal.getsignal(signal.SIGPROF), signal.getsignal(signal.SIGALRM)) == handlers


def test_the_callers_own_alarm_is_left_alone() -> None:
    """A one-shot ITIMER_REAL of the caller's keeps its handler and its schedule; the CPU limit still holds."""
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        assert run_with_time_limit(lambda: 42, 5.0) == 42
        with pytest.raises(CheckTimeout):  # the CPU timer stops a busy check (the wall one is the caller's)
            run_with_time_limit(_spin, 0.05)
        value, interval = signal.getitimer(signal.ITIMER_REAL)
        assert 0.0 < value <= 0.5 and interval == 0.0  # still one-shot, still due
        deadline = time.monotonic() + 2.0
        while not fired and time.monotonic() < deadline:
            time.sleep(0.01)
        assert fired == [signal.SIGALRM]  # fired once, to the caller's handler
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_profilers_cpu_timer_is_left_alone_and_the_limit_uses_wall_clock_time() -> None:
    ticks: list[int] = []
    previous = signal.signal(signal.SIGPROF, lambda signum, frame: ticks.append(signum))
    try:
        signal.setitimer(signal.ITIMER_PROF, 0.01, 0.01)  # a sampling profiler
        started = time.monotonic()
        with pytest.raises(CheckTimeout):
            run_with_time_limit(lambda: threading.Event().wait(5.0), 0.1)  # no CPU: only a wall limit stops it
        assert time.monotonic() - started < 2.0
        assert signal.getitimer(signal.ITIMER_PROF)[1] == 0.01  # the profiler's timer runs on
        assert signal.getsignal(signal.SIGPROF) is not previous
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def test_a_nested_check_off_the_main_thread_is_stopped_with_its_parent() -> None:
    """An outer limit that expires stops the inner check too (the parent waits in slices and passes it on)."""
    finished: list[str] = []

    def inner() -> str:
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:
            pass
        finished.append("inner")
        return "inner"

    assert len(timeouts_off_the_main_thread(lambda: run_with_time_limit(inner, 20.0), 0.3)) == 1
    assert runaway_checks(2.0) == 0
    assert finished == []


def test_timeout_also_applies_off_the_main_thread() -> None:
    assert len(timeouts_off_the_main_thread(lambda: threading.Event().wait(1), 0.1)) == 1


def test_time_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        run_with_time_limit(lambda: 1, 0)


def test_log_ratio_refuses_sides_not_provably_positive() -> None:
    # log(a*b) = log a + log b is false for negative a, b: the method must not assume it.
    left = residual(a * b, b * a * sp.exp(0), "log_ratio", {})
    assert left != 0
    assert residual(p * q, q * p, "log_ratio", {}) == 0


def test_integrand_method_rejects_a_constant_that_depends_on_the_variable() -> None:
    t = sp.Symbol("t", positive=True)
    left = t * sp.Integral(sp.exp(-(t**2)), (t, 0, 1))  # t outside *is not* constant in the integral's t
    right = sp.Integral(t * sp.exp(-(t**2)), (t, 0, 1))
    assert residual(left, right, "integrand", {}) != 0


def test_cases_must_all_hold_and_the_failing_case_is_named() -> None:
    low, high = sp.Min(p, q), sp.Max(p, q)
    both = (Case(p <= q, {low: p, high: q}), Case(p >= q, {low: q, high: p}))
    good = Derivation(
        name="test.cases",
        title="harmonic form",
        lhs=p * q / (p + q),
        rhs=low / (1 + low / high),
        steps=(Step(low / (1 + low / high), "by cases", "cancel", cases=both),),
    )
    good.verify()
    bad = replace(
        good, rhs=low / (1 + high / low), steps=(Step(low / (1 + high / low), "by cases", "cancel", cases=both),)
    )
    with pytest.raises(ProofError, match="case"):
        bad.verify()


def test_definition_must_satisfy_the_symbols_assumptions() -> None:
    s = sp.Symbol("s", positive=True)
    d = Derivation(
        name="test.definition",
        title="a positive symbol defined as a difference",
        lhs=s,
        rhs=p - q,
        where=((s, p - q),),
        steps=(Step(p - q, "definition"),),
    )
    with pytest.raises(ProofError, match="not provably positive") as caught:
        d.verify()
    assert caught.value.step is None


def test_definitions_are_substituted_in_the_checks() -> None:
    m = sp.Symbol("m", real=True)
    d = Derivation(
        name="test.where",
        title="named mean",
        lhs=2 * m,
        rhs=a + b,
        where=((m, (a + b) / 2),),
        steps=(Step(a + b, "definition of m", "substitute", change=((m, (a + b) / 2),)),),
    )
    d.verify()
    wrong = replace(d, where=((m, (a - b) / 2),))
    with pytest.raises(ProofError):
        wrong.verify()


def test_unknown_method_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown check method 'magic'"):
        residual(a, a, "magic", {})


def test_malformed_derivations_are_rejected_at_construction() -> None:
    with pytest.raises(ValueError, match=r"topic\.name"):
        Derivation(name="nodot", title="t", lhs=a, rhs=a, steps=(Step(a, "same"),))
    with pytest.raises(ValueError, match="chained step"):
        Derivation(name="t.lemmas", title="t", lhs=a, rhs=a, steps=(Step(a, "same", lhs=a),))
    with pytest.raises(ValueError, match="definition must name a symbol"):
        Derivation(name="t.defs", title="t", lhs=a, rhs=a, steps=(Step(a, "same"),), where=((a + b, 1),))
    with pytest.raises(ValueError, match="Python identifier"):
        Derivation(name="t.def", title="t", lhs=a, rhs=a, steps=(Step(a, "same", restatement=True),))


def test_prove_equal_passes_and_fails_with_the_residual() -> None:
    prove_equal(p * q / (p + q), 1 / (1 / p + 1 / q), method="cancel")
    with pytest.raises(ProofError) as caught:
        prove_equal(p * q / (p + q), p + q, method="cancel")
    assert caught.value.derivation == "prove_equal"
    assert caught.value.residual != 0


def test_prove_equal_on_matrices() -> None:
    m = sp.Matrix([[p, 1], [0, q]])
    prove_equal(m * m.inv(), sp.eye(2), method="cancel")
    with pytest.raises(ProofError):
        prove_equal(m * m.T, m.T * m, method="cancel")


def test_latex_is_an_align_block_with_escaped_reasons() -> None:
    d = square((Step(a**2 + 2 * a * b + b**2, "50% of a_b & more", "expand"),))
    text = d.latex()
    assert text.startswith("\\begin{align*}") and text.endswith("\\end{align*}")
    assert r"\text{50$\%$ of a$\_$b $\&$ more}" in text  # special characters set as math: MathJax and LaTeX agree
    shown = d._repr_latex_()
    assert shown.startswith("$$") and d.title in shown and "\\begin{aligned}" in shown


def test_text_form_lists_claim_assumptions_and_steps() -> None:
    text = str(get("gaussian.product"))
    assert text.startswith("gaussian.product — Product of two Gaussian densities")
    assert "assuming" in text and "positive" in text
    assert "(1) multiply the exponentials" in text
    assert "(3)" in text and "where" in text


def test_compile_a_user_derivation() -> None:
    d = square((Step(a**2 + 2 * a * b + b**2, "expand", "expand"),))
    f = d.compile()
    assert f(a=1.0, b=2.0) == 9.0
    np.testing.assert_array_equal(f(np.array([0.0, 1.0]), 1.0), [1.0, 4.0])
    assert "def test_square" in f.__source__  # type: ignore[attr-defined]


def test_compile_named_result_with_several_outputs() -> None:
    s, t = sp.symbols("s t")
    result = Result("sum_and_product", (("first", p), ("second", q)), (("total", s), ("prod", t)), "both")
    d = Derivation(
        name="test.two",
        title="t",
        lhs=p,
        rhs=p,
        steps=(Step(p, "same", restatement=True),),
        where=((s, p + q), (t, p * q)),
        results=(result,),
    )
    total, product = d.compile("sum_and_product")(2.0, 3.0)
    assert (total, product) == (5.0, 6.0)
    with pytest.raises(ValueError, match="no result 'nope'"):
        d.compile("nope")


def test_compile_uses_the_variance_parameter_for_sigma_squared() -> None:
    pdf = get("gaussian.pdf").compile()
    assert_rel(pdf(0.0, 0.0, 4.0), 1 / np.sqrt(2 * np.pi * 4.0), 1e-15)


def test_registry_lookup_suggests_close_names() -> None:
    with pytest.raises(KeyError, match=r"did you mean gaussian\.product"):
        get("gaussian.prodct")


def test_registering_twice_is_an_error() -> None:
    from kfsym.derive import register

    with pytest.raises(ValueError, match="already registered"):
        register(get("gaussian.product"))


def test_a_timed_out_check_off_the_main_thread_is_stopped() -> None:
    def busy() -> int:
        total = 0
        end = time.monotonic() + SPIN_LIMIT
        while time.monotonic() < end:  # pure Python: the injected CheckTimeout stops it at the next bytecode
            total += 1
        return total

    assert len(timeouts_off_the_main_thread(busy, 0.2)) == 1
    assert runaway_checks(3.0) == 0


def test_a_timed_out_check_never_reports_success() -> None:
    # Off the main thread, a result that arrives after the limit is discarded: the caller saw CheckTimeout.
    outcome: list[object] = []

    def slow_true() -> int:
        threading.Event().wait(0.4)
        return 0

    def worker() -> None:
        try:
            outcome.append(run_with_time_limit(slow_true, 0.1))
        except CheckTimeout:
            outcome.append("timeout")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5)
    assert outcome == ["timeout"]


def test_restatement_steps_are_checked_as_restatements() -> None:
    restating = Step((a + b) * (a + b), "definition of a square")
    with pytest.raises(ProofError, match="checks nothing"):
        square((restating,), rhs=(a + b) * (a + b)).verify()
    wrong = Step(a**2 + 2 * a * b + b**2, "not a restatement", restatement=True)
    with pytest.raises(ProofError, match="marked as a restatement"):
        square((wrong,)).verify()


def test_report_lists_methods_and_falsifier_points() -> None:
    report = get("gaussian.product").verify()
    assert report.methods == ("log_ratio", "log_ratio", "log_ratio")
    assert all(points >= 1 for points in report.falsifier_points)
    assert report.hypotheses == ()
    stated = get("moments.linearity").verify()
    assert len(stated.hypotheses) == 1 and stated.hypotheses[0][1] == 1  # sum p_i = 1, stated not proved


def test_the_kernel_imports_only_sympy_mpmath_the_standard_library_and_itself() -> None:
    import ast
    import pathlib
    import sys

    from kfsym.derive import kernel

    allowed = {"sympy", "mpmath", "kfsym"}
    for path in pathlib.Path(kernel.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in allowed or top in sys.stdlib_module_names, f"{path.name} imports {name}"
                if top == "kfsym":
                    assert name.startswith("kfsym.derive.kernel"), f"{path.name} imports {name} outside the kernel"
