"""Concrete-size matrix identities in a polynomial ring, with factored denominators.

Every matrix symbol of a concrete shape is instantiated with generic symbolic
entries (symmetric where the derivation states ``X^T = X``), and each side is
evaluated exactly as a fraction ``N / (a_1^e_1 ... a_k^e_k)``: ``N`` a matrix
of polynomials over ``QQ[entries]``, each ``a_i`` a polynomial *atom* (the
determinant of a matrix that was inverted, with the atoms already known
divided out of it). No symbolic inverse is ever formed (``X^{-1} = adj X /
det X``). Keeping the denominator as a product of atoms lets sums use the
least common multiple and lets a numerator be divided exactly by an atom it
contains, so degrees stay small where plain cleared denominators blow up.

An inverse of a matrix whose determinant is the zero polynomial is refused:
such a matrix is singular for every value of its entries.

Change of coordinates. When an inverted sum ``Y + M`` contains a matrix
symbol ``M`` with independent entries that occurs nowhere inverted on its own
and not inside ``Y``, the entries of ``M`` are written as ``T - Y`` with fresh
generic entries ``T`` (entry by entry, over the independent entries of ``M``).
The map ``M -> T`` is a polynomial bijection with polynomial inverse, so an
identity of rational functions holds in the old coordinates iff it holds in
the new ones; in the new ones ``(Y + M)^{-1}`` is the inverse of a generic
matrix, whose determinant is small. (The Kalman innovation ``S = H P H^T + R``
becomes a free symmetric matrix, for instance.)
"""

from __future__ import annotations

import heapq
import random
import zlib
from typing import Any

import sympy as sp
from sympy.polys.matrices import DomainMatrix

__all__ = ["SingularInverseError", "concrete_residual"]


class SingularInverseError(ValueError):
    """An inverse of a matrix whose determinant is identically zero."""


def _instance(symbol: Any, symmetric: bool) -> Any:
    rows, cols = (int(d) for d in symbol.shape)
    name = symbol.name

    def entry(r: int, c: int) -> Any:
        if symmetric and r > c:
            r, c = c, r
        return sp.Symbol(f"{name}[{r},{c}]")

    return sp.Matrix(rows, cols, entry)


def _exquo(dividend: Any, divisor: Any) -> Any:
    """``dividend / divisor`` for sparse polynomials of one ring when it is exact, else ``None``.

    Lexicographic division with a heap of the remainder's monomials: each round
    takes the remainder's leading term, which the divisor's leading monomial
    must divide (otherwise the division is not exact, which is usually seen
    at once), and subtracts the matching multiple of the divisor.
    """
    ring = dividend.ring
    if not divisor:
        raise ZeroDivisionError("division by the zero polynomial")
    if not dividend:
        return ring.zero
    lead = max(divisor)
    lead_coefficient = divisor[lead]
    rest = [(m, c) for m, c in divisor.items() if m != lead]
    remainder = dict(dividend)
    heap = [tuple(-e for e in m) for m in remainder]
    heapq.heapify(heap)
    quotient: dict[Any, Any] = {}
    while heap:
        top = tuple(-e for e in heapq.heappop(heap))
        coefficient = remainder.pop(top, None)
        if not coefficient:
            continue
        shift = tuple(a - b for a, b in zip(top, lead, strict=True))
        if min(shift) < 0:
            return None
        factor = coefficient / lead_coefficient
        quotient[shift] = factor
        for monomial, c in rest:
            product = tuple(a + b for a, b in zip(monomial, shift, strict=True))
            value = remainder.get(product)
            if value is None:
                remainder[product] = -factor * c
                heapq.heappush(heap, tuple(-e for e in product))
            else:
                value = value - factor * c
                if value:
                    remainder[product] = value
                else:
                    del remainder[product]
    return ring.from_dict(quotient)


class _Fraction:
    """``numerator / prod(atoms[i] ** e)`` with ``denominator = {i: e}``."""

    __slots__ = ("denominator", "numerator")

    def __init__(self, numerator: Any, denominator: dict[int, int]) -> None:
        self.numerator = numerator
        self.denominator = {i: e for i, e in denominator.items() if e}


class _Evaluator:
    def __init__(self, instances: dict[Any, Any]) -> None:
        generators = sorted(set().union(*(m.free_symbols for m in instances.values())), key=lambda s: s.name)
        self.ring = sp.QQ[tuple(generators)] if generators else sp.QQ
        self.instances = {k: DomainMatrix.from_Matrix(v).convert_to(self.ring) for k, v in instances.items()}
        self.atoms: list[Any] = []

    # ------------------------------------------------------------ fractions
    def _power(self, exponents: dict[int, int]) -> Any:
        value = self.ring.one
        for index, exponent in exponents.items():
            value = value * self.atoms[index] ** exponent
        return value

    def _divide(self, numerator: Any, atom: Any) -> Any:
        """``numerator / atom`` entry by entry when every division is exact, else ``None``."""
        rows = numerator.to_sdm()
        quotient: dict[int, dict[int, Any]] = {}
        # the smallest entries first: a failing division is usually found at once
        for r, row in sorted(rows.items(), key=lambda item: sum(len(e) for e in item[1].values())):
            quotient[r] = {}
            for c, entry in row.items():
                divided = _exquo(entry, atom)
                if divided is None:
                    return None
                quotient[r][c] = divided
        return DomainMatrix(quotient, numerator.shape, self.ring)

    def _cancel(self, value: _Fraction) -> _Fraction:
        """Divide every atom of the denominator out of the numerator as often as it goes exactly."""
        numerator, denominator = value.numerator, dict(value.denominator)
        for index in list(denominator):
            while denominator[index] > 0:
                divided = self._divide(numerator, self.atoms[index])
                if divided is None:
                    break
                numerator, denominator[index] = divided, denominator[index] - 1
        return _Fraction(numerator, denominator)

    def _add(self, first: _Fraction, second: _Fraction) -> _Fraction:
        common = {
            i: max(first.denominator.get(i, 0), second.denominator.get(i, 0))
            for i in {*first.denominator, *second.denominator}
        }
        left = first.numerator
        lift = {i: e - first.denominator.get(i, 0) for i, e in common.items()}
        if any(lift.values()):
            left = left * self._power(lift)
        right = second.numerator
        lift = {i: e - second.denominator.get(i, 0) for i, e in common.items()}
        if any(lift.values()):
            right = right * self._power(lift)
        return self._cancel(_Fraction(left + right, common))

    def _mul(self, first: _Fraction, second: _Fraction) -> _Fraction:
        exponents = dict(first.denominator)
        for i, e in second.denominator.items():
            exponents[i] = exponents.get(i, 0) + e
        return self._cancel(_Fraction(first.numerator * second.numerator, exponents))

    def _atomise(self, polynomial: Any) -> tuple[Any, dict[int, int]]:
        """Divide the known atoms out of ``polynomial``; a non-constant rest becomes a new atom."""
        exponents: dict[int, int] = {}
        for index, atom in enumerate(self.atoms):
            while True:
                divided = _exquo(polynomial, atom)
                if divided is None:
                    break
                polynomial = divided
                exponents[index] = exponents.get(index, 0) + 1
        constant = self.ring.one
        if getattr(polynomial, "is_ground", True):
            constant = polynomial
        else:
            self.atoms.append(polynomial)
            exponents[len(self.atoms) - 1] = 1
        return constant, exponents

    # ------------------------------------------------------------ evaluation
    def __call__(self, expr: Any) -> _Fraction:  # noqa: PLR0912 - one branch per node type
        if expr in self.instances:
            return _Fraction(self.instances[expr], {})
        if isinstance(expr, sp.Identity):
            return _Fraction(DomainMatrix.eye(int(expr.rows), self.ring), {})
        if isinstance(expr, sp.ZeroMatrix):
            return _Fraction(DomainMatrix.zeros((int(expr.rows), int(expr.cols)), self.ring), {})
        if isinstance(expr, sp.MatAdd):
            total = self(expr.args[0])
            for arg in expr.args[1:]:
                total = self._add(total, self(arg))
            return total
        if isinstance(expr, sp.MatMul):
            factor, matrices = expr.as_coeff_matrices()
            value = self(matrices[0])
            for matrix in matrices[1:]:
                value = self._mul(value, self(matrix))
            if factor != 1:
                if not factor.is_Rational:
                    raise ValueError(f"only rational scalar factors are supported, got {factor}")
                value = _Fraction(value.numerator * self.ring.convert(factor), value.denominator)
            return value
        if isinstance(expr, sp.Transpose):
            inner = self(expr.arg)
            return _Fraction(inner.numerator.transpose(), inner.denominator)
        if isinstance(expr, sp.Determinant):
            inner = self(expr.arg)
            size = int(expr.arg.rows)
            determinant = DomainMatrix([[inner.numerator.det()]], (1, 1), self.ring)
            return self._cancel(_Fraction(determinant, {i: e * size for i, e in inner.denominator.items()}))
        if isinstance(expr, sp.Inverse) or (isinstance(expr, sp.MatPow) and expr.exp == -1):
            inner = self(expr.args[0])
            adjugate, determinant = inner.numerator.adj_det()
            if not determinant:
                raise SingularInverseError(f"{expr.args[0]} has determinant identically 0: its inverse does not exist")
            constant, exponents = self._atomise(determinant)
            # (N/d)^{-1} = d adj(N) / det(N),  det(N) = constant * prod(atoms^exponents)
            numerator = adjugate * (self.ring.one / constant) if constant != self.ring.one else adjugate
            if inner.denominator:
                numerator = numerator * self._power(inner.denominator)
            return self._cancel(_Fraction(numerator, exponents))
        if isinstance(expr, sp.Mul) and not isinstance(expr, sp.MatrixExpr):
            value = _Fraction(DomainMatrix([[self.ring.one]], (1, 1), self.ring), {})
            for factor in expr.args:
                if factor.is_Rational:
                    value = _Fraction(value.numerator * self.ring.convert(factor), value.denominator)
                else:
                    value = self._mul(value, self(factor))
            return value
        raise ValueError(f"cannot evaluate matrix expression of type {type(expr).__name__}: {expr}")

    def difference_is_zero(self, first: _Fraction, second: _Fraction) -> tuple[bool, Any]:
        if first.numerator.shape != second.numerator.shape:
            return False, f"shape mismatch: {first.numerator.shape} vs {second.numerator.shape}"
        negated = _Fraction(-second.numerator, second.denominator)
        difference = self._add(first, negated)
        if difference.numerator.is_zero_matrix:
            return True, None
        entries = difference.numerator.to_Matrix()
        first_entry = next(entry for entry in entries if entry != 0)
        return False, f"cleared difference has nonzero entries, first with {len(sp.Add.make_args(first_entry))} terms"


def _concrete_matrix_symbols(*exprs: Any) -> set[Any]:
    found: set[Any] = set()
    for expr in exprs:
        found |= {s for s in sp.sympify(expr).atoms(sp.MatrixSymbol) if all(d.is_Integer for d in s.shape)}
    return found


def _inverted(expr: Any) -> list[Any]:
    return [
        node.args[0]
        for node in sp.preorder_traversal(expr)
        if isinstance(node, sp.Inverse) or (isinstance(node, sp.MatPow) and node.exp == -1)
    ]


def _shift(exprs: tuple[Any, ...], instances: dict[Any, Any], symmetric: set[str]) -> None:
    """Change coordinates so that inverted sums ``Y + M`` become generic matrices (see the module notes)."""
    inverted = [arg for expr in exprs for arg in _inverted(expr)]
    bare_inverses = {arg for arg in inverted if isinstance(arg, sp.MatrixSymbol)}
    shifted: set[Any] = set()
    for arg in inverted:
        if not isinstance(arg, sp.MatAdd):
            continue
        for term in arg.args:
            if (
                not isinstance(term, sp.MatrixSymbol)
                or term not in instances
                or term in bare_inverses
                or term in shifted
            ):
                continue
            rest = sp.MatAdd(*[other for other in arg.args if other != term])
            if term in rest.atoms(sp.MatrixSymbol) or _inverted(rest) or rest.has(sp.Determinant):
                continue
            rest_value = rest.subs(instances).doit() if rest.atoms(sp.MatrixSymbol) else rest.as_explicit()
            rest_value = sp.Matrix(rest_value).applyfunc(sp.expand)
            if rest_value.free_symbols & instances[term].free_symbols:
                continue
            template = _instance(term, term.name in symmetric)
            fresh = template.xreplace({g: sp.Dummy(g.name) for g in template.free_symbols})  # new, unique
            old = instances[term]
            replacement = {}
            for r in range(old.rows):
                for c in range(old.cols):
                    generator = old[r, c]
                    if generator not in replacement:
                        replacement[generator] = fresh[r, c] - rest_value[r, c]
            instances[term] = old.xreplace(replacement)
            shifted.add(term)
            break


def _differing_point(a: Any, b: Any, instances: dict[Any, Any], tries: int = 2) -> dict[str, int] | None:
    """An integer assignment of the entries at which both sides exist and differ, or ``None``.

    A refutation only: two rational functions that differ at one point where
    both are defined are different, so the check can fail fast. Agreement at
    the points proves nothing and the symbolic evaluation follows. The points
    are drawn from a generator seeded by the statement, so runs repeat.
    """
    generators = sorted(set().union(*(m.free_symbols for m in instances.values())), key=lambda g: g.name)
    rng = random.Random(zlib.crc32(sp.srepr((a, b)).encode()))
    for _ in range(tries):
        values = {g: sp.Integer(rng.randint(-9, 9)) for g in generators}
        numeric = {k: v.xreplace(values) for k, v in instances.items()}
        try:
            evaluate = _Evaluator(numeric)
            left, right = evaluate(a), evaluate(b)
            equal, _why = evaluate.difference_is_zero(left, right)
        except (SingularInverseError, ZeroDivisionError):
            continue  # an inverse does not exist at this point
        if not equal:
            return {g.name: int(v) for g, v in values.items()}
    return None


def concrete_residual(a: Any, b: Any, symmetric: set[str]) -> Any:
    """Zero when ``a == b`` for generic matrices of the concrete sizes in the expressions.

    ``symmetric`` names the matrix symbols stated symmetric. Raises
    :class:`SingularInverseError` for an inverse of an identically singular matrix.

    Examples
    --------
    >>> import sympy as sp
    >>> A, B = sp.MatrixSymbol("A", 3, 3), sp.MatrixSymbol("B", 3, 3)
    >>> concrete_residual((A * B).I, B.I * A.I, set())
    0
    >>> concrete_residual((A * B).I, A.I * B.I, set())  # doctest: +ELLIPSIS
    <the sides differ at the integer point {...}>
    """
    symbols = _concrete_matrix_symbols(a, b)
    if not symbols:
        return sp.Symbol("<no concrete-size matrix symbols to instantiate>")
    instances = {s: _instance(s, s.name in symmetric) for s in symbols}
    point = _differing_point(a, b, instances)
    if point is not None:
        return sp.Symbol(f"<the sides differ at the integer point {point}>")
    _shift((sp.sympify(a), sp.sympify(b)), instances, symmetric)
    evaluate = _Evaluator(instances)
    left = evaluate(a)
    right = evaluate(b)
    equal, why = evaluate.difference_is_zero(left, right)
    if equal:
        return sp.Integer(0)
    return sp.Symbol(f"<{why}>")
