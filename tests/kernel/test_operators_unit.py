"""The expectation rules' own contract (kfsym/derive/kernel/operators.py), checked directly and fast.

``expectation_residual(a, b, facts)`` is 0 exactly when ``a = b`` follows from linearity, finite sums, moving
factors into sums, the stated moment facts and the Kronecker-delta collapse; it is non-zero for the textbook
mistakes next to each identity, and it refuses random objects the rules do not know (sympy.stats) on either
side. ``E[...]`` prints as E[...].
"""

from __future__ import annotations

from collections import Counter
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
    _delta_factor,
    _expect,
    _factors,
    _fresh_like,
    _gather,
    _inside_sum,
    _into_sum,
    _is_random,
    apply_facts,
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


# --- the helpers behind E[...]: _is_random, _factors, _gather, _expect ------------------------------------------


def same_value(a: Any, b: Any) -> bool:
    """a = b once every sum is written out for N = 3 (bound indices, renamed or not, disappear)."""
    return bool(sp.expand(sp.sympify(a).subs(N, 3).doit() - sp.sympify(b).subs(N, 3).doit()) == 0)


def is_random_sum(expr: Any) -> bool:
    return isinstance(expr, sp.Sum) and bool(expr.atoms(sp.Indexed))


def gathered(expr: Any) -> bool:
    """No random sum is a factor of a product or the base of a power anywhere in ``expr``."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Mul) and any(is_random_sum(f.as_base_exp()[0]) for f in node.args):
            return False
        if isinstance(node, sp.Pow) and is_random_sum(node.base):
            return False
    return True


def test_random_means_holding_an_indexed_draw() -> None:
    """_is_random is True exactly when an indexed draw x[i] occurs somewhere in the expression (a bool)."""
    for expr in (x[i], c * x[i] + 1, sp.sin(x[i]) ** 2, total, sp.Sum(x[j] * c, (j, 1, N)) / N, E(x[i])):
        assert _is_random(expr) is True, expr
    for expr in (sp.Integer(3), c, mu**2 * sigma, sp.Sum(j * c, (j, 1, N)), x, sp.KroneckerDelta(i, j)):
        assert _is_random(sp.sympify(expr)) is False, expr


def test_factors_write_out_integer_powers_of_random_sums_and_keep_the_product() -> None:
    """Factors multiply back to the product; a random sum to an integer power above 1 becomes that many copies."""
    for power in (2, 3, 5):
        expr = c * total**power * x[i]
        got = _factors(expr)
        assert Counter(got) == Counter({c: 1, total: power, x[i]: 1}), power
        assert sp.Mul(*got) == expr
    assert _factors(total) == [total] and _factors(x[i]) == [x[i]]
    assert Counter(_factors(3 * c * x[i])) == Counter({3: 1, c: 1, x[i]: 1})


def test_factors_keep_other_powers_whole() -> None:
    """Negative, symbolic and fractional powers of random sums, powers of constant sums or of draws stay whole."""
    constant_sum = sp.Sum(j * c, (j, 1, N))
    for factor in (total**-1, total**-2, total**N, total ** sp.Rational(3, 2), constant_sum**2, x[i] ** 2, c**3):
        assert _factors(mu * factor) in ([mu, factor], [factor, mu]), factor


@pytest.mark.parametrize(
    "expr",
    [
        total**2,
        total**3,
        c * x[i] * total,
        total * sp.Sum(x[i] ** 2, (i, 1, N)) + c * total + 2,
        (total + x[i]) * (total - c),
        sp.Sum(x[i] * total, (i, 1, N)),
        sp.Sum(x[i] * total**2, (i, 1, N)) - total,
        mu * sp.sin(x[i]) * total * c,
    ],
)
def test_gather_leaves_no_product_or_power_of_random_sums_and_keeps_the_value(expr: Any) -> None:
    """Every product or integer power of random sums becomes a nested sum, at any depth, with the same value."""
    got = _gather(expr)
    assert gathered(got), got
    assert same_value(got, expr)


def test_gather_leaves_an_expression_without_random_sums_expanded_but_unchanged() -> None:
    """Without a random sum there is nothing to gather: the expression comes back expanded, sums of constants too."""
    constant_sum = sp.Sum(j * c, (j, 1, N))
    for expr in ((c + 1) ** 2, x[i] * (x[j] + c), constant_sum * c, (x[i] + 1) * constant_sum, total**N, total**-1):
        assert _gather(expr) == sp.expand(expr), expr


def test_gather_nests_the_rest_of_a_product_inside_the_sum() -> None:
    """c x[i] Sum_j x[j] = Sum_j c x[i] x[j]: the factors before and after the sum all move inside, once."""
    assert sp.Mul.make_args(c * x[i] * total * sp.sin(x[i]))[2] == total  # factors on both sides of the sum
    assert _gather(c * x[i] * total * sp.sin(x[i])) == sp.Sum(c * x[i] * x[j] * sp.sin(x[i]), (j, 1, N))
    assert _gather(c * total) == sp.Sum(c * x[j], (j, 1, N))
    assert _gather(total) == total


def test_expect_of_a_constant_is_the_constant() -> None:
    """E[c] = c for everything without a draw (rule 1)."""
    for expr in (sp.Integer(0), sp.Integer(1), c, mu**2 + sigma, sp.Sum(j * c, (j, 1, N))):
        assert _expect(sp.sympify(expr)) == expr


def test_expect_is_linear_and_keeps_a_product_of_draws_together() -> None:
    """E[a + b] = E[a] + E[b], E[k a] = k E[a] for k free of draws; the random factors stay in one E[...]."""
    assert _expect(x[i]) == E(x[i])
    assert _expect(x[i] * x[j]) == E(x[i] * x[j])
    assert _expect(x[i] ** 2) == E(x[i] ** 2)
    assert _expect(-x[i]) == -E(x[i])
    assert _expect(3 * c * x[i] * sp.sin(x[j])) == 3 * c * E(x[i] * sp.sin(x[j]))
    assert _expect(x[i] + c * x[j] + mu) == E(x[i]) + c * E(x[j]) + mu
    assert _expect(x[i] * x[j] - 2 * x[i]) == E(x[i] * x[j]) - 2 * E(x[i])


def test_expect_moves_inside_sums_and_gathers_their_products() -> None:
    """E[Sum_j f] = Sum_j E[f] (rule 2), with products of random sums in f gathered first: no E[...] holds a sum."""
    assert _expect(sp.Sum(c * x[j], (j, 1, N))) == sp.Sum(c * E(x[j]), (j, 1, N))
    got = _expect(sp.Sum(x[i] * total, (i, 1, N)))
    assert got == sp.Sum(E(x[i] * x[j]), (j, 1, N), (i, 1, N))
    got = _expect(sp.Sum(2 * x[i] * total**2, (i, 1, N)) + total)
    for node in sp.preorder_traversal(got):
        if isinstance(node, E):
            assert not node.args[0].atoms(sp.Sum) and not isinstance(node.args[0], sp.Add), node
            assert all(_is_random(f) for f in sp.Mul.make_args(node.args[0])), node


def test_a_delta_collapses_onto_the_enclosing_index_whatever_delta_comes_before_it() -> None:
    """Rule 5 looks at every delta factor of the summand: delta(i, 3), against a number and not an enclosing
    index, does not hide delta(i, j), so sum_j sum_i delta(i, 3) delta(i, j) x_i = sum_j delta(j, 3) x_j."""
    summand = sp.KroneckerDelta(i, 3) * sp.KroneckerDelta(i, j) * x[i]
    assert _delta_factor(summand, i) == (sp.KroneckerDelta(i, j), j)
    assert _delta_factor(sp.KroneckerDelta(i, 3) * x[i], i) is None
    double = sp.Sum(sp.Sum(summand, (i, 1, N)), (j, 1, N))
    assert expectation_residual(double, sp.Sum(sp.KroneckerDelta(j, 3) * x[j], (j, 1, N)), {}) == 0


def test_a_fact_is_applied_once_also_where_its_pattern_occurs_literally() -> None:
    """apply_facts rewrites each match of a fact once: f(k) -> f(k) + 1 turns f(k) (the Wild pattern itself, in
    the statement) into f(k) + 1, as it turns f(3) into f(3) + 1."""
    f = sp.Function("f")
    facts = {f(ka): f(ka) + 1}
    assert apply_facts(f(3), facts) == f(3) + 1
    assert apply_facts(f(ka), facts) == f(ka) + 1
