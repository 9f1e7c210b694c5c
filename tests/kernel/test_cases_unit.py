"""Case splits' own contract (kfsym/derive/kernel/cases.py), checked directly and fast.

``covers`` is True only when SymPy proves that some condition holds for every admissible value; ``implied``
accepts a replacement only by one of its listed rules under a condition that implies it;
``size_symbols_only_in_shapes`` tells a size symbol used only as a dimension from one used as a value.
"""

from __future__ import annotations

import pytest
import sympy as sp

from kfsym.derive.kernel.cases import Case, covers, implied, size_symbols_only_in_shapes

x, a, b = sp.symbols("x a b", real=True)
p = sp.Symbol("p", positive=True)
nn = sp.Symbol("nn", nonnegative=True)
neg = sp.Symbol("neg", negative=True)
np_ = sp.Symbol("np", nonpositive=True)
k = sp.Symbol("k", integer=True)
kp = sp.Symbol("kp", integer=True, positive=True)
kn = sp.Symbol("kn", integer=True, nonnegative=True)
w = sp.Symbol("w")  # complex


def test_conditions_on_one_symbol_cover_its_domain_or_not() -> None:
    assert covers([x <= 1, x >= 1])
    assert not covers([x < 1, x > 1])
    assert covers([p > 1, p <= 1])
    assert covers([p >= 0])  # a positive symbol is always >= 0
    assert not covers([x >= 0])
    assert covers([nn >= 0]) and not covers([nn > 0])
    assert covers([neg < 0]) and not covers([neg < -1, neg > -1])
    assert covers([np_ <= 0]) and not covers([np_ < 0])
    assert covers([kp >= 1]) and not covers([kp >= 2])
    assert covers([kn >= 0]) and not covers([kn >= 1])
    assert covers([k <= 0, k > 0])
    assert not covers([k < 0, k > 0])
    assert not covers([w**2 >= 0])  # w is complex: no order, no domain on the line


def test_a_symbols_domain_counts_when_the_conditions_are_not_one_difference() -> None:
    # (1, oo) and [0, 1]: every positive value, but not every real one
    assert covers([p > 1, p * (1 - p) >= 0])
    assert not covers([x > 1, x * (1 - x) >= 0])
    assert covers([nn > 1, nn * (1 - nn) >= 0])


def test_each_sign_assumption_gives_its_own_domain() -> None:
    half = sp.Rational(1, 2)
    assert not covers([p > half])  # (0, 1/2] is left out
    assert covers([neg <= -1, neg * (neg + 1) < 0])  # (-oo, -1] and (-1, 0): every negative value
    assert not covers([x <= -1, x * (x + 1) < 0])
    assert covers([np_ <= -1, np_ * (np_ + 1) <= 0])  # (-oo, -1] and [-1, 0]
    assert not covers([np_ <= -1, np_ * (np_ + 1) < 0])  # 0 is left out


def test_relations_on_one_difference_cover_the_line_or_not() -> None:
    assert covers([a <= b, a >= b])
    assert covers([a < b, sp.Eq(a, b), a > b])
    assert covers([a - b < 0, b - a <= 0])  # the same difference up to sign
    assert covers([sp.Eq(a, b), sp.Ne(a, b)]) and not covers([a < b, sp.Ne(a, b)])
    assert not covers([a < b, a > b])
    assert not covers([a <= b, a >= 2 * b])  # two different differences
    assert not covers([a <= b, sp.And(a > b, x > 0)])


def test_trivial_and_empty_case_lists() -> None:
    assert not covers([])
    assert covers([sp.true])
    assert covers([x > 0, sp.true])


def test_min_max_and_abs_are_replaced_only_under_a_condition_that_implies_it() -> None:
    assert implied(sp.Min(a, b), a, a <= b) and implied(sp.Min(a, b), b, a >= b)
    assert not implied(sp.Min(a, b), a, a >= b) and not implied(sp.Min(a, b), b, a <= b)
    assert implied(sp.Max(a, b), b, a <= b) and implied(sp.Max(a, b), a, a >= b)
    assert not implied(sp.Max(a, b), a, a <= b)
    assert implied(sp.Min(a, b), a, b >= a)  # the same condition written the other way round
    assert implied(sp.Min(a, b), a, a < b) and implied(sp.Min(a, b), a, sp.Eq(a, b))
    assert implied(sp.Min(a, b), b, sp.Eq(a, b)) and implied(sp.Max(a, b), b, sp.Eq(a, b))
    assert implied(sp.Max(a, b), a, sp.And(a > b, x > 0))  # one part of a conjunction suffices
    assert implied(sp.Max(a, b), a, sp.And(x > 0, a > b))  # wherever it stands
    assert implied(sp.Max(a, b), a, sp.And(a > 0, a > b))  # after a part on another difference (a > 0 first)
    assert not implied(sp.Min(a, b), a, x > 0)
    assert not implied(sp.Min(a, b), x, a <= b)  # not one of the arguments
    assert not implied(a + b, b, a <= b)  # only Min and Max pick an argument
    assert implied(sp.Abs(a - b), a - b, a >= b) and implied(sp.Abs(a - b), b - a, a <= b)
    assert not implied(sp.Abs(a - b), a - b, a <= b) and not implied(sp.Abs(a - b), b - a, a > b)
    assert implied(sp.Abs(x), -x, x < 0) and not implied(sp.Abs(x), x, x < 0)


def test_a_symbol_is_replaced_only_under_an_equation_naming_both() -> None:
    assert implied(x, sp.Integer(2), sp.Eq(x, 2))
    assert implied(x, sp.Integer(2), sp.And(sp.Eq(2, x), a > 0))
    assert not implied(x, sp.Integer(3), sp.Eq(x, 2))
    assert not implied(x, sp.Integer(2), x <= 2)
    assert not implied(x + 1, sp.Integer(3), sp.Eq(x, 2))


def test_size_symbols_used_only_as_dimensions() -> None:
    n = sp.Symbol("n", integer=True, positive=True)
    A = sp.MatrixSymbol("A", n, n)
    assert size_symbols_only_in_shapes([n], A * A.T, sp.Identity(n))
    assert not size_symbols_only_in_shapes([n], n * A)
    assert not size_symbols_only_in_shapes([n], A, n + 1)
    assert size_symbols_only_in_shapes([n], sp.Matrix([[x, 1]]))
    assert not size_symbols_only_in_shapes([n], sp.Matrix([[x, n]]))
    assert size_symbols_only_in_shapes([], n)


def test_a_case_names_the_argument_it_refuses() -> None:
    """A float or a string in a case's condition or substitution is a TypeError naming which of the two it is."""
    with pytest.raises(TypeError, match=r"^case condition: "):
        Case("x > 0", {x: 1})
    with pytest.raises(TypeError, match=r"^case substitution: "):
        Case(x > 0, {sp.Abs(x): 0.5})
    with pytest.raises(TypeError, match=r"^case condition must be a relation"):
        Case(x + 1, {})
    assert Case(None, {x: 1}).mapping == {x: 1}
