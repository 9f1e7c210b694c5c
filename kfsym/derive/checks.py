"""Symbolic checking methods and the time limit that guards every check.

A *check* decides whether two SymPy objects are equal. Each method reduces the
difference (or the log-ratio) of the two sides to a canonical form and returns
that *residual*; the check succeeds exactly when the residual is zero. Nothing
here ever substitutes numbers: a residual that SymPy cannot reduce to zero is a
failure, never a "probably equal".

Methods (pick the cheapest one that is reliable for the step, see
``shared/SYMPY_NOTES.md``):

``expand``
    polynomial identities: ``expand(a - b)``.
``cancel``
    rational functions: ``cancel(together(a - b))``.
``simplify``
    anything else: ``simplify(a - b)``.
``integrand``
    two integrals over the same limits (a factor free of the integration
    variable may stand outside): their integrands are compared with
    ``log_ratio``, without evaluating either integral.
``sums``
    identities between finite sums ``Sum(p[i]*f(x[i]), (i, 1, n))`` with a
    symbolic number of terms: sums are expanded over their summands, factors
    free of the summation index are pulled out, and the derivation's stated
    facts (such as ``Sum(p[i], (i, 1, n)) = 1``) are applied, until nothing
    changes; the rest is reduced with ``cancel``.
``expectation``
    like ``sums``, after pushing ``E[...]`` through sums and constants and
    applying the stated moment facts (rules listed in
    :mod:`kfsym.derive.operators`).
``nonnegative``
    the inequality ``a >= b``: SymPy must prove ``a - b`` nonnegative from the
    symbol assumptions (e.g. a probability-weighted sum of squares).
``log_ratio``
    products of positive factors such as Gaussian densities:
    ``expand_log(log a) - expand_log(log b)`` reduced with ``cancel``. Splitting
    logarithms of products is only valid for positive factors, so the method
    first requires SymPy to *prove* both sides positive from the declared
    symbol assumptions; otherwise the check fails.

Matrices are compared entry by entry. Integrals, sums and other unevaluated
objects are evaluated with ``doit()`` before the method runs.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sympy as sp

from kfsym.derive.linalg import matrix_residual, rewrite_residual
from kfsym.derive.operators import expectation_residual, normal_sums

__all__ = ["CHECK_METHODS", "CheckTimeout", "residual", "run_with_time_limit"]

_T = TypeVar("_T")


class CheckTimeout(BaseException):
    """Raised inside a check when its time limit expires.

    It derives from :class:`BaseException` so that SymPy's own broad
    ``except Exception`` clauses cannot swallow it.
    """


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def _on_alarm(signum: int, frame: object) -> None:
        raise CheckTimeout

    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_with_time_limit(function: Callable[[], _T], seconds: float) -> _T:
    """Call ``function()`` and raise :class:`CheckTimeout` after ``seconds``.

    In the main thread a ``SIGALRM`` timer interrupts the computation itself.
    In any other thread the call runs in a daemon worker thread that the caller
    stops waiting for; the caller still gets :class:`CheckTimeout` on time.
    """
    if seconds <= 0:
        raise ValueError(f"time limit must be positive, got {seconds!r}")
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

    worker = threading.Thread(target=_worker, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise CheckTimeout
    if "error" in outcome:
        raise outcome["error"]
    value: _T = outcome["value"]
    return value


def _evaluate(obj: Any) -> Any:
    """Evaluate integrals, sums, derivatives and limits left unevaluated."""
    doit = getattr(obj, "doit", None)
    return doit() if callable(doit) else sp.sympify(obj)


def _expand(a: Any, b: Any) -> Any:
    return sp.expand(a - b)


def _cancel(a: Any, b: Any) -> Any:
    return sp.cancel(sp.together(a - b))


def _simplify(a: Any, b: Any) -> Any:
    difference = sp.cancel(sp.together(a - b))
    if difference == 0:
        return difference
    if difference.has(sp.erfc):
        # erfc(u) = 1 - erf(u): one special function left, so cancellations show.
        difference = sp.expand(difference.rewrite(sp.erf))
    return sp.simplify(difference)


def _log_ratio(a: Any, b: Any) -> Any:
    for side, label in ((a, "left"), (b, "right")):
        if side.is_positive is not True:
            # log(p*q) = log p + log q needs p, q > 0: refuse rather than guess.
            return sp.Symbol(f"<{label} side not provably positive: {side}>")
    difference = sp.expand_log(sp.log(a), force=True) - sp.expand_log(sp.log(b), force=True)
    difference = sp.cancel(sp.together(sp.expand(difference)))
    return difference if difference == 0 else sp.simplify(difference)


def _single_integral(expr: Any) -> tuple[Any, Any] | None:
    """Write ``c * Integral(f, limits)`` as ``(c*f, limits)``; ``None`` if not that shape.

    Moving ``c`` under the integral sign is only valid when ``c`` does not
    depend on an integration variable, which is checked here.
    """
    if isinstance(expr, sp.Integral):
        return expr.function, expr.limits
    if isinstance(expr, sp.Mul):
        integrals = [factor for factor in expr.args if isinstance(factor, sp.Integral)]
        if len(integrals) == 1:
            (integral,) = integrals
            constant = expr / integral
            if not constant.free_symbols & set(integral.variables):
                return constant * integral.function, integral.limits
    return None


def _integrand(a: Any, b: Any) -> Any:
    left, right = _single_integral(a), _single_integral(b)
    if left is None or right is None:
        return sp.Symbol("<both sides must be a constant times one integral>")
    if left[1] != right[1]:
        return sp.Symbol(f"<integration limits differ: {left[1]} vs {right[1]}>")
    return _log_ratio(left[0], right[0])


def _sums(a: Any, b: Any, facts: dict[Any, Any]) -> Any:
    difference = normal_sums(a - b, facts)
    return sp.cancel(sp.together(sp.expand(difference)))


def _exponents_expanded(expr: Any) -> Any:
    return expr.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.cancel(sp.expand(e.args[0]))))


def _all_infinite(limits: Any) -> bool:
    return all(len(limit) == 3 and limit[1] == -sp.oo and limit[2] == sp.oo for limit in limits)


def change_of_variables(a: Any, b: Any, change: tuple[tuple[Any, Any], ...]) -> Any:
    """``a`` over old variables equals ``b`` over new ones under the affine map ``change``.

    Both sides are (a constant times) one integral over the whole space. The
    map ``old = f(new)`` must be affine with a Jacobian determinant SymPy can
    prove non-zero, so it is a bijection of R^k; then
    ``integral f(x) dx = integral f(g(z)) |det J| dz`` and the integrands are
    compared (exponents expanded, then ``cancel``).
    """
    left, right = _single_integral(a), _single_integral(b)
    if left is None or right is None:
        return sp.Symbol("<both sides must be a constant times one integral>")
    if not (_all_infinite(left[1]) and _all_infinite(right[1])):
        return sp.Symbol("<change of variables needs integrals over the whole space>")
    mapping = dict(change)
    old = [limit[0] for limit in left[1]]
    new = [limit[0] for limit in right[1]]
    if set(mapping) != set(old) or len(old) != len(new):
        return sp.Symbol(f"<the map must give each of {old} in terms of {new}>")
    jacobian = sp.Matrix([[sp.diff(mapping[o], n) for n in new] for o in old])
    if any(entry.free_symbols & set(new) for entry in jacobian):
        return sp.Symbol("<the change of variables is not affine>")
    determinant = sp.factor(jacobian.det())
    if determinant.is_zero is not False:
        return sp.Symbol(f"<Jacobian determinant {determinant} not provably non-zero>")
    transformed = left[0].xreplace(mapping) * sp.Abs(determinant)
    return sp.cancel(sp.together(_exponents_expanded(transformed) - _exponents_expanded(right[0])))


def _nonnegative(a: Any, b: Any) -> Any:
    difference = sp.factor_terms(a - b)
    if difference.is_nonnegative:
        return sp.Integer(0)
    return sp.Symbol(f"<not provably nonnegative: {difference}>")


def _ignore_facts(method: Callable[[Any, Any], Any]) -> Callable[[Any, Any, dict[Any, Any]], Any]:
    def check(a: Any, b: Any, facts: dict[Any, Any]) -> Any:
        return method(a, b)

    return check


CHECK_METHODS: dict[str, Callable[[Any, Any, dict[Any, Any]], Any]] = {
    "expand": _ignore_facts(_expand),
    "cancel": _ignore_facts(_cancel),
    "simplify": _ignore_facts(_simplify),
    "log_ratio": _ignore_facts(_log_ratio),
    "integrand": _ignore_facts(_integrand),
    "sums": _sums,
    "expectation": expectation_residual,
    "nonnegative": _ignore_facts(_nonnegative),
    "matrices": matrix_residual,
    "rewrite": rewrite_residual,
}
# Methods that compare unevaluated integrals or sums instead of evaluating them first.
_KEEP_UNEVALUATED = {"integrand", "sums", "expectation", "nonnegative", "matrices", "rewrite", "change_of_variables"}


def _is_matrix(obj: Any) -> bool:
    return isinstance(obj, sp.MatrixBase)


def residual(
    a: Any, b: Any, method: str, substitutions: dict[Any, Any], change: tuple[tuple[Any, Any], ...] = ()
) -> Any:
    """Return what is left of ``a == b`` after ``method``; zero means proved.

            Parameters
            ----------
            a, b : sympy expression or Matrix
                The two sides. Unevaluated integrals and sums are evaluated first.
            method : str
                A key of :data:`CHECK_METHODS`.
            substitutions : dict
                Definitions and stated facts, applied after evaluation
                (``{mu: (mu1*v2 + mu2*v1)/(v1+v2)}``); the ``sums`` method applies them
                again after each normalisation.

            Returns
            -------
            sympy expression or Matrix
                ``0`` (or a zero matrix) when the identity is proved.

            Examples
            --------
            >>> import sympy as sp

        from kfsym.derive.linalg import matrix_residual, rewrite_residual
    from kfsym.derive.operators import expectation_residual, normal_sums
            >>> x = sp.Symbol("x")
            >>> residual((x + 1)**2, x**2 + 2*x + 1, "expand", {})
            0
            >>> residual((x + 1)**2, x**2 + 1, "expand", {})
            2*x
    """
    if method == "change_of_variables":
        return _elementwise(
            lambda p, q, _facts: change_of_variables(p, q, change),
            sp.sympify(a).xreplace(substitutions),
            sp.sympify(b).xreplace(substitutions),
            substitutions,
        )
    try:
        check = CHECK_METHODS[method]
    except KeyError:
        known = ", ".join(sorted([*CHECK_METHODS, "change_of_variables"]))
        raise ValueError(f"unknown check method {method!r}; use one of {known}") from None
    prepare = sp.sympify if method in _KEEP_UNEVALUATED else _evaluate
    if method == "matrices":  # matrix expressions are instantiated, not substituted into
        return check(prepare(a), prepare(b), substitutions)
    return _elementwise(check, prepare(a).xreplace(substitutions), prepare(b).xreplace(substitutions), substitutions)


def _elementwise(check: Callable[[Any, Any, dict[Any, Any]], Any], left: Any, right: Any, facts: dict[Any, Any]) -> Any:
    """Apply ``check`` to two expressions, or entry by entry to two explicit matrices."""
    if _is_matrix(left) or _is_matrix(right):
        if not (_is_matrix(left) and _is_matrix(right)) or left.shape != right.shape:
            return sp.Symbol(f"<shape mismatch: {getattr(left, 'shape', ())} vs {getattr(right, 'shape', ())}>")
        entries = [check(p, q, facts) for p, q in zip(left, right, strict=True)]
        return sp.ImmutableMatrix(left.rows, left.cols, entries)
    return check(left, right, facts)


def is_zero(value: Any) -> bool:
    """True when a residual is exactly zero (a scalar 0 or a zero matrix)."""
    if _is_matrix(value):
        return all(entry == 0 for entry in value)
    return bool(value == 0)
