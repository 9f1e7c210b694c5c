"""General n honestly, and the power users rely on: true identities prove, false ones are refused."""

from __future__ import annotations

from typing import Any

import pytest
import sympy as sp

from kfsym.derive import Derivation, ProofError, Step, get, prove_equal
from kfsym.derive import matrix_lemmas as ml
from kfsym.derive.kernel.algebra import algebra_residual

# ----------------------------------------------------------------------------- power stays


def _woodbury(sign: int = 1) -> tuple[Any, Any]:
    A = sp.MatrixSymbol("A", 3, 3)
    U = sp.MatrixSymbol("U", 3, 2)
    C = sp.MatrixSymbol("C", 2, 2)
    V = sp.MatrixSymbol("V", 2, 3)
    return (A + U * C * V).I, A.I - sign * A.I * U * (C.I + V * A.I * U).I * V * A.I


def test_woodbury_3x3_rank_2_proves() -> None:
    prove_equal(*_woodbury(), method="matrices")


def test_woodbury_with_the_wrong_sign_is_refused() -> None:
    with pytest.raises(ProofError):
        prove_equal(*_woodbury(-1), method="matrices")


def _joseph(n: int, m: int, noise_factor: int = 1) -> tuple[Any, Any]:
    P = sp.MatrixSymbol("P", n, n)
    H = sp.MatrixSymbol("H", m, n)
    R = sp.MatrixSymbol("R", m, m)
    identity = sp.Identity(n)
    K = P * H.T * (H * P * H.T + R).I
    return (identity - K * H) * P * (identity - K * H).T + noise_factor * K * R * K.T, (identity - K * H) * P


def test_joseph_form_n4_m2_proves() -> None:
    prove_equal(*_joseph(4, 2), method="matrices")


def test_joseph_form_n4_m2_in_a_derivation_with_symmetric_covariances() -> None:
    lhs, rhs = _joseph(4, 2)
    P, R = sp.MatrixSymbol("P", 4, 4), sp.MatrixSymbol("R", 2, 2)
    derivation = Derivation(
        name="user.joseph",
        title="Joseph form, n = 4, m = 2",
        lhs=lhs,
        rhs=rhs,
        given=((P.T, P), (R.T, R)),
        steps=(Step(rhs, "the optimal gain", method="matrices"),),
    )
    assert derivation.verify().steps == 1


def test_joseph_form_with_a_doubled_noise_term_is_refused() -> None:
    with pytest.raises(ProofError):
        prove_equal(*_joseph(3, 2, noise_factor=2), method="matrices")


def test_inverse_of_an_identically_singular_matrix_is_refused() -> None:
    P = sp.MatrixSymbol("P", 2, 2)
    H = sp.MatrixSymbol("H", 1, 2)
    R = sp.MatrixSymbol("R", 1, 1)
    singular = H.T * R.I * H  # rank one, 2 x 2
    with pytest.raises(ProofError):
        prove_equal(singular.I * H.T * R.I, P * H.T * (H * P * H.T + R).I, method="matrices")
    with pytest.raises(ProofError):
        prove_equal(singular.I, singular.I + P, method="matrices")


x, z, mu1, mu2 = sp.symbols("x z mu_1 mu_2", real=True)
s1, s2 = sp.symbols("sigma_1 sigma_2", positive=True)


def _normal(at: Any, mean: Any, variance: Any) -> Any:
    return sp.exp(-((at - mean) ** 2) / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)


def _convolution() -> Any:
    return sp.Integral(_normal(x, mu1, s1**2) * _normal(z - x, mu2, s2**2), (x, -sp.oo, sp.oo))


def test_convolution_of_two_gaussian_densities_proves_as_typed() -> None:
    prove_equal(_convolution(), _normal(z, mu1 + mu2, s1**2 + s2**2))


def test_convolution_in_a_derivation() -> None:
    target = _normal(z, mu1 + mu2, s1**2 + s2**2)
    derivation = Derivation(
        name="user.convolution",
        title="the density of a sum of independent Gaussians",
        lhs=_convolution(),
        rhs=target,
        steps=(Step(target, "Gaussian integral after completing the square", method="cancel"),),
    )
    assert derivation.verify().steps == 1


@pytest.mark.parametrize(
    "wrong",
    [
        _normal(z, mu1 + mu2, s1**2 * s2**2 / (s1**2 + s2**2)),
        _normal(z, mu1 - mu2, s1**2 + s2**2),
        _normal(z, mu1 + mu2, (s1 + s2) ** 2),
    ],
)
def test_wrong_convolutions_are_refused(wrong: Any) -> None:
    with pytest.raises(ProofError):
        prove_equal(_convolution(), wrong)


# ----------------------------------------------------------------------------- general n, honestly
ANY_N = (
    "multivariate.pdf_general",
    "multivariate.mgf",
    "multivariate.product_general",
    "multivariate.linear_transform",
    "multivariate.sum",
    "kalman.predict",
    "kalman.joseph_general",
    "kalman.update_general",
)


def _kind(left: Any, right: Any) -> str | None:
    """What a stated relation is, or ``None`` when it is none of the allowed kinds."""
    one = sp.Integer(1)
    if right == one and isinstance(left, sp.Mul) and len(left.args) == 2:
        first, second = left.args
        if ("^{-1}" in first.name) != ("^{-1}" in second.name) and first.name.replace(
            "^{-1}", ""
        ) == second.name.replace("^{-1}", ""):
            return "axiom A3 (inverse)"
    if isinstance(left, sp.Symbol) and not left.is_commutative:
        if right == sp.Symbol(left.name.removesuffix("^T"), commutative=False) and left.name.endswith("^T"):
            return "hypothesis (symmetric)"
        return "definition"
    if isinstance(left, sp.Symbol) and left.is_commutative and left.name.startswith(r"\det"):
        return "axiom (determinants multiply)"
    if isinstance(left, sp.Mul) and isinstance(right, sp.Mul) and ml.transpose(left) == right:
        return "axiom A4 (a 1 x 1 product is its transpose)"
    return None


@pytest.mark.parametrize("name", ANY_N)
def test_any_n_derivations_state_only_axioms_hypotheses_and_definitions(name: str) -> None:
    derivation = get(name)
    assert all(step.method in {"algebra", "substitute", "cancel", "matrices"} for step in derivation.steps)
    for left, right in derivation.given:
        if isinstance(left, sp.MatrixExpr):  # concrete-size companion steps: only symmetry may be stated
            assert isinstance(left, sp.Transpose) and left.arg == right, f"{name}: {left} = {right}"
            continue
        assert _kind(left, right) is not None, f"{name}: {left} = {right} is a derived rule stated as given"
    assert "Axioms:" in derivation.notes and "(A3)" in derivation.notes


@pytest.mark.parametrize("name", ANY_N)
def test_any_n_titles_say_any_n(name: str) -> None:
    assert get(name).title.lower().startswith("any $n$")


def test_derived_rules_are_not_assumed() -> None:
    # K S = P H^T is true only because of the definitions; without them it is not provable.
    H, P, S, K = ml.matrices("H P S K")
    Si = sp.Symbol("S^{-1}", commutative=False)
    assert algebra_residual(K.symbol * S.symbol, P.symbol * H.T, {Si * S.symbol: 1, S.symbol * Si: 1}) != 0
    facts = {K.symbol: P.symbol * H.T * Si, Si * S.symbol: 1, S.symbol * Si: 1}
    assert algebra_residual(K.symbol * S.symbol, P.symbol * H.T, facts) == 0


def test_inconsistent_relations_are_refused() -> None:
    A, B = sp.symbols("A B", commutative=False)
    # A = 0 and A B = 1 together imply 0 = 1
    left_over = algebra_residual(A, B, {A: 0, A * B: 1})
    assert left_over != 0
    assert "inconsistent" in str(left_over)


def test_a_wrong_order_of_factors_is_not_proved() -> None:
    A, B = sp.symbols("A B", commutative=False)
    assert algebra_residual(A * B, B * A, {}) != 0


def test_joseph_mutants_fail_in_the_general_proof() -> None:
    from kfsym.derive import kalman as kf

    with pytest.raises(ProofError):
        kf.joseph_general(2 * kf.P_.symbol * kf.H_.T * kf.S_.inv).verify()


# ----------------------------------------------------------------------------- the Gaussian integral rule
def test_gaussian_moments_prove_through_the_integral_rule() -> None:
    mu = sp.Symbol("mu", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    density = _normal(x, mu, sigma**2)
    prove_equal(sp.Integral(x**2 * density, (x, -sp.oo, sp.oo)), mu**2 + sigma**2)
    prove_equal(sp.Integral((x - mu) ** 4 * density, (x, -sp.oo, sp.oo)), 3 * sigma**4)
    with pytest.raises(ProofError):
        prove_equal(sp.Integral((x - mu) ** 4 * density, (x, -sp.oo, sp.oo)), sigma**4)


def test_gaussian_integral_rule_needs_a_provably_positive_curvature() -> None:
    from kfsym.derive.kernel.gaussian_integral import gaussian_integral

    a_real = sp.Symbol("a", real=True)
    a_positive = sp.Symbol("a", positive=True)
    assert gaussian_integral(sp.Integral(sp.exp(-a_real * x**2), (x, -sp.oo, sp.oo))) is None
    assert gaussian_integral(sp.Integral(sp.exp(x**2), (x, -sp.oo, sp.oo))) is None
    assert gaussian_integral(sp.Integral(sp.exp(-(x**2)), (x, 0, sp.oo))) is None
    value = gaussian_integral(sp.Integral(sp.exp(-a_positive * x**2), (x, -sp.oo, sp.oo)))
    assert sp.simplify(value - sp.sqrt(sp.pi / a_positive)) == 0


def test_a_self_overlapping_relation_is_completed_or_left_undecided() -> None:
    # The braid relation A B A = B A B has no finite completion: a true consequence is still found,
    # a non-consequence is reported as not decided (never as proved, never as refuted).
    A, B = sp.symbols("A B", commutative=False)
    facts = {A * B * A: B * A * B}
    assert algebra_residual(B * A * B * A * B, A * B * A * A * B, facts) == 0
    left_over = algebra_residual(A * B * B * A, B * A * A * B, facts)
    assert left_over != 0
    assert "not decided" in str(left_over)


def test_a_transpose_declaration_cannot_state_symmetry() -> None:
    from kfsym.derive.kernel.algebra import declare_transpose

    X = sp.Symbol("X", commutative=False)
    with pytest.raises(ValueError, match="must be named"):
        declare_transpose(X, X)


# ----------------------------------------------------------------- more false statements for the new methods
_A, _B, _S, _Si = sp.symbols("A B S S^{-1}", commutative=False)


@pytest.mark.parametrize(
    ("lhs", "rhs", "facts"),
    [
        ((_A + _B) ** 2, _A**2 + 2 * _A * _B + _B**2, {}),
        (_S * _Si, sp.Integer(1), {_Si * _S: 1}),  # a left inverse is not a right inverse
        (_Si * _A * _S, _A, {_Si * _S: 1, _S * _Si: 1}),  # similarity is not equality
        (_A * _B - _B * _A, sp.Integer(0), {_A * _B * _A: _A}),
        (2 * _A, _A, {}),
    ],
)
def test_algebra_refuses_false_identities(lhs: Any, rhs: Any, facts: dict[Any, Any]) -> None:
    assert algebra_residual(lhs, rhs, facts) != 0


def _shifted(kind: str) -> tuple[Any, Any]:
    P = sp.MatrixSymbol("P", 3, 3)
    R = sp.MatrixSymbol("R", 3, 3)
    inverse = (P + R).I
    if kind == "true":
        return inverse * R, sp.Identity(3) - inverse * P
    if kind == "swapped":
        return inverse * R, sp.Identity(3) - P * inverse
    return inverse, R.I  # "dropped"


def test_the_coordinate_change_keeps_true_identities_true() -> None:
    prove_equal(*_shifted("true"), method="matrices")


@pytest.mark.parametrize("kind", ["swapped", "dropped"])
def test_the_coordinate_change_keeps_false_identities_false(kind: str) -> None:
    with pytest.raises(ProofError):
        prove_equal(*_shifted(kind), method="matrices")


@pytest.mark.parametrize(
    ("integrand", "value"),
    [
        (x * sp.exp(-(x**2) / 2), sp.Integer(1)),
        (x**2 * sp.exp(-(x**2) / 2), sp.sqrt(sp.pi)),
        (sp.exp(-(x**2) / 2 + x), sp.sqrt(2 * sp.pi)),
    ],
)
def test_wrong_gaussian_integrals_are_refused(integrand: Any, value: Any) -> None:
    with pytest.raises(ProofError):
        prove_equal(sp.Integral(integrand, (x, -sp.oo, sp.oo)), value)


def test_a_scalar_that_may_vanish_is_never_divided_by() -> None:
    A = sp.Symbol("A", commutative=False)
    c = sp.Symbol("c", real=True)
    d = sp.Symbol("d", positive=True)
    assert algebra_residual(A, sp.Integer(0), {c * A: 0}) != 0  # c may be 0
    assert algebra_residual(A, sp.Integer(0), {d * A: 0}) == 0  # d > 0


@pytest.mark.parametrize("name", ANY_N)
def test_every_derived_rewrite_rule_is_a_certified_lemma(name: str) -> None:
    from kfsym.derive.kernel.algebra import derived_rules

    rules = derived_rules(dict(get(name).given))
    assert rules or not get(name).given, f"{name}: no rules"
    assert all(rule.certified for rule in rules), [f"{r.lhs} = {r.rhs}" for r in rules if not r.certified]
    assert all(rule.complete for rule in rules), f"{name}: the completion did not finish"
