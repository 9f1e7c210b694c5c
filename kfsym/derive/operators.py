"""The expectation operator ``E[...]`` and the rules the ``expectation`` check applies.

Random quantities are written as indexed symbols ``x[i]`` (the i-th draw);
plain symbols are constants. The check rewrites ``E[...]`` with rules that are
each a textbook property, so a reader can audit them:

1. linearity: ``E[a + b] = E[a] + E[b]``, ``E[c a] = c E[a]`` for ``c`` free of
   random quantities, ``E[c] = c``;
2. sums: ``E[Sum(f, (i, 1, n))] = Sum(E[f], (i, 1, n))`` (finite sums);
3. a factor ``g`` outside a sum moves inside it, ``g Sum(f, j) = Sum(g f, j)``,
   when ``g`` does not contain the summation index ``j``;
4. the derivation's stated moment facts, e.g. ``E[x[a] x[b]] = mu^2 +
   sigma^2 delta(a, b)`` for independent draws with mean ``mu`` and variance
   ``sigma^2`` (patterns with ``Wild`` indices match every pair of indices);
5. ``Sum(delta(a, b) f, (b, lo, hi)) = f|_{b=a}`` inside an enclosing
   ``Sum(..., (a, lo, hi))`` over the same range (so ``a`` lies in the range),
   and ``Sum(c, (i, lo, hi)) = (hi - lo + 1) c`` for ``c`` free of ``i``.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["Expectation", "apply_facts", "expectation_residual", "normal_sums"]


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


def _is_random(expr: Any) -> bool:
    return bool(expr.atoms(sp.Indexed))


def _into_sum(factor: Any, total: Any) -> Any:
    """Rule 3: ``factor * Sum(f, (j, ...)) = Sum(factor * f, (j, ...))`` (renaming j if needed)."""
    (variable, low, high) = total.limits[0]
    if variable in factor.free_symbols:
        fresh = sp.Dummy(variable.name, integer=True, positive=True)
        total = sp.Sum(total.function.xreplace({variable: fresh}), (fresh, low, high))
        (variable, low, high) = total.limits[0]
    return sp.Sum(factor * total.function, (variable, low, high))


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


def _collapse(expr: Any, enclosing: tuple[Any, ...] = ()) -> Any:
    """Rule 5: collapse Kronecker deltas against an enclosing index and sums of constants."""
    if isinstance(expr, sp.Sum):
        # Sum(f, (j, ...), (i, ...)) = Sum(Sum(f, (j, ...)), (i, ...)): peel off the outermost limit.
        limit = expr.limits[-1]
        inner = sp.Sum(expr.function, *expr.limits[:-1]) if len(expr.limits) > 1 else expr.function
        body = _collapse(inner, (*enclosing, limit))
        variable, low, high = limit
        terms = sp.Add.make_args(sp.expand(body))
        kept, collapsed = [], []
        for term in terms:
            deltas = [d for d in term.atoms(sp.KroneckerDelta) if variable in d.free_symbols]
            outer = _partner(deltas[0], variable) if len(deltas) == 1 else None
            if outer is not None and any(o[0] == outer and (o[1], o[2]) == (low, high) for o in enclosing):
                collapsed.append(sp.sympify(term.xreplace({deltas[0]: 1})).xreplace({variable: outer}))
            elif variable not in term.free_symbols:
                collapsed.append((high - low + 1) * term)
            else:
                kept.append(term)
        result = sp.Add(*collapsed)
        if kept:
            result += sp.Sum(sp.Add(*kept), limit)
        return result
    if expr.args:
        return expr.func(*(_collapse(arg, enclosing) for arg in expr.args))
    return expr


def _partner(delta: Any, variable: Any) -> Any:
    first, second = delta.args
    if first == variable and isinstance(second, sp.Symbol):
        return second
    if second == variable and isinstance(first, sp.Symbol):
        return first
    return None


def _canonical_dummies(expr: Any) -> Any:
    """Rename the index of every top-level single sum to one name, so equal sums compare equal."""
    index = sp.Symbol("k_", integer=True, positive=True)

    def rename(total: Any) -> Any:
        variable, low, high = total.limits[0]
        return sp.Sum(total.function.xreplace({variable: index}), (index, low, high))

    top = [s for s in expr.atoms(sp.Sum) if len(s.limits) == 1 and not _inside_sum(expr, s)]
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
    """``a - b`` after the expectation rules, the facts and sum normalisation."""
    difference = normal_sums(apply_facts(_linear(a - b), facts), facts)
    return sp.cancel(sp.together(sp.expand(difference)))
