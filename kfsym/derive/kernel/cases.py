"""Proof by cases, checked: every case states its condition, and the conditions are proved to cover.

A :class:`Case` is a condition (a relation such as ``sigma_1**2 <= sigma_2**2``)
together with the replacements that the condition justifies (``Min(s1, s2) ->
s1``). The kernel accepts a case split only when

1. each replacement follows from its case's condition by a rule listed in
   :func:`implied` (``Min``/``Max``/``Abs`` of two compared quantities, or a
   symbol equal to a value), and
2. the disjunction of the conditions covers every admissible value of the
   symbols (:func:`covers`): one real symbol is decided by intervals
   (``as_set``); several conditions on one real difference ``d`` are decided by
   the union of the sign sets of ``d``.

A case with ``condition=None`` is a *size instance* of a matrix identity
(``{n: 3}``): it only substitutes a positive integer for a symbol that occurs
solely as a matrix dimension, and the step is then proved for the listed sizes
only, which every output shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from kfsym.derive.kernel.admit import admit, admit_pairs

__all__ = ["Case", "covers", "implied", "size_symbols_only_in_shapes"]

_SHAPED = (sp.MatrixSymbol, sp.Identity, sp.ZeroMatrix, sp.OneMatrix)


@dataclass(frozen=True, init=False)
class Case:
    """One case of a proof by cases: under ``condition``, each ``old`` equals its ``new``.

    Parameters
    ----------
    condition : sympy relational or boolean, or None
        When the case applies. ``None`` marks a matrix-size instance.
    substitution : mapping or pairs
        The replacements the condition justifies.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b", positive=True)
    >>> Case(a <= b, {sp.Min(a, b): a}).substitution
    ((Min(a, b), a),)
    """

    condition: Any
    substitution: tuple[tuple[Any, Any], ...]

    def __init__(self, condition: Any, substitution: Mapping[Any, Any] | Iterable[tuple[Any, Any]] = ()) -> None:
        if condition is not None:
            condition = admit(condition, "case condition")
            if not isinstance(condition, sp.logic.boolalg.Boolean):
                raise TypeError(f"case condition must be a relation or a boolean, got {condition!r}")
        object.__setattr__(self, "condition", condition)
        object.__setattr__(self, "substitution", admit_pairs(substitution, "case substitution"))

    @property
    def mapping(self) -> dict[Any, Any]:
        """The replacements as a dict."""
        return dict(self.substitution)


def _domain(symbol: Any) -> Any:
    if symbol.is_real is not True:
        return None
    if symbol.is_integer:
        if symbol.is_positive:
            return sp.Naturals
        if symbol.is_nonnegative:
            return sp.Naturals0
        return sp.Integers
    if symbol.is_positive:
        return sp.Interval.open(0, sp.oo)
    if symbol.is_nonnegative:
        return sp.Interval(0, sp.oo)
    if symbol.is_negative:
        return sp.Interval.open(-sp.oo, 0)
    if symbol.is_nonpositive:
        return sp.Interval(-sp.oo, 0)
    return sp.Reals


_SIGN_SETS = {
    "<": sp.Interval.open(-sp.oo, 0),
    "<=": sp.Interval(-sp.oo, 0),
    ">": sp.Interval.open(0, sp.oo),
    ">=": sp.Interval(0, sp.oo),
    "==": sp.FiniteSet(0),
    "!=": sp.Union(sp.Interval.open(-sp.oo, 0), sp.Interval.open(0, sp.oo)),
}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _relations(condition: Any) -> list[tuple[Any, str]] | None:
    """``[(lhs - rhs, operator)]`` for a relation; ``None`` for anything else."""
    if isinstance(condition, sp.core.relational.Relational):
        return [(sp.expand(condition.lhs - condition.rhs), condition.rel_op)]
    return None


def covers(conditions: Iterable[Any]) -> bool:
    """True when SymPy proves that at least one condition holds for every admissible value of the symbols.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> covers([x <= 1, x >= 1]), covers([x < 1, x > 1])
    (True, False)
    """
    conditions = list(conditions)
    if not conditions:
        return False
    if any(c is sp.true for c in conditions):
        return True
    disjunction = sp.Or(*conditions)
    if disjunction is sp.true:
        return True
    return _covers_one_symbol(disjunction) or _covers_one_difference(conditions)


def _covers_one_symbol(disjunction: Any) -> bool:
    """Conditions on one symbol: the union of the sets where they hold contains the symbol's domain."""
    free = disjunction.free_symbols
    if len(free) != 1:
        return False
    (symbol,) = free
    domain = _domain(symbol)
    if domain is None:
        return False
    try:
        return bool(domain.is_subset(disjunction.as_set()) is True)
    except (NotImplementedError, TypeError, ValueError):
        return False


def _covers_one_difference(conditions: list[Any]) -> bool:
    """Relations on one real difference d (up to sign): the union of the sign sets of d is all of R."""
    pieces: list[tuple[Any, str]] = []
    for condition in conditions:
        relations = _relations(condition)
        if relations is None:
            return False
        pieces.extend(relations)
    reference = pieces[0][0]
    if reference.is_real is not True:
        return False
    union: Any = sp.EmptySet
    for difference, operator in pieces:
        if sp.expand(difference - reference) == 0:
            union = sp.Union(union, _SIGN_SETS[operator])
        elif sp.expand(difference + reference) == 0:
            union = sp.Union(union, _SIGN_SETS[_FLIPPED[operator]])
        else:
            return False
    return bool(sp.Reals.is_subset(union) is True)


def _signs_implied(condition: Any, difference: Any) -> set[str]:
    """Which of ``difference <= 0`` (``"le"``) and ``difference >= 0`` (``"ge"``) the condition implies."""
    parts = condition.args if isinstance(condition, sp.And) else (condition,)
    found: set[str] = set()
    for part in parts:
        relations = _relations(part)
        if relations is None:
            continue
        ((expr, operator),) = relations
        if sp.expand(expr - difference) == 0:
            op = operator
        elif sp.expand(expr + difference) == 0:
            op = _FLIPPED[operator]
        else:
            continue
        if op in ("<", "<=", "=="):
            found.add("le")
        if op in (">", ">=", "=="):
            found.add("ge")
    return found


def implied(old: Any, new: Any, condition: Any) -> bool:
    """True when ``condition`` implies ``old == new`` by one of the listed rules.

    Rules: ``Min(a, b) = a`` and ``Max(a, b) = b`` under ``a <= b`` (and
    mirrored); ``Abs(a) = a`` under ``a >= 0``, ``Abs(a) = -a`` under ``a <= 0``;
    a symbol equals a value under ``Eq(symbol, value)``.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b", real=True)
    >>> implied(sp.Min(a, b), a, a <= b), implied(sp.Min(a, b), a, a >= b)
    (True, False)
    """
    if isinstance(old, sp.Symbol):
        parts = condition.args if isinstance(condition, sp.And) else (condition,)
        return any(isinstance(p, sp.Eq) and {p.lhs, p.rhs} == {old, new} for p in parts)
    if isinstance(old, (sp.Min, sp.Max)) and len(old.args) == 2 and new in old.args:
        first, second = old.args
        signs = _signs_implied(condition, first - second)
        picks_first = "le" in signs if isinstance(old, sp.Min) else "ge" in signs
        picks_second = "ge" in signs if isinstance(old, sp.Min) else "le" in signs
        return (new == first and picks_first) or (new == second and picks_second)
    if isinstance(old, sp.Abs):
        (inner,) = old.args
        signs = _signs_implied(condition, inner)
        return (new == inner and "ge" in signs) or (sp.expand(new + inner) == 0 and "le" in signs)
    return False


def size_symbols_only_in_shapes(symbols: Iterable[Any], *exprs: Any) -> bool:
    """True when each symbol occurs in ``exprs`` only as a dimension of a matrix symbol or identity."""
    wanted = set(symbols)
    for expr in exprs:
        entries = list(expr) if isinstance(expr, sp.MatrixBase) else [expr]
        for entry in entries:
            stack = [sp.sympify(entry)]
            while stack:
                node = stack.pop()
                if isinstance(node, _SHAPED):
                    continue
                if node in wanted:
                    return False
                stack.extend(node.args)
    return True
