"""Symbolic checking methods: each decides its class of statements or refuses.

A *check* decides whether two SymPy objects are equal. Each method reduces the
difference (or the log-ratio) of the two sides to a canonical form and returns
that *residual*; the check succeeds exactly when the residual is zero. Nothing
here ever substitutes numbers: a residual that SymPy cannot reduce to zero is a
failure, never a "probably equal". A method that meets a statement outside its
class returns a non-zero marker symbol ``<...>`` saying why it refuses.

Equality methods (pick the cheapest one that is reliable for the step):

``expand``
    polynomial identities: ``expand(a - b)``.
``cancel``
    rational functions: ``cancel(together(a - b))``.
``simplify``
    anything else: ``simplify(a - b)``.
``log_ratio``
    products of positive factors such as Gaussian densities:
    ``expand_log(log a) - expand_log(log b)`` reduced with ``cancel``. Splitting
    logarithms of products is only valid for positive factors, so the method
    first requires SymPy to *prove* both sides positive from the declared
    symbol assumptions; otherwise it refuses.
``integrand``
    two integrals over the same limits (a factor free of the integration
    variables may stand outside): their integrands are compared with
    ``log_ratio``, without evaluating either integral.
``change_of_variables``
    ``integral f(x) dx = integral h(z) dz`` under a stated map ``x = g(z)``:
    one variable, ``g`` real, continuously differentiable and *strictly
    monotone* on the range of ``z`` (``g'`` provably positive or provably
    negative there), the limits of the
    left integral equal to ``g`` at the limits of the right one (in the order
    the monotonicity dictates), and ``f(g(z)) |g'(z)| = h(z)``; or several
    variables, an affine real map of the whole space with a non-zero Jacobian
    determinant. Complex maps are refused.
``by_parts``
    integration by parts for a stated pair ``(u, v)``:
    ``c int u v' = c [u v] - c int u' v`` (see :func:`by_parts`).
``substitute``
    one side is the other with stated subexpressions replaced (``xreplace``,
    purely structural, then SymPy's automatic evaluation), each replacement
    ``old = new`` itself proved (a definition, a stated fact, or an identity
    ``cancel``/``simplify`` proves); a replaced symbol may not be bound inside
    either side.
``sums``
    identities between finite sums ``Sum(p[i]*f(x[i]), (i, 1, n))`` with a
    symbolic number of terms (rules in :mod:`kfsym.derive.kernel.operators`).
``expectation``
    like ``sums``, after pushing ``E[...]`` through sums and constants and
    applying the stated moment facts; unknown random objects are refused.
``matrices`` / ``rewrite``
    matrix identities, see :mod:`kfsym.derive.kernel.linalg`.

The inequality method ``nonnegative`` (``a >= b``: SymPy must prove ``a - b``
nonnegative from the symbol assumptions) lives in :data:`INEQUALITY_METHODS`:
it can never be used where an equality is claimed.

Before any method runs, both sides pass the screen of :mod:`kfsym.derive.kernel.screen`
(integrals through singularities, bound variables whose assumptions exclude
part of their range, possibly reversed or shadowed sums, infinite sums where
linearity is used, inverses outside ``matrices``/``algebra``, zero divisors
and classes not from SymPy are refused).

Matrices are compared entry by entry. Definitions (``where``) and stated facts
(``given``) are substituted *before* anything is evaluated; then integrals,
sums and other unevaluated objects are evaluated with ``doit()`` for the
evaluating methods (``expand``, ``cancel``, ``simplify``, ``log_ratio``).
A floating-point number appearing anywhere is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp

from kfsym.derive.kernel.admit import admit, admit_pairs, floats_in
from kfsym.derive.kernel.algebra import algebra_residual
from kfsym.derive.kernel.gaussian_integral import evaluate_gaussian_integrals
from kfsym.derive.kernel.linalg import matrix_residual, rewrite_residual
from kfsym.derive.kernel.operators import expectation_residual, normal_sums
from kfsym.derive.kernel.screen import screen
from kfsym.derive.kernel.timelimit import CheckTimeout, run_with_time_limit

__all__ = [
    "CHECK_METHODS",
    "EQUALITY_METHODS",
    "INEQUALITY_METHODS",
    "CheckTimeout",
    "bound_symbols",
    "by_parts",
    "change_of_variables",
    "is_zero",
    "nonnegative_residual",
    "rebuild",
    "residual",
    "run_with_time_limit",
    "substitute_residual",
]

Change = tuple[tuple[Any, Any], ...]


def _refusal(reason: str) -> Any:
    """A non-zero residual that says why a method refuses."""
    return sp.Symbol(f"<{reason}>")


def _evaluate(obj: Any) -> Any:
    """Evaluate integrals, sums, derivatives and limits left unevaluated.

    Gaussian integrals over the real line are evaluated first by the rule of
    :mod:`kfsym.derive.kernel.gaussian_integral` (its hypothesis a > 0 checked).
    """
    if isinstance(obj, (sp.Basic, sp.MatrixBase)) and obj.has(sp.Integral):
        obj = evaluate_gaussian_integrals(obj)
    doit = getattr(obj, "doit", None)
    return doit() if callable(doit) else sp.sympify(obj)


def rebuild(obj: Any) -> Any:
    """Re-create ``obj`` bottom-up with SymPy's automatic evaluation on, without ``doit``.

    ``Mul(2, 3, evaluate=False)`` becomes ``6``; integrals, sums and limits stay
    unevaluated. Two sides that are equal after :func:`rebuild` state the same
    thing: such a step checks nothing.

    Examples
    --------
    >>> import sympy as sp
    >>> rebuild(sp.Mul(2, 3, evaluate=False))
    6
    """
    if isinstance(obj, sp.MatrixBase):
        return sp.ImmutableMatrix(obj.rows, obj.cols, [rebuild(entry) for entry in obj])
    if not isinstance(obj, sp.Basic) or not obj.args or isinstance(obj, (sp.Symbol, sp.Indexed, sp.IndexedBase)):
        return obj
    try:
        return obj.func(*(rebuild(arg) for arg in obj.args))
    except (TypeError, ValueError):  # a node that cannot be rebuilt from its args is left as it is
        return obj


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
            return _refusal(f"{label} side not provably positive: {side}")
    difference = sp.expand_log(sp.log(a), force=True) - sp.expand_log(sp.log(b), force=True)
    difference = sp.cancel(sp.together(sp.expand(difference)))
    return difference if difference == 0 else sp.simplify(difference)


def _single_integral(expr: Any) -> tuple[Any, Any] | None:
    """Write ``c * Integral(f, limits)`` as ``(c*f, limits)``; ``None`` if not that shape.

    Moving ``c`` under the integral sign is only valid when ``c`` does not
    depend on an integration variable, which is checked here. Every limit must
    be definite, ``(x, low, high)``.
    """
    integral, constant = None, sp.Integer(1)
    if isinstance(expr, sp.Integral):
        integral = expr
    elif isinstance(expr, sp.Mul):
        integrals = [factor for factor in expr.args if isinstance(factor, sp.Integral)]
        if len(integrals) == 1:
            (integral,) = integrals
            constant = expr / integral
    if integral is None or any(len(limit) != 3 for limit in integral.limits):
        return None
    if constant.free_symbols & set(integral.variables) or constant.has(sp.Integral):
        return None
    return constant * integral.function, integral.limits


def _integrand(a: Any, b: Any) -> Any:
    left, right = _single_integral(a), _single_integral(b)
    if left is None or right is None:
        return _refusal("both sides must be a constant times one definite integral")
    if left[1] != right[1]:
        return _refusal(f"integration limits differ: {left[1]} vs {right[1]}")
    return _log_ratio(left[0], right[0])


def _sums(a: Any, b: Any, facts: dict[Any, Any]) -> Any:
    difference = normal_sums(a - b, facts)
    return sp.cancel(sp.together(sp.expand(difference)))


def _exponents_expanded(expr: Any) -> Any:
    return expr.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.cancel(sp.expand(e.args[0]))))


def _same_function(p: Any, q: Any) -> Any:
    """Residual of ``p == q`` for two integrands: cancel, then log-ratio for positive sides, then simplify."""
    difference = sp.cancel(sp.together(_exponents_expanded(p) - _exponents_expanded(q)))
    if difference == 0:
        return difference
    if p.is_positive and q.is_positive and _log_ratio(p, q) == 0:
        return sp.Integer(0)
    return sp.simplify(difference)


def _parametrise(variable: Any, low: Any, high: Any) -> tuple[Any, Any] | None:
    """``(u, z(u))`` with a fresh dummy ``u`` such that ``z(u)`` runs over exactly the open interval (low, high)."""
    if low == -sp.oo and high == sp.oo:
        u = sp.Dummy(variable.name, real=True)
        return u, u
    u = sp.Dummy(variable.name, positive=True)
    if high == sp.oo and low.is_finite and low.is_real:
        return u, low + u
    if low == -sp.oo and high.is_finite and high.is_real:
        return u, high - u
    if low.is_finite and high.is_finite and (high - low).is_positive:
        return u, low + (high - low) * u / (1 + u)
    return None


def _end_value(g: Any, u: Any, at: Any, direction: str) -> Any:
    if at in (sp.oo, -sp.oo):
        return sp.limit(g, u, at)
    return sp.limit(g, u, at, direction)


def _continuous_on(expr: Any, variable: Any, low: Any, high: Any) -> bool:
    """True when SymPy shows ``expr`` continuous on the whole open interval (low, high)."""
    from sympy.calculus.util import continuous_domain

    interval = sp.Interval.open(low, high)
    try:
        domain = continuous_domain(expr, variable, interval)
    except (NotImplementedError, TypeError, ValueError):
        return False
    return bool(interval.is_subset(domain) is True)


def _sign_of(expr: Any) -> int | None:
    for form in (expr, sp.factor(sp.cancel(expr)), sp.simplify(expr)):
        if form.is_positive:
            return 1
        if form.is_negative:
            return -1
    return None


def _change_one(left: tuple[Any, Any], right: tuple[Any, Any], g: Any) -> Any:
    (f, ((old, a, b),)), (h, ((new, c, d),)) = left, right
    if old in g.free_symbols:
        return _refusal("the map must express the old variable in the new one")
    real = sp.Dummy(new.name, real=True)
    if sp.sympify(g).xreplace({new: real}).is_real is not True:
        return _refusal(f"the map {old} = {g} is not provably real for real {new}")
    slope = sp.diff(g, new)
    if not _continuous_on(g_of := g.xreplace({new: real}), real, c, d) or not _continuous_on(
        sp.diff(g_of, real), real, c, d
    ):
        return _refusal(f"the map {old} = {g} is not provably continuously differentiable on ({c}, {d})")
    parametrised = _parametrise(new, c, d)
    if parametrised is None:
        return _refusal(f"cannot parametrise the range ({c}, {d}) of {new}")
    _, z_of_u = parametrised
    sign = _sign_of(slope.xreplace({new: z_of_u}))
    if sign is None:
        return _refusal(f"the map {old} = {g} is not provably strictly monotone on ({c}, {d}): derivative {slope}")
    g_real = g.xreplace({new: real})
    start, end = _end_value(g_real, real, c, "+"), _end_value(g_real, real, d, "-")
    expected = (start, end) if sign > 0 else (end, start)
    if any(
        sp.simplify(got - want) != 0 if (got.is_finite and want.is_finite) else got != want
        for got, want in zip((a, b), expected, strict=True)
    ):
        return _refusal(f"limits ({a}, {b}) are not the image ({expected[0]}, {expected[1]}) of ({c}, {d})")
    transformed = (f.xreplace({old: g}) * sign * slope).xreplace({new: z_of_u})
    return _same_function(transformed, h.xreplace({new: z_of_u}))


def _all_infinite(limits: Any) -> bool:
    return all(limit[1] == -sp.oo and limit[2] == sp.oo for limit in limits)


def change_of_variables(a: Any, b: Any, change: Change) -> Any:
    """``a`` over old variables equals ``b`` over new ones under the map ``change`` (``old = g(new)``).

    Examples
    --------
    >>> import sympy as sp
    >>> x, z = sp.symbols("x z", real=True)
    >>> s = sp.Symbol("s", positive=True)
    >>> left = sp.Integral(sp.exp(-x**2 / (2 * s**2)), (x, -sp.oo, sp.oo))
    >>> right = s * sp.Integral(sp.exp(-z**2 / 2), (z, -sp.oo, sp.oo))
    >>> change_of_variables(left, right, ((x, s * z),))
    0
    """
    a, b, change = admit(a, "change_of_variables lhs"), admit(b, "change_of_variables rhs"), admit_pairs(change, "map")
    left, right = _single_integral(a), _single_integral(b)
    if left is None or right is None:
        return _refusal("both sides must be a constant times one definite integral")
    old = [limit[0] for limit in left[1]]
    new = [limit[0] for limit in right[1]]
    if len(old) != len(new) or len(set(new)) != len(new) or len(set(old)) != len(old):
        return _refusal(f"the map must give each of {old} in terms of {new}")
    # The new variables are bound by the right integral: rename them apart from the old ones.
    fresh = {n: sp.Dummy(n.name, **n.assumptions0) for n in new}
    right = (right[0].xreplace(fresh), tuple(tuple(sp.sympify(e).xreplace(fresh) for e in lim) for lim in right[1]))
    new = [fresh[n] for n in new]
    mapping = {o: sp.sympify(g).xreplace(fresh) for o, g in change}
    if set(mapping) != set(old) or len(mapping) != len(change):
        return _refusal(f"the map must give each of {old} in terms of {new}")
    if len(old) == 1:
        return _change_one(left, right, mapping[old[0]])
    if not (_all_infinite(left[1]) and _all_infinite(right[1])):
        return _refusal("a change of several variables needs integrals over the whole space")
    reals = {n: sp.Dummy(n.name, real=True) for n in new}
    images = {o: sp.sympify(mapping[o]).xreplace(reals) for o in old}
    if any(image.is_real is not True or set(old) & image.free_symbols for image in images.values()):
        return _refusal("the map is not provably real, or uses the old variables")
    jacobian = sp.Matrix([[sp.diff(images[o], reals[n]) for n in new] for o in old])
    if any(entry.free_symbols & set(reals.values()) for entry in jacobian):
        return _refusal("a change of several variables must be affine")
    determinant = sp.factor(jacobian.det())
    if determinant.is_zero is not False or determinant.is_real is not True:
        return _refusal(f"Jacobian determinant {determinant} not provably real and non-zero")
    transformed = left[0].xreplace(images) * sp.Abs(determinant)
    return _same_function(transformed, right[0].xreplace(reals))


def by_parts(a: Any, b: Any, change: Change) -> Any:
    """``c integral u v' dx = c [u v] - c integral u' v dx`` over one definite range, for the stated ``(u, v)``.

    The left side must be a constant times ``integral f dx`` with ``f = u v'``
    (checked with ``cancel``); ``u`` and ``v`` must be real and continuously
    differentiable on the open range, and ``[u v]`` is taken as one-sided
    limits at the ends (so infinite ranges work); the right side minus
    ``c [u v]`` must be a constant times one integral over the same range
    whose integrand is ``-c u' v``.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> left = sp.Integral(x * sp.exp(x), (x, 0, 1))
    >>> right = sp.E - sp.Integral(sp.exp(x), (x, 0, 1))
    >>> by_parts(left, right, ((x, sp.exp(x)),))
    0
    """
    a, b, change = admit(a, "by_parts lhs"), admit(b, "by_parts rhs"), admit_pairs(change, "by_parts (u, v)")
    left = _single_integral(a)
    if left is None or len(left[1]) != 1 or len(change) != 1:
        return _refusal("by_parts needs a constant times one definite integral and the pair (u, v)")
    (integrand, ((variable, low, high),)) = left
    u, v = (sp.sympify(e) for e in change[0])
    real = sp.Dummy(variable.name, real=True)
    uu, vv = u.xreplace({variable: real}), v.xreplace({variable: real})
    if uu.is_real is not True or vv.is_real is not True:
        return _refusal(f"u = {u} and v = {v} must be provably real")
    for part in (uu, vv, sp.diff(uu, real), sp.diff(vv, real)):
        if not _continuous_on(part, real, low, high):
            return _refusal(f"u = {u} and v = {v} must be continuously differentiable on ({low}, {high})")
    if sp.cancel(sp.together(integrand - _whole_constant(a) * u * sp.diff(v, variable))) != 0:
        return _refusal(f"the integrand is not (a constant times) u v' with u = {u}, v = {v}")
    constant = _whole_constant(a)
    product = uu * vv
    boundary = _end_value(product, real, high, "-") - _end_value(product, real, low, "+")
    if boundary.has(sp.oo, -sp.oo, sp.zoo, sp.nan, sp.AccumBounds, sp.Limit):
        return _refusal(f"the boundary term [u v] = {boundary} is not finite")
    rest = _single_integral(sp.expand(b - constant * boundary))
    if rest is None or rest[1] != ((variable, low, high),):
        return _refusal("the right side must be c [u v] plus a constant times one integral over the same range")
    return sp.cancel(sp.together(rest[0] + constant * sp.diff(u, variable) * v))


def _whole_constant(expr: Any) -> Any:
    """The factor in front of the one integral of ``expr`` (``1`` for a bare integral)."""
    if isinstance(expr, sp.Integral):
        return sp.Integer(1)
    integral = next(f for f in expr.args if isinstance(f, sp.Integral))
    return expr / integral


def bound_symbols(expr: Any) -> set[Any]:
    """Every variable bound somewhere inside ``expr`` (sums, integrals, limits, lambdas, derivatives)."""
    bound: set[Any] = set()
    if not isinstance(expr, sp.Basic):
        return bound
    for node in sp.preorder_traversal(expr):
        if isinstance(node, (sp.Sum, sp.Product, sp.Integral, sp.Lambda, sp.Derivative)):
            bound |= set(node.variables)
        elif isinstance(node, sp.Limit):
            bound.add(node.args[1])
    return bound


def substitute_residual(a: Any, b: Any, change: Change, rules: dict[Any, Any]) -> Any:
    """Zero when ``b`` is ``a`` with each ``old`` replaced by ``new`` and each ``old = new`` is proved."""
    if not change:
        return _refusal("the substitute method needs the replacements (change=((old, new), ...))")
    bound = set().union(*(bound_symbols(e) for side in (a, b) for e in (side if _is_matrix(side) else [side])))
    for old, new in change:
        if (sp.sympify(old).free_symbols | sp.sympify(new).free_symbols) & bound:
            return _refusal(f"{old} = {new} uses a variable bound inside the expression; rename the bound variable")
        proved = residual(old, new, "cancel", rules)
        if not is_zero(proved):
            proved = residual(old, new, "simplify", rules)
        if not is_zero(proved):
            return _refusal(f"the replacement {old} = {new} is not a proved equation")
    mapping = dict(change)
    left, right = rebuild(sp.sympify(a)), rebuild(sp.sympify(b))
    if rebuild(left.xreplace(mapping)) == right or rebuild(right.xreplace(mapping)) == left:
        return sp.Integer(0)
    return _refusal(f"replacing in one side does not give the other: {sp.sstr(rebuild(left.xreplace(mapping)))}")


def nonnegative_residual(a: Any, b: Any) -> Any:
    """Zero when SymPy proves ``a - b >= 0`` from the symbol assumptions (an inequality, never an equality)."""
    difference = sp.factor_terms(a - b)
    if difference.is_nonnegative:
        return sp.Integer(0)
    return _refusal(f"not provably nonnegative: {difference}")


_Method = Callable[[Any, Any], Any]
_FactsMethod = Callable[[Any, Any, dict[Any, Any]], Any]


def _ignore_facts(method: _Method) -> _FactsMethod:  # pragma: no mutate block (runs at import only)
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
    "matrices": matrix_residual,
    "rewrite": rewrite_residual,
    "algebra": algebra_residual,
}
#: Every method that proves an equality (``change_of_variables`` and ``substitute`` also need ``change``).
EQUALITY_METHODS = frozenset({*CHECK_METHODS, "change_of_variables", "substitute", "by_parts"})
#: Methods that prove ``lhs >= rhs``; never accepted where an equality is claimed.
INEQUALITY_METHODS = frozenset({"nonnegative"})
# Methods that compare unevaluated integrals or sums instead of evaluating them first.
_KEEP_UNEVALUATED = {"integrand", "sums", "expectation", "matrices", "rewrite", "algebra"}


def _is_matrix(obj: Any) -> bool:
    return isinstance(obj, sp.MatrixBase)


def _substituted(obj: Any, rules: dict[Any, Any]) -> Any:
    """Exact rules by ``xreplace`` (definitions and exact facts); pattern facts are left to the methods."""
    exact = {k: v for k, v in rules.items() if not (isinstance(k, sp.Basic) and k.atoms(sp.Wild))}
    return sp.sympify(obj).xreplace(exact) if exact else sp.sympify(obj)


def residual(a: Any, b: Any, method: str, substitutions: dict[Any, Any], change: Change = ()) -> Any:
    """Return what is left of ``a == b`` after ``method``; zero means proved.

    Parameters
    ----------
    a, b : sympy expression or Matrix
        The two sides.
    method : str
        One of :data:`EQUALITY_METHODS` or :data:`INEQUALITY_METHODS`.
    substitutions : dict
        Definitions and stated facts (``{mu: (mu1*v2 + mu2*v1)/(v1+v2)}``),
        applied *before* evaluation and again after it; the ``sums`` and
        ``expectation`` methods apply them after each normalisation too.
    change : tuple of (expression, expression)
        The map ``old = g(new)`` of ``change_of_variables``, or the
        replacements of ``substitute``.

    Returns
    -------
    sympy expression or Matrix
        ``0`` (or a zero matrix) when the statement is proved.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> residual((x + 1)**2, x**2 + 2*x + 1, "expand", {})
    0
    >>> residual((x + 1)**2, x**2 + 1, "expand", {})
    2*x
    """
    if method not in EQUALITY_METHODS | INEQUALITY_METHODS:
        known = ", ".join(sorted(EQUALITY_METHODS | INEQUALITY_METHODS))
        raise ValueError(f"unknown check method {method!r}; use one of {known}")
    # Nothing is ever parsed from a string, and no float enters a check (TypeError otherwise).
    a, b = admit(a, "residual lhs"), admit(b, "residual rhs")
    change = admit_pairs(change, "residual change")
    substitutions = dict(admit_pairs(substitutions, "residual substitutions"))
    refused = screen(a, b, method)
    if refused is not None:
        return _refusal(refused)
    if method == "substitute":
        return substitute_residual(a, b, change, substitutions)
    left, right = _substituted(a, substitutions), _substituted(b, substitutions)
    refused = screen(left, right, method)
    if refused is not None:
        return _refusal(refused)
    if method == "change_of_variables":
        return _elementwise(lambda p, q, _facts: change_of_variables(p, q, change), left, right, substitutions)
    if method == "by_parts":
        return _elementwise(lambda p, q, _facts: by_parts(p, q, change), left, right, substitutions)
    if method == "nonnegative":
        return _elementwise(lambda p, q, _facts: nonnegative_residual(p, q), left, right, substitutions)
    check = CHECK_METHODS[method]
    if method == "matrices":  # matrix expressions are instantiated, not evaluated
        return check(left, right, substitutions)
    if method not in _KEEP_UNEVALUATED:
        left = _substituted(_evaluate(left), substitutions)
        right = _substituted(_evaluate(right), substitutions)
        if floats_in(left) or floats_in(right):
            return _refusal("evaluation produced a floating-point number; floats are not exact")
    return _elementwise(check, left, right, substitutions)


def _elementwise(check: Callable[[Any, Any, dict[Any, Any]], Any], left: Any, right: Any, facts: dict[Any, Any]) -> Any:
    """Apply ``check`` to two expressions, or entry by entry to two explicit matrices."""
    if _is_matrix(left) or _is_matrix(right):
        if not (_is_matrix(left) and _is_matrix(right)) or left.shape != right.shape:
            return _refusal(f"shape mismatch: {getattr(left, 'shape', ())} vs {getattr(right, 'shape', ())}")
        entries = [check(p, q, facts) for p, q in zip(left, right, strict=True)]
        return sp.ImmutableMatrix(left.rows, left.cols, entries)
    return check(left, right, facts)


def is_zero(value: Any) -> bool:
    """True when a residual is exactly zero (a scalar 0 or a zero matrix)."""
    if _is_matrix(value):
        return all(entry == 0 for entry in value)
    return bool(value == 0)
