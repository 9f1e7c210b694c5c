"""Checking matrix identities: concrete sizes by cleared denominators, any size by rewriting.

Two methods, both exact:

``matrices`` (concrete n)
    Every ``MatrixSymbol`` of a concrete shape is instantiated with generic
    symbolic entries (symmetric where the derivation states ``X^T = X``) and
    both sides are evaluated exactly as polynomial fractions, with
    ``X^{-1} = adj(X) / det(X)`` (:mod:`kfsym.derive.kernel.polymatrix`). Because
    the entries are generic, an identity proved this way holds for every
    matrix of that size for which the inverses exist. An inverse whose
    determinant is the zero polynomial (a matrix that is singular for *every*
    choice of entries, such as ``H^T R^{-1} H`` with ``H`` of shape 1 x 2) is
    refused: "for every matrix for which the inverse exists" would then be
    vacuous. Two different matrix symbols with one name are refused too.

``rewrite`` (any n)
    Matrices are non-commuting symbols. The difference of the two sides is
    expanded and the derivation's stated rules (each a true equation such as
    ``S^{-1} S = I`` or ``S^{-1} (H P H^T) = I - S^{-1} R``) are applied as
    left-to-right rewrites of contiguous factors until nothing changes. Only a
    difference that reaches 0 is a proof; one that stalls is reported.
"""

from __future__ import annotations

from typing import Any

import sympy as sp
from sympy.polys.matrices.exceptions import DMError
from sympy.polys.polyerrors import PolynomialError

from kfsym.derive.kernel.polymatrix import SingularInverseError as PolySingularInverse
from kfsym.derive.kernel.polymatrix import concrete_residual

__all__ = ["SingularInverse", "matrix_residual", "rewrite_residual", "symmetric_matrices"]


def symmetric_matrices(facts: dict[Any, Any]) -> set[str]:
    """Names of the matrix symbols stated symmetric by a fact ``X.T = X`` (any size)."""
    return {
        value.name
        for key, value in facts.items()
        if isinstance(key, sp.Transpose) and key.arg == value and isinstance(value, sp.MatrixSymbol)
    }


#: The refusal raised for an inverse of an identically singular matrix.
SingularInverse = PolySingularInverse


def _concrete_matrix_symbols(*exprs: Any) -> set[Any]:
    found: set[Any] = set()
    for expr in exprs:
        found |= {s for s in sp.sympify(expr).atoms(sp.MatrixSymbol) if all(d.is_Integer for d in s.shape)}
    return found


def matrix_residual(a: Any, b: Any, facts: dict[Any, Any]) -> Any:
    """Zero when ``a == b`` for generic matrices of the concrete sizes in the expressions.

    The evaluation (factored denominators, change of coordinates for inverted
    sums) is :func:`kfsym.derive.kernel.polymatrix.concrete_residual`.
    """
    symmetric = symmetric_matrices(facts)
    symbols = _concrete_matrix_symbols(a, b)
    if not symbols:
        return sp.Symbol("<no concrete-size matrix symbols to instantiate>")
    names = [s.name for s in symbols]
    if len(set(names)) != len(names):
        return sp.Symbol("<two different matrix symbols share a name>")
    try:
        return concrete_residual(a, b, symmetric)
    except PolySingularInverse as error:
        return sp.Symbol(f"<refused: {error}>")
    except (ValueError, TypeError, NotImplementedError, ArithmeticError, DMError, PolynomialError) as error:
        return sp.Symbol(f"<cannot evaluate: {error}>")


def _reversed(pattern: Any, value: Any) -> tuple[Any, Any] | None:
    """``A B -> 1 - C B`` read backwards: ``C B -> 1 - A B`` (the same equation, other orientation)."""
    rest = sp.expand(1 - value)
    if isinstance(rest, sp.Mul) and not rest.is_commutative and rest.args[0] != -1:
        return rest, sp.expand(1 - pattern)
    return None


def _normal_form(expr: Any, rules: list[tuple[Any, Any]]) -> Any:
    for _ in range(50):
        before = expr
        for pattern, value in rules:
            expr = sp.expand(expr.subs(pattern, value))
        if expr == before:
            break
    return expr


def rewrite_residual(a: Any, b: Any, rules: dict[Any, Any]) -> Any:
    """Expand ``a - b`` over non-commuting symbols and rewrite it with ``rules`` until nothing changes.

    Rewriting is tried with the rules as stated and with every rule of the form
    ``A B = 1 - C B`` also read right to left (both are the same true
    equation); a proof is any strategy that reaches 0. When none does, the
    residual of the stated orientation is returned.
    """
    stated = [(pattern, value) for pattern, value in rules.items() if not pattern.is_commutative]
    flipped = [_reversed(pattern, value) or (pattern, value) for pattern, value in stated]
    difference = sp.expand(a - b)
    first = _normal_form(difference, stated)
    if first == 0:
        return first
    for strategy in (flipped, stated + flipped, flipped + stated):
        if _normal_form(difference, strategy) == 0:
            return sp.Integer(0)
    return first
