"""An independent numeric falsifier: defence in depth behind the symbolic checks.

After the kernel accepts a statement ``lhs = rhs`` (or ``lhs >= rhs``) it
evaluates both sides with mpmath, at 30 significant digits, at a few random
*admissible* points: each free symbol gets a value that satisfies every
assumption declared on it (SymPy's own assumption system is asked about the
candidate number: ``positive``, ``integer``, ``nonzero``, ...), matrix symbols
get random integer matrices (symmetric where declared symmetric), and indexed
draws ``x[i]`` get random values once the sums over them are finite. Points
where a side cannot be evaluated to a number (any exception) are skipped.
Integrals are evaluated by mpmath quadrature of a function made by
``lambdify`` from a copy of the integrand in which *every* symbol has a
generated name: no name a user chose ever reaches generated code.

The falsifier can only *veto*: when the sides differ at an admissible point
the statement was accepted wrongly, which is a defect of the engine, and the
kernel reports it as such. It never makes a failed check pass. It is seeded
(the same statement always gets the same points) and has a time budget.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy as sp

from kfsym.derive.kernel.timelimit import CheckTimeout, run_with_time_limit

__all__ = ["Counterexample", "falsify"]

DIGITS = 30
#: Sides differing by more than this (relative to max(1, |lhs|, |rhs|)) refute the statement.
TOLERANCE = mpmath.mpf(10) ** -18
_UNEVALUABLE = (sp.Limit, sp.Derivative, sp.Order)


@dataclass(frozen=True)
class Counterexample:
    """An admissible point where the two sides differ numerically."""

    point: dict[Any, Any]
    left: Any
    right: Any

    def __str__(self) -> str:
        shown = ", ".join(f"{k} = {v}" for k, v in sorted(self.point.items(), key=lambda kv: str(kv[0])))
        return f"at {shown}: left {mpmath.nstr(self.left, 12)}, right {mpmath.nstr(self.right, 12)}"


def _admissible(symbol: Any, value: Any) -> bool:
    return all(getattr(value, f"is_{key}", None) == wanted for key, wanted in symbol.assumptions0.items())


def _candidate(symbol: Any, rng: random.Random) -> Any:
    if symbol.is_integer:
        return sp.Integer(rng.randint(-6, 6))
    if symbol.is_irrational or symbol.is_transcendental:
        # No rational number is admissible: a nonzero rational multiple of sqrt(2) or of pi.
        factor = sp.pi if symbol.is_transcendental else sp.sqrt(rng.choice((2, 3, 5)))
        return sp.Rational(rng.choice((-1, 1)) * rng.randint(1, 9), rng.randint(1, 4)) * factor
    rational = sp.Rational(rng.randint(-9, 9), rng.randint(1, 4))
    if symbol.is_real or symbol.is_extended_real:
        return rational
    return rational + sp.I * sp.Rational(rng.randint(-9, 9), rng.randint(1, 4))


def _value_for(symbol: Any, rng: random.Random) -> Any:
    for _ in range(400):
        value = _candidate(symbol, rng)
        if _admissible(symbol, value):
            return value
    return None


def _matrix_for(symbol: Any, symmetric: bool, rng: random.Random) -> Any:
    rows, cols = (int(d) for d in symbol.shape)
    entries = [[sp.Integer(rng.randint(-5, 5)) for _ in range(cols)] for _ in range(rows)]
    if symmetric:
        for r in range(rows):
            for c in range(r):
                entries[r][c] = entries[c][r]
    return sp.ImmutableMatrix(entries)


def _as_mpc(value: Any, digits: int = DIGITS) -> Any:
    if not isinstance(value, sp.Basic) or value.free_symbols or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    real, imaginary = value.as_real_imag()
    if not (real.is_Number and imaginary.is_Number):
        return None
    prec = int(digits * 3.33) + 20
    return mpmath.mpc(real._to_mpmath(prec), imaginary._to_mpmath(prec))


def _quadrature(integral: Any, digits: int = DIGITS) -> Any:
    """The value of a definite integral with numeric limits by mpmath quadrature, as a 30-digit Float."""
    limits = []
    for limit in integral.limits:
        if len(limit) != 3:
            raise ValueError("indefinite integral")
        ends = []
        for end in limit[1:]:
            if end == sp.oo:
                ends.append(mpmath.inf)
            elif end == -sp.oo:
                ends.append(-mpmath.inf)
            else:
                value = _as_mpc(sp.N(end, digits), digits)
                if value is None or value.imag != 0:
                    raise ValueError("limit is not a real number")
                ends.append(value.real)
        limits.append(ends)
    variables = [limit[0] for limit in integral.limits]
    if integral.function.free_symbols - set(variables):
        raise ValueError("integrand has free symbols")
    safe, renamed = _safe_names(integral.function, variables)
    function = sp.lambdify(renamed[::-1], safe, modules="mpmath")
    with mpmath.workdps(digits + 10):
        value, error = mpmath.quad(function, *limits[::-1], error=True)
        if abs(error) > mpmath.mpf(10) ** (-digits + 8) * max(1, abs(value)):
            raise ArithmeticError("quadrature did not converge")
        real, imaginary = mpmath.mpmathify(value).real, mpmath.mpmathify(value).imag
        return sp.Float(real, digits + 10) + sp.I * sp.Float(imaginary, digits + 10)


_SAFE_NAME = re.compile(r"_kfsym_v[0-9]+")


def _safe_names(expr: Any, variables: list[Any]) -> tuple[Any, list[Any]]:
    """``expr`` with *every* symbol (free or bound, Dummy, indexed labels) renamed to a generated safe name.

    ``lambdify`` prints names verbatim into the Python source it executes; a
    user's symbol name must never reach it. Undefined functions and matrix
    symbols (whose names would also be printed) are refused.
    """
    if expr.atoms(sp.core.function.AppliedUndef) or expr.atoms(sp.MatrixSymbol) or expr.atoms(sp.Wild):
        raise ValueError("integrand has named functions or matrices: not evaluated")
    for node in sp.preorder_traversal(expr):
        if not type(node).__module__.startswith("sympy."):
            raise ValueError(f"integrand has a non-SymPy node {type(node).__name__}: not evaluated")
    symbols = sorted(expr.atoms(sp.Symbol) | set(variables), key=sp.default_sort_key)
    mapping = {s: sp.Symbol(f"_kfsym_v{k}", **s.assumptions0) for k, s in enumerate(symbols)}
    safe = expr.xreplace(mapping)
    leftover = [s for s in safe.atoms(sp.Symbol) if not _SAFE_NAME.fullmatch(s.name)]
    if leftover:
        raise ValueError("a symbol could not be renamed: not evaluated")
    return safe, [mapping[v] for v in variables]


def _integrals_evaluated(expr: Any, digits: int = DIGITS) -> Any:
    return expr.replace(lambda node: isinstance(node, sp.Integral), lambda node: _quadrature(node, digits))


def _numbers(obj: Any, digits: int = DIGITS) -> list[Any] | None:
    """The entries of ``obj`` evaluated to 30 digits, or ``None`` when some entry is not a number."""
    if isinstance(obj, sp.MatrixExpr) and not isinstance(obj, sp.MatrixBase):
        obj = obj.doit()
        obj = obj.as_explicit() if isinstance(obj, sp.MatrixExpr) else obj
    entries = list(obj) if isinstance(obj, sp.MatrixBase) else [obj]
    values = []
    for stated in entries:
        functions = stated.atoms(sp.Function)
        opaque = any(
            type(f).__module__.startswith("kfsym") or isinstance(f, sp.core.function.AppliedUndef) for f in functions
        )
        if stated.has(*_UNEVALUABLE) or opaque:
            return None
        entry = _integrals_evaluated(stated, digits) if stated.has(sp.Integral) else stated
        value = _as_mpc(sp.N(entry, digits), digits)
        if value is None:
            return None
        values.append(value)
    return values


def _replace_draws(expr: Any, draws: dict[Any, Any], rng: random.Random) -> Any:
    """Give each indexed draw ``x[k]`` with a concrete index a random real value (the same one each time)."""

    def value(indexed: Any) -> Any:
        if indexed not in draws:
            draws[indexed] = _value_for(indexed.base.label, rng)  # the label carries the base's assumptions
            if draws[indexed] is None:
                raise ValueError(f"no admissible value for {indexed}")
        return draws[indexed]

    def replace(e: Any) -> Any:
        return e.replace(lambda node: isinstance(node, sp.Indexed) and all(i.is_Integer for i in node.indices), value)

    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(replace)
    return replace(expr)


def _instantiate(
    expr: Any, point: dict[Any, Any], matrices: dict[Any, Any], draws: dict[Any, Any], rng: random.Random
) -> Any:
    value = expr.xreplace({**point, **matrices}) if point or matrices else expr
    if value.has(sp.Indexed) if isinstance(value, sp.Basic) else any(e.has(sp.Indexed) for e in value):
        value = value.doit()
        value = _replace_draws(value, draws, rng)
    return value


def _free(obj: Any) -> set[Any]:
    return set(obj.free_symbols) if isinstance(obj, (sp.Basic, sp.MatrixBase)) else set()


def falsify(
    lhs: Any,
    rhs: Any,
    *,
    relation: str = "=",
    symmetric: frozenset[str] = frozenset(),
    seed: int = 0,
    points: int = 3,
    budget: float = 1.0,
    weights: Mapping[Any, tuple[Any, Any]] | None = None,
) -> tuple[int, Counterexample | None]:
    """Evaluate ``lhs`` and ``rhs`` at random admissible points.

    Parameters
    ----------
    lhs, rhs : sympy expression, Matrix or matrix expression
        The statement, with every definition already substituted.
    relation : str
        ``"="`` or ``">="``.
    symmetric : frozenset of str
        Names of matrix symbols declared symmetric.
    seed : int
        Seed of the point generator (the caller derives it from the statement).
    points : int
        Number of admissible points to try.
    budget : float
        Seconds for all points together; points not reached are skipped.
    weights : mapping, optional
        ``{p: (lo, hi)}`` for indexed bases stated to sum to one over
        ``lo..hi`` (probabilities): their values are drawn positive and
        normalised, so the statement is tested where its hypothesis holds.

    Returns
    -------
    (int, Counterexample or None)
        How many points were evaluated, and a counterexample if one was found.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", positive=True)
    >>> falsify(sp.sqrt(x**2), x)[1] is None
    True
    >>> falsify(sp.sqrt(x**2), -x)[1] is not None
    True
    """
    found: dict[str, Any] = {"tested": 0, "counterexample": None}
    weights = dict(weights or {})

    def run() -> None:
        rng = random.Random(seed)
        free = _free(lhs) | _free(rhs)
        if any(not s.is_commutative for s in free if not isinstance(s, sp.MatrixSymbol)):
            return  # non-commuting symbols (abstract matrices) have no numeric values here
        labels = {i.label for e in (lhs, rhs) for i in _atoms(e, sp.IndexedBase)}
        symbols = sorted((s for s in free if isinstance(s, sp.Symbol) and s not in labels), key=sp.default_sort_key)
        matrix_symbols = sorted({m for e in (lhs, rhs) for m in _atoms(e, sp.MatrixSymbol)}, key=lambda m: m.name)
        if any(not all(d.is_Integer for d in m.shape) for m in matrix_symbols):
            return
        for _ in range(points):
            point = {s: _value_for(s, rng) for s in symbols}
            if any(v is None for v in point.values()):
                return
            try:
                matrices = {m: _matrix_for(m, m.name in symmetric, rng) for m in matrix_symbols}
                draws = _weights_for(weights, point, rng)
                functions = _functions_for(lhs, rhs, rng)
                left_expr = _instantiate(_with_functions(lhs, functions), point, matrices, draws, rng)
                right_expr = _instantiate(_with_functions(rhs, functions), point, matrices, draws, rng)
                left, right = _numbers(left_expr), _numbers(right_expr)
            except _SKIPPED:
                continue  # not evaluable at this point (a singular matrix, a pole): skip it
            if left is None or right is None or len(left) != len(right):
                continue
            found["tested"] += 1
            if not _differ(left, right, relation):
                continue
            # Confirm at twice the precision before calling it a counterexample (quadrature can mislead).
            try:
                with mpmath.workdps(2 * DIGITS + 10):
                    left, right = _numbers(left_expr, 2 * DIGITS), _numbers(right_expr, 2 * DIGITS)
                    confirmed = left is not None and right is not None and _differ(left, right, relation)
            except _SKIPPED:
                confirmed = False
            if confirmed and left is not None and right is not None:
                shown = {**point, **{m: matrices[m].tolist() for m in matrices}}
                bad = next(k for k in range(len(left)) if _differ([left[k]], [right[k]], relation))
                found["counterexample"] = Counterexample(shown, left[bad], right[bad])
                return

    try:
        with mpmath.workdps(DIGITS + 10):  # every comparison at 40 digits, not at the global 15
            run_with_time_limit(run, budget)
    except CheckTimeout:
        pass  # out of time: the points not reached are skipped, never counted as evidence
    return found["tested"], found["counterexample"]


# Any failure to evaluate a point (a pole, a singular matrix, a NameError of lambdify for a function mpmath
# lacks, RecursionError, ...) skips that point: it is never evidence, and never crashes the check.
_SKIPPED = (Exception,)


def _functions_for(lhs: Any, rhs: Any, rng: random.Random) -> dict[Any, Any]:
    """A random polynomial (rational coefficients) for each undefined function ``f`` with no assumptions.

    A statement about an arbitrary ``f`` holds for every concrete ``f``, so testing it with a random
    polynomial is admissible; functions declared real, positive, ... keep their opaque form (points skipped).
    """
    found: dict[Any, Any] = {}
    # A function under an integral or a sum stays opaque: a polynomial could make a convergent statement diverge.
    under = {
        type(f)
        for kind in (sp.Integral, sp.Sum, sp.Product)
        for node in _atoms(lhs, kind) | _atoms(rhs, kind)
        for f in node.atoms(sp.core.function.AppliedUndef)
    }
    for node in _atoms(lhs, sp.core.function.AppliedUndef) | _atoms(rhs, sp.core.function.AppliedUndef):
        cls = type(node)
        if cls in found or cls in under or any(key.startswith("is_") for key in vars(cls)):
            continue
        arguments = [sp.Dummy(f"a{k}") for k in range(len(node.args))]
        value = sp.Rational(rng.randint(-9, 9), rng.randint(1, 4))
        for argument in arguments:
            value += sp.Rational(rng.randint(-9, 9), rng.randint(1, 4)) * argument
            value += sp.Rational(rng.randint(-9, 9), rng.randint(1, 4)) * argument**2
        found[cls] = sp.Lambda(tuple(arguments), value)
    return found


def _with_functions(obj: Any, functions: dict[Any, Any]) -> Any:
    if not functions:
        return obj

    def concrete(node: Any) -> Any:
        return functions[type(node)](*node.args)

    def known(node: Any) -> bool:
        return isinstance(node, sp.core.function.AppliedUndef) and type(node) in functions

    if isinstance(obj, sp.MatrixBase):
        return obj.applyfunc(lambda entry: entry.replace(known, concrete))
    return obj.replace(known, concrete) if isinstance(obj, sp.Basic) else obj


def _differ(left: list[Any], right: list[Any], relation: str) -> bool:
    """True when some entry pair violates ``relation`` beyond the tolerance."""
    for p, q in zip(left, right, strict=True):
        scale = max(mpmath.mpf(1), abs(p), abs(q))
        if relation == ">=":
            if (
                abs(p.imag) > TOLERANCE * scale
                or abs(q.imag) > TOLERANCE * scale
                or p.real - q.real < -TOLERANCE * scale
            ):
                return True
        elif abs(p - q) > TOLERANCE * scale:
            return True
    return False


def _weights_for(weights: Mapping[Any, tuple[Any, Any]], point: dict[Any, Any], rng: random.Random) -> dict[Any, Any]:
    """Positive values for ``p[lo..hi]`` that sum to one, for each base stated to sum to one over that range."""
    draws: dict[Any, Any] = {}
    for base, (low, high) in weights.items():
        first, last = sp.sympify(low).xreplace(point), sp.sympify(high).xreplace(point)
        if not (first.is_Integer and last.is_Integer and last >= first):
            continue
        raw = {base[k]: sp.Integer(rng.randint(1, 9)) for k in range(int(first), int(last) + 1)}
        total = sum(raw.values())
        draws.update({indexed: value / total for indexed, value in raw.items()})
    return draws


def _atoms(obj: Any, kind: type) -> set[Any]:
    if isinstance(obj, sp.MatrixBase):
        return set().union(*(e.atoms(kind) for e in obj)) if len(obj) else set()
    if isinstance(obj, sp.Basic):
        return set(obj.atoms(kind))
    return set()


def seed_for(*parts: Any) -> int:
    """A stable seed from the text of ``parts`` (independent of Python's hash randomisation)."""
    return zlib.crc32("\x1f".join(sp.srepr(p) if isinstance(p, sp.Basic) else str(p) for p in parts).encode())
