"""The expectation operator ``E[...]`` and the rules the ``expectation`` check applies.

Random quantities are written as indexed symbols ``x[i]`` (the i-th draw);
plain symbols are constants. Anything else that SymPy treats as random (a
``sympy.stats`` random symbol, a ``sympy.stats`` expectation or probability)
is *refused*: the rules below know nothing about it, and treating it as a
constant would prove ``E[Z^2] = E[Z]^2``. The check rewrites ``E[...]`` with
rules that are each a textbook property, so a reader can audit them:

1. linearity: ``E[a + b] = E[a] + E[b]``, ``E[c a] = c E[a]`` for ``c`` free of
   random quantities, ``E[c] = c``;
2. sums: ``E[Sum(f, (i, 1, n))] = Sum(E[f], (i, 1, n))`` (finite sums);
3. a factor ``g`` outside a sum moves inside it, ``g Sum(f, j) = Sum(g f, j)``,
   when ``g`` does not contain the summation index ``j`` (the index is renamed
   to a fresh one with the same assumptions otherwise);
4. the derivation's stated moment facts, e.g. ``E[x[a] x[b]] = mu^2 +
   sigma^2 delta(a, b)`` for independent draws with mean ``mu`` and variance
   ``sigma^2`` (patterns with ``Wild`` indices match every pair of indices);
5. ``Sum(delta(a, b) f, (b, lo, hi)) = f|_{b=a}`` when ``delta(a, b)`` is a
   *factor* of the summand, ``a`` is bound by an enclosing
   ``Sum(..., (a, lo, hi))`` over the same range that is not shadowed by an
   inner binding of ``a``, the range is not reversed (``hi - lo + 1 >= 0`` is
   provable), and ``f`` binds neither ``a`` nor ``b`` again (no capture);
   ``Sum(c, (i, lo, hi)) = (hi - lo + 1) c`` for ``c`` free of ``i`` (true for
   every range under SymPy's Karr convention).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["Expectation", "apply_facts", "expectation_residual", "normal_sums", "unknown_random_objects"]


class Expectation(sp.Function):  # type: ignore[misc]
    """Unevaluated expectation ``E[arg]``; see the module docstring for its rules."""

    nargs = 1

    def _latex(self, printer: Any) -> str:
        inner: str = printer._print(self.args[0])
        return r"\mathbb{E}\left[" + inner + r"\right]"

    def _sympystr(self, printer: Any) -> str:
        inner: str = printer._print(self.args[0])
        return f"E[{inner}]"

    def _pretty(self, printer: Any) -> Any:
        from sympy.printing.pretty.stringpict import prettyForm

        inner = printer._print(self.args[0])
        return prettyForm(*prettyForm("E").right(prettyForm(*inner.parens("[", "]"))))


def unknown_random_objects(expr: Any) -> list[Any]:
    """Objects from ``sympy.stats`` (random symbols, their E/P/Var) inside ``expr``: the rules must refuse them."""
    if not isinstance(expr, sp.Basic):
        return []
    found = []
    for node in sp.preorder_traversal(expr):
        module = type(node).__module__ or ""
        if module.startswith("sympy.stats"):
            found.append(node)
    return found


def _is_random(expr: Any) -> bool:
    return bool(expr.atoms(sp.Indexed))


def _fresh_like(variable: Any) -> Any:
    """A new dummy with the same assumptions as ``variable``."""
    return sp.Dummy(variable.name, **variable.assumptions0)


def _into_sum(factor: Any, total: Any) -> Any:
    """Rule 3: ``factor * Sum(f, limits) = Sum(factor * f, limits)``, renaming clashing indices first."""
    clashing = {limit[0] for limit in total.limits} & factor.free_symbols
    if clashing:  # alpha-rename: xreplace renames the variable in the summand and in every limit alike
        total = total.xreplace({variable: _fresh_like(variable) for variable in clashing})
    return sp.Sum(factor * total.function, *total.limits)


def _factors(expr: Any) -> list[Any]:
    """Factors of a product, with integer powers of random sums written out."""
    factors: list[Any] = []
    for factor in sp.Mul.make_args(expr):
        base, exponent = factor.as_base_exp()
        if isinstance(base, sp.Sum) and _is_random(base) and exponent.is_Integer and exponent > 1:
            factors.extend([base] * int(exponent))
        else:
            factors.append(factor)
    return factors


def _gather(expr: Any) -> Any:
    """Rewrite products and powers of random sums as nested sums (rules 2 and 3)."""
    expr = sp.expand(expr)
    if isinstance(expr, sp.Add):
        return sp.Add(*(_gather(term) for term in expr.args))
    if isinstance(expr, sp.Sum):
        return sp.Sum(_gather(expr.function), *expr.limits)
    factors = _factors(expr)
    position = next((k for k, f in enumerate(factors) if isinstance(f, sp.Sum) and _is_random(f)), None)
    if position is None:
        return expr
    first = factors[position]
    rest = sp.Mul(*(factors[:position] + factors[position + 1 :]))
    inner = _into_sum(rest, first)
    return sp.Sum(_gather(inner.function), *inner.limits)


def _linear(expr: Any) -> Any:
    """Push every ``E[...]`` through sums, products with constants and sums (rules 1–3)."""
    if isinstance(expr, Expectation):
        return _expect(_gather(expr.args[0]))
    if expr.args:
        return expr.func(*(_linear(arg) for arg in expr.args))
    return expr


def _expect(arg: Any) -> Any:
    if not _is_random(arg):
        return arg
    if isinstance(arg, sp.Add):
        return sp.Add(*(_expect(term) for term in arg.args))
    if isinstance(arg, sp.Sum):
        return sp.Sum(_expect(_gather(arg.function)), *arg.limits)
    if isinstance(arg, sp.Mul):
        constant = sp.Mul(*[f for f in arg.args if not _is_random(f)])
        if constant != 1:
            return constant * _expect(sp.Mul(*[f for f in arg.args if _is_random(f)]))
    return Expectation(arg)


def apply_facts(expr: Any, facts: dict[Any, Any]) -> Any:
    """Rule 4: exact facts by ``xreplace``, facts with ``Wild`` symbols by pattern."""
    exact = {k: v for k, v in facts.items() if not k.atoms(sp.Wild)}
    expr = expr.xreplace(exact) if exact else expr
    for pattern, value in facts.items():
        if pattern.atoms(sp.Wild):
            expr = expr.replace(pattern, value)
    return expr


def _bound_symbols(expr: Any) -> set[Any]:
    """Every variable bound somewhere inside ``expr`` (sums, integrals, lambdas, ...)."""
    bound: set[Any] = set()
    for node in sp.preorder_traversal(expr):
        variables = getattr(node, "variables", None)
        if isinstance(node, sp.Basic) and variables and not isinstance(node, sp.Indexed):
            bound |= set(variables)
    return bound


def _delta_factor(term: Any, variable: Any) -> tuple[Any, Any] | None:
    """``(delta, partner)`` when ``delta(variable, partner)`` is a factor of ``term`` (not nested inside anything)."""
    for factor in sp.Mul.make_args(term):
        if isinstance(factor, sp.KroneckerDelta) and variable in factor.args:
            first, second = factor.args
            partner = second if first == variable else first
            if isinstance(partner, sp.Symbol) and partner != variable:
                return factor, partner
    return None


def _collapse(expr: Any, enclosing: tuple[tuple[Any, Any, Any], ...] = ()) -> Any:
    """Rule 5: collapse Kronecker deltas against an enclosing index and sums of constants."""
    if isinstance(expr, sp.Sum):
        # Sum(f, (j, ...), (i, ...)) = Sum(Sum(f, (j, ...)), (i, ...)): peel off the outermost limit.
        limit = expr.limits[-1]
        if len(limit) != 3:
            return expr
        inner = sp.Sum(expr.function, *expr.limits[:-1]) if len(expr.limits) > 1 else expr.function
        variable, low, high = limit
        # An inner binding of `variable` shadows every outer one of the same symbol.
        visible = tuple(o for o in enclosing if o[0] != variable)
        body = _collapse(inner, (*visible, limit))
        terms = sp.Add.make_args(sp.expand(body))
        forward = sp.simplify(high - low + 1).is_nonnegative is True  # not a reversed (Karr) range
        kept, collapsed = [], []
        for term in terms:
            found = _delta_factor(term, variable)
            if found is not None and forward:
                delta, outer = found
                rest = term / delta
                in_range = any(o[0] == outer and (o[1], o[2]) == (low, high) for o in visible)
                captured = {variable, outer} & _bound_symbols(rest)
                if in_range and not captured and outer not in (low.free_symbols | high.free_symbols):
                    collapsed.append(rest.xreplace({variable: outer}))
                    continue
            if variable not in term.free_symbols:
                collapsed.append((high - low + 1) * term)
            else:
                kept.append(term)
        result = sp.Add(*collapsed)
        if kept:
            result += sp.Sum(sp.Add(*kept), limit)
        return result
    if isinstance(expr, (sp.Integral, sp.Lambda, sp.Derivative, sp.Limit)):
        return expr  # other binders: leave their insides alone
    if expr.args:
        return expr.func(*(_collapse(arg, enclosing) for arg in expr.args))
    return expr


_CANONICAL: dict[tuple[tuple[str, bool], ...], Any] = {}


def _canonical_index(variable: Any) -> Any:
    """One dummy per set of assumptions, so equal single sums compare equal after renaming."""
    key = tuple(sorted(variable.assumptions0.items()))
    if key not in _CANONICAL:
        _CANONICAL[key] = sp.Dummy("k", **variable.assumptions0)
    return _CANONICAL[key]


def _canonical_dummies(expr: Any) -> Any:
    """Rename the index of every top-level single sum to a canonical dummy, so equal sums compare equal."""

    def rename(total: Any) -> Any:
        variable, low, high = total.limits[0]
        index = _canonical_index(variable)
        if index in total.function.free_symbols:
            return total
        return sp.Sum(total.function.xreplace({variable: index}), (index, low, high))

    top = [s for s in expr.atoms(sp.Sum) if len(s.limits) == 1 and len(s.limits[0]) == 3 and not _inside_sum(expr, s)]
    return expr.xreplace({s: rename(s) for s in top})


def _inside_sum(expr: Any, target: Any) -> bool:
    return any(target in outer.function.atoms(sp.Sum) for outer in expr.atoms(sp.Sum) if outer != target)


def normal_sums(expr: Any, facts: dict[Any, Any]) -> Any:
    """Expand sums, pull out index-free factors, apply facts and rule 5, until nothing changes."""
    for _ in range(6):
        before = expr
        expr = apply_facts(sp.factor_terms(sp.expand(expr)), facts)
        expr = _canonical_dummies(_collapse(expr))
        if expr == before:
            break
    return expr


def expectation_residual(a: Any, b: Any, facts: dict[Any, Any]) -> Any:
    """``a - b`` after the expectation rules, the facts and sum normalisation.

    Refuses (returns a non-zero marker) when either side contains a random object
    the rules do not know, such as a ``sympy.stats`` random symbol.
    """
    unknown = unknown_random_objects(a) + unknown_random_objects(b)
    if unknown:
        return sp.Symbol(f"<unknown random object {unknown[0]}: the expectation rules only know indexed draws x[i]>")
    difference = normal_sums(apply_facts(_linear(a - b), facts), facts)
    return sp.cancel(sp.together(sp.expand(difference)))
