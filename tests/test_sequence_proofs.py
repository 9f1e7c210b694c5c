"""The sequence derivations: factories rebuild what is registered, and the claims agree with SciPy/NumPy.

The numeric checks are a second opinion on the *statements* (the model's joint
density and Gaussian conditioning computed independently with SciPy and NumPy),
not part of the proofs.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from scipy.stats import multivariate_normal, norm

from kfsym.derive import Derivation, get
from kfsym.derive import sequence as sq
from tests.tolerance import assert_rel

FACTORIES: tuple[Callable[[], Derivation], ...] = (
    sq.loglikelihood,
    sq.loglikelihood_t3,
    sq.rts_scalar,
    sq.rts_scalar_t3_mean,
    sq.rts_gain_general,
    sq.rts_step_general,
    sq.rts_gain_concrete,
)


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
def test_factory_rebuilds_the_registered_derivation(factory: Callable[[], Derivation]) -> None:
    rebuilt = factory()
    assert rebuilt == get(rebuilt.name)


MODEL = {sq.F: 0.9, sq.H: 1.3, sq.Q: 0.4, sq.R: 0.7, sq.prior_mean: 0.25, sq.prior_var: 1.6}
MEASUREMENTS = (1.1, -0.4, 0.8)


def _model_values() -> dict[sp.Symbol, float]:
    values = dict(MODEL)
    values.update(dict(zip(sq.z, MEASUREMENTS, strict=True)))
    return values


def _linear_map(steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """z = A u with u = (x_1, w_1.., v_1..) independent: A, Cov u and E u, built in NumPy."""
    f, h, q, r = (MODEL[s] for s in (sq.F, sq.H, sq.Q, sq.R))
    m, p = MODEL[sq.prior_mean], MODEL[sq.prior_var]
    size = 1 + (steps - 1) + steps  # u = (x_1, w_1.., v_1..)
    a = np.zeros((steps, size))
    for t in range(steps):
        a[t, 0] = h * f**t
        for s in range(t):
            a[t, 1 + s] = h * f ** (t - 1 - s)
        a[t, steps + t] = 1.0
    d = np.diag([p] + [q] * (steps - 1) + [r] * steps)
    mean_u = np.zeros(size)
    mean_u[0] = m
    return a, d, mean_u


def _joint_reference(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of (z_1..z_T) from the model's linear map."""
    a, d, mean_u = _linear_map(steps)
    return a @ mean_u, a @ d @ a.T


def _filter_loglikelihood(steps: int) -> float:
    """Plain-Python Kalman filter, summing scipy innovation log-densities."""
    f, h, q, r = (MODEL[s] for s in (sq.F, sq.H, sq.Q, sq.R))
    x, p, total = MODEL[sq.prior_mean], MODEL[sq.prior_var], 0.0
    for t in range(steps):
        s = h * h * p + r
        total += float(norm.logpdf(MEASUREMENTS[t], h * x, np.sqrt(s)))
        k = p * h / s
        x, p = x + k * (MEASUREMENTS[t] - h * x), (1 - k * h) * p
        x, p = f * x, f * f * p + q
    return total


@pytest.mark.parametrize("steps", [2, 3])
def test_loglikelihood_claim_matches_scipy(steps: int) -> None:
    name = "sequence.loglikelihood_factorisation" + ("" if steps == 2 else "_t3")
    derivation = get(name)
    values = _model_values()
    mean, covariance = _joint_reference(steps)
    reference = multivariate_normal(mean, covariance).logpdf(np.array(MEASUREMENTS[:steps]))
    for side in (derivation.lhs, derivation.rhs):
        value = float(sp.sympify(side).xreplace(derivation.substitutions).xreplace(values).evalf())
        assert_rel(value, reference, 1e-12)
    assert_rel(_filter_loglikelihood(steps), reference, 1e-12)


@pytest.mark.parametrize(("name", "steps"), [("sequence.rts_scalar", 2), ("sequence.rts_scalar_t3_mean", 3)])
def test_rts_scalar_claim_matches_numpy_conditioning(name: str, steps: int) -> None:
    derivation = get(name)
    values = _model_values()
    # joint of (x_1, z_1..z_T) built independently: x_1 is u_1, z = A u
    z_mean, z_cov = _joint_reference(steps)
    a, d, _ = _linear_map(steps)
    p = MODEL[sq.prior_var]
    cross = a @ d[:, 0]  # Cov(z, x_1) = A Cov(u) e_1
    gain = np.linalg.solve(z_cov, cross)
    exact = [MODEL[sq.prior_mean] + gain @ (np.array(MEASUREMENTS[:steps]) - z_mean), p - gain @ cross]
    for side in (derivation.lhs, derivation.rhs):
        got = sp.Matrix(side).xreplace(derivation.substitutions).xreplace(values).evalf()
        assert len(got) == (2 if steps == 2 else 1)
        for entry, want in zip(got, exact, strict=False):
            assert_rel(float(entry), want, 1e-12)


def test_g_for_g_squared_mutant_differs_in_value() -> None:
    # The mutant G (P_{2|2} - P_{2|1}) for G^2 (P_{2|2} - P_{2|1}) is wrong in value too, not only in form.
    values = {k: sp.Rational(Fraction(v).limit_denominator(1000)) for k, v in _model_values().items()}
    right = sq.rts_scalar()
    wrong = sq.rts_scalar(smoothed_var=sq.P_filt[1] + sq.G1 * (sq.P_filt[2] - sq.P_pred[2]))
    value = [sp.Matrix(d.lhs).xreplace(d.substitutions).xreplace(values)[1] for d in (right, wrong)]
    assert sp.nsimplify(value[0] - value[1]) != 0
