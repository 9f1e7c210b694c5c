"""Statements no check may see: refused before any method runs.

Every check (:func:`kfsym.derive.kernel.checks.residual`) first passes both
sides through :func:`screen`. It refuses, with a reason, statements on which
SymPy's evaluation is known to give a wrong answer rather than none:

- an integral whose integrand has a singularity (a pole, a log point, ...) not
  provably outside the closed range of integration: SymPy returns the Cauchy
  principal value of a divergent integral, or integrates through a parametric
  pole; when SymPy cannot list the singularities, the integral is refused too;
- a bound variable (of an integral or a sum) whose declared assumptions
  (positive, integer, irrational, ...) do not hold on its whole range: SymPy
  would use them inside the range (``|x| = x`` for a "positive" ``x`` over
  ``(-oo, oo)``);
- a sum over ``lo..hi`` whose length ``hi - lo + 1`` is not provably
  nonnegative (SymPy's Karr convention gives empty and reversed ranges values
  that no reader means);
- a summation variable that is also free in the statement or re-bound inside
  its own scope (a limit would be captured by the wrong binder);
- an infinite sum in the ``sums`` and ``expectation`` methods (linearity and
  exchange of E and Sum need convergence those methods do not check), and an
  infinite sum SymPy does not prove convergent in every other method;
- an inverse of anything but a square matrix symbol outside the ``matrices``
  and ``algebra`` methods (which check determinants themselves).
"""

from __future__ import annotations

import sys
from typing import Any

import sympy as sp

__all__ = ["foreign_nodes", "screen"]

#: Methods that check determinants of the inverses they meet.
_INVERSE_AWARE = frozenset({"matrices", "algebra"})
#: Methods that apply linearity to sums without evaluating them.
_LINEAR_SUMS = frozenset({"sums", "expectation"})


#: What SymPy itself puts into the class of an undefined function ``Function("f", real=True)``.
_UNDEF_ATTRIBUTES = frozenset(
    {
        "__doc__",
        "__module__",
        "_explicit_class_assumptions",
        "_kwargs",
        "_nargs",
        "_prop_handler",
        "_sage_",
        "default_assumptions",
        "name",
    }
)


def _entries(obj: Any) -> list[Any]:
    if isinstance(obj, sp.MatrixBase):
        return list(obj)
    return [obj] if isinstance(obj, sp.Basic) else []


_GENUINE: dict[type, bool] = {}


def _genuine(cls: type) -> bool:
    """True for a class defined by SymPy or kfsym.derive *and* found under its own name in its module.

    Setting ``__module__ = "sympy.core.symbol"`` on a subclass does not make it SymPy's: the module's
    attribute of that name must be the class itself.
    """
    if cls not in _GENUINE:
        module = getattr(cls, "__module__", None) or ""
        ok = module.startswith(("sympy.", "kfsym.derive."))
        if ok:
            loaded = sys.modules.get(module)
            ok = loaded is not None and getattr(loaded, cls.__qualname__, None) is cls
        _GENUINE[cls] = ok
    return _GENUINE[cls]


def foreign_nodes(obj: Any) -> list[str]:
    """Names of node classes in ``obj`` that come neither from SymPy nor from kfsym.derive.

    A user subclass (``class Liar(Symbol)`` with an ``__eq__`` that is always
    true) could make any comparison succeed; only SymPy's own classes, the
    undefined functions ``Function("f")`` and kfsym's operators are admitted.
    """
    found: set[str] = set()
    for entry in _entries(obj):
        for node in sp.preorder_traversal(entry):
            cls = type(node)
            if isinstance(node, sp.core.function.AppliedUndef):
                # Function("f"): a class SymPy made; it may carry assumptions, nothing else (no _imp_ callable,
                # no redefined equality), and derive only from SymPy's classes.
                extra = [key for key in vars(cls) if key not in _UNDEF_ATTRIBUTES and not key.startswith("is_")]
                bases_ok = all(
                    (base.__module__ or "").startswith("sympy.") for base in cls.__mro__[1:] if base is not object
                )
                if extra or not bases_ok:
                    found.add(f"{cls.__name__} (with {', '.join(extra) or 'foreign bases'})")
                continue
            if not _genuine(cls):
                found.add(f"{getattr(cls, '__module__', None)}.{cls.__name__}")
    return sorted(found)


def _generic_point(variable: Any, low: Any, high: Any) -> Any:
    """An expression in fresh dummies running over the open interval (low, high), or ``None``."""
    if low == -sp.oo and high == sp.oo:
        return sp.Dummy("u", real=True)
    u = sp.Dummy("u", positive=True)
    if high == sp.oo and low.is_finite:
        return low + u
    if low == -sp.oo and high.is_finite:
        return high - u
    if low.is_finite and high.is_finite and (high - low).is_positive:
        return low + (high - low) * u / (1 + u)
    return None


def _assumptions_hold(variable: Any, point: Any) -> bool:
    """Every assumption declared on ``variable`` is implied for the generic ``point`` of its range."""
    return all(getattr(point, f"is_{key}", None) == wanted for key, wanted in variable.assumptions0.items())


def _outside(singular: Any, low: Any, high: Any) -> bool:
    """True when the real number ``singular`` lies provably outside the closed interval [low, high]."""
    singular = sp.sympify(singular)
    if singular.is_real is False:
        return True
    below = [sp.sympify(singular - low).is_negative, sp.sympify(singular - high).is_negative]
    above = [sp.sympify(singular - low).is_positive, sp.sympify(singular - high).is_positive]
    if low == -sp.oo:
        below[0] = False
        above[0] = True
    if high == sp.oo:
        below[1] = True
        above[1] = False
    return all(b is True for b in below) or all(a is True for a in above)


def _integral_refusal(integral: Any) -> str | None:
    function = integral.function
    for limit in integral.limits:
        if len(limit) != 3:
            continue  # indefinite: the methods that meet one refuse it themselves
        variable, low, high = limit
        ordered = (low, high)
        if (high - low).is_negative:
            ordered = (high, low)
        if low == high:
            continue
        point = _generic_point(variable, *ordered)
        if point is None and low.is_finite and high.is_finite:
            # Order unknown: a generic point between the two ends (real when both ends are).
            u = sp.Dummy("u", positive=True)
            point = low + (high - low) * u / (1 + u)
        if point is None:
            return f"cannot parametrise the range ({low}, {high}) of {variable}"
        if not _assumptions_hold(variable, point):
            return (
                f"the integration variable {variable} is declared with assumptions {_declared(variable)} that do "
                f"not hold on its whole range ({low}, {high}); integrate over a real variable"
            )
        reason = _singular_refusal(function, variable, ordered) or _delta_refusal(function, variable, ordered)
        if reason is not None:
            return reason
    return None


def _strictly_inside(point: Any, low: Any, high: Any) -> bool:
    """A finite ``point`` provably in the open range (low, high); either end may be infinite.

    ``is_extended_positive``: oo - 1 is positive in the extended reals, while SymPy's ``is_positive`` (positive
    implies finite) is False for it and would refuse a point inside (0, oo).
    """
    if sp.sympify(point).is_finite is not True:
        return False
    return bool(
        sp.sympify(point - low).is_extended_positive is True and sp.sympify(high - point).is_extended_positive is True
    )


#: Functions that are not smooth where a delta may sit: paired with a delta in the same variable, the integral's
#: value is a convention (H(0) = 1/2, |x|' at 0, ...), never a fact.
_NOT_SMOOTH = (sp.Heaviside, sp.Abs, sp.sign, sp.Max, sp.Min, sp.Piecewise, sp.floor, sp.ceiling, sp.frac)


def _deltas_in(expr: Any, variable: Any) -> list[Any]:
    """The Dirac deltas in ``expr`` whose argument depends on ``variable`` (derivative deltas included)."""
    return [delta for delta in expr.atoms(sp.DiracDelta) if variable in delta.args[0].free_symbols]


def _delta_form_refusal(function: Any, variable: Any, deltas: list[Any]) -> str | None:
    """Refuse a delta in ``variable`` that is not a plain factor of a term, or that SymPy integrates wrongly.

    - A delta inside a power or any other function (delta^2, exp(delta)) has no value as a distribution.
    - Two deltas in the same variable multiplied together: delta(x - a) delta(x - a) is delta(0) delta(x - a).
    - A derivative delta^(k)(g(x)), k >= 1, is integrated correctly by SymPy only for g = x - c: for
      delta'(1 - x) and delta'(2 x - 2) it ignores the chain rule (measured: -2/e proved to be 2/e).
    - A function that is not smooth (``_NOT_SMOOTH``) beside a delta.

    ``deltas`` are ``_deltas_in(function, variable)``.
    """
    if not deltas:
        return None
    for delta in deltas:
        order = delta.args[1] if len(delta.args) > 1 else 0
        if order != 0 and variable in sp.expand(delta.args[0] - variable).free_symbols:
            return f"{delta} is a derivative of a delta of a function other than {variable} - c (chain rule)"
    rough = sorted({str(node) for node in function.atoms(*_NOT_SMOOTH) if variable in node.free_symbols})
    if rough:
        return f"{', '.join(rough)} beside a Dirac delta in {variable}: its value at the support is a convention"

    for node in sp.preorder_traversal(function):
        if isinstance(node, sp.Add | sp.DiracDelta) or not _deltas_in(node, variable):
            continue
        if isinstance(node, sp.Mul):
            if sum(1 for factor in node.args if _deltas_in(factor, variable)) > 1:
                return f"a product of Dirac deltas in {variable}: {node}"
            continue
        return f"a Dirac delta in {variable} inside {node.func.__name__}: {node}"
    return None


def _delta_refusal(function: Any, variable: Any, ordered: tuple[Any, Any]) -> str | None:
    """Refuse a Dirac delta whose support is not provably inside the open range or outside the closed one, or
    whose form SymPy does not integrate as a distribution (:func:`_delta_form_refusal`).

    At an end point the value of the integral is a convention (0, 1/2 or 1), never a fact.
    """
    deltas = _deltas_in(function, variable)
    form = _delta_form_refusal(function, variable, deltas)
    if form is not None:
        return form
    real = sp.Dummy(variable.name, real=True)
    for delta in deltas:
        try:
            roots = sp.solveset(delta.args[0].xreplace({variable: real}), real, sp.S.Reals)
        except Exception:
            roots = None
        if not isinstance(roots, sp.FiniteSet):
            return f"cannot locate the support of {delta} in {variable}"
        for root in roots:
            if not (_outside(root, *ordered) or _strictly_inside(root, *ordered)):
                return (
                    f"{delta} is supported at {variable} = {root}, not provably inside ({ordered[0]}, {ordered[1]}) "
                    "or outside the closed range (at an end point its integral is a convention)"
                )
    return None


#: Functions whose singularities on the reals SymPy's ``singularities`` finds (through its argument or
#: divisors); any other function of the integration variable (gamma, zeta, Bessel K, Ei, ...) is refused.
_LOCATED = (
    sp.exp,
    sp.log,
    sp.sin,
    sp.cos,
    sp.tan,
    sp.cot,
    sp.sec,
    sp.csc,
    sp.sinh,
    sp.cosh,
    sp.tanh,
    sp.coth,
    sp.sech,
    sp.csch,
    sp.asin,
    sp.acos,
    sp.atan,
    sp.acot,
    sp.asinh,
    sp.acosh,
    sp.atanh,
    sp.erf,
    sp.erfc,
    sp.Abs,
    sp.sign,
    sp.Heaviside,
    sp.DiracDelta,
    sp.Min,
    sp.Max,
    sp.Piecewise,
    sp.floor,
    sp.ceiling,
    sp.KroneckerDelta,
    sp.re,
    sp.im,
    sp.core.function.AppliedUndef,
)


def _singular_refusal(function: Any, variable: Any, ordered: tuple[Any, Any]) -> str | None:
    """Why ``function`` may be singular on the closed range ``ordered`` of ``variable``, or ``None``."""
    from sympy.calculus.util import singularities

    unknown = [f for f in function.atoms(sp.Function) if variable in f.free_symbols and not isinstance(f, _LOCATED)]
    if unknown:
        return f"cannot locate the singularities of {unknown[0]} in {variable} (a function SymPy does not analyse)"
    real = sp.Dummy(variable.name, real=True)
    try:
        found = singularities(function.xreplace({variable: real}), real, sp.S.Reals)
    except Exception:
        return f"cannot determine the singularities of {function} in {variable}"
    if found is sp.S.EmptySet:
        return None
    if isinstance(found, sp.FiniteSet):
        bad = [s for s in found if not _outside(s, *ordered)]
        if not bad:
            return None
        return (
            f"the integrand {function} is singular at {variable} = {bad[0]}, not provably outside "
            f"[{ordered[0]}, {ordered[1]}] (the integral may diverge; SymPy would give a principal value)"
        )
    if ordered[0].is_number and ordered[1].is_number:
        try:
            inside = found.intersect(sp.Interval(*sorted(ordered, key=sp.default_sort_key)))
        except Exception:
            inside = None
        if inside is sp.S.EmptySet:
            return None
    return f"the integrand {function} has singularities {found} not provably outside [{ordered[0]}, {ordered[1]}]"


def _declared(variable: Any) -> str:  # pragma: no mutate block (text of refusal messages only)
    keys = ("positive", "nonnegative", "negative", "nonpositive", "nonzero", "integer", "rational", "irrational")
    shown = [k for k in keys if variable.assumptions0.get(k)]
    return ", ".join(shown) or str(sorted(k for k, v in variable.assumptions0.items() if v))


def _index_assumptions_hold(variable: Any, low: Any, high: Any) -> bool:
    """Every assumption of a summation index holds at a generic integer of ``low..high``."""
    step = sp.Dummy("u", integer=True, nonnegative=True)
    if low.is_finite:
        point = low + step
    elif high.is_finite:
        point = high - step
    else:
        point = sp.Dummy("u", integer=True)
    keys = ("positive", "negative", "nonnegative", "nonpositive", "zero", "nonzero", "even", "odd", "prime", "integer")
    return all(
        getattr(point, f"is_{key}", None) == variable.assumptions0[key] for key in keys if key in variable.assumptions0
    )


def _rebinding_refusal(node: Any, variable: Any) -> str | None:
    """Refuse an index bound again inside its own sum when that is dangerous (a product, or a range using it)."""
    inner = [n for n in sp.preorder_traversal(node.function) if isinstance(n, (sp.Sum, sp.Product))]
    rebound = [n for n in inner if variable in n.variables]
    for again in rebound:
        # Inside `again` the name means its own index; SymPy's evaluation confuses the two when the
        # name is also used in a range there (Sum(Sum(f, (b, 1, m)), (m, 1, 2)) inside a sum over m).
        ranges = [
            bound
            for binder in sp.preorder_traversal(again)
            if isinstance(binder, (sp.Sum, sp.Product, sp.Integral))
            for lim in binder.limits
            for bound in lim[1:]
        ]
        if any(variable in sp.sympify(bound).free_symbols for bound in ranges):
            return f"the index {variable} is bound again inside its own sum and used in a range there; rename it"
    if rebound and (isinstance(node, sp.Product) or any(isinstance(n, sp.Product) for n in rebound)):
        return f"the index {variable} is bound again inside its own sum or product; rename it"
    return None


def _sum_refusal(node: Any, method: str, free: set[Any]) -> str | None:
    variables = [limit[0] for limit in node.limits]
    if len(set(variables)) != len(variables):
        # Sum(Sum(f, (m, 1, 2)), (m, 1, 3)) is flattened by SymPy into one node binding m twice, which its
        # own evaluation gets wrong.
        return f"{node} binds the same index twice (nested sums over one name); rename the inner index"
    for limit in node.limits:
        if len(limit) != 3:
            return f"{node} has an indefinite range"
        variable, low, high = limit
        if variable in free:
            return f"the summation variable {variable} is also free in the statement; rename it"
        reason = _rebinding_refusal(node, variable)
        if reason is not None:
            return reason
        if isinstance(node, sp.Product) and method in _LINEAR_SUMS:
            return f"the product {node} is outside the rules of '{method}' (they are for sums)"
        infinite = low.has(sp.oo, -sp.oo, sp.zoo) or high.has(sp.oo, -sp.oo, sp.zoo)
        if infinite and method in _LINEAR_SUMS:
            return (
                f"the infinite {type(node).__name__.lower()} {node} cannot be handled by '{method}' "
                "(linearity needs convergence, which it does not check)"
            )
        if not infinite:
            length = sp.sympify(high - low + 1)
            if length.is_nonnegative is not True:
                return (
                    f"the range {low}..{high} of {variable} is not provably nonempty or empty "
                    f"({high} - {low} + 1 >= 0 does not follow from the assumptions; SymPy's convention for "
                    "reversed ranges would apply)"
                )
        if variable.is_integer is False:
            return f"the summation variable {variable} is declared non-integer"
        if not _index_assumptions_hold(variable, low, high):
            return (
                f"the index {variable} is declared with assumptions {_declared(variable)} that do not hold on its "
                f"whole range {low}..{high}"
            )
    return _infinite_refusal(node)


def _infinite_refusal(node: Any) -> str | None:
    """Refuse an infinite sum SymPy does not prove convergent, and every infinite product."""
    if isinstance(node, sp.Sum) and any(_unbounded(limit) for limit in node.limits):
        try:
            convergent = node.is_convergent()
        except Exception:
            convergent = None
        if convergent is not sp.true and convergent is not True:
            return f"the infinite sum {node} is not proved convergent"
    if isinstance(node, sp.Product) and any(_unbounded(limit) for limit in node.limits):
        return f"the infinite product {node} is refused"
    return None


def _unbounded(limit: Any) -> bool:
    """A summation or product range with an infinite end: +oo, -oo or zoo anywhere in either bound."""
    return any(bound.has(sp.oo, -sp.oo, sp.zoo) for bound in limit[1:])


def _inverse_refusal(node: Any) -> str | None:
    if isinstance(node, sp.Inverse) or (isinstance(node, sp.MatPow) and node.exp.is_negative is not False):
        base = node.args[0]
        if isinstance(base, sp.MatrixSymbol) and base.shape[0] == base.shape[1]:
            return None
        return (
            f"the inverse of {base} (not a square matrix symbol) is only checked by the 'matrices' and "
            "'algebra' methods, which prove its determinant non-zero"
        )
    return None


def _zero_denominator(*sides: Any) -> Any:
    """A divisor (base of a negative power) that SymPy shows is identically zero, or ``None``.

    ``x*d/d`` with ``d = 1 - sin(x)**2 - cos(x)**2`` is not ``x``: it is undefined everywhere. Polynomial
    divisors are left to ``cancel``; divisors with functions in them are simplified once here.
    """
    for side in sides:
        for entry in side if isinstance(side, sp.MatrixBase) else [side]:
            if not isinstance(entry, sp.Basic):
                continue
            for node in sp.preorder_traversal(entry):
                if not (isinstance(node, sp.Pow) and node.exp.is_negative):
                    continue
                base = node.base
                if base.is_zero or (base.has(sp.Function) and not base.has(sp.Integral, sp.Sum) and _vanishes(base)):
                    return base
    return None


def _vanishes(expr: Any) -> bool:
    try:
        return bool(sp.simplify(expr) == 0)
    except Exception:  # a simplification that fails says nothing either way
        return False


_MEMO: dict[tuple[Any, Any, str], str | None] = {}


def screen(a: Any, b: Any, method: str) -> str | None:
    """Why the statement ``a = b`` is refused before checking, or ``None`` when it may be checked."""
    # Foreign classes first, outside the memo: a subclass could redefine the equality the memo relies on.
    foreign = sorted({name for entry in _entries(a) + _entries(b) for name in foreign_nodes(entry)})
    if foreign:
        return f"expression nodes of classes not from SymPy: {', '.join(foreign)}"
    try:
        key = (sp.ImmutableMatrix(a) if isinstance(a, sp.MatrixBase) else a, method)
        key2 = sp.ImmutableMatrix(b) if isinstance(b, sp.MatrixBase) else b
        memo_key = (key, key2, method)
        hash(memo_key)
    except TypeError:
        return _screen(a, b, method)
    if memo_key not in _MEMO:
        if len(_MEMO) > 4096:
            _MEMO.clear()
        _MEMO[memo_key] = _screen(a, b, method)
    return _MEMO[memo_key]


def _screen(a: Any, b: Any, method: str) -> str | None:
    entries = _entries(a) + _entries(b)
    zero = _zero_denominator(a, b)
    if zero is not None:
        return f"the divisor {zero} is identically zero, so the expression is undefined everywhere"
    free: set[Any] = set().union(*(entry.free_symbols for entry in entries)) if entries else set()
    for entry in entries:
        for node in sp.preorder_traversal(entry):
            if isinstance(node, sp.Integral):
                reason = _integral_refusal(node)
            elif isinstance(node, (sp.Sum, sp.Product)):
                reason = _sum_refusal(node, method, free)
            elif method not in _INVERSE_AWARE and isinstance(node, (sp.Inverse, sp.MatPow)):
                reason = _inverse_refusal(node)
            else:
                reason = None
            if reason is not None:
                return reason
    return None
