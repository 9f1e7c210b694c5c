"""The concrete-size matrix evaluation's own contract (kfsym/derive/kernel/polymatrix.py), checked directly.

``concrete_residual(a, b)`` is exactly 0 when ``a == b`` holds for generic matrices of the stated sizes (where
the inverses exist), and a non-zero marker otherwise; an inverse of a matrix singular for every choice of
entries is refused with :class:`SingularInverseError`. Identities on both sides of the line are checked here
through every kind of node the evaluator knows: sums, products with rational factors, transposes,
determinants, inverses (also of sums, and nested), identity and zero matrices.
"""

from __future__ import annotations

from typing import Any

import pytest
import sympy as sp

from kfsym.derive.kernel.polymatrix import (
    SingularInverseError,
    _differing_point,
    _exquo,
    _instance,
    _inverted,
    concrete_residual,
)

A, B, M = (sp.MatrixSymbol(name, 2, 2) for name in "ABM")
T = sp.MatrixSymbol("T", 3, 3)
C = sp.MatrixSymbol("C", 2, 3)
I2 = sp.Identity(2)
det = sp.Determinant


def _mul(*factors: Any) -> Any:
    return sp.MatMul(*factors, evaluate=False)


TRUE = [
    ("(AB)^-1 = B^-1 A^-1", (A * B).I, B.I * A.I),
    ("(AB)^T = B^T A^T", (A * B).T, B.T * A.T),
    ("(AC)^T = C^T A^T", (A * C).T, C.T * A.T),
    ("A^-1 A = I", _mul(A.I, A), I2),
    ("(A + B)^-1 (A + B) = I", _mul((A + B).I, A + B), I2),
    ("(A + B + M)^-1 (A + B + M) = I", _mul((A + B + M).I, A + B + M), I2),
    ("(A + I)^-1 (A + I) = I", _mul((A + I2).I, A + I2), I2),
    ("(A^-1)^-1 = A", sp.Inverse(sp.Inverse(A)), A),
    ("(A^T)^-1 = (A^-1)^T", sp.Inverse(A.T), sp.Transpose(A.I)),
    ("(2A)^-1 = A^-1 / 2", sp.Inverse(2 * A), sp.Rational(1, 2) * A.I),
    ("3 A A^-1 = 3 I", _mul(3, A, A.I), 3 * I2),
    ("A + 0 = A", sp.MatAdd(A, sp.ZeroMatrix(2, 2), evaluate=False), A),
    ("A I = A", _mul(A, I2), A),
    ("A(B + M) - MA = AB + AM - MA", A * (B + M) - M * A, A * B + A * M - M * A),
    ("det(AB) = det A det B", det(A * B), det(A) * det(B)),
    ("det(2A) = 4 det A", det(2 * A), 4 * det(A)),
    ("det(T^T) = det T", det(T.T), det(T)),
    ("det(A B^-1) det B = det A", det(A * B.I) * det(B), det(A)),
    ("det(A^-1) det(A) = det(B^-1) det(B)", det(A.I) * det(A), det(B.I) * det(B)),
    ("(T^-1)^T T^T = I", _mul(sp.Transpose(T.I), T.T), sp.Identity(3)),
    ("A (A + B)^-1 B = B (A + B)^-1 A", A * (A + B).I * B, B * (A + B).I * A),
    (
        "Woodbury, 2 x 2",
        (A + B * M * B.T).I,
        A.I - A.I * B * (M.I + B.T * A.I * B).I * B.T * A.I,
    ),
]

FALSE = [
    ("(AB)^-1 = A^-1 B^-1", (A * B).I, A.I * B.I),
    ("AB = BA", A * B, B * A),
    ("(AC)^T = A^T C^T", (A * C).T, sp.Transpose(C) * A),
    ("(A + B)^-1 = A^-1 + B^-1", (A + B).I, A.I + B.I),
    ("A^T = A", A.T, A),
    ("det(A + B) = det A det B", det(A + B), det(A) * det(B)),
    ("det(2A) = 2 det A", det(2 * A), 2 * det(A)),
    ("det(3T) = 9 det T", det(3 * T), 9 * det(T)),
    ("A^-1 A = 2 I", _mul(A.I, A), 2 * I2),
    ("A + 0 = 0", sp.MatAdd(A, sp.ZeroMatrix(2, 2), evaluate=False), sp.ZeroMatrix(2, 2)),
]


@pytest.mark.parametrize(("name", "left", "right"), TRUE, ids=[t[0] for t in TRUE])
def test_identities_of_generic_matrices_are_exactly_zero(name: str, left: Any, right: Any) -> None:
    assert concrete_residual(left, right, set()) == 0
    assert concrete_residual(right, left, set()) == 0


@pytest.mark.parametrize(("name", "left", "right"), FALSE, ids=[t[0] for t in FALSE])
def test_non_identities_are_not_zero(name: str, left: Any, right: Any) -> None:
    assert concrete_residual(left, right, set()) != 0


def test_symmetric_matrices_are_instantiated_symmetric() -> None:
    assert concrete_residual(A.T, A, {"A"}) == 0
    assert concrete_residual(A.T, A, {"B"}) != 0
    assert concrete_residual((A + B).T, A + B, {"A", "B"}) == 0
    assert concrete_residual(_mul((A + B).I, A + B), I2, {"A", "B"}) == 0
    assert concrete_residual((A * B).T, A * B, {"A", "B"}) != 0


def test_an_inverse_of_an_identically_singular_matrix_is_refused() -> None:
    H = sp.MatrixSymbol("H", 1, 2)
    with pytest.raises(SingularInverseError):
        concrete_residual(_mul((H.T * H).I, H.T * H), I2, set())
    with pytest.raises(SingularInverseError):
        concrete_residual(_mul((C.T * C).I, C.T * C), sp.Identity(3), set())


def test_an_unsupported_node_or_factor_is_an_error_not_a_proof() -> None:
    with pytest.raises(ValueError, match="rational"):
        concrete_residual(_mul(sp.sqrt(2), A), _mul(sp.sqrt(2), A), set())
    with pytest.raises(ValueError, match="cannot evaluate"):
        concrete_residual(sp.HadamardProduct(A, B), sp.HadamardProduct(A, B), set())


def test_no_concrete_matrix_symbol_is_refused() -> None:
    n = sp.Symbol("n", integer=True, positive=True)
    N = sp.MatrixSymbol("N", n, n)
    assert "no concrete-size" in str(concrete_residual(N, N.T, set()))


def test_sides_of_different_shapes_are_not_equal() -> None:
    residual = concrete_residual(C, C.T, set())
    assert residual != 0


def test_exact_division_of_sparse_polynomials() -> None:
    ring = sp.QQ[sp.symbols("x y")]
    x, y = ring.gens
    assert _exquo(x**2 - y**2, x - y) == x + y
    assert _exquo((x + 2 * y) * (3 * x - y) * (x + 1), 3 * x - y) == (x + 2 * y) * (x + 1)
    assert _exquo(6 * x * y**2, 2 * y) == 3 * x * y
    assert _exquo(x**3 + y**3, x + y) == x**2 - x * y + y**2
    assert _exquo((x + 3 * y) * (x - 2 * y + 5), x + 3 * y) == x - 2 * y + 5  # coefficients other than +-1
    assert _exquo(x**2 + 3 * y, x + 3 * y) is None
    assert _exquo(x**2 + y**2, x - y) is None  # a remainder: not exact
    assert _exquo(x + 1, x**2) is None
    assert _exquo(ring.zero, x) == ring.zero
    with pytest.raises(ZeroDivisionError):
        _exquo(x, ring.zero)


def test_the_inverted_subexpressions_are_listed() -> None:
    assert _inverted((A + B).I * A + M.I) == [A + B, M]
    assert _inverted(sp.MatPow(A * B, -1)) == [A * B]
    assert _inverted(A * B + B.T) == []


def test_a_differing_point_is_an_integer_point_where_the_sides_differ() -> None:
    instances = {A: _instance(A, False), B: _instance(B, False)}
    point = _differing_point(A * B, B * A, instances)
    assert point is not None and set(point) == {f"{s}[{r},{c}]" for s in "AB" for r in (0, 1) for c in (0, 1)}
    assert all(isinstance(v, int) and -9 <= v <= 9 for v in point.values())
    values = {g: point[g.name] for m in instances.values() for g in m.free_symbols}
    left, right = (instances[A] * instances[B]).subs(values), (instances[B] * instances[A]).subs(values)
    assert left != right
    assert _differing_point(A * B, B * A, instances) == point  # seeded by the statement
    assert _differing_point(A * B, A * B, instances) is None
    assert _differing_point((A * B).I, B.I * A.I, instances) is None


def test_only_the_power_minus_one_is_read_as_an_inverse() -> None:
    assert concrete_residual(_mul(sp.MatPow(A, -1), A), I2, set()) == 0
    assert concrete_residual(_mul(sp.MatPow(A + B, -1), A + B), I2, set()) == 0
    with pytest.raises(ValueError, match="cannot evaluate matrix expression of type MatPow"):
        concrete_residual(sp.MatPow(A, 2), _mul(A, A), set())


def test_a_scalar_sum_is_not_evaluated_as_a_product() -> None:
    with pytest.raises(ValueError, match="cannot evaluate"):
        concrete_residual(det(A) + det(B), det(B) + det(A), set())


def test_a_refutation_names_the_integer_point_where_the_sides_differ() -> None:
    assert str(concrete_residual(A * A.T, A.T * A, set())).startswith("<the sides differ at the integer point {")
