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
    _Evaluator,
    _exquo,
    _instance,
    _inverted,
    _shift,
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
    # monomials absent from the dividend appear and cancel on the way, with coefficients other than +-1
    assert _exquo(x**3 + 27 * y**3, x + 3 * y) == x**2 - 3 * x * y + 9 * y**2
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


def test_a_fraction_stays_reduced_to_non_negative_powers_of_the_atoms() -> None:
    """an atom is divided out of a numerator only as often as the denominator holds it (1 x 1: (s s s^-1)^-1)."""
    s = sp.MatrixSymbol("s", 1, 1)
    assert concrete_residual(sp.Inverse(_mul(s, s, s.I)), s.I, set()) == 0


def test_a_difference_of_ones_is_reported_not_an_exception() -> None:
    """difference_is_zero answers (False, reason) for any non-zero difference, also one whose entries are all 1."""
    s = sp.MatrixSymbol("s", 1, 1)
    evaluate = _Evaluator({s: _instance(s, False)})
    equal, why = evaluate.difference_is_zero(evaluate(s + sp.Identity(1)), evaluate(s))
    assert not equal and "nonzero" in why


def _instances(*symbols: Any, symmetric: set[str] | None = None) -> dict[Any, Any]:
    return {m: _instance(m, m.name in (symmetric or set())) for m in symbols}


def _value(expr: Any, instances: dict[Any, Any]) -> Any:
    return sp.Matrix(expr.subs(instances).doit()).applyfunc(sp.expand)


def _is_generic(value: Any, old: set[Any], symmetric: bool) -> bool:
    """Every entry a single fresh symbol, distinct except for the mirrored pairs of a symmetric matrix."""
    entries = {(r, c): value[r, c] for r in range(value.rows) for c in range(value.cols)}
    if not all(isinstance(e, sp.Symbol) and e not in old for e in entries.values()):
        return False
    independent = {(r, c) for (r, c) in entries if not (symmetric and r > c)}
    if symmetric and any(entries[r, c] != entries[c, r] for (r, c) in entries):
        return False
    return len({entries[k] for k in independent}) == len(independent)


def test_the_shift_makes_each_inverted_sum_a_generic_matrix() -> None:
    """after _shift every inverted sum Y + M is a matrix of fresh independent entries (symmetric where M is)."""
    C2 = sp.MatrixSymbol("C", 2, 2)
    cases = [
        ((A + B).I,),
        (M.I, (A + B).I),  # an inverted symbol before the sum is passed over
        ((A + B).I, (A + B + C2).I),  # B overlaps A's new entries: C is shifted instead
        ((A + B).I, (A + C2).I),  # A is shifted once, C then absorbs it
        ((A + 2 * I2).I,),
    ]
    for exprs in cases:
        instances = _instances(A, B, C2, M)
        old = {g for m in instances.values() for g in m.free_symbols}
        _shift(exprs, instances, set())
        assert instances[M] == _instance(M, False)
        for arg in {a for e in exprs for a in _inverted(e) if isinstance(a, sp.MatAdd)}:
            assert _is_generic(_value(arg, instances), old, symmetric=False), (exprs, arg)
    instances = _instances(A, B, symmetric={"A", "B"})
    old = {g for m in instances.values() for g in m.free_symbols}
    _shift(((A + B).I,), instances, {"A", "B"})
    assert _is_generic(_value(A + B, instances), old, symmetric=True)


def test_the_shift_leaves_alone_what_it_may_not_change() -> None:
    """a symbol inverted on its own keeps its entries; a sum whose rest holds an inverse is not shifted."""
    instances = _instances(A, B)
    old = {g for m in instances.values() for g in m.free_symbols}
    _shift(((A + B).I, A.I), instances, set())
    assert instances[A] == _instance(A, False)
    assert _is_generic(_value(A + B, instances), old, symmetric=False)
    instances = _instances(A, B)
    _shift(((A + B.I).I,), instances, set())  # A -> T - B^-1 would not be polynomial
    assert instances == _instances(A, B)


def test_the_shift_leaves_alone_a_matrix_symbol_it_has_no_entries_for() -> None:
    """A matrix symbol of symbolic size has no instance: _shift does not touch a sum of such symbols, and a
    statement with one is refused by naming it, also after every integer point was singular (so the symbolic
    stage runs)."""
    n = sp.Symbol("n", integer=True, positive=True)
    Mn, Nn = sp.MatrixSymbol("M", n, n), sp.MatrixSymbol("N", n, n)
    instances = _instances(A)
    _shift(((Mn + Nn).I, A.I), instances, set())
    assert instances == _instances(A)
    X = sp.MatrixSymbol("X", 1, 1)
    singular_at_every_integer = sp.MatMul(*[X + k * sp.Identity(1) for k in range(-9, 10)])
    with pytest.raises(ValueError, match=r"cannot evaluate matrix expression of type MatrixSymbol: M$"):
        concrete_residual(singular_at_every_integer.I, (Mn + Nn).I, set())
