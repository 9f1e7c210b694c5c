"""Checking matrix identities: concrete sizes by cleared denominators, any size by rewriting.

Two methods, both exact:

``matrices`` (concrete n)
    Every ``MatrixSymbol`` of a concrete shape is instantiated with generic
    symbolic entries (symmetric where the derivation states ``X^T = X``). Each
    side is evaluated as a pair (polynomial matrix N, polynomial d) meaning
    N / d, with ``X^{-1} = adj(X) / det(X)``: no symbolic inverse is ever
    formed and nothing is cancelled, so the arithmetic stays in the
    polynomial ring ``ZZ[entries]``. The identity ``N1/d1 = N2/d2`` holds iff
    ``N1 d2 - N2 d1`` is the zero polynomial matrix. Because the entries are
    generic, an identity proved this way holds for every matrix of that size
    for which the inverses exist. An inverse whose determinant is the zero
    polynomial (a matrix that is singular for *every* choice of entries, such
    as ``H^T R^{-1} H`` with ``H`` of shape 1 x 2) is refused: "for every
    matrix for which the inverse exists" would then be vacuous.

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
from sympy.polys.matrices import DomainMatrix
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


class SingularInverse(ValueError):  # noqa: N818 - the name says what is refused
    """An inverse of a matrix whose determinant is identically zero."""


def _instance(symbol: Any, symmetric: bool) -> Any:
    """Generic entries for ``symbol``: one fresh dummy per entry (per pair for a symmetric matrix)."""
    rows, cols = (int(d) for d in symbol.shape)
    entries: dict[tuple[int, int], Any] = {}

    def entry(r: int, c: int) -> Any:
        if symmetric and r > c:
            r, c = c, r
        if (r, c) not in entries:
            entries[(r, c)] = sp.Dummy(f"{symbol.name}[{r},{c}]")
        return entries[(r, c)]

    return sp.Matrix(rows, cols, entry)


def _generator_key(symbol: Any) -> tuple[str, int]:
    return (symbol.name, getattr(symbol, "dummy_index", 0) or 0)


class _Evaluator:
    """Evaluate a matrix expression to (numerator DomainMatrix, denominator) over ZZ[generators]."""

    def __init__(self, instances: dict[Any, Any]) -> None:
        generators = sorted(set().union(*(m.free_symbols for m in instances.values())), key=_generator_key)
        self.ring = sp.ZZ[tuple(generators)] if generators else sp.ZZ
        self.instances = {
            key: DomainMatrix.from_Matrix(value).convert_to(self.ring) for key, value in instances.items()
        }
        self.one = self.ring.one

    def scalar(self, value: Any) -> Any:
        value = sp.sympify(value)
        if value.free_symbols:
            raise ValueError(f"scalar factor {value} is not a number; the matrices method needs numeric scalars")
        return self.ring.from_sympy(value)

    def fraction(self, value: Any) -> tuple[Any, Any]:
        """A numeric scalar as (numerator, denominator) in the ring; a zero denominator is refused."""
        top, bottom = sp.fraction(sp.together(sp.sympify(value)))
        if bottom == 0 or not bottom.is_number or bottom.is_zero is not False:
            raise SingularInverse(f"division by {bottom}")
        return self.scalar(top), self.scalar(bottom)

    def __call__(self, expr: Any) -> tuple[Any, Any]:  # noqa: PLR0912 - one branch per node type
        if expr in self.instances:
            return self.instances[expr], self.one
        if isinstance(expr, sp.Identity):
            return DomainMatrix.eye(int(expr.rows), self.ring), self.one
        if isinstance(expr, sp.ZeroMatrix):
            return DomainMatrix.zeros((int(expr.rows), int(expr.cols)), self.ring), self.one
        if isinstance(expr, sp.MatAdd):
            terms = [self(arg) for arg in expr.args]
            numerator, denominator = terms[0]
            for other, other_denominator in terms[1:]:
                if other_denominator == denominator:  # common case: no cross-multiplication needed
                    numerator = numerator + other
                else:
                    numerator = numerator * other_denominator + other * denominator
                    denominator = denominator * other_denominator
            return numerator, denominator
        if isinstance(expr, sp.MatMul):
            factor, matrices = expr.as_coeff_matrices()
            numerator, denominator = self(matrices[0])
            for matrix in matrices[1:]:
                other, other_denominator = self(matrix)
                numerator, denominator = numerator * other, denominator * other_denominator
            if factor == 1:
                return numerator, denominator
            numerator_factor, denominator_factor = self.fraction(factor)
            return numerator * numerator_factor, denominator * denominator_factor
        if isinstance(expr, sp.Transpose):
            numerator, denominator = self(expr.arg)
            return numerator.transpose(), denominator
        if isinstance(expr, sp.Mul) and not isinstance(expr, sp.MatrixExpr):
            # a scalar product such as det(A) det(B): multiply the 1x1 factors
            numerator, denominator = DomainMatrix([[self.one]], (1, 1), self.ring), self.one
            for factor in expr.args:
                if factor.is_number:
                    top, bottom = self.fraction(factor)
                    numerator, denominator = numerator * top, denominator * bottom
                else:
                    other, other_denominator = self(factor)
                    numerator, denominator = numerator * other, denominator * other_denominator
            return numerator, denominator
        if isinstance(expr, sp.Determinant):
            numerator, denominator = self(expr.arg)
            # det(N/d) = det(N) / d^n, as a 1x1 matrix
            size = int(expr.arg.rows)
            return DomainMatrix([[numerator.det()]], (1, 1), self.ring), denominator**size
        if isinstance(expr, sp.Inverse) or (isinstance(expr, sp.MatPow) and expr.exp == -1):
            numerator, denominator = self(expr.args[0])
            if numerator.shape[0] != numerator.shape[1]:
                raise ValueError(f"inverse of a non-square {numerator.shape} matrix: {expr.args[0]}")
            adjugate, determinant = numerator.adj_det()
            if not determinant:
                # det(N/d) is the zero polynomial: singular for every choice of entries.
                raise SingularInverse(f"{expr.args[0]} is singular for every choice of entries (determinant 0)")
            # (N/d)^{-1} = d adj(N) / det(N)
            return adjugate * denominator, determinant
        raise ValueError(f"cannot evaluate matrix expression of type {type(expr).__name__}: {expr}")


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
    except (SingularInverse, PolySingularInverse) as error:
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
