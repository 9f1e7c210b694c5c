"""One regression test per door of issue 11, each checking that the refusal is for the right reason."""

from __future__ import annotations

import math

import pytest
import sympy as sp
from sympy.stats import Normal

from kfsym.derive import Case, Derivation, ProofError, Step, prove_equal, prove_nonnegative
from kfsym.derive.kernel import checks
from kfsym.derive.kernel.falsify import falsify
from kfsym.derive.operators import Expectation

x, y, z, mu = sp.symbols("x y z mu", real=True)
s, p, q = sp.symbols("sigma p q", positive=True)
i, j, n = sp.symbols("i j n", integer=True, positive=True)
oo = sp.oo


def density(scale: object) -> sp.Expr:
    return sp.exp(-((x - mu) ** 2) / (2 * s**2)) / sp.sqrt(scale * sp.pi * s**2)  # type: ignore[operator]


def reason(error: pytest.ExceptionInfo[ProofError]) -> str:
    return str(error.value)


def test_door_1_prove_equal_offers_equality_methods_only() -> None:
    with pytest.raises(ProofError, match="inequality") as caught:
        prove_equal(density(1), density(2), method="nonnegative")
    assert caught.value.step == 1
    with pytest.raises(ProofError, match="inequality"):
        prove_equal(sp.pi, sp.Integer(3), method="nonnegative")
    prove_nonnegative(density(1), density(2))  # the inequality itself is true, and has its own API


def test_door_1_inequalities_are_shown_as_inequalities() -> None:
    lemma = Step(sp.Integer(0), "a square", "nonnegative", lhs=x**2)
    assert lemma.relation == ">="
    d = Derivation(name="t.ineq", title="t", lhs=x, rhs=x, steps=(lemma, Step(x, "same", restatement=True)))
    assert "\\geq" in d.latex()
    with pytest.raises(ValueError, match="lemma"):
        Derivation(name="t.ineq", title="t", lhs=x**2, rhs=0, steps=(Step(0, "square", "nonnegative"),))


@pytest.mark.parametrize("method", ["simplify", "expand", "cancel", "log_ratio", "sums", "matrices"])
def test_door_2_floats_are_refused_under_every_method(method: str) -> None:
    with pytest.raises(TypeError, match="floating-point"):
        prove_equal(x / 10, 0.1 * x, method=method)
    with pytest.raises(TypeError, match="floating-point"):
        prove_equal(sp.pi, sp.Float(math.pi), method=method)


def test_door_2_a_float_produced_by_evaluation_is_refused() -> None:
    class Halved(sp.Function):  # type: ignore[misc]
        def doit(self, **hints: object) -> sp.Expr:
            return sp.Float(0.5) * self.args[0]

    # A user subclass is refused outright (it could redefine anything, door 9 of the attack); SymPy's own
    # evaluation producing a float is still refused by the float check.
    with pytest.raises(TypeError, match="not from SymPy"):
        checks.residual(Halved(x), x / 2, "simplify", {})
    left_over = checks.residual(sp.Integral(x, (x, 0, 1)), sp.Integer(1) / 2, "simplify", {})
    assert left_over == 0


def test_door_3_singular_inverse_is_refused_with_its_reason() -> None:
    H, R, P = sp.MatrixSymbol("H", 1, 2), sp.MatrixSymbol("R", 1, 1), sp.MatrixSymbol("P", 2, 2)
    singular = H.T * R.I * H
    left_over = checks.residual(singular.I, singular.I + P, "matrices", {})
    assert "identically 0" in str(left_over) or "singular" in str(left_over)
    with pytest.raises(ProofError):
        prove_equal(singular.I * H.T * R.I, P * H.T * (H * P * H.T + R).I, method="matrices")


def test_matrix_entries_do_not_collide_at_n_12() -> None:
    from kfsym.derive.kernel import polymatrix

    big = sp.MatrixSymbol("P", 12, 12)
    assert len(set(polymatrix._instance(big, False))) == 144  # P[1,10] and P[11,0] are different entries
    assert len(set(polymatrix._instance(big, True))) == 78


def test_door_4_delta_collapses_only_as_a_factor_on_a_visible_bound_index() -> None:
    wrong = sp.Sum(sp.exp(sp.KroneckerDelta(i, j)), (i, 1, n), (j, 1, n))
    with pytest.raises(ProofError):
        prove_equal(wrong, n * sp.E, method="sums")
    prove_equal(sp.Sum(sp.KroneckerDelta(i, j) * x, (i, 1, n), (j, 1, n)), n * x, method="sums")
    k = sp.Symbol("k", integer=True, positive=True)
    with pytest.raises(ProofError):  # k is free: it may lie outside 1..n
        prove_equal(sp.Sum(sp.KroneckerDelta(j, k), (j, 1, n)), 1, method="sums")


def test_door_5_unknown_random_objects_are_refused() -> None:
    Z = Normal("Z", 0, 1)
    left_over = checks.residual(Expectation(Z**2), Expectation(Z) ** 2, "expectation", {})
    assert "unknown random object" in str(left_over)
    with pytest.raises(ProofError):
        prove_equal(Expectation(Z), 0, method="expectation")


def test_door_6_cases_need_conditions_that_cover() -> None:
    with pytest.raises(ProofError, match="no condition"):
        Derivation(name="t.c", title="t", lhs=x**2, rhs=x, steps=(Step(x, "c", cases=({x: 1},)),)).verify()
    half = (Case(x > 0, {sp.Abs(x): x}),)
    with pytest.raises(ProofError, match="not proved exhaustive"):
        Derivation(name="t.c", title="t", lhs=x * sp.Abs(x), rhs=x**2, steps=(Step(x**2, "c", cases=half),)).verify()
    wrong = (Case(x >= 0, {sp.Abs(x): -x}), Case(x <= 0, {sp.Abs(x): x}))
    with pytest.raises(ProofError, match="does not follow"):
        Derivation(name="t.c", title="t", lhs=sp.Abs(x), rhs=-x, steps=(Step(-x, "c", cases=wrong),)).verify()


def test_door_6_cases_are_shown() -> None:
    cases = (Case(p <= q, {sp.Min(p, q): p}), Case(p >= q, {sp.Min(p, q): q}))
    d = Derivation(
        name="t.shown",
        title="t",
        lhs=sp.Min(p, q) + 0 * p,
        rhs=sp.Min(p, q),
        steps=(Step(sp.Min(p, q), "c", cases=cases, restatement=True),),
    )
    text = str(d)
    assert "case" in text and "p ≤ q" in text
    assert r"\text{case }" in d.latex()


def test_door_7_changes_of_variables_are_real_monotone_bijections() -> None:
    gaussian = sp.Integral(sp.exp(-(x**2)), (x, -oo, oo))
    left_over = checks.residual(
        gaussian, sp.Integral(sp.exp(z**2), (z, -oo, oo)), "change_of_variables", {}, ((x, sp.I * z),)
    )
    assert "not provably real" in str(left_over)
    left_over = checks.residual(
        gaussian, sp.Integral(2 * z * sp.exp(-(z**4)), (z, -oo, oo)), "change_of_variables", {}, ((x, z**2),)
    )
    assert "monotone" in str(left_over)
    left_over = checks.residual(
        sp.Integral(x, (x, 0, 1)), sp.Integral(z / 4, (z, 0, 1)), "change_of_variables", {}, ((x, z / 2),)
    )
    assert "limits" in str(left_over)


def test_door_8_where_is_substituted_first_and_every_assumption_checked() -> None:
    k = sp.Symbol("k", integer=True)
    integral = sp.Integral(sp.sin(k * x) * sp.sin(x), (x, 0, sp.pi))
    with pytest.raises(ProofError, match="not provably integer"):
        Derivation(
            name="t.w",
            title="t",
            lhs=integral,
            rhs=sp.Integer(0),
            where=((k, sp.Rational(1, 2)),),
            steps=(Step(0, "o"),),
        ).verify()
    kappa = sp.Symbol("kappa")  # no assumptions: the definition is substituted before integrating
    free = sp.Integral(sp.sin(kappa * x) * sp.sin(x), (x, 0, sp.pi))
    with pytest.raises(ProofError):
        Derivation(
            name="t.w",
            title="t",
            lhs=free,
            rhs=sp.Integer(0),
            where=((kappa, sp.Rational(1, 2)),),
            steps=(Step(0, "o"),),
        ).verify()
    Derivation(
        name="t.w",
        title="t",
        lhs=free,
        rhs=sp.Rational(4, 3),
        where=((kappa, sp.Rational(1, 2)),),
        steps=(Step(sp.Rational(4, 3), "o"),),
    ).verify()


@pytest.mark.parametrize(
    "build",
    [
        lambda: prove_equal("__import__('sys').stdout.write('hi') or 1", "1"),
        lambda: Step("x + 1", "why"),
        lambda: Step(x, "why", lhs="x"),
        lambda: Derivation(name="t.s", title="t", lhs="x", rhs=x, steps=(Step(x, "s"),)),
        lambda: Derivation(name="t.s", title="t", lhs=x, rhs=x, steps=(Step(x, "s"),), where=((y, "x"),)),
        lambda: Derivation(name="t.s", title="t", lhs=x, rhs=x, steps=(Step(x, "s"),), given=(("x", x),)),
        lambda: Derivation(name="t.s", title="t", lhs=x, rhs=x, steps=(Step(x, "s"),), where="y = x"),
        lambda: checks.residual("__import__('sys').stdout.write('hi') or 1", 1, "simplify", {}),
        lambda: checks.change_of_variables(x, x, (("x", "__import__('sys').stdout.write('hi')"),)),
        lambda: Case(x > 0, {"x": 1}),
    ],
)
def test_door_9_strings_are_never_evaluated(build: object, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(TypeError, match="str"):
        build()  # type: ignore[operator]
    assert "hi" not in capsys.readouterr().out


def test_the_falsifier_vetoes_an_engine_defect(monkeypatch: pytest.MonkeyPatch) -> None:
    # Simulate a broken check method that calls everything equal: the falsifier must refuse the step.
    monkeypatch.setitem(checks.CHECK_METHODS, "expand", lambda a, b, facts: sp.Integer(0))
    with pytest.raises(ProofError, match="ENGINE DEFECT"):
        prove_equal((x + 1) ** 2, x**2 + 1, method="expand")


def test_the_falsifier_respects_assumptions_and_is_seeded() -> None:
    assert falsify(sp.sqrt(p**2), p)[1] is None  # only positive values of p are tried
    assert falsify(sp.sqrt(x**2), x)[1] is not None  # real x includes negative values
    assert falsify(sp.sqrt(x**2), x, seed=3) == falsify(sp.sqrt(x**2), x, seed=3)
    k = sp.Symbol("k", integer=True)
    assert falsify(sp.cos(2 * sp.pi * k), sp.Integer(1))[1] is None  # integers only
    A = sp.MatrixSymbol("A", 3, 3)
    assert falsify(A.T, A, symmetric=frozenset({"A"}))[1] is None
    assert falsify(A.T, A)[1] is not None


def test_the_falsifier_honours_probabilities_that_sum_to_one() -> None:
    weights, c = sp.IndexedBase("p", nonnegative=True), sp.Symbol("c", real=True)
    expectation = sp.Sum(weights[i] * c, (i, 1, n))
    assert falsify(expectation, c, weights={weights: (1, n)})[1] is None
    assert falsify(expectation, c)[1] is not None  # without the fact, E[c] = c is false


def test_the_falsifier_never_turns_a_failure_into_a_success() -> None:
    # A true identity SymPy's cancel cannot see stays a failure, whatever the numbers say.
    with pytest.raises(ProofError):
        prove_equal(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1, method="cancel")
