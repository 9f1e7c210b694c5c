"""The expectation rules' own contract (kfsym/derive/kernel/operators.py), checked directly and fast.

``expectation_residual(a, b, facts)`` is 0 exactly when ``a = b`` follows from linearity, finite sums, moving
factors into sums, the stated moment facts and the Kronecker-delta collapse; it is non-zero for the textbook
mistakes next to each identity, and it refuses random objects the rules do not know (sympy.stats) on either
side. ``E[...]`` prints as E[...].
"""

from __future__ import annotations

from typing import Any

import pytest
import sympy as sp
from sympy.stats import Normal

from kfsym.derive.kernel.operators import (
    Expectation,
    _bound_symbols,
    _canonical_dummies,
    _canonical_index,
    _collapse,
    _fresh_like,
    _inside_sum,
    _into_sum,
    expectation_residual,
    normal_sums,
    unknown_random_objects,
)

mu, c = sp.symbols("mu c", real=True)
sigma = sp.Symbol("sigma", positive=True)
i, j = sp.symbols("i j", integer=True, positive=True)
N = sp.Symbol("N", integer=True, positive=True)
x = sp.IndexedBase("x", real=True)
ka, kb = sp.Wild("k"), sp.Wild("l")
IID = {
    Expectation(x[ka] * x[kb]): mu**2 + sigma**2 * sp.KroneckerDelta(ka, kb),
    Expectation(x[ka] ** 2): mu**2 + sigma**2,
    Expectation(x[ka]): mu,
}
E = Expectation
total = sp.Sum(x[j], (j, 1, N))
mean = total / N


def holds(a: Any, b: Any) -> bool:
    return bool(expectation_residual(a, b, IID) == 0)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (E(x[i]), mu),
        (E(c * x[i] + 3), c * mu + 3),
        (E(c), c),
        (E(x[i] ** 2), mu**2 + sigma**2),
        (E((x[i] - mu) ** 2), sigma**2),
        (E(total), N * mu),
        (E(mean), mu),
        (E(c * total), c * N * mu),
        (E(total**2), N * sigma**2 + N**2 * mu**2),
        (E(mean**2), mu**2 + sigma**2 / N),
        (E(sp.Sum((x[j] - mu) ** 2, (j, 1, N))), N * sigma**2),
        (E(x[i]) + E(x[i]), 2 * mu),
    ],
)
def test_textbook_expectations_are_proved(a: Any, b: Any) -> None:
    assert holds(a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (E(x[i] ** 2), mu**2),  # forgets the variance
        (E(mean**2), mu**2),
        (E(total**2), N**2 * mu**2 + sigma**2),
        (E(c * x[i]), mu),
        (E(total), mu),
        (E(x[i]) * E(x[i]), E(x[i] ** 2)),
    ],
)
def test_their_textbook_mistakes_are_not(a: Any, b: Any) -> None:
    assert not holds(a, b)


def test_random_objects_the_rules_do_not_know_are_refused_on_either_side() -> None:
    Z = Normal("Z", 0, 1)
    for a, b in ((E(Z**2), E(Z) ** 2), (sp.Integer(1), E(Z**2)), (E(Z**2), sp.Integer(1))):
        residual = expectation_residual(a, b, IID)
        assert residual != 0 and "unknown random object" in str(residual)
    assert "unknown random object Z" in str(expectation_residual(Z, sp.Integer(0), IID))
    assert unknown_random_objects(Z + 1)[0] == Z
    assert unknown_random_objects(x[i] + mu) == []
    assert unknown_random_objects(3) == []


def test_a_factor_that_uses_the_summation_index_is_renamed_not_captured() -> None:
    # the outer x[j] is not the inner sum's x[j]: E[sum_j x_j sum_j x_j] is E[(sum_j x_j)^2]
    nested = sp.Sum(x[j] * total, (j, 1, N))
    assert holds(E(nested), N * sigma**2 + N**2 * mu**2)
    assert not holds(E(nested), N * sigma**2 + N * mu**2)


def test_normal_sums_collapses_a_delta_against_its_enclosing_sum() -> None:
    m = sp.Symbol("m", integer=True, positive=True)
    double = sp.Sum(sp.Sum(sp.KroneckerDelta(i, m) * x[m], (m, 1, N)), (i, 1, N))
    assert normal_sums(double - sp.Sum(x[i], (i, 1, N)), {}) == 0
    assert normal_sums(sp.Sum(c, (i, 1, N)) - N * c, {}) == 0
    # equal single sums over differently named indices compare equal
    assert normal_sums(sp.Sum(x[i] ** 2, (i, 1, N)) - sp.Sum(x[m] ** 2, (m, 1, N)), {}) == 0


def test_the_expectation_prints_as_e_of_its_argument() -> None:
    assert str(E(x[i] ** 2)) == "E[x[i]**2]"
    assert sp.latex(E(mu)) == r"\mathbb{E}\left[\mu\right]"
    assert sp.pretty(E(mu), use_unicode=True) == "E[μ]"
    assert sp.pretty(E(mu**2 / 2), use_unicode=True).splitlines()[2] == "E⎢──⎥"


def test_a_delta_is_not_collapsed_into_a_scope_that_rebinds_its_partner() -> None:
    m = sp.Symbol("m", integer=True, positive=True)
    delta = sp.KroneckerDelta(i, m)
    # inside, x[i] x[m] is summed over its own i: replacing m by the outer i there would capture it
    nested = sp.Sum(sp.Sum(delta * sp.Sum(x[i] * x[m], (i, 1, N)), (m, 1, N)), (i, 1, N))
    assert normal_sums(nested, {}) == normal_sums(total**2, {})
    assert _bound_symbols(total * sp.Integral(m * c, (c, 0, 1))) == {j, c}
    assert _bound_symbols(x[i] * mu) == set()


def test_nested_single_sums_keep_their_own_indices() -> None:
    m = sp.Symbol("m", integer=True, positive=True)
    nested = sp.Sum(x[i] * sp.Sum(x[m], (m, 1, N)), (i, 1, N))
    assert normal_sums(nested - total**2, {}) == 0
    assert normal_sums(nested - N * total, {}) != 0


def test_a_symbolic_power_of_a_random_sum_is_left_as_it_is() -> None:
    assert expectation_residual(E(total**N), E(total**N), IID) == 0
    assert expectation_residual(E(total**N), E(total) ** N, IID) != 0


def test_only_a_kronecker_delta_collapses_a_sum() -> None:
    m = sp.Symbol("m", integer=True, positive=True)
    power = sp.Sum(sp.Sum(i**m * x[m], (m, 1, N)), (i, 1, N))  # i**m has the arguments (i, m) too
    assert normal_sums(power - sp.Sum(i**i * x[i], (i, 1, N)), {}) != 0
    assert normal_sums(power - sp.Sum(x[i], (i, 1, N)), {}) != 0  # i**m is no delta to collapse on
    delta = sp.Sum(sp.Sum(sp.KroneckerDelta(i, m) * x[m], (m, 1, N)), (i, 1, N))
    assert normal_sums(delta - sp.Sum(x[i], (i, 1, N)), {}) == 0


def test_fresh_and_canonical_indices_keep_the_assumptions_of_the_index() -> None:
    """A renamed index (fresh or canonical) has the assumptions of the one it replaces; one canonical per set."""
    fresh = _fresh_like(j)
    assert fresh != j and fresh.assumptions0 == j.assumptions0
    renamed = _into_sum(x[j], total)  # x[j] outside the sum over j: the sum's j is renamed
    assert renamed.limits[0][0] != j and renamed.limits[0][0].assumptions0 == j.assumptions0
    assert _canonical_index(i).assumptions0 == i.assumptions0
    assert _canonical_index(i) is _canonical_index(j)
    assert _canonical_index(sp.Symbol("n", integer=True)) != _canonical_index(i)


def test_a_sum_of_a_constant_over_several_limits_multiplies_every_length() -> None:
    """Sum(c, (i, 1, N), (m, 1, N), (p, 1, 2)) = 2 N^2 c: no limit is lost when the outermost is peeled off."""
    m, p = sp.symbols("m p", integer=True, positive=True)
    assert normal_sums(sp.Sum(c, (i, 1, N), (m, 1, N), (p, 1, 2)) - 2 * N**2 * c, {}) == 0


def test_a_delta_collapses_only_against_the_innermost_binding_of_its_partner() -> None:
    """An inner sum over i (1..M) hides the outer i (1..N): delta(m, i), m in 1..N, does not collapse there."""
    m = sp.Symbol("m", integer=True, positive=True)
    M = sp.Symbol("M", integer=True, positive=True)
    inner = sp.Sum(sp.KroneckerDelta(m, i) * x[m], (m, 1, N))
    shadowed = sp.Sum(sp.Sum(inner, (i, 1, M)), (i, 1, N))
    assert normal_sums(shadowed - N * sp.Sum(x[i], (i, 1, M)), {}) != 0
    same_range = sp.Sum(sp.Sum(inner, (i, 1, N)), (i, 1, M))
    assert normal_sums(same_range - M * sp.Sum(x[i], (i, 1, N)), {}) == 0


def test_a_delta_does_not_collapse_over_a_reversed_range() -> None:
    """Sum_{i=3}^{1} Sum_{m=3}^{1} delta(i, m) x[m] is x[2] (Karr), not Sum_{i=3}^{1} x[i] = -x[2]."""
    m = sp.Symbol("m", integer=True, positive=True)
    reversed_range = sp.Sum(sp.Sum(sp.KroneckerDelta(i, m) * x[m], (m, 3, 1)), (i, 3, 1))
    assert normal_sums(reversed_range - sp.Sum(x[i], (i, 3, 1)), {}) != 0
    assert normal_sums(reversed_range.doit() - x[2], {}) == 0


def test_a_delta_does_not_collapse_onto_an_index_used_in_its_own_range() -> None:
    """In Sum(Sum(delta(i, m) x[m], (m, 1, i)), (i, 1, i)) the inner range's i is the bound i, not the outer range."""
    m = sp.Symbol("m", integer=True, positive=True)
    upper = sp.Sum(sp.Sum(sp.KroneckerDelta(i, m) * x[m], (m, 1, i)), (i, 1, i))
    assert normal_sums(upper - sp.Sum(x[i], (i, 1, i)), {}) != 0
    lower = sp.Sum(sp.Sum(sp.KroneckerDelta(i, m) * x[m], (m, i, N)), (i, i, N))
    assert normal_sums(lower - sp.Sum(x[i], (i, i, N)), {}) != 0


def test_a_delta_term_collapses_beside_terms_that_do_not() -> None:
    """Sum_i Sum_m (delta(i, m) x[m] + x[m]^2 + sin(x[m])) keeps the other terms, before and after it, signed."""
    m = sp.Symbol("m", integer=True, positive=True)
    body = sp.KroneckerDelta(i, m) * x[m] + x[m] ** 2 + sp.sin(x[m])
    mixed = sp.Sum(sp.Sum(body, (m, 1, N)), (i, 1, N))
    expected = sp.Sum(x[i], (i, 1, N)) + N * sp.Sum(x[m] ** 2 + sp.sin(x[m]), (m, 1, N))
    assert sp.expand(_collapse(mixed) - expected) == 0
    assert normal_sums(mixed - expected, {}) == 0
    assert normal_sums(mixed - sp.Sum(x[i], (i, 1, N)), {}) != 0


def test_a_delta_does_not_collapse_into_a_factor_that_binds_its_partner() -> None:
    """delta(i, m) Sum_i x[i] x[m]: putting i for m inside would be captured by the inner sum over i."""
    m = sp.Symbol("m", integer=True, positive=True)
    inner = sp.Sum(x[i] * x[m], (i, 1, N))
    nested = sp.Sum(sp.Sum(sp.KroneckerDelta(i, m) * inner, (m, 1, N)), (i, 1, N))
    assert sp.expand(_collapse(nested) - N * sp.Sum(x[i] ** 2, (i, 1, N))) != 0
    assert _collapse(nested) == nested


def test_a_delta_collapses_inside_a_product_within_the_enclosing_sum() -> None:
    """Sum_i x[i] Sum_m delta(i, m) x[m] = Sum_i x[i]^2: the enclosing index is seen through the product."""
    m = sp.Symbol("m", integer=True, positive=True)
    inside = sp.Sum(x[i] * sp.Sum(sp.KroneckerDelta(i, m) * x[m], (m, 1, N)), (i, 1, N))
    assert normal_sums(inside - sp.Sum(x[i] ** 2, (i, 1, N)), {}) == 0


def test_facts_are_applied_again_after_a_collapse() -> None:
    """A fact that only matches once a delta has collapsed (x[m] x[i] -> x[i]^2) is applied in a later pass."""
    m = sp.Symbol("m", integer=True, positive=True)
    square = sp.Sum(sp.Sum(sp.KroneckerDelta(i, m) * x[i] * x[m], (m, 1, N)), (i, 1, N))
    assert normal_sums(square - N * mu, {x[ka] ** 2: mu}) == 0


def test_only_top_level_single_sums_are_renamed() -> None:
    """A sum inside another keeps its own index, and a sum over several limits is left as it is."""
    m = sp.Symbol("m", integer=True, positive=True)
    inner = sp.Sum(x[m], (m, 1, N))
    outer = sp.Sum(x[i] * inner, (i, 1, N), (j, 1, N))
    assert _inside_sum(outer, inner) and not _inside_sum(outer, outer) and not _inside_sum(inner, inner)
    assert _canonical_dummies(outer) == outer


def test_normal_sums_repeats_its_passes_while_anything_changes_up_to_six() -> None:
    """Each pass applies every fact once (y_k -> y_{k-1}); passes repeat while the expression changes, at most 6."""
    y = sp.symbols("y0:8", real=True)
    chain = {y[k]: y[k - 1] for k in range(1, 8)}
    assert normal_sums(y[3], chain) == y[0]
    assert normal_sums(y[7], chain) == y[1]  # seven steps: stopped after six passes, one short
