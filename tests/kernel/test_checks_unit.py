"""The check methods' own contract (kfsym/derive/kernel/checks.py), checked directly and fast.

``residual(a, b, method, facts)`` is zero exactly when ``method`` proves ``a == b``: each method proves its
textbook identity and not the false neighbour, refuses (a non-zero marker saying why) what it must not decide,
and substitutions, matrices and unknown methods are handled as the docstring says.
"""

from __future__ import annotations

from typing import Any

import pytest
import sympy as sp

from kfsym.derive.kernel.checks import (
    _log_ratio,
    _parametrise,
    bound_symbols,
    by_parts,
    change_of_variables,
    is_zero,
    rebuild,
    residual,
)

x, y, z, w = sp.symbols("x y z w", real=True)
s = sp.Symbol("s", positive=True)
c = sp.Symbol("c")  # complex
oo = sp.oo


def proves(a: Any, b: Any, method: str, facts: dict[Any, Any] | None = None, change: Any = ()) -> bool:
    return is_zero(residual(a, b, method, facts or {}, change))


def why(a: Any, b: Any, method: str, facts: dict[Any, Any] | None = None, change: Any = ()) -> str:
    value = residual(a, b, method, facts or {}, change)
    assert not is_zero(value)
    return str(value)


@pytest.mark.parametrize(
    ("method", "a", "b", "wrong"),
    [
        ("expand", (x + 1) ** 2, x**2 + 2 * x + 1, x**2 + 1),
        ("cancel", (x**2 - 1) / (x - 1), x + 1, x - 1),
        ("simplify", sp.sin(x) ** 2 + sp.cos(x) ** 2, sp.Integer(1), sp.Integer(2)),
        ("simplify", sp.erfc(x) + sp.erf(x), sp.Integer(1), sp.Integer(0)),
        ("log_ratio", sp.exp(s) * s, sp.exp(s + sp.log(s)), sp.exp(s)),
        ("simplify", sp.Integral(sp.exp(-(x**2)), (x, -oo, oo)), sp.sqrt(sp.pi), sp.pi),
    ],
)
def test_each_method_proves_its_identity_and_not_the_false_neighbour(method: str, a: Any, b: Any, wrong: Any) -> None:
    assert proves(a, b, method)
    assert not proves(a, wrong, method)


def test_the_residual_of_a_false_statement_is_what_is_left() -> None:
    assert residual((x + 1) ** 2, x**2 + 1, "expand", {}) == 2 * x
    assert residual(x, x + 1, "cancel", {}) == -1


def test_log_ratio_simplifies_what_cancel_leaves() -> None:
    assert proves(sp.exp(sp.sin(s) ** 2), sp.exp(1 - sp.cos(s) ** 2), "log_ratio")
    assert not proves(sp.exp(sp.sin(s) ** 2), sp.exp(1 + sp.cos(s) ** 2), "log_ratio")


def test_log_ratio_refuses_sides_not_provably_positive() -> None:
    assert "left side not provably positive" in why(x * sp.exp(x), sp.exp(x + sp.log(x)), "log_ratio")
    assert "right side not provably positive" in why(sp.exp(x), x, "log_ratio")


def test_integrand_compares_integrands_over_the_same_limits() -> None:
    left = sp.Integral(sp.exp(-(x**2) / 2) * 2, (x, -oo, oo))
    assert proves(left, 2 * sp.Integral(sp.exp(-(x**2) / 2), (x, -oo, oo)), "integrand")
    assert "limits differ" in why(left, 2 * sp.Integral(sp.exp(-(x**2) / 2), (x, 0, oo)), "integrand")
    assert "constant times one definite integral" in why(left, sp.Integer(2), "integrand")
    # a constant that depends on the integration variable cannot move under the integral
    assert "constant times one definite integral" in why(x * sp.Integral(x, (x, 0, 1)), sp.Integer(1), "integrand")
    # nor one that holds another integral (its bound variable would be captured under the integral sign)
    nested = sp.Integral(x, (x, 0, 1)) * (1 + sp.Integral(x, (x, 0, 1)))
    assert "constant times one definite integral" in why(nested, sp.Integral(x, (x, 0, 1)), "integrand")


def test_substitutions_are_applied_before_the_check() -> None:
    m = sp.Symbol("m", real=True)
    assert proves(m, x + y, "expand", {m: x + y})
    assert not proves(m, x + y, "expand", {})


def test_explicit_matrices_are_checked_entry_by_entry_and_shapes_must_agree() -> None:
    assert proves(sp.Matrix([[(x + 1) ** 2, x]]), sp.Matrix([[x**2 + 2 * x + 1, x]]), "expand")
    value = residual(sp.Matrix([[x, x]]), sp.Matrix([[x, x + 1]]), "expand", {})
    assert list(value) == [0, -1]
    assert "shape mismatch" in why(sp.Matrix([[x, x]]), sp.Matrix([[x], [x]]), "expand")
    assert "shape mismatch" in why(sp.Matrix([[x]]), x, "expand")


def test_an_unknown_method_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown check method 'guess'"):
        residual(x, x, "guess", {})


def test_a_change_of_one_variable_proves_the_scaled_gaussian() -> None:
    left = sp.Integral(sp.exp(-(x**2) / (2 * s**2)), (x, -oo, oo))
    right = s * sp.Integral(sp.exp(-(z**2) / 2), (z, -oo, oo))
    assert change_of_variables(left, right, ((x, s * z),)) == 0
    assert change_of_variables(left, 2 * right, ((x, s * z),)) != 0
    flipped = s * sp.Integral(sp.exp(-(z**2) / 2), (z, -oo, oo))
    assert change_of_variables(left, flipped, ((x, -s * z),)) == 0  # decreasing maps count too
    half = sp.Integral(sp.exp(-x), (x, 0, oo))
    assert change_of_variables(half, sp.Integral(sp.exp(-z - 1), (z, -1, oo)), ((x, z + 1),)) == 0
    assert change_of_variables(half, sp.Integral(sp.exp(z) * sp.exp(-sp.exp(z)), (z, -oo, oo)), ((x, sp.exp(z)),)) == 0


def test_a_change_of_variables_refuses_bad_maps() -> None:
    left = sp.Integral(sp.exp(-(x**2)), (x, -oo, oo))
    right = sp.Integral(sp.exp(-(z**4)) * 2 * z, (z, -oo, oo))
    assert "monotone" in str(change_of_variables(left, right, ((x, z**2),)))
    assert "real" in str(change_of_variables(left, right, ((x, c * z),)))
    assert "old variable" in str(change_of_variables(left, right, ((x, x * z),)))
    assert "image" in str(change_of_variables(sp.Integral(x, (x, 0, 1)), sp.Integral(z, (z, 0, 2)), ((x, z),)))
    assert "each of" in str(change_of_variables(left, right, ((y, z),)))
    assert "constant times one definite integral" in str(change_of_variables(left, sp.Integer(1), ((x, z),)))


def test_a_change_of_several_variables_must_be_affine_and_invertible() -> None:
    gauss = sp.exp(-(x**2) - y**2)
    left = sp.Integral(gauss, (x, -oo, oo), (y, -oo, oo))
    rotated = sp.Integral(sp.exp(-(z**2) - w**2), (z, -oo, oo), (w, -oo, oo))
    r = sp.sqrt(2) / 2
    assert change_of_variables(left, rotated, ((x, r * (z - w)), (y, r * (z + w)))) == 0
    scaled = 2 * sp.Integral(sp.exp(-4 * z**2 - w**2), (z, -oo, oo), (w, -oo, oo))
    assert change_of_variables(left, scaled, ((x, 2 * z), (y, w))) == 0
    assert change_of_variables(left, rotated, ((x, 2 * z), (y, w))) != 0
    assert "affine" in str(change_of_variables(left, rotated, ((x, z**3), (y, w))))
    assert "Jacobian" in str(change_of_variables(left, rotated, ((x, z + w), (y, z + w))))
    half = sp.Integral(gauss, (x, 0, oo), (y, -oo, oo))
    assert "whole space" in str(change_of_variables(half, rotated, ((x, z), (y, w))))


def test_rebuild_evaluates_what_sympy_evaluates_and_nothing_more() -> None:
    assert rebuild(sp.Mul(2, 3, evaluate=False)) == 6
    assert rebuild(sp.Add(x, x, evaluate=False)) == 2 * x
    kept = sp.Integral(x, (x, 0, 1))
    assert rebuild(kept) == kept
    assert rebuild(sp.Matrix([[sp.Mul(2, 3, evaluate=False)]])) == sp.ImmutableMatrix([[6]])


def test_bound_symbols_of_every_binder() -> None:
    t = sp.Symbol("t")
    i = sp.Symbol("i", integer=True)
    expr = sp.Sum(i, (i, 1, 3)) + sp.Integral(x, (x, 0, 1)) + sp.Limit(1 / t, t, oo)
    assert bound_symbols(expr) == {i, x, t}
    assert len(bound_symbols(sp.Lambda(y, y))) == 1  # SymPy binds a dummy in place of y
    assert bound_symbols(sp.Product(i, (i, 1, 3))) == {i}
    assert bound_symbols(sp.Derivative(sp.Function("f")(z), z)) == {z}
    assert bound_symbols(x + y) == set()
    assert bound_symbols(3) == set()


def test_substitute_replaces_by_proved_equations_only() -> None:
    m = sp.Symbol("m", real=True)
    assert proves(sp.exp(x + y), sp.exp(m), "substitute", {m: x + y}, change=((m, x + y),))  # either direction
    trig = sp.sin(x) ** 2 + sp.cos(x) ** 2
    assert proves(sp.exp(trig), sp.exp(1), "substitute", change=((trig, sp.Integer(1)),))  # proved by simplify
    matrix = sp.Matrix([[sp.Integral(x, (x, 0, 1))]])
    assert "bound inside" in why(matrix, sp.Matrix([[sp.Integral(y, (x, 0, 1))]]), "substitute", change=((x, y),))
    assert proves(sp.exp(m), sp.exp(x + y), "substitute", {m: x + y}, change=((m, x + y),))
    assert "not a proved equation" in why(sp.exp(m), sp.exp(x), "substitute", change=((m, x),))
    assert "needs the replacements" in why(m, m, "substitute")
    assert "bound inside" in why(sp.Integral(x, (x, 0, 1)), sp.Integral(y, (x, 0, 1)), "substitute", change=((x, y),))
    assert "does not give the other" in why(sp.exp(m), sp.exp(x), "substitute", {m: x + y}, change=((m, x + y),))


@pytest.mark.parametrize(
    ("low", "high"),
    [(-oo, oo), (x, oo), (-oo, x), (0, oo), (-oo, -2), (0, 1), (-3, s), (x, x + s)],
)
def test_a_parametrisation_runs_over_exactly_the_open_range(low: Any, high: Any) -> None:
    found = _parametrise(z, sp.sympify(low), sp.sympify(high))
    assert found is not None
    u, image = found
    if (low, high) == (-oo, oo):
        assert u.is_real and image == u
        return
    assert u.is_positive  # u runs over (0, oo)
    slope = sp.factor(sp.cancel(sp.diff(image, u)))
    ends = sp.limit(image, u, 0, "+"), sp.limit(image, u, oo)
    if slope.is_negative:  # decreasing: u -> 0 is the upper end
        ends = ends[::-1]
    else:
        assert slope.is_positive  # strictly monotone: one point of the range for each u
    assert all(got == want or sp.simplify(got - want) == 0 for got, want in zip(ends, (low, high), strict=True))


@pytest.mark.parametrize(("low", "high"), [(c, oo), (-oo, c), (1, 0), (x, y), (x, x)])
def test_a_range_that_is_not_provably_an_interval_has_no_parametrisation(low: Any, high: Any) -> None:
    assert _parametrise(z, sp.sympify(low), sp.sympify(high)) is None


def test_a_change_of_variables_needs_a_continuously_differentiable_map() -> None:
    """x = z + |z|/2 is continuous and increasing, but its derivative jumps at 0: the map is refused for that."""
    left = sp.Integral(sp.exp(-(x**2)), (x, -oo, oo))
    right = sp.Integral(sp.exp(-(z**2)), (z, -oo, oo))
    reason = str(change_of_variables(left, right, ((x, z + sp.Abs(z) / 2),)))
    assert "continuously differentiable" in reason


def test_a_change_of_variables_compares_limits_by_value() -> None:
    """The stated limit sqrt(2) - 1 is the image 1/(1 + sqrt(2)) of the new range: equal values, different forms."""
    r = sp.sqrt(2)
    left = sp.Integral(sp.Integer(1), (x, 0, r - 1))
    assert change_of_variables(left, sp.Integral(1 / (1 + r), (z, 0, 1)), ((x, z / (1 + r)),)) == 0
    assert change_of_variables(left, sp.Integral(1 / (1 + r), (z, 0, 2)), ((x, z / (1 + r)),)) != 0


def test_a_change_of_variables_proves_integrands_equal_by_simplify_and_never_up_to_a_factor() -> None:
    """sin^2 = 1 - cos^2 needs simplify after cancel; exp(x + 1) is e times exp(z), not equal to it."""
    assert (
        change_of_variables(
            sp.Integral(sp.sin(x) ** 2, (x, 0, 1)), sp.Integral(1 - sp.cos(z) ** 2, (z, 0, 1)), ((x, z),)
        )
        == 0
    )
    assert change_of_variables(sp.Integral(sp.exp(x + 1), (x, 0, 1)), sp.Integral(sp.exp(z), (z, 0, 1)), ((x, z),)) != 0


def test_log_ratio_splits_the_logarithms_of_both_sides_alike() -> None:
    """x^2 exp(y^2 + 2y) = x^2 exp(2y) exp(y^2) for real x != 0: log(x^2) is split the same way on both sides."""
    nz = sp.Symbol("nz", real=True, nonzero=True)
    assert _log_ratio(nz**2 * sp.exp(y**2 + 2 * y), nz**2 * sp.exp(2 * y) * sp.exp(y**2)) == 0
    assert _log_ratio(nz**2 * sp.exp(2 * y) * sp.exp(y**2), nz**2 * sp.exp(y**2 + 2 * y)) == 0


def test_a_change_of_variables_names_the_argument_it_refuses() -> None:
    """A float in either side or in the map is a TypeError naming which of the three it is."""
    left = sp.Integral(sp.exp(-(x**2)), (x, -oo, oo))
    with pytest.raises(TypeError, match=r"^change_of_variables lhs: "):
        change_of_variables(0.5, left, ((x, z),))
    with pytest.raises(TypeError, match=r"^change_of_variables rhs: "):
        change_of_variables(left, 0.5, ((x, z),))
    with pytest.raises(TypeError, match=r"^map: "):
        change_of_variables(left, left, ((x, 0.5 * z),))


def test_a_change_of_several_variables_needs_one_new_variable_for_each_old_one() -> None:
    """Two old variables for one new, or one new variable bound twice, is refused: the map cannot be one-to-one."""
    left = sp.Integral(sp.exp(-(x**2) - y**2), (x, -oo, oo), (y, -oo, oo))
    one = sp.Integral(sp.exp(-(z**2)), (z, -oo, oo))
    assert "each of" in str(change_of_variables(left, one, ((x, z), (y, z))))
    twice = sp.Integral(sp.exp(-2 * z**2), (z, -oo, oo), (z, -oo, oo))
    assert "each of" in str(change_of_variables(left, twice, ((x, z), (y, z))))


def test_a_change_of_several_variables_must_be_real() -> None:
    """x = z + i w is refused as a complex map, although its Jacobian determinant (1) is real and non-zero."""
    left = sp.Integral(sp.exp(-(x**2) - y**2), (x, -oo, oo), (y, -oo, oo))
    right = sp.Integral(sp.exp(-((z + sp.I * w) ** 2) - w**2), (z, -oo, oo), (w, -oo, oo))
    assert "map is not provably real" in str(change_of_variables(left, right, ((x, z + sp.I * w), (y, w))))


def test_by_parts_refuses_a_boundary_term_that_is_not_finite() -> None:
    """With u = x^2, v = 1 over the real line [u v] is oo - oo = nan: by_parts says the boundary term is not
    finite (whatever the right side), before it looks at the right side at all."""
    zero = sp.Integral(0, (x, -oo, oo))
    for right in (zero, sp.Integer(0)):
        assert str(by_parts(zero, right, ((x**2, 1),))) == "<the boundary term [u v] = nan is not finite>"


@pytest.mark.parametrize("method", ["expand", "simplify", "cancel", "algebra", "sums"])
def test_residual_screens_what_it_is_handed_so_a_false_statement_the_screen_refuses_is_never_proved(
    method: str,
) -> None:
    """residual() is a door of its own (not only behind a Derivation's step screen): the sum of floor(k) over
    k = -1/2, 1/2 (-1 in truth) would come out 0 by `expand`, and the delta at an end point 1 by evaluation, if
    residual did not screen its statement; each is refused with the screen's reason, by every method."""
    k = sp.Symbol("k", integer=True)
    half = sp.Rational(1, 2)
    assert "index k" in why(sp.Sum(sp.floor(k), (k, -half, half)), 0, method)
    assert "DiracDelta(x) is supported at x = 0" in why(sp.Integral(sp.DiracDelta(x), (x, 0, 1)), 1, method)


def test_residual_screens_the_statement_as_stated_and_after_the_definitions_are_put_in() -> None:
    """Both forms are screened: a delta at x = t is not provably inside (0, 1) as stated, so the statement is
    refused even though t := 1/2 would put it inside; and a definition that puts a refused sum in is refused too."""
    t = sp.Symbol("t", real=True)
    k = sp.Symbol("k", integer=True)
    stated = sp.Integral(sp.DiracDelta(x - t), (x, 0, 1))
    assert "not provably inside" in why(stated, 1, "expand", {t: sp.Rational(1, 2)})
    F = sp.Symbol("F")
    half = sp.Rational(1, 2)
    assert "index k" in why(F, 0, "expand", {F: sp.Sum(sp.floor(k), (k, -half, half))})
