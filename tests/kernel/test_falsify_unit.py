"""The numeric falsifier's own contract (kfsym/derive/kernel/falsify.py), checked directly and fast.

The falsifier is the kernel's second line of defence: the symbolic checks in front of it mask its defects in
the soundness tests, so its promises are tested here on their own. It must find a counterexample to a false
statement, none to a true one, evaluate every point it is asked for when the statement can be evaluated,
draw only values that satisfy each symbol's declared assumptions, and skip (never count) points it cannot
evaluate.
"""

from __future__ import annotations

import random

import mpmath
import pytest
import sympy as sp

from kfsym.derive.kernel.falsify import (
    DIGITS,
    TOLERANCE,
    Counterexample,
    _as_mpc,
    _candidate,
    _differ,
    _free,
    _functions_for,
    _instantiate,
    _matrix_for,
    _numbers,
    _quadrature,
    _replace_draws,
    _safe_names,
    _value_for,
    _weights_for,
    _with_functions,
    falsify,
    seed_for,
)

x, y = sp.symbols("x y", real=True)
z = sp.Symbol("z")  # complex
p = sp.Symbol("p", positive=True)
n = sp.Symbol("n", integer=True)
k = sp.Symbol("k", integer=True, positive=True)


def test_a_true_identity_is_evaluated_at_every_point_and_not_refuted() -> None:
    assert falsify((x + y) ** 2, x**2 + 2 * x * y + y**2) == (3, None)
    assert falsify(sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.Integer(1), points=5) == (5, None)


def test_a_false_identity_gets_a_counterexample_whose_sides_really_differ() -> None:
    tested, found = falsify((x + y) ** 2, x**2 + y**2)
    assert found is not None and tested >= 1
    assert set(found.point) == {x, y}
    left = ((x + y) ** 2).subs(found.point)
    right = (x**2 + y**2).subs(found.point)
    assert left != right
    with mpmath.workdps(40):
        assert mpmath.almosteq(found.left, mpmath.mpf(left.p) / left.q, 1e-25)
        assert mpmath.almosteq(found.right, mpmath.mpf(right.p) / right.q, 1e-25)


def test_the_counterexample_is_shown_with_its_point_and_both_sides() -> None:
    shown = str(Counterexample({y: 2, x: 1}, mpmath.mpf(3), mpmath.mpf(5)))
    assert shown == "at x = 1, y = 2: left 3.0, right 5.0"
    # the point in the order of the names (not of the values), each side to 12 significant digits
    with mpmath.workdps(DIGITS + 10):
        shown = str(Counterexample({x: 9, y: 1}, mpmath.mpf(1) / 3, mpmath.mpf(2) / 3))
    assert shown == "at x = 9, y = 1: left 0.333333333333, right 0.666666666667"


def test_the_points_are_seeded() -> None:
    first = falsify(x + y, x - y, seed=5)[1]
    again = falsify(x + y, x - y, seed=5)[1]
    assert first is not None and again is not None and first.point == again.point
    others = {tuple(sorted(c.point.items(), key=str)) for s in range(6) if (c := falsify(x + y, x - y, seed=s)[1])}
    assert len(others) > 1


def test_seed_for_is_stable_and_tells_statements_apart() -> None:
    assert seed_for(x**2, "integrand") == seed_for(x**2, "integrand")
    assert seed_for(x**2, "integrand") != seed_for(x**3, "integrand")
    assert seed_for(x**2, "a") != seed_for(x**2, "b")
    assert seed_for("a", "b") != seed_for("ab")
    assert 0 <= seed_for(x) < 2**32
    # statements that print alike but differ (assumptions) get different seeds: the seed reads srepr, not str
    assert seed_for(sp.Symbol("v", real=True) ** 2) != seed_for(sp.Symbol("v") ** 2)


def test_relative_tolerance_at_one_and_at_large_magnitude() -> None:
    tiny = sp.Rational(1, 10**25)
    assert falsify(sp.Integer(1) + tiny, sp.Integer(1)) == (3, None)
    assert falsify(sp.Integer(1) + sp.Rational(1, 10**15), sp.Integer(1))[1] is not None
    big = sp.Integer(10) ** 30
    # 10**30 + 10**10 differs from 10**30 by 1e-20 relative: equal; by 1e10 absolutely, so the scale is |side|.
    assert falsify(big + 10**10, big) == (3, None)
    assert falsify(big + 10**14, big)[1] is not None
    assert falsify(-big - 10**10, -big) == (3, None)


def test_the_differ_rule_scales_with_the_larger_side_and_at_least_one() -> None:
    with mpmath.workdps(DIGITS + 10):  # the precision falsify compares at
        one = mpmath.mpf(1)
        assert not _differ([mpmath.mpc(one)], [mpmath.mpc(one + TOLERANCE / 2)], "=")
        assert _differ([mpmath.mpc(one)], [mpmath.mpc(one + 2 * TOLERANCE)], "=")
        small = mpmath.mpf(10) ** -30  # near zero the absolute tolerance is TOLERANCE itself
        assert not _differ([mpmath.mpc(small)], [mpmath.mpc(-small)], "=")
        big = mpmath.mpf(10) ** 20
        assert not _differ([mpmath.mpc(big)], [mpmath.mpc(big + 1)], "=")
        assert _differ([mpmath.mpc(big)], [mpmath.mpc(big + 10**4)], "=")
        assert not _differ([mpmath.mpc(big + 1)], [mpmath.mpc(big)], "=")
        assert _differ([mpmath.mpc(one), mpmath.mpc(one)], [mpmath.mpc(one), mpmath.mpc(2)], "=")


def test_the_inequality_rule() -> None:
    with mpmath.workdps(DIGITS + 10):
        one, two = mpmath.mpc(1), mpmath.mpc(2)
        assert not _differ([two], [one], ">=")
        assert not _differ([one], [one], ">=")
        assert not _differ([one], [mpmath.mpc(one + TOLERANCE / 2)], ">=")
        assert _differ([one], [two], ">=")
        assert _differ([mpmath.mpc(1, 1)], [one], ">=")  # a complex side is no inequality
        assert _differ([two], [mpmath.mpc(1, 1)], ">=")
        assert not _differ([mpmath.mpc(2, TOLERANCE / 4)], [one], ">=")
        big = mpmath.mpc(10**20)
        assert not _differ([big], [big + 1], ">=")
        assert _differ([big], [big + 10**4], ">=")


def test_inequalities_through_falsify() -> None:
    assert falsify(x**2 + 1, 2 * x, relation=">=") == (3, None)
    assert falsify(x, x + 1, relation=">=")[1] is not None
    assert falsify(x + 1, x, relation=">=") == (3, None)
    # an equal pair is not a failed ">=": the slack is the tolerance, not a strict inequality
    assert falsify(x, x, relation=">=") == (3, None)
    # for an equation, a side that is larger is a counterexample all the same
    assert falsify(x + 1, x)[1] is not None


W = sp.Symbol("w", nonzero=True, real=True)
NEG = sp.Symbol("m", negative=True)
EVEN = sp.Symbol("e", even=True)
ODD = sp.Symbol("o", odd=True)


@pytest.mark.parametrize(
    ("lhs", "rhs"),
    [
        (sp.sqrt(p**2), p),  # only for p >= 0
        (sp.cos(sp.pi * n) ** 2, sp.Integer(1)),  # only for integer n
        (sp.sign(W) ** 2, sp.Integer(1)),  # only for w != 0
        (sp.Abs(NEG), -NEG),
        ((-1) ** EVEN, sp.Integer(1)),
        ((-1) ** ODD, sp.Integer(-1)),
        (sp.floor(k), k),
        (sp.conjugate(x), x),  # only for real x
    ],
)
def test_statements_true_under_the_assumptions_are_evaluated_and_not_refuted(lhs: sp.Expr, rhs: sp.Expr) -> None:
    assert falsify(lhs, rhs, points=4) == (4, None)


def test_a_symbol_without_assumptions_takes_complex_values() -> None:
    assert falsify(sp.conjugate(z), z)[1] is not None
    assert falsify(sp.re(z), z)[1] is not None
    assert falsify(sp.sqrt(z**2), z, points=12)[1] is not None


@pytest.mark.parametrize(
    "assumptions",
    [
        {"integer": True},
        {"positive": True},
        {"negative": True},
        {"nonzero": True},
        {"nonpositive": True},
        {"real": True},
        {"irrational": True},
        {"transcendental": True},
        {"irrational": True, "positive": True},
        {"integer": True, "positive": True, "even": True},
        {"complex": True},
        {},
    ],
)
def test_every_drawn_value_satisfies_the_declared_assumptions(assumptions: dict[str, bool]) -> None:
    symbol = sp.Symbol("s", **assumptions)
    rng = random.Random(3)
    values = [_value_for(symbol, rng) for _ in range(30)]
    assert all(v is not None for v in values)
    for value in values:
        for key, wanted in symbol.assumptions0.items():
            assert getattr(value, f"is_{key}") == wanted, (value, key)
    if not assumptions or assumptions == {"complex": True}:
        assert any(not v.is_real for v in values)  # a complex symbol is tried off the real line
    if assumptions == {"real": True}:
        assert any(not v.is_integer for v in values) and any(v < 0 for v in values) and any(v > 0 for v in values)


def test_an_unsatisfiable_symbol_gets_no_value_and_no_point_is_tested() -> None:
    impossible = sp.Symbol("q", infinite=True)  # no finite number is admissible
    assert _value_for(impossible, random.Random(0)) is None
    assert falsify(impossible, impossible + 1) == (0, None)


def test_matrix_symbols_get_integer_matrices_symmetric_where_declared() -> None:
    A = sp.MatrixSymbol("A", 2, 2)
    B = sp.MatrixSymbol("B", 2, 2)
    assert falsify(A.T, A, symmetric=frozenset({"A"})) == (3, None)
    found = falsify(A.T, A)[1]
    assert found is not None and len(found.point[A]) == 2 and len(found.point[A][0]) == 2
    assert falsify(A * B, B * A, symmetric=frozenset({"A", "B"}))[1] is not None
    assert falsify((A * B).T, B.T * A.T) == (3, None)
    C = sp.MatrixSymbol("C", 2, 3)
    assert falsify((A * C).T, C.T * A.T) == (3, None)
    assert falsify(C.T * C, (C.T * C).T, points=2) == (2, None)


def test_explicit_matrices_are_compared_entry_by_entry() -> None:
    assert falsify(sp.Matrix([[x, y], [y, x]]), sp.Matrix([[x, y], [y, x]])) == (3, None)
    found = falsify(sp.Matrix([x, y]), sp.Matrix([x, x]))[1]
    assert found is not None and found.left != found.right
    # sides of different size are never compared
    assert falsify(sp.Matrix([x, y]), sp.Matrix([x, y, x])) == (0, None)


def test_a_matrix_symbol_of_symbolic_size_is_not_evaluated() -> None:
    N = sp.Symbol("N", integer=True, positive=True)
    A = sp.MatrixSymbol("A", N, N)
    assert falsify(A, A.T) == (0, None)


def test_non_commuting_symbols_are_not_evaluated() -> None:
    a, b = sp.symbols("a b", commutative=False)
    assert falsify(a * b, b * a) == (0, None)


def test_limits_derivatives_and_orders_are_not_evaluated() -> None:
    assert falsify(sp.Limit(sp.sin(x) / x, x, 0), sp.Integer(2)) == (0, None)
    assert falsify(sp.Derivative(sp.Function("g")(x), x), sp.Integer(0)) == (0, None)
    assert falsify(sp.Derivative(x**2, x, evaluate=False), 3 * x) == (0, None)
    assert falsify(sp.O(x), x) == (0, None)


def test_definite_integrals_are_evaluated_by_quadrature() -> None:
    gauss = sp.Integral(sp.exp(-(x**2)), (x, -sp.oo, sp.oo))
    assert falsify(gauss, sp.sqrt(sp.pi)) == (3, None)
    assert falsify(gauss, sp.sqrt(sp.pi) + sp.Rational(1, 10**12))[1] is not None
    assert falsify(sp.Integral(x * y, (x, 0, y)), y**3 / 2) == (3, None)
    assert falsify(sp.Integral(x * y, (x, 0, y)), y**3 / 3)[1] is not None
    assert falsify(sp.Integral(sp.exp(x), (x, -sp.oo, 0)), sp.Integer(1)) == (3, None)
    assert falsify(sp.Integral(sp.exp(-p * x), (x, 0, sp.oo)), 1 / p) == (3, None)
    assert falsify(sp.Integral(x * y, (x, 0, 1), (y, 0, 2)), sp.Integer(1)) == (3, None)


def test_quadrature_itself() -> None:
    value = _quadrature(sp.Integral(sp.exp(-(x**2)), (x, -sp.oo, sp.oo)))
    assert abs(value - sp.sqrt(sp.pi)) < sp.Float(10) ** -(DIGITS - 2)
    assert abs(_quadrature(sp.Integral(x, (x, 1, 3))) - 4) < sp.Float(10) ** -(DIGITS - 2)
    assert abs(_quadrature(sp.Integral(x * y, (x, 0, 1), (y, 0, 2))) - 1) < sp.Float(10) ** -(DIGITS - 2)
    with pytest.raises(ValueError, match="indefinite"):
        _quadrature(sp.Integral(x, x))
    with pytest.raises(ValueError, match="free symbols"):
        _quadrature(sp.Integral(x * y, (x, 0, 1)))
    with pytest.raises(ValueError, match="real number"):
        _quadrature(sp.Integral(x, (x, 0, sp.I)))


def test_user_names_never_reach_generated_code() -> None:
    hostile = sp.Symbol("__import__('os').system('false') or t", real=True)
    safe, renamed = _safe_names(hostile * sp.exp(-(hostile**2)), [hostile])
    assert all(s.name.startswith("_kfsym_v") for s in safe.free_symbols)
    assert renamed[0] in safe.free_symbols and renamed[0].is_real
    assert falsify(sp.Integral(hostile**2 * sp.exp(-(hostile**2)), (hostile, -sp.oo, sp.oo)), sp.sqrt(sp.pi) / 2) == (
        3,
        None,
    )
    with pytest.raises(ValueError, match="named functions"):
        _safe_names(sp.Function("f")(x), [x])
    with pytest.raises(ValueError, match="named functions"):
        _safe_names(sp.MatrixSymbol("M", 1, 1)[0, 0] * x, [x])


def test_indexed_draws_get_one_value_each() -> None:
    X = sp.IndexedBase("X", real=True)
    i = sp.Symbol("i", integer=True)
    assert falsify(sp.Sum(X[i], (i, 1, 3)), X[1] + X[2] + X[3]) == (3, None)
    assert falsify(sp.Sum(X[i], (i, 1, 3)), 3 * X[1])[1] is not None
    assert falsify(sp.Sum(X[i] ** 2, (i, 1, k)), sp.Sum(X[i] ** 2, (i, 1, k))) == (3, None)


def test_weights_are_drawn_positive_and_summing_to_one() -> None:
    P = sp.IndexedBase("P", real=True)
    i = sp.Symbol("i", integer=True)
    total = sp.Sum(P[i], (i, 1, k))
    assert falsify(total, sp.Integer(1), weights={P: (1, k)}) == (3, None)
    assert falsify(total, sp.Integer(1))[1] is not None
    assert falsify(sp.Sum(P[i], (i, 0, 2)), sp.Integer(1), weights={P: (0, 2)}) == (3, None)
    # every weight positive: a mean of the weights lies in (0, 1)
    assert falsify(P[1], sp.Integer(0), relation=">=", weights={P: (1, 2)}) == (3, None)
    assert falsify(sp.Integer(1), P[2], relation=">=", weights={P: (1, 2)}) == (3, None)


def test_undefined_functions_are_tried_as_random_polynomials() -> None:
    f = sp.Function("f")
    assert falsify(f(x) + f(x), 2 * f(x)) == (3, None)
    assert falsify(f(x), f(-x))[1] is not None
    assert falsify(f(x, y), f(y, x))[1] is not None
    assert falsify(f(x) ** 2, f(x) * f(x)) == (3, None)


def test_functions_with_assumptions_or_under_an_integral_stay_opaque() -> None:
    g = sp.Function("g", real=True)
    assert falsify(g(x), g(-x)) == (0, None)
    f = sp.Function("f")
    assert falsify(sp.Integral(f(x), (x, 0, 1)), sp.Integer(0)) == (0, None)
    assert falsify(sp.Sum(f(n), (n, 1, 3)) + f(x), f(x)) == (0, None)


def test_points_that_cannot_be_evaluated_are_skipped_not_counted() -> None:
    w = sp.Symbol("w", real=True)
    tested, found = falsify(1 / w, 1 / w, points=40)
    assert found is None and 0 < tested < 40  # the draws that hit w = 0 are skipped, the others counted
    tested, found = falsify(1 / (w - w), sp.Integer(0))
    assert (tested, found) == (0, None)
    A = sp.MatrixSymbol("A", 2, 2)
    assert falsify(A.I * A, sp.Identity(2), points=6)[1] is None


def test_a_tiny_budget_is_not_evidence() -> None:
    gauss = sp.Integral(sp.exp(-(x**2) * y**2), (x, -sp.oo, sp.oo))
    tested, _ = falsify(gauss, sp.Integer(5), points=200, budget=0.05)
    assert tested < 200


_SMALL = {sp.Rational(k, q) for k in range(1, 10) for q in range(1, 5)}  # k / q, 1 <= k <= 9, 1 <= q <= 4
_RATIONALS = {sign * r for r in _SMALL for sign in (-1, 1)} | {sp.Integer(0)}


def test_the_draws_for_each_kind_of_symbol() -> None:
    """integers -6..6; reals p/q (|p| <= 9, q <= 4); irrationals +-k/q sqrt(2, 3 or 5); transcendentals +-k/q pi;
    complex numbers with both parts such rationals: every such value is reached, none other."""

    def drawn(symbol: sp.Symbol, draws: int = 500) -> list[sp.Expr]:
        rng = random.Random(11)
        return [_candidate(symbol, rng) for _ in range(draws)]

    assert set(drawn(n)) == set(map(sp.Integer, range(-6, 7)))
    assert set(drawn(x)) == _RATIONALS
    assert set(drawn(sp.Symbol("r", extended_real=True))) == _RATIONALS  # on the real line, not off it
    irrational = [v.as_coeff_Mul() for v in drawn(sp.Symbol("s", irrational=True))]
    assert {factor for _, factor in irrational} == {sp.sqrt(2), sp.sqrt(3), sp.sqrt(5)}
    assert {coefficient for coefficient, _ in irrational} == _RATIONALS - {0}
    transcendental = [v.as_coeff_Mul() for v in drawn(sp.Symbol("t", transcendental=True))]
    assert {factor for _, factor in transcendental} == {sp.pi}
    assert {coefficient for coefficient, _ in transcendental} == _RATIONALS - {0}
    parts = [v.as_coeff_Add() for v in drawn(z, 400)]  # (real part, I * imaginary part)
    assert {real for real, _ in parts} == _RATIONALS
    assert {imaginary / sp.I for _, imaginary in parts} == _RATIONALS


def test_the_matrix_draws() -> None:
    """matrix entries are the integers -5..5, every one reached; a symmetric matrix mirrors its upper triangle."""
    rng = random.Random(2)
    A = sp.MatrixSymbol("A", 3, 3)
    entries = {e for _ in range(100) for e in _matrix_for(A, False, rng)}
    assert entries == set(map(sp.Integer, range(-5, 6)))
    for _ in range(5):
        S = _matrix_for(A, True, rng)
        assert S == S.T and len(set(S)) > 1


def test_an_equation_verdict_does_not_depend_on_the_order_of_the_sides() -> None:
    """the tolerance scales with the larger side, whichever it is: at the edge both orders agree."""
    with mpmath.workdps(DIGITS + 10):
        small = mpmath.mpf(10) ** 20
        large = small + TOLERANCE * small * (1 + TOLERANCE / 2)  # within TOLERANCE of |large|, not of |small|
        for p_, q_ in ((small, large), (large, small)):
            assert not _differ([mpmath.mpc(p_)], [mpmath.mpc(q_)], "=")


def test_each_free_function_is_drawn_as_a_quadratic_polynomial() -> None:
    """f(a) becomes c0 + c1 a + c2 a**2, each coefficient p/q (|p| <= 9, q <= 4), every such value reached."""
    f = sp.Function("f")
    rng = random.Random(5)
    coefficients: dict[int, set[sp.Expr]] = {0: set(), 1: set(), 2: set()}
    for _ in range(500):
        polynomial = _functions_for(f(x), sp.Integer(0), rng)[f]
        (a,) = polynomial.variables
        terms = polynomial.expr.as_coefficients_dict()
        assert set(terms) <= {sp.Integer(1), a, a**2}
        for degree, values in coefficients.items():
            values.add(terms.get(a**degree, sp.Integer(0)))
    assert all(values == _RATIONALS for values in coefficients.values())


def test_every_free_function_on_either_side_gets_a_polynomial() -> None:
    """every undefined function without assumptions is replaced, wherever and however often it occurs; one under
    an integral on either side stays opaque."""
    functions = [sp.Function(f"f{i}") for i in range(6)]
    a, b, c, d = sp.symbols("a b c d", real=True)
    many = sum(f(v) for f in functions for v in (a, b, c, d))
    assert set(_functions_for(many, sp.Integer(0), random.Random(0))) == set(functions)
    f, g = sp.Function("f"), sp.Function("g")
    assert set(_functions_for(f(x), g(y), random.Random(0))) == {f, g}
    assert set(_functions_for(g(y), f(x), random.Random(0))) == {f, g}
    t = sp.Symbol("t", real=True)
    integral = sp.Integral(f(t), (t, 0, 1))
    assert set(_functions_for(f(x) + g(x), integral, random.Random(0))) == {g}
    assert set(_functions_for(integral, f(x) + g(x), random.Random(0))) == {g}


def test_an_infinite_or_undefined_side_is_skipped_not_counted() -> None:
    """a side that is nan, oo, -oo or zoo is no number: the point is skipped, never counted as evaluated."""
    for value in (sp.nan, sp.oo, -sp.oo, sp.zoo):
        assert falsify(value, value) == (0, None), value
        assert falsify(x + value, x + value) == (0, None), value


def test_a_number_keeps_its_digits_and_anything_else_is_no_number() -> None:
    """_as_mpc converts a 30-digit value without loss; a value whose real or imaginary part is not a number
    gives None."""
    with mpmath.workdps(DIGITS + 10):
        third = _as_mpc(sp.N(sp.Rational(1, 3) + sp.I / 7, DIGITS))
        assert third is not None
        assert abs(third.real - mpmath.mpf(1) / 3) < mpmath.mpf(10) ** -(DIGITS - 1)
        assert abs(third.imag - mpmath.mpf(1) / 7) < mpmath.mpf(10) ** -(DIGITS - 1)
    opaque = sp.Function("F", real=True)(1)
    assert _as_mpc(2 + sp.I * opaque) is None
    assert _as_mpc(opaque + 2 * sp.I) is None


def test_free_functions_inside_an_explicit_matrix_are_replaced() -> None:
    """an explicit matrix side is searched for free functions like any other side."""
    f = sp.Function("f")
    assert falsify(sp.Matrix([f(x), x]), sp.Matrix([f(x), x])) == (3, None)
    assert falsify(sp.Matrix([f(x)]), sp.Matrix([f(-x)]))[1] is not None


def test_identity_and_zero_matrix_sides_are_evaluated() -> None:
    """a side that stays a matrix expression after instantiation (identity, zero) is made explicit and compared."""
    A = sp.MatrixSymbol("A", 2, 2)
    assert falsify(sp.Identity(2), sp.Identity(2)) == (3, None)
    assert falsify(A - A, sp.ZeroMatrix(2, 2)) == (3, None)
    assert falsify(sp.Identity(2), sp.ZeroMatrix(2, 2))[1] is not None
    tested, found = falsify(A.I * A, sp.Identity(2), points=6)
    assert found is None and tested > 0


def test_weights_need_an_integer_range_and_may_be_a_single_one() -> None:
    """weights over lo..hi are drawn only when both ends are integers with lo <= hi; one weight alone is 1."""
    P = sp.IndexedBase("P", real=True)
    i = sp.Symbol("i", integer=True)
    assert falsify(P[1], sp.Integer(1), weights={P: (1, 1)}) == (3, None)
    three = sp.Sum(P[i], (i, 0, 2))
    assert falsify(three, sp.Integer(1), weights={P: (0, 2)}) == (3, None)
    assert falsify(three, sp.Integer(1), weights={P: (0, sp.Rational(5, 2))})[1] is not None  # not a range: free
    assert falsify(three, sp.Integer(1), weights={P: (sp.Rational(1, 2), 2)})[1] is not None


def test_indexed_draws_inside_an_explicit_matrix_get_values() -> None:
    """an explicit matrix side with indexed draws is instantiated entry by entry like a scalar side."""
    X = sp.IndexedBase("X", real=True)
    i = sp.Symbol("i", integer=True)
    assert falsify(sp.Matrix([sp.Sum(X[i], (i, 1, 2)), x]), sp.Matrix([X[1] + X[2], x])) == (3, None)
    assert falsify(sp.Matrix([sp.Sum(X[i], (i, 1, 2))]), sp.Matrix([2 * X[1]]))[1] is not None


def test_numbers_are_evaluated_to_the_digits_asked_for() -> None:
    """_numbers(..., 60) gives 60 correct digits, also for an integral (the confirmation runs at twice the digits)."""
    with mpmath.workdps(2 * DIGITS + 10):
        third = mpmath.mpf(1) / 3
        for expr in (sp.Rational(1, 3), sp.Integral(x**2, (x, 0, 1))):
            values = _numbers(expr, 2 * DIGITS)
            assert values is not None and abs(values[0] - third) < mpmath.mpf(10) ** -(2 * DIGITS - 2), expr


def test_every_symbol_of_an_integrand_is_renamed() -> None:
    """_safe_names renames the symbols that are not variables and the bound ones too, not only the variables."""
    safe, renamed = _safe_names(x * y + sp.Sum(x**k, (k, 0, 2)), [x])
    assert {s.name for s in safe.atoms(sp.Symbol)} == {"_kfsym_v0", "_kfsym_v1", "_kfsym_v2"}
    assert renamed[0] in safe.free_symbols


def test_a_derivative_is_not_evaluated_even_where_n_could() -> None:
    """a side holding a Derivative is never evaluated, also when SymPy's N would evaluate it at the point."""
    assert falsify(sp.Subs(sp.Derivative(sp.sin(x), x), x, y), sp.cos(y) + 1) == (0, None)


def test_a_symbol_of_one_side_only_gets_values() -> None:
    """the point gives values to the free symbols of both sides, also those that occur on one side only."""
    assert falsify(sp.Integer(1), sp.cos(x) ** 2 + sp.sin(x) ** 2) == (3, None)
    assert falsify(sp.cos(x) ** 2 + sp.sin(x) ** 2, sp.Integer(1)) == (3, None)
    assert falsify(sp.Integer(1), x)[1] is not None


def test_draws_and_functions_of_the_right_side_only_get_values() -> None:
    """an indexed draw or a free function that occurs on the right side only is instantiated too."""
    P = sp.IndexedBase("P", positive=True)
    assert falsify(sp.Integer(0), P[1])[1] is not None
    f = sp.Function("f")
    assert falsify(x, f(x))[1] is not None


def test_equal_complex_sides_are_no_inequality() -> None:
    """for ">=" both sides must be real: equal complex sides are a counterexample all the same."""
    assert falsify(sp.I * x + 1, sp.I * x + 1, relation=">=")[1] is not None


def test_the_points_after_an_unevaluable_one_are_still_tried() -> None:
    """a point that cannot be evaluated (an error, or a side that is no number) is skipped and the next tried."""
    t = sp.Symbol("t", real=True)
    tested, found = falsify(sp.Integral(t, (t, 0, z)), z**2 / 2, points=40)  # a complex upper limit: an error
    assert found is None and tested > 0
    poles = sp.Mul(*[n - j for j in range(-6, 7) if j])  # zero at every integer drawn but 0
    tested, found = falsify(1 / poles, 1 / poles, points=40)
    assert found is None and tested >= 2  # n = 0 is drawn at several of the 40 points, not only before the first pole


# --- the helpers of one point, each on its own (falsify reaches them only several calls deep) ----------------


def test_each_concrete_draw_gets_one_admissible_value_and_a_symbolic_one_none() -> None:
    """_replace_draws gives X[1], X[2] values satisfying the base's assumptions, X[1] the same one each time
    (recorded in ``draws``), and leaves X[i] with a symbolic index alone."""
    X = sp.IndexedBase("X", positive=True)
    i = sp.Symbol("i", integer=True)
    draws: dict[sp.Expr, sp.Expr] = {}
    value = _replace_draws(X[1] + 2 * X[1] + X[2] * X[i], draws, random.Random(0))
    assert set(draws) == {X[1], X[2]}
    assert all(v.is_positive and v.is_Rational for v in draws.values())
    assert value == 3 * draws[X[1]] + draws[X[2]] * X[i]
    # a draw already made is reused, not drawn again
    again = _replace_draws(X[1] - X[3], draws, random.Random(1))
    assert set(draws) == {X[1], X[2], X[3]} and again == draws[X[1]] - draws[X[3]]
    assert _replace_draws(X[i] ** 2, draws, random.Random(0)) == X[i] ** 2


def test_draws_in_a_matrix_are_replaced_entry_by_entry_and_an_impossible_one_is_an_error() -> None:
    """An explicit matrix gets the same values as a scalar would; a base no number satisfies raises ValueError."""
    X = sp.IndexedBase("X", real=True)
    draws: dict[sp.Expr, sp.Expr] = {}
    matrix = _replace_draws(sp.Matrix([[X[1], X[2]], [x, X[1] ** 2]]), draws, random.Random(4))
    assert isinstance(matrix, sp.MatrixBase) and set(draws) == {X[1], X[2]}
    assert matrix == sp.Matrix([[draws[X[1]], draws[X[2]]], [x, draws[X[1]] ** 2]])
    Q = sp.IndexedBase("Q", infinite=True)
    with pytest.raises(ValueError, match="no admissible value"):
        _replace_draws(Q[0] + 1, {}, random.Random(0))


def test_instantiating_substitutes_the_point_and_the_matrices_and_evaluates_finite_sums_of_draws() -> None:
    """_instantiate puts in the point (alone or with matrices), expands a sum of draws whose bounds the point
    makes finite, and gives each draw its value, in a scalar and in an explicit matrix."""
    X = sp.IndexedBase("X", real=True)
    i = sp.Symbol("i", integer=True)
    draws: dict[sp.Expr, sp.Expr] = {}
    rng = random.Random(0)
    assert _instantiate(x * y + 1, {x: sp.Integer(2), y: sp.Integer(5)}, {}, draws, rng) == 11
    A = sp.MatrixSymbol("A", 2, 2)
    entries = sp.ImmutableMatrix([[1, 2], [3, 4]])
    assert _instantiate(A, {}, {A: entries}, draws, rng) == entries
    assert _instantiate(A + x * sp.Identity(2), {x: sp.Integer(1)}, {A: entries}, draws, rng).as_explicit() == (
        entries + sp.eye(2)
    )
    value = _instantiate(sp.Sum(X[i], (i, 1, k)) + x, {k: sp.Integer(2), x: sp.Integer(3)}, {}, draws, rng)
    assert set(draws) == {X[1], X[2]} and value == draws[X[1]] + draws[X[2]] + 3
    matrix = _instantiate(sp.Matrix([sp.Sum(X[i], (i, 1, 3)), x]), {x: sp.Integer(7)}, {}, draws, rng)
    assert matrix == sp.Matrix([draws[X[1]] + draws[X[2]] + draws[X[3]], 7])
    assert _instantiate(x + 1, {}, {}, draws, rng) == x + 1  # nothing to put in: the side as it is


def test_weights_over_an_integer_range_are_positive_and_sum_to_one() -> None:
    """_weights_for draws P[lo..hi] (the bounds read at the point) positive, summing to one, every index of the
    range and no other; a single weight is one; several bases each sum to one."""
    P = sp.IndexedBase("P", real=True)
    Q = sp.IndexedBase("Q", real=True)
    rng = random.Random(7)
    for _ in range(5):
        draws = _weights_for({P: (1, k), Q: (0, 1)}, {k: sp.Integer(3)}, rng)
        assert set(draws) == {P[1], P[2], P[3], Q[0], Q[1]}
        assert all(v.is_Rational and 0 < v < 1 for v in draws.values())
        assert draws[P[1]] + draws[P[2]] + draws[P[3]] == 1 and draws[Q[0]] + draws[Q[1]] == 1
    assert len({tuple(_weights_for({P: (1, 3)}, {}, rng).values()) for _ in range(10)}) > 1  # random, not fixed
    assert _weights_for({P: (2, 2)}, {}, rng) == {P[2]: 1}
    assert _weights_for({P: (n, n + 1)}, {n: sp.Integer(-1)}, rng).keys() == {P[-1], P[0]}


def test_weights_over_anything_but_an_integer_range_are_not_drawn() -> None:
    """A reversed range, a non-integer end or an end the point leaves symbolic gives no weights."""
    P = sp.IndexedBase("P", real=True)
    rng = random.Random(0)
    half = sp.Rational(1, 2)
    for low, high in ((3, 1), (half, 2), (0, 5 * half), (1, k), (half, 5 * half)):
        assert _weights_for({P: (low, high)}, {}, rng) == {}, (low, high)


def test_concrete_functions_replace_only_their_own_applications() -> None:
    """_with_functions puts f's polynomial in for every f(...) (any argument), leaves g alone, works entry by entry
    in an explicit matrix, and returns anything that is no expression unchanged."""
    f, g = sp.Function("f"), sp.Function("g")
    a = sp.Dummy("a")
    functions = {f: sp.Lambda((a,), a**2 + 1)}
    assert _with_functions(f(x) + g(x) + f(2), functions) == x**2 + 1 + g(x) + 5
    assert _with_functions(sp.Matrix([f(y), g(y)]), functions) == sp.Matrix([y**2 + 1, g(y)])
    assert _with_functions(f(x), {}) == f(x)
    assert _with_functions(3, functions) == 3


def test_several_free_functions_beside_opaque_ones_all_get_polynomials() -> None:
    """Functions with assumptions are skipped wherever they occur, never the end of the search: the free ones
    beside twenty of them, each applied twice, all get a polynomial in as many variables as arguments."""
    free = [sp.Function(f"h{j}") for j in range(3)]
    opaque = [sp.Function(f"r{j}", real=True) for j in range(20)]
    lhs = sum(h(x) + h(y) for h in free) + sum(r(x) for r in opaque)
    found = _functions_for(lhs, sp.Integer(0), random.Random(0))
    assert set(found) == set(free)
    two = _functions_for(sp.Function("F")(x, y), sp.Integer(0), random.Random(0))
    assert all(len(polynomial.variables) == 2 for polynomial in two.values())


def test_the_free_symbols_of_a_side_and_of_anything_else() -> None:
    """_free lists the free symbols of an expression or a matrix (matrix symbols included), and none of a
    number or of anything that is not SymPy's."""
    A = sp.MatrixSymbol("A", 2, 2)
    assert _free(x + y**2) == {x, y}
    assert _free(sp.Matrix([x, 1])) == {x}
    assert _free(A * x) == {A, x}
    assert _free(3) == set() and _free([x]) == set()


def test_a_free_function_beside_an_opaque_one_that_drops_out_is_tested() -> None:
    """g (free) gets a polynomial while f, under an integral, stays opaque; with a draw d[1] the statement is
    done (doit) before it is evaluated, the zero-width integral of f drops out, and every point is tested."""
    f, g = sp.Function("f"), sp.Function("g")
    t = sp.Symbol("t", real=True)
    d = sp.IndexedBase("d")
    assert falsify(g(y) + d[1] + sp.Integral(f(t), (t, 1, 1)), g(y) + d[1]) == (3, None)
    tested, found = falsify(g(y) + d[1] + sp.Integral(f(t), (t, 1, 1)), g(y) + d[1] + 1)
    assert tested >= 1 and found is not None


def test_an_integrand_with_a_wild_is_not_evaluated() -> None:
    """A Wild is a pattern, not a variable: an integrand containing one is refused like one with f(x) or a matrix
    entry, so an integral over a Wild is skipped at every point (never counted as evidence)."""
    w = sp.Wild("w")
    with pytest.raises(ValueError, match="not evaluated"):
        _safe_names(w**2, [w])
    with pytest.raises(ValueError, match="not evaluated"):
        _safe_names(w * x, [x])
    assert falsify(sp.Integral(w**2, (w, 0, 1)), sp.Rational(1, 3)) == (0, None)
