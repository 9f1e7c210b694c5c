"""The proof entry points' own contract (kfsym/derive/kernel/proof.py, checks.py), checked directly and fast.

``prove_equal`` and ``prove_nonnegative`` return quietly on a true statement and raise ProofError naming the
entry point, the step and the relation on a false one (the form their docstrings show); inputs that are not
exact SymPy objects are refused with a TypeError naming the argument.
"""

from __future__ import annotations

import re
import time

import pytest
import sympy as sp

from kfsym.derive.kernel.cases import Case
from kfsym.derive.kernel.checks import by_parts, nonnegative_residual
from kfsym.derive.kernel.errors import ProofError
from kfsym.derive.kernel.proof import (
    Step,
    _normalised_weights,
    _sampleable,
    check_statement,
    prove_equal,
    prove_nonnegative,
    verify_chain,
)

x = sp.Symbol("x", real=True)
p = sp.Symbol("p", positive=True)


def test_true_statements_are_proved_quietly() -> None:
    prove_nonnegative(x**2 + 1, 1)
    prove_nonnegative(p, 0)
    prove_nonnegative(x**2)
    prove_equal(p * x / (p + x), 1 / (1 / p + 1 / x), method="cancel")


def test_a_false_inequality_names_the_entry_point_step_and_relation() -> None:
    with pytest.raises(ProofError) as failure:
        prove_nonnegative(x, 0)
    message = str(failure.value)
    assert message.startswith("prove_nonnegative, step 1: does not hold: lhs >= rhs\n")
    assert "not provably nonnegative: x" in message
    with pytest.raises(ProofError, match=r"^prove_nonnegative, step 1: does not hold: lhs >= rhs"):
        prove_nonnegative(p, p + 1)


def test_a_false_equation_names_the_entry_point_step_and_relation() -> None:
    with pytest.raises(ProofError, match=r"^prove_equal, step 1: does not hold: lhs == rhs\n"):
        prove_equal(x, x + 1)
    with pytest.raises(ProofError, match=r"^prove_equal, step 1: .*never an equality"):
        prove_equal(x**2, 0, method="nonnegative")


def test_inputs_that_are_not_exact_sympy_objects_are_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"^prove_nonnegative lhs: strings are never parsed"):
        prove_nonnegative("x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^prove_nonnegative rhs: strings are never parsed"):
        prove_nonnegative(x, "x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^prove_equal rhs: floating-point number 1.5 is not exact"):
        prove_equal(x, 1.5)
    with pytest.raises(TypeError, match=r"^prove_equal lhs: "):
        prove_equal("x", x)


def test_nonnegative_residual_is_zero_exactly_when_the_difference_is_provably_nonnegative() -> None:
    assert nonnegative_residual(x**2 + 2, 1) == 0
    assert nonnegative_residual(p, p) == 0
    refused = nonnegative_residual(x, 0)
    assert refused != 0 and str(refused) == "<not provably nonnegative: x>"
    assert str(nonnegative_residual(p, p + 1)) == "<not provably nonnegative: -1>"


def test_integration_by_parts_proves_the_textbook_case_and_names_its_bad_inputs() -> None:
    left = sp.Integral(x * sp.exp(x), (x, 0, 1))
    right = sp.E - sp.Integral(sp.exp(x), (x, 0, 1))
    assert by_parts(left, right, ((x, sp.exp(x)),)) == 0
    assert by_parts(left, right + 1, ((x, sp.exp(x)),)) != 0
    with pytest.raises(TypeError, match=r"^by_parts lhs: "):
        by_parts("x", right, ((x, sp.exp(x)),))
    with pytest.raises(TypeError, match=r"^by_parts rhs: "):
        by_parts(left, 0.5, ((x, sp.exp(x)),))
    with pytest.raises(TypeError, match=r"^by_parts \(u, v\)"):
        by_parts(left, right, ((x, 1.5),))


def test_integration_by_parts_over_an_infinite_range_and_with_a_constant() -> None:
    oo = sp.oo
    left = sp.Integral(x * sp.exp(-x), (x, 0, oo))
    right = sp.Integral(sp.exp(-x), (x, 0, oo))
    assert by_parts(left, right, ((x, -sp.exp(-x)),)) == 0
    assert by_parts(3 * left, 3 * right, ((x, -sp.exp(-x)),)) == 0
    assert by_parts(3 * left, right, ((x, -sp.exp(-x)),)) != 0


@pytest.mark.parametrize(
    ("left", "right", "pair", "reason"),
    [
        (sp.Integral(x, (x, 0, 1)) + 1, sp.Integer(0), ((x, x),), "constant times one definite integral"),
        (sp.Integral(x, (x, 0, 1), (p, 0, 1)), sp.Integer(0), ((x, x),), "constant times one definite integral"),
        (sp.Integral(x, (x, 0, 1)), sp.Integer(0), ((x, x), (x, x)), "the pair (u, v)"),
        (sp.Integral(sp.I * x, (x, 0, 1)), sp.Integer(0), ((sp.I * x, x),), "provably real"),
        (sp.Integral(x * sp.sign(x), (x, -1, 1)), sp.Integer(0), ((x, sp.Abs(x)),), "continuously differentiable"),
        # u = |x| has a kink at 0 (u' = sign(x) jumps): refused although the weak-derivative identity holds
        (
            sp.Integral(sp.Abs(x), (x, -1, 1)),
            2 - sp.Integral(x * sp.sign(x), (x, -1, 1)),
            ((sp.Abs(x), x),),
            "continuously differentiable",
        ),
        (sp.Integral(x * sp.exp(-x), (x, 0, 1)), sp.Integer(0), ((x**2, -sp.exp(-x)),), "integrand is not"),
        (
            sp.Integral(x * sp.exp(x), (x, 0, sp.oo)),
            sp.Integral(sp.exp(x), (x, 0, sp.oo)),
            ((x, sp.exp(x)),),
            "not finite",
        ),
        (
            sp.Integral(x * sp.exp(-x), (x, 0, sp.oo)),
            sp.Integral(sp.exp(-x), (x, 0, 1)),
            ((x, -sp.exp(-x)),),
            "same range",
        ),
        (sp.Integral(x * sp.exp(-x), (x, 0, sp.oo)), sp.Integer(1), ((x, -sp.exp(-x)),), "same range"),
    ],
)
def test_integration_by_parts_refuses_what_its_rule_does_not_cover(
    left: sp.Expr, right: sp.Expr, pair: tuple[tuple[sp.Expr, sp.Expr], ...], reason: str
) -> None:
    residual = by_parts(left, right, pair)
    assert residual != 0 and reason in str(residual)


def test_integration_by_parts_with_a_parameter_differentiates_in_the_integration_variable() -> None:
    """u, v with a parameter t: u' and v' are taken in x (no error, not in t); the identity proved, a neighbour not."""
    t = sp.Symbol("t", positive=True)
    left = sp.Integral(t * x * sp.exp(t * x), (x, 0, 1))
    pair = ((t * x, sp.exp(t * x) / t),)
    assert by_parts(left, sp.exp(t) - sp.Integral(sp.exp(t * x), (x, 0, 1)), pair) == 0
    assert by_parts(left, sp.exp(t) - 2 * sp.Integral(sp.exp(t * x), (x, 0, 1)), pair) != 0


def test_integration_by_parts_takes_u_v_at_each_end_from_inside_the_range() -> None:
    """[x frac(x)] on (0, 1) is 1 - 0: at x = 1 the limit from below (1), not the value from above (0)."""
    v = sp.frac(x)
    left = sp.Integral(x * sp.Derivative(v, x), (x, 0, 1))
    assert by_parts(left, 1 - sp.Integral(v, (x, 0, 1)), ((x, v),)) == 0
    assert by_parts(left, -sp.Integral(v, (x, 0, 1)), ((x, v),)) != 0


def test_a_fact_that_weights_sum_to_one_is_recognised_only_in_its_own_form() -> None:
    i, n = sp.Symbol("i", integer=True), sp.Symbol("n", integer=True, positive=True)
    P = sp.IndexedBase("P")
    j = sp.Symbol("j", integer=True)
    assert _normalised_weights(sp.Sum(P[i], (i, 1, n)), sp.Integer(1)) == (P, (1, n))
    assert _normalised_weights(sp.Sum(P[i], (i, 1, n)), sp.Integer(2)) is None
    assert _normalised_weights(sp.Sum(2 * P[i], (i, 1, n)), sp.Integer(1)) is None
    assert _normalised_weights(sp.Sum(P[j], (i, 1, n)), sp.Integer(1)) is None
    assert _normalised_weights(sp.Sum(P[i, j], (i, 1, n), (j, 1, n)), sp.Integer(1)) is None
    assert _normalised_weights(P[i], sp.Integer(1)) is None
    assert _normalised_weights(sp.Sum(P[i], (i, 1, n), (j, 1, n)), sp.Integer(1)) is None  # n times the weights
    assert _sampleable({sp.Sum(P[i], (i, 1, n)): sp.Integer(1)}) == (True, {P: (1, n)})
    assert _sampleable({sp.Sum(P[i], (i, 1, n)): sp.Integer(2)}) == (False, {})


def test_integration_by_parts_takes_both_ends_and_u_prime() -> None:
    one_two = sp.Integral(x * sp.exp(x), (x, 1, 2))
    both_ends = 2 * sp.exp(2) - sp.E - sp.Integral(sp.exp(x), (x, 1, 2))  # [u v] = 2e^2 - e
    assert by_parts(one_two, both_ends, ((x, sp.exp(x)),)) == 0
    assert by_parts(one_two, both_ends + 2 * sp.E, ((x, sp.exp(x)),)) != 0
    square = sp.Integral(x**2 * sp.exp(x), (x, 0, 1))  # u = x^2, u' = 2x
    assert by_parts(square, sp.E - sp.Integral(2 * x * sp.exp(x), (x, 0, 1)), ((x**2, sp.exp(x)),)) == 0
    assert by_parts(square, sp.E - sp.Integral(x * sp.exp(x), (x, 0, 1)), ((x**2, sp.exp(x)),)) != 0


def test_integration_by_parts_refuses_a_boundary_term_that_is_not_a_number() -> None:
    oo = sp.oo
    down = by_parts(sp.Integral(-x * sp.exp(x), (x, 0, oo)), sp.Integral(sp.exp(x), (x, 0, oo)), ((-x, sp.exp(x)),))
    assert "not finite" in str(down)  # [u v] = -oo
    swinging = by_parts(sp.Integral(sp.cos(x), (x, 0, oo)), sp.Integer(0), ((sp.Integer(1), sp.sin(x)),))
    assert "not finite" in str(swinging)  # sin has no limit at oo


def test_a_chains_report_names_each_steps_method_and_times_within_the_call() -> None:
    """The report lists each step's method (restatement for a marked one), step times inside a total inside the call."""
    a = sp.Symbol("a", real=True)
    steps = (
        Step((x + a) * (x + a), "the square written as a product", restatement=True),
        Step(x**2 + 2 * a * x + a**2, "binomial", method="expand"),
    )
    before = time.perf_counter()
    report = verify_chain("chain", (x + a) ** 2, x**2 + 2 * a * x + a**2, steps)
    elapsed = time.perf_counter() - before
    assert report.methods == ("restatement", "expand")
    assert len(report.step_seconds) == 2 and all(0 <= t <= report.seconds for t in report.step_seconds)
    assert report.seconds <= elapsed


def test_a_chain_names_the_argument_it_refuses() -> None:
    """A float in the claim's lhs or rhs or in a stated fact is a TypeError naming which of them."""
    with pytest.raises(TypeError, match=r"^claim lhs: "):
        verify_chain("chain", sp.Float(0.5), x, ())
    with pytest.raises(TypeError, match=r"^claim rhs: "):
        verify_chain("chain", x, 0.5, ())
    with pytest.raises(TypeError, match=r"^given: "):
        verify_chain("chain", x, x, (), given=((p, 0.5),))
    with pytest.raises(TypeError, match=r"^where: "):
        verify_chain("chain", x, x, (), where=((p, 0.5),))


def test_a_definition_must_show_each_assumption_of_its_symbol() -> None:
    """A definition is refused (ProofError, not a crash) when its value does not show an assumption, True or False."""
    q = sp.Symbol("q", positive=False)
    with pytest.raises(ProofError, match="definition of q is not provably not positive"):
        verify_chain("chain", q, q, (), where=((q, sp.Integer(1)),))
    with pytest.raises(ProofError, match="definition of p is not provably"):
        verify_chain("chain", p, p, (), where=((p, sp.Matrix([[1]])),))  # a mutable Matrix has no is_positive
    # the sum of sqrt(k), k = 2..149, is 1217.4...: SymPy shows it exceeds 1217 (in ~25 ms), not within 1 ms
    slow = sp.Add(*[sp.sqrt(k) for k in range(2, 150)]) - 1217
    with pytest.raises(ProofError, match="definition of p is not provably"):
        verify_chain("chain", p, p, (), where=((p, slow),), timeout=1e-3)
    verify_chain("chain", p, p, (), where=((p, slow),))  # within the default limit it is shown


def test_a_steps_sides_and_replacements_are_admitted_as_sympy_objects_or_refused_by_name() -> None:
    """Step admits expr, lhs and change (an int becomes an Integer, pairs a tuple) and names the field it refuses."""
    step = Step(x, "admitted", lhs=3, change=[(x, 1)])
    assert isinstance(step.lhs, sp.Integer) and step.lhs == 3
    assert isinstance(step.change, tuple) and step.change == ((x, sp.Integer(1)),)
    with pytest.raises(TypeError, match=r"^Step expr: strings are never parsed"):
        Step("a", "a string")
    with pytest.raises(TypeError, match=r"^Step lhs: strings are never parsed"):
        Step(x, "a string", lhs="a")
    with pytest.raises(TypeError, match=r"^Step change: strings are never parsed"):
        Step(x, "a string", change=(("a", x),))


def test_a_definition_is_never_substituted_under_a_binder_of_its_own_variables() -> None:
    """t := s under an integral over s would prove 1/3 = t/2; refused on either side, in a matrix too."""
    s, t = sp.Symbol("s", real=True), sp.Symbol("t")
    captured = sp.Integral(t * s, (s, 0, 1))  # t/2, not 1/3
    third = sp.Rational(1, 3)
    for lhs, rhs in ((third, captured), (captured, third), (sp.Matrix([[third]]), sp.Matrix([[captured]]))):
        with pytest.raises(ProofError, match=r"the definition of t uses \['s'\], bound in the step"):
            verify_chain("capture", x, x, (Step(rhs, "capture", lhs=lhs),), where=((t, s),))


def test_a_defined_or_stated_symbol_that_is_also_bound_in_the_step_is_refused() -> None:
    """Replacing s = y in the integral over s would prove the false 1/3 = y/2 (a fact) or [[1/3]] = [[y/2]]."""
    s, y = sp.Symbol("s", real=True), sp.Symbol("y", real=True)
    integral = sp.Integral(s * y, (s, 0, 1))  # y/2
    third = sp.Rational(1, 3)
    for lhs, rhs in ((integral, third), (third, integral)):
        with pytest.raises(ProofError, match=r"\['s'\] is defined or replaced but also bound in the step"):
            verify_chain("capture", x, x, (Step(rhs, "capture", lhs=lhs),), given=((s, y),))
    with pytest.raises(ProofError, match=r"\['s'\] is defined or replaced but also bound in the step"):
        verify_chain(
            "capture", x, x, (Step(sp.Matrix([[integral]]), "capture", lhs=sp.Matrix([[third]])),), where=((s, y),)
        )


def test_a_step_that_is_the_same_once_stated_facts_are_substituted_checks_nothing() -> None:
    y = sp.Symbol("y", real=True)
    with pytest.raises(ProofError, match="same expression once definitions and stated facts are substituted"):
        verify_chain("facts", x, x, (Step(2 * y, "restates", lhs=x),), given=((x, 2 * y),))


def test_a_step_resting_on_a_stated_fact_is_not_falsified_at_points_that_ignore_the_fact() -> None:
    """x(x + 1) = 4y^2 + 2y holds only where x = 2y: proved, and no random point is tested (the report says 0)."""
    y = sp.Symbol("y", real=True)
    step = Step(4 * y**2 + 2 * y, "x = 2y", method="expand", lhs=x * (x + 1))
    report = verify_chain("facts", x, x, (step,), given=((x, 2 * y),))
    assert report.falsifier_points == (0,)


def test_a_restatement_is_checked_as_one_and_tests_no_points() -> None:
    report = verify_chain("same", x, x, (Step(x, "the same", lhs=x, restatement=True),))
    assert report.falsifier_points == (0,)
    same = check_statement(
        "same", 1, x, x, Step(x, "the same"), definitions={}, facts={}, timeout=10.0, restatement_allowed=True
    )
    assert same == 0


def test_matrix_sizes_prove_a_step_for_positive_integer_sizes_of_a_pure_dimension_only() -> None:
    """AB = BA holds for 1x1 matrices: proved for n = 1 and falsified there; other listed sizes are refused."""
    n = sp.Symbol("n", integer=True, positive=True)
    A, B = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("B", n, n)

    def commute(*sizes: dict[sp.Basic, sp.Basic]) -> tuple[int, ...]:
        step = Step(B * A, "1x1 matrices commute", method="matrices", lhs=A * B, cases=sizes)
        return verify_chain("sizes", x, x, (step,)).falsifier_points

    assert commute({n: 1}) == (3,)
    product = Step(A * B + A * B.T, "distributive", method="matrices", lhs=A * (B + B.T), cases=({n: 1}, {n: 2}))
    assert verify_chain("sizes", x, x, (product,)).falsifier_points == (6,)  # three points at each size
    refused = "has no condition; only matrix sizes"
    for size in ({n: 0}, {n: -1}, {n: sp.Rational(3, 2)}, {n: sp.Symbol("m", positive=True)}, {2 * n: 2}):
        with pytest.raises(ProofError, match=refused):
            commute(size)
    trace = sp.Trace(sp.Identity(n))
    for lhs, rhs in ((trace, n), (n, trace)):  # n is also a number on one side, not only a dimension
        with pytest.raises(ProofError, match=refused):
            verify_chain("sizes", x, x, (Step(rhs, "trace", method="matrices", lhs=lhs, cases=({n: 2},)),))


def test_a_case_split_that_is_not_exhaustive_is_refused_naming_its_conditions() -> None:
    y = sp.Symbol("y", real=True)
    cases = (Case(y > 0, {sp.Abs(y): y}), Case(y < 0, {sp.Abs(y): -y}))
    with pytest.raises(ProofError, match=r"not proved exhaustive: y > 0 or y < 0 does not cover every value"):
        verify_chain("cases", y, y, (Step(y * sp.sign(y), "split", lhs=sp.Abs(y), cases=cases),))


def test_a_case_split_or_replacement_about_a_bound_variable_is_refused() -> None:
    """Cases split no range of integration: a condition or replacement naming the x of an integral over x is refused."""
    y = sp.Symbol("y", real=True)
    integral = sp.Integral(x, (x, 0, 1))
    split = "uses \\['x'\\], bound \\(integrated or summed over\\) in the step"
    for cases in (
        (Case(x <= 0), Case(x >= 0)),
        (Case(sp.And(x <= 0, y >= 0), {sp.Abs(y): y}), Case(x >= 0)),
    ):
        with pytest.raises(ProofError, match=f"case {re.escape(str(cases[0].condition))} {split}"):
            verify_chain("cases", y, y, (Step(sp.Rational(1, 2), "split", lhs=integral, cases=cases),))
    minimum = sp.Integral(sp.Min(x, 1), (x, 0, 1))
    cases = (Case(y <= 0, {sp.Min(x, 1): 1}), Case(y >= 0, {sp.Min(x, 1): 1}))
    with pytest.raises(ProofError, match=split):
        verify_chain("cases", y, y, (Step(sp.Integer(1), "split", lhs=minimum, cases=cases),))
    for change in (((x, y),), ((x, y), (y, y)), ((x * y, 2 * x),)):
        step = Step(sp.Integral(y, (x, 0, 1)), "replace", method="substitute", lhs=integral, change=change)
        with pytest.raises(ProofError, match=r"the replacements use \['x'\], bound in the step"):
            verify_chain("substitute", y, y, (step,))


def test_substitute_checks_its_replacement_on_the_stated_form() -> None:
    """With c := a + b, replacing c x by a x + b x in c x + 1 is proved (c x no longer occurs once c is substituted)."""
    a, b, c = sp.symbols("a b c", real=True)
    step = Step(a * x + b * x + 1, "c = a + b", method="substitute", lhs=c * x + 1, change=((c * x, a * x + b * x),))
    verify_chain("substitute", x, x, (step,), where=((c, a + b),))


def test_the_screen_sees_each_side_both_as_stated_and_with_definitions_substituted() -> None:
    """A sum over 1..m is refused although m := 3; a divisor that the definition makes identically zero is refused."""
    k, m, d = sp.Symbol("k", integer=True), sp.Symbol("m", integer=True), sp.Symbol("d")
    total = sp.Sum(k, (k, 1, m))
    for lhs, rhs in ((total, sp.Integer(6)), (sp.Integer(6), total)):
        with pytest.raises(
            ProofError, match=r"refused before checking: the range 1\.\.m of k is not provably nonempty"
        ):
            verify_chain("screen", x, x, (Step(rhs, "sum", lhs=lhs),), where=((m, 3),))
    zero = 1 - sp.sin(p) ** 2 - sp.cos(p) ** 2
    for lhs, rhs in ((x / d, x + 1), (x + 1, x / d)):
        with pytest.raises(ProofError, match=r"refused before checking: the divisor .* is identically zero"):
            verify_chain("screen", x, x, (Step(rhs, "divide", lhs=lhs),), where=((d, zero),))
    with pytest.raises(ProofError, match=r"refused before checking: screening the statement timed out after 1e-09 s"):
        prove_equal(sp.Integral(sp.exp(-(x**2)), (x, 0, sp.oo)), sp.Integer(1), timeout=1e-9)
