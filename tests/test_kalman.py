"""The Kalman filter of kfsym.numeric: kf_predict and kf_update.

References: a textbook filter written out below with an explicit inverse
(allowed here, in tests), FilterPy's ``KalmanFilter`` run side by side on a
seeded tracking example, the 1-D functions ``add``/``multiply`` (n = 1,
exactly), Python loops of single calls (batching), and the filter's own
statistical consistency: NEES and NIS against their χ² distributions on seeded
Monte-Carlo runs, with negative controls (a mis-tuned filter must be rejected).
Then singular covariances and bad input for every argument.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import scipy.stats
from filterpy.kalman import KalmanFilter
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose

from kfsym.numeric import MultivariateGaussian, add, kf_predict, kf_update, multiply

pytestmark = pytest.mark.filterwarnings("error")

EPS = float(np.finfo(float).eps)
SOME = settings(max_examples=60, deadline=None)


# ---------------------------------------------------------------------------
# Textbook filter (explicit inverse: a reference, not a recommendation)
# ---------------------------------------------------------------------------


def textbook_predict(
    x: np.ndarray,
    P: np.ndarray,
    F: np.ndarray,
    Q: np.ndarray,
    *,
    B: np.ndarray | None = None,
    u: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """x' = F x + B u,  P' = F P F^T + Q."""
    mean = F @ x
    if B is not None and u is not None:
        mean = mean + B @ u
    return mean, F @ P @ F.T + Q


def textbook_update(
    x: np.ndarray, P: np.ndarray, z: np.ndarray, H: np.ndarray, R: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """S = H P H^T + R,  K = P H^T S^-1,  x+ = x + K (z - H x),  P+ = (I - K H) P."""
    S = H @ P @ H.T + R
    K = P @ H.T @ np.linalg.inv(S)
    return x + K @ (z - H @ x), (np.eye(len(x)) - K @ H) @ P


def sym(matrix: np.ndarray) -> np.ndarray:
    """(M + M^T)/2: exactly symmetric."""
    return 0.5 * (matrix + np.swapaxes(matrix, -1, -2))


def spd_from(a: np.ndarray, scale: float = 1.0, eps: float = 0.05) -> np.ndarray:
    """scale · (sym(A A^T) + eps I): cond ≤ (n^2 + eps)/eps for entries of A in [-1, 1]."""
    return scale * (sym(a @ np.swapaxes(a, -1, -2)) + eps * np.eye(a.shape[-1]))


def is_exactly_symmetric(cov: np.ndarray) -> bool:
    return bool(np.array_equal(cov, np.swapaxes(cov, -1, -2)))


def min_eigenvalue(cov: np.ndarray) -> float:
    return float(np.min(np.linalg.eigvalsh(cov)))


# ---------------------------------------------------------------------------
# Hypothesis: random filters
# ---------------------------------------------------------------------------

unit = st.floats(-1.0, 1.0, allow_subnormal=False)
scales = st.floats(-1.0, 1.0).map(lambda e: 10.0**e)  # 0.1 .. 10


@st.composite
def spd(draw: st.DrawFn, n: int) -> np.ndarray:
    return spd_from(draw(hnp.arrays(np.float64, (n, n), elements=unit)), draw(scales))


@st.composite
def kf_cases(draw: st.DrawFn) -> dict[str, np.ndarray]:
    n, m, k = draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 3))

    def vec(size: int, bound: float) -> st.SearchStrategy[np.ndarray]:
        return hnp.arrays(np.float64, size, elements=st.floats(-bound, bound))

    return {
        "x": draw(vec(n, 100.0)),
        "P": draw(spd(n)),
        "F": draw(hnp.arrays(np.float64, (n, n), elements=st.floats(-2.0, 2.0))),
        "Q": draw(spd(n)),
        "B": draw(hnp.arrays(np.float64, (n, k), elements=unit)),
        "u": draw(vec(k, 10.0)),
        "z": draw(vec(m, 100.0)),
        "H": draw(hnp.arrays(np.float64, (m, n), elements=unit)),
        "R": draw(spd(m)),
    }


def product_bound(*factors: np.ndarray) -> np.ndarray:
    """|A1| |A2| ... : the entry-wise scale of the rounding error of a matrix product."""
    result = np.abs(factors[0])
    for factor in factors[1:]:
        result = result @ np.abs(factor)
    return result


@SOME
@given(kf_cases(), st.booleans())
def test_predict_matches_textbook(case: dict[str, np.ndarray], control: bool) -> None:
    x, P, F, Q, B, u = (case[name] for name in "xPFQBu")
    extra = {"B": B, "u": u} if control else {}
    got = kf_predict(x, P, F, Q, **extra)
    assert isinstance(got, MultivariateGaussian)
    ref_mean, ref_cov = textbook_predict(x, P, F, Q, **extra)
    n = len(x)
    # Rounding error of a product of matrices is ≤ γ · |A||B|... entry-wise (γ ≈ n eps); both sides round.
    mean_scale = product_bound(F, x) + (product_bound(B, u) if control else 0.0)
    assert np.all(np.abs(got.mean - ref_mean) <= 4 * (n + 2) * EPS * mean_scale)
    cov_scale = product_bound(F, P, F.T) + np.abs(Q)
    assert np.all(np.abs(got.cov - ref_cov) <= 4 * (2 * n + 2) * EPS * cov_scale)
    assert is_exactly_symmetric(got.cov)
    assert got.mean.shape == (n,)
    assert got.cov.shape == (n, n)


@SOME
@given(kf_cases())
def test_update_matches_textbook_and_joseph_equals_simple_form(case: dict[str, np.ndarray]) -> None:
    x, P, z, H, R = (case[name] for name in "xPzHR")
    got = kf_update(x, P, z, H, R)
    ref_mean, ref_cov = textbook_update(x, P, z, H, R)
    S = H @ P @ H.T + R
    # The gain solves with S: its relative error is ≲ cond(S)·eps (backward-stable solve), and it
    # propagates linearly into x+ (through K (z - H x)) and P+ (through K H P and the Joseph terms),
    # both measured against the size of the terms they are built from. 1e3 covers the constants.
    tol = 1e3 * EPS * np.linalg.cond(S)
    innovation_scale = np.max(np.abs(x)) + np.max(np.abs(P @ H.T)) * np.max(np.abs(np.linalg.solve(S, z - H @ x)))
    assert np.max(np.abs(got.mean - ref_mean)) <= tol * max(innovation_scale, 1e-300)
    assert np.max(np.abs(got.cov - ref_cov)) <= tol * np.max(np.abs(P))
    # Joseph form: exactly symmetric and positive semi-definite (to rounding)
    assert is_exactly_symmetric(got.cov)
    assert min_eigenvalue(got.cov) >= -tol * np.max(np.abs(P))
    # ... and never larger than the prior: P - P+ = K S K^T is PSD
    assert min_eigenvalue(P - got.cov) >= -tol * np.max(np.abs(P))


def test_joseph_form_stays_symmetric_psd_with_a_very_precise_measurement() -> None:
    # A measurement 1e12 times more precise than the prior: (I - K H) P cancels catastrophically.
    rotation = np.array([[np.cos(0.3), -np.sin(0.3)], [np.sin(0.3), np.cos(0.3)]])
    P = sym(rotation @ np.diag([1e6, 1e-2]) @ rotation.T)
    H, R = np.array([[1.0, 0.5]]), np.array([[1e-6]])
    x, z = np.array([1.0, -2.0]), np.array([3.0])
    mean, cov = textbook_update(x, P, z, H, R)
    got = kf_update(x, P, z, H, R)
    assert is_exactly_symmetric(got.cov)
    assert min_eigenvalue(got.cov) >= 0.0
    np.linalg.cholesky(got.cov)  # numerically positive definite, usable as the next prior
    assert_allclose(got.mean, mean, rtol=1e-9)
    assert_allclose(got.cov, cov, rtol=1e-6, atol=1e-9 * np.max(np.abs(P)))
    assert_allclose(H @ got.mean, z, rtol=1e-6)  # the precise measurement pins H x


# ---------------------------------------------------------------------------
# FilterPy side by side
# ---------------------------------------------------------------------------


def cv_model(dims: int, dt: float = 1.0, q: float = 0.5, r: float = 1.0) -> dict[str, np.ndarray]:
    """Constant velocity in ``dims`` dimensions: state (p1, v1, p2, v2, ...), positions measured.

    Q is the discretised continuous white-noise acceleration q·[[dt³/3, dt²/2], [dt²/2, dt]] per axis
    (positive definite); R = r·I.
    """
    F1 = np.array([[1.0, dt], [0.0, 1.0]])
    Q1 = q * np.array([[dt**3 / 3, dt**2 / 2], [dt**2 / 2, dt]])
    eye = np.eye(dims)
    H = np.kron(eye, np.array([[1.0, 0.0]]))
    return {"F": np.kron(eye, F1), "Q": np.kron(eye, Q1), "H": H, "R": r * eye, "B": np.kron(eye, [[dt**2 / 2], [dt]])}


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("control", [False, True])
def test_tracking_matches_filterpy(dims: int, control: bool) -> None:
    model = cv_model(dims)
    F, Q, H, R, B = model["F"], model["Q"], model["H"], model["R"], model["B"]
    n, m = F.shape[0], H.shape[0]
    rng = np.random.default_rng(42 + dims + 10 * control)
    reference = KalmanFilter(dim_x=n, dim_z=m, dim_u=dims if control else 0)
    reference.F, reference.Q, reference.H, reference.R = F, Q, H, R
    reference.x = np.zeros((n, 1))
    reference.P = 10.0 * np.eye(n)
    if control:
        reference.B = B
    x, P = np.zeros(n), 10.0 * np.eye(n)
    truth = rng.normal(size=n)
    for _ in range(50):
        u = rng.normal(size=dims) if control else None
        truth = F @ truth + (B @ u if control else 0.0) + rng.multivariate_normal(np.zeros(n), Q)
        z = H @ truth + rng.multivariate_normal(np.zeros(m), R)
        x, P = kf_predict(x, P, F, Q, **({"B": B, "u": u} if control else {}))
        reference.predict(u=u[:, None] if control else None)
        assert_allclose(x, reference.x[:, 0], rtol=1e-10, atol=1e-10 * np.max(np.abs(reference.x)))
        assert_allclose(P, reference.P, rtol=1e-10, atol=1e-10 * np.max(np.abs(reference.P)))
        x, P = kf_update(x, P, z, H, R)
        reference.update(z[:, None])
        assert_allclose(x, reference.x[:, 0], rtol=1e-10, atol=1e-10 * np.max(np.abs(reference.x)))
        assert_allclose(P, reference.P, rtol=1e-10, atol=1e-10 * np.max(np.abs(reference.P)))
        assert is_exactly_symmetric(P)
    # the filter actually tracks: final position error within 5 posterior standard deviations
    position_error = H @ (truth - x)
    assert np.all(np.abs(position_error) <= 5 * np.sqrt(np.diag(H @ P @ H.T)))


# ---------------------------------------------------------------------------
# n = 1: predict is add(), update is multiply(), exactly
# ---------------------------------------------------------------------------

wide_variances = st.floats(-150.0, 150.0).map(lambda e: 10.0**e)
wide_means = st.one_of(
    st.sampled_from([0.0, 1.0, -2.0]),
    st.tuples(st.sampled_from([-1.0, 1.0]), st.floats(-150.0, 150.0)).map(lambda t: t[0] * 10.0 ** t[1]),
)


@settings(max_examples=100, deadline=None)
@given(mean=wide_means, var=wide_variances, q=wide_variances, z=wide_means, r=wide_variances)
def test_n1_filter_is_add_and_multiply_exactly(mean: float, var: float, q: float, z: float, r: float) -> None:
    predicted = kf_predict([mean], [[var]], [[1.0]], [[q]])
    one_d = add(mean, var, 0.0, q)
    assert predicted.mean.shape == (1,)
    assert predicted.cov.shape == (1, 1)
    assert predicted.mean[0] == one_d.mean
    assert predicted.cov[0, 0] == one_d.var
    updated = kf_update([mean], [[var]], [z], [[1.0]], [[r]])
    one_d = multiply(mean, var, z, r)
    assert updated.mean.shape == (1,)
    assert updated.cov.shape == (1, 1)
    assert updated.mean[0] == one_d.mean
    assert updated.cov[0, 0] == one_d.var


def test_n1_with_control_is_add_of_the_control() -> None:
    got = kf_predict([1.5], [[2.0]], [[1.0]], [[0.25]], B=[[1.0]], u=[3.0])
    one_d = add(1.5, 2.0, 3.0, 0.25)
    assert got.mean[0] == one_d.mean
    assert got.cov[0, 0] == one_d.var


def test_n1_batches_are_add_and_multiply_exactly() -> None:
    rng = np.random.default_rng(1)
    mean, z = rng.normal(size=(2, 200)) * 10
    var, q, r = 10.0 ** rng.uniform(-4, 4, size=(3, 200))
    predicted, one_d = kf_predict(mean[:, None], var[:, None, None], [[1.0]], q[:, None, None]), add(mean, var, 0.0, q)
    assert np.array_equal(predicted.mean[:, 0], one_d.mean)
    assert np.array_equal(predicted.cov[:, 0, 0], one_d.var)
    updated = kf_update(mean[:, None], var[:, None, None], z[:, None], [[1.0]], r[:, None, None])
    one_d = multiply(mean, var, z, r)
    assert np.array_equal(updated.mean[:, 0], one_d.mean)
    assert np.array_equal(updated.cov[:, 0, 0], one_d.var)


# ---------------------------------------------------------------------------
# Consistency: NEES and NIS against χ² on seeded Monte-Carlo runs
# ---------------------------------------------------------------------------
#
# For a filter whose model is the truth's model (same F, Q, H, R and an initial estimate drawn
# consistently with P0), the estimation error e_k = x_k - x̂_k is exactly N(0, P_k), so
# NEES_k = e_kᵀ P_k⁻¹ e_k ~ χ²(n), and independent runs are independent: the sum over M runs at step
# k is χ²(M·n). The errors of one run are correlated across time, so a pooled sum over K steps is
# *not* χ²(M·K·n) (its mean is right, its variance is larger); instead every step's ensemble sum is
# checked against a Bonferroni-corrected band: each at level α/K, so the probability that a
# consistent filter fails anywhere is ≤ α = 1 % (union bound, valid under any correlation).
# The innovations ν_k = z_k - H x̄_k of the optimal filter *are* independent across time, so the
# pooled NIS = Σ ν_kᵀ S_k⁻¹ ν_k over all runs and steps is exactly χ²(M·K·m): a two-sided 99 % test
# of the time-and-ensemble average. A filter told that R or Q is 10× smaller than the truth's is
# over-confident, one told 10× larger is under-confident; the same tests must reject both.

ALPHA = 0.01


def run_monte_carlo(
    model: dict[str, np.ndarray], runs: int, steps: int, *, seed: int, filter_q: float = 1.0, filter_r: float = 1.0
) -> tuple[np.ndarray, float]:
    """Simulate ``runs`` independent truths and filter them as one batch.

    Returns NEES (steps, runs) after each update and the pooled NIS (a sum over runs and steps).
    The filter uses ``filter_q·Q`` and ``filter_r·R``; the truth uses Q and R.
    """
    F, Q, H, R = model["F"], model["Q"], model["H"], model["R"]
    n, m = F.shape[0], H.shape[0]
    rng = np.random.default_rng(seed)
    lq, lr = np.linalg.cholesky(Q), np.linalg.cholesky(R)
    P0 = 4.0 * np.eye(n)
    estimate = rng.normal(size=(runs, n)) * 3.0  # each run starts from its own estimate ...
    truth = estimate + rng.normal(size=(runs, n)) @ np.linalg.cholesky(P0).T  # ... and truth ~ N(estimate, P0)
    P = np.broadcast_to(P0, (runs, n, n))
    nees, nis = np.empty((steps, runs)), 0.0
    for k in range(steps):
        truth = truth @ F.T + rng.normal(size=(runs, n)) @ lq.T
        z = truth @ H.T + rng.normal(size=(runs, m)) @ lr.T
        estimate, P = kf_predict(estimate, P, F, filter_q * Q)
        S = H @ P @ H.T + filter_r * R
        innovation = z - estimate @ H.T
        nis += float(np.einsum("ri,ri->", innovation, np.linalg.solve(S, innovation[..., None])[..., 0]))
        estimate, P = kf_update(estimate, P, z, H, filter_r * R)
        error = truth - estimate
        nees[k] = np.einsum("ri,ri->r", error, np.linalg.solve(P, error[..., None])[..., 0])
    return nees, nis


def nees_consistent(nees: np.ndarray, n: int) -> bool:
    """Every step's ensemble NEES sum inside its two-sided Bonferroni band (overall level ALPHA)."""
    steps, runs = nees.shape
    level = ALPHA / steps
    low, high = scipy.stats.chi2.ppf([level / 2, 1 - level / 2], runs * n)
    sums = nees.sum(axis=1)
    return bool(np.all((low <= sums) & (sums <= high)))


def nis_consistent(nis: float, runs: int, steps: int, m: int) -> bool:
    low, high = scipy.stats.chi2.ppf([ALPHA / 2, 1 - ALPHA / 2], runs * steps * m)
    return bool(low <= nis <= high)


MODELS = {
    "random-walk": {"F": np.eye(1), "Q": np.array([[0.3]]), "H": np.eye(1), "R": np.array([[1.0]])},
    "1d-cv": cv_model(1),
    "2d-cv": cv_model(2, q=0.2, r=2.0),
}
RUNS, STEPS = 400, 40


@pytest.mark.parametrize("name", list(MODELS))
def test_nees_and_nis_of_a_consistent_filter_lie_in_the_chi2_band(name: str) -> None:
    model = MODELS[name]
    n, m = model["F"].shape[0], model["H"].shape[0]
    nees, nis = run_monte_carlo(model, RUNS, STEPS, seed=2024)
    assert nees_consistent(nees, n)
    assert nis_consistent(nis, RUNS, STEPS, m)
    # and the averages themselves are close to their means n and m
    assert abs(nees.mean() / n - 1) < 0.1
    assert abs(nis / (RUNS * STEPS * m) - 1) < 0.05


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize(
    ("filter_q", "filter_r"),
    [(1.0, 0.1), (0.1, 1.0), (1.0, 10.0), (10.0, 1.0)],
    ids=["R-too-small", "Q-too-small", "R-too-large", "Q-too-large"],
)
def test_a_mistuned_filter_is_rejected(name: str, filter_q: float, filter_r: float) -> None:
    model = MODELS[name]
    n, m = model["F"].shape[0], model["H"].shape[0]
    nees, nis = run_monte_carlo(model, RUNS, STEPS, seed=2024, filter_q=filter_q, filter_r=filter_r)
    assert not nees_consistent(nees, n)
    assert not nis_consistent(nis, RUNS, STEPS, m)


# ---------------------------------------------------------------------------
# Batching
# ---------------------------------------------------------------------------


def test_a_thousand_filters_in_one_call_equal_single_calls() -> None:
    rng = np.random.default_rng(99)
    count, n, m, k = 1000, 4, 2, 2
    x = rng.normal(size=(count, n))
    P = spd_from(rng.uniform(-1, 1, (count, n, n)))
    z = rng.normal(size=(count, m))
    F, Q = np.eye(n) + 0.1 * rng.normal(size=(n, n)), spd_from(rng.uniform(-1, 1, (n, n)), 0.1)
    H, R = rng.normal(size=(m, n)), spd_from(rng.uniform(-1, 1, (count, m, m)), 0.5)  # R per filter
    B, u = rng.normal(size=(n, k)), rng.normal(size=(count, k))
    predicted = kf_predict(x, P, F, Q, B=B, u=u)
    updated = kf_update(predicted.mean, predicted.cov, z, H, R)
    for result in (predicted, updated):
        assert result.mean.shape == (count, n)
        assert result.cov.shape == (count, n, n)
        assert is_exactly_symmetric(result.cov)
    for i in range(count):
        one_p = kf_predict(x[i], P[i], F, Q, B=B, u=u[i])
        assert_allclose(predicted.mean[i], one_p.mean, rtol=1e-14, atol=1e-14)
        assert_allclose(predicted.cov[i], one_p.cov, rtol=1e-14, atol=1e-14)
        one_u = kf_update(predicted.mean[i], predicted.cov[i], z[i], H, R[i])
        assert_allclose(updated.mean[i], one_u.mean, rtol=1e-14, atol=1e-14)
        assert_allclose(updated.cov[i], one_u.cov, rtol=1e-14, atol=1e-14)


def test_one_prior_against_a_batch_of_measurements_and_models() -> None:
    rng = np.random.default_rng(5)
    x, P = np.array([0.0, 1.0]), np.array([[2.0, 0.3], [0.3, 1.0]])
    z = rng.normal(size=(3, 1))
    H = rng.normal(size=(5, 1, 1, 2))  # a batch of observation models, broadcast against z (3,)
    got = kf_update(x, P, z, H, [[0.5]])
    assert got.mean.shape == (5, 3, 2)
    assert got.cov.shape == (5, 3, 2, 2)
    for i in range(5):
        for j in range(3):
            one = kf_update(x, P, z[j], H[i, 0], [[0.5]])
            assert_allclose(got.mean[i, j], one.mean, rtol=1e-14, atol=1e-15)
            assert_allclose(got.cov[i, j], one.cov, rtol=1e-14, atol=1e-15)
    F = np.stack([np.eye(2), [[1.0, 1.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]])  # (3, 2, 2)
    predicted = kf_predict(x, P, F, np.zeros((2, 2)))
    assert predicted.mean.shape == (3, 2)
    for i in range(3):
        assert_allclose(predicted.mean[i], F[i] @ x, rtol=1e-15)
        assert_allclose(predicted.cov[i], F[i] @ P @ F[i].T, rtol=1e-15)


def test_empty_batches() -> None:
    eye, F = np.eye(2), [[1.0, 1.0], [0.0, 1.0]]
    for result in (
        kf_predict(np.zeros((0, 2)), eye, F, eye),
        kf_predict([0.0, 1.0], np.zeros((0, 2, 2)), F, eye, B=[[0.5], [1.0]], u=np.zeros((0, 1))),
        kf_update(np.zeros((0, 2)), eye, [1.0], [[1.0, 0.0]], [[1.0]]),
        kf_update([0.0, 1.0], eye, np.zeros((0, 1)), [[1.0, 0.0]], [[1.0]]),
    ):
        assert result.mean.shape == (0, 2)
        assert result.cov.shape == (0, 2, 2)


def test_inputs_are_not_mutated() -> None:
    rng = np.random.default_rng(8)
    x, P = rng.normal(size=(4, 2)), spd_from(rng.uniform(-1, 1, (4, 2, 2)))
    F, Q, B, u = np.array([[1.0, 1.0], [0.0, 1.0]]), 0.1 * np.eye(2), np.array([[0.5], [1.0]]), np.ones((4, 1))
    z, H, R = rng.normal(size=(4, 1)), np.array([[1.0, 0.0]]), np.array([[0.5]])
    inputs = [x, P, F, Q, B, u, z, H, R]
    saved = [array.copy() for array in inputs]
    for result in (
        kf_predict(x, P, F, Q, B=B, u=u),
        kf_update(x, P, z, H, R),
        kf_update(x[:, :1], P[:, :1, :1], z, [[1.0]], R),
    ):
        for field in result:
            assert not any(np.shares_memory(field, array) for array in inputs)
            field[...] = np.nan
    for array, copy in zip(inputs, saved, strict=True):
        assert np.array_equal(array, copy)


# ---------------------------------------------------------------------------
# Control input, singular covariances, innovation covariance
# ---------------------------------------------------------------------------


def test_control_input() -> None:
    model = cv_model(2)
    F, Q, B = model["F"], model["Q"], model["B"]
    x, P, u = np.array([1.0, 0.5, -2.0, 0.0]), np.eye(4), np.array([0.2, -0.1])
    got = kf_predict(x, P, F, Q, B=B, u=u)
    mean, cov = textbook_predict(x, P, F, Q, B=B, u=u)
    assert_allclose(got.mean, mean, rtol=1e-15)
    assert_allclose(got.cov, cov, rtol=1e-15)
    assert np.array_equal(got.cov, kf_predict(x, P, F, Q).cov)  # the control moves the mean only
    # a batch of inputs against one state
    us = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    batch = kf_predict(x, P, F, Q, B=B, u=us)
    assert batch.mean.shape == (3, 4)
    assert_allclose(batch.mean, (F @ x) + us @ B.T, rtol=1e-15)
    assert np.array_equal(batch.mean[0], kf_predict(x, P, F, Q).mean)


def test_known_state_and_noise_free_models_are_accepted() -> None:
    x, F = np.array([1.0, 2.0]), np.array([[1.0, 1.0], [0.0, 1.0]])
    Q = np.array([[0.25, 0.5], [0.5, 1.0]])  # the rank-1 white-acceleration Q: singular, legitimate
    zero = np.zeros((2, 2))
    predicted = kf_predict(x, zero, F, Q)  # P = 0: a known state
    assert np.array_equal(predicted.mean, F @ x)
    assert np.array_equal(predicted.cov, Q)
    predicted = kf_predict(x, np.eye(2), F, zero)  # Q = 0: no process noise
    assert_allclose(predicted.cov, F @ F.T, rtol=1e-15)
    H, R = np.array([[1.0, 0.0]]), np.array([[0.5]])
    updated = kf_update(x, zero, [7.0], H, R)  # a known state ignores the measurement
    assert np.array_equal(updated.mean, x)
    assert np.array_equal(updated.cov, zero)
    updated = kf_update([1.0], [[0.0]], [7.0], [[1.0]], [[0.5]])  # n = 1, P = 0
    assert updated.mean[0] == 1.0
    assert updated.cov[0, 0] == 0.0


def test_perfect_and_partly_perfect_measurements() -> None:
    x, P = np.array([1.0, 2.0, 3.0]), np.array([[2.0, 0.5, 0.1], [0.5, 1.0, 0.2], [0.1, 0.2, 1.5]])
    H = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    z = np.array([0.0, 10.0])
    got = kf_update(x, P, z, H, np.zeros((2, 2)))  # R = 0: the measurement is exact
    assert_allclose(H @ got.mean, z, rtol=1e-13, atol=1e-13)
    assert_allclose(H @ got.cov @ H.T, np.zeros((2, 2)), atol=1e-13)
    assert min_eigenvalue(got.cov) >= -1e-13
    mean, cov = textbook_update(x, P, z, H, np.zeros((2, 2)))
    assert_allclose(got.mean, mean, rtol=1e-12)
    assert_allclose(got.cov, cov, atol=1e-12)
    R = np.diag([0.0, 0.7])  # one exact channel, one noisy one
    got = kf_update(x, P, z, H, R)
    mean, cov = textbook_update(x, P, z, H, R)
    assert_allclose(got.mean, mean, rtol=1e-12, atol=1e-13)
    assert_allclose(got.cov, cov, atol=1e-12)
    assert abs(got.mean[0] - 0.0) <= 1e-13
    # P rank deficient (only the first axis uncertain), measured where it is uncertain
    v = np.array([1.0, 0.5, -0.25])
    singular = np.outer(v, v)
    got = kf_update(x, singular, [4.0], [[1.0, 0.0, 0.0]], [[1.0]])
    mean, cov = textbook_update(x, singular, np.array([4.0]), np.array([[1.0, 0.0, 0.0]]), np.array([[1.0]]))
    assert_allclose(got.mean, mean, rtol=1e-14)
    assert_allclose(got.cov, cov, rtol=1e-14, atol=1e-15)
    assert is_exactly_symmetric(got.cov)


@pytest.mark.parametrize(
    ("P", "H", "R"),
    [
        (np.zeros((2, 2)), [[1.0, 0.0]], [[0.0]]),  # known state, exact measurement: S = 0
        (np.eye(2), [[0.0, 0.0]], [[0.0]]),  # measures nothing, exactly: S = 0
        (np.diag([1.0, 0.0]), [[0.0, 1.0]], [[0.0]]),  # measures the known component exactly
        (np.eye(2), [[1.0, 0.0], [1.0, 0.0]], np.zeros((2, 2))),  # two copies of one exact channel: S singular
    ],
    ids=["P0-R0", "H0-R0", "known-component", "duplicate-channel"],
)
def test_innovation_covariance_not_positive_definite(P: Any, H: Any, R: Any) -> None:
    z = np.zeros(np.shape(H)[0])
    with pytest.raises(ValueError, match=r"innovation covariance"):
        kf_update([1.0, 2.0], P, z, H, R)


def test_innovation_covariance_failure_in_a_batch() -> None:
    P = np.stack([np.eye(2), np.zeros((2, 2)), np.eye(2)])
    with pytest.raises(ValueError, match=r"innovation covariance"):
        kf_update([1.0, 2.0], P, [0.0], [[1.0, 0.0]], [[0.0]])


def test_rounding_level_negative_eigenvalues_are_accepted() -> None:
    # v v^T in floating point is PSD only up to rounding; a covariance like it must be accepted ...
    rng = np.random.default_rng(4)
    for _ in range(20):
        v = rng.normal(size=(3, 1))
        P = sym(v @ v.T + 1e-17 * rng.normal(size=(3, 3)))
        predicted = kf_predict(np.zeros(3), P, np.eye(3), P)
        # ... and give the right answer: F P F^T + Q = 2P, symmetric, with the prior mean unchanged
        np.testing.assert_array_equal(predicted.mean, np.zeros(3))
        assert_allclose(predicted.cov, 2 * P, rtol=0, atol=1e-15 * np.abs(P).max())
        np.testing.assert_array_equal(predicted.cov, predicted.cov.T)
        updated = kf_update(np.zeros(3), P, [0.0], [[1.0, 0.0, 0.0]], [[1.0]])
        gain = P[:, 0] / (P[0, 0] + 1.0)  # K = P H^T (H P H^T + R)^-1 with H = e_0, R = 1
        np.testing.assert_array_equal(updated.mean, np.zeros(3))
        assert_allclose(updated.cov, P - np.outer(gain, P[0, :]), rtol=0, atol=1e-14 * np.abs(P).max())
        assert np.linalg.eigvalsh(updated.cov).min() >= -1e-14 * np.abs(P).max()
    # ... but a clearly negative eigenvalue is not, nor any negative variance, however small
    with pytest.raises(ValueError, match=r"^P must be positive semi-definite"):
        kf_predict(np.zeros(2), [[1.0, 1.0 + 1e-6], [1.0 + 1e-6, 1.0]], np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match=r"^P must have a nonnegative diagonal"):
        kf_predict(np.zeros(2), np.diag([1.0, -1e-300]), np.eye(2), np.eye(2))


# ---------------------------------------------------------------------------
# Bad input: every argument
# ---------------------------------------------------------------------------

N = 3
PREDICT_ARGS: dict[str, Any] = {
    "x": [0.0, 1.0, 2.0],
    "P": np.eye(N),
    "F": [[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
    "Q": 0.1 * np.eye(N),
    "B": [[0.5, 0.0], [1.0, 0.0], [0.0, 1.0]],
    "u": [2.0, -1.0],
}
UPDATE_ARGS: dict[str, Any] = {
    "x": [0.0, 1.0, 2.0],
    "P": np.eye(N),
    "z": [1.0, 0.5],
    "H": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
    "R": [[0.5, 0.1], [0.1, 0.4]],
}


def bad_covariances(n: int) -> list[tuple[str, Any, type[Exception], str | None]]:
    asymmetric = np.eye(n)
    asymmetric[0, 1], asymmetric[1, 0] = 0.5, 0.4
    indefinite = np.eye(n)
    indefinite[0, 1] = indefinite[1, 0] = 2.0
    # correlation 2 between a variance of 1e12 and one of 1: a tolerance relative to the largest entry passes it
    indefinite_scaled = np.eye(n)
    indefinite_scaled[0, 0], indefinite_scaled[0, 1], indefinite_scaled[1, 0] = 1e12, 2e6, 2e6
    nan, inf = np.eye(n), np.eye(n)
    nan[0, 0], inf[1, 1] = np.nan, np.inf
    return [
        ("non-square", np.ones((n, n + 1)), ValueError, "square"),
        ("wrong-n", np.eye(n + 1), ValueError, "size"),
        ("vector", np.ones(n), ValueError, "square"),
        ("scalar", 1.0, ValueError, "square"),
        ("non-symmetric", asymmetric, ValueError, "symmetric"),
        ("indefinite", indefinite, ValueError, "semi-definite"),
        ("negative", -np.eye(n), ValueError, "nonnegative diagonal"),
        ("negative-beside-huge", np.diag([1e10] + [-1.0] * (n - 1)), ValueError, "nonnegative diagonal"),
        ("indefinite-beside-huge", indefinite_scaled, ValueError, "semi-definite"),
        ("nan", nan, ValueError, "finite"),
        ("inf", inf, ValueError, "finite"),
        ("complex", np.eye(n) + 0j, TypeError, "complex"),
        ("string", "eye", TypeError, None),
        ("none", None, TypeError, None),
        ("bool", np.eye(n, dtype=bool), TypeError, None),
        ("ragged", [[1.0, 0.0], [0.0]], ValueError, None),
    ]


def bad_vectors(n: int) -> list[tuple[str, Any, type[Exception], str | None]]:
    return [
        ("nan", [np.nan] + [0.0] * (n - 1), ValueError, "finite"),
        ("inf", [0.0] * (n - 1) + [np.inf], ValueError, "finite"),
        ("scalar", 1.0, ValueError, "vector"),
        ("empty", [], ValueError, "empty"),
        ("complex", [1j] * n, TypeError, "complex"),
        ("string", "0 1 2", TypeError, None),
        ("none", None, TypeError, None),
        ("ragged", [[0.0, 1.0], [2.0]], ValueError, None),
    ]


def bad_matrices(rows: int, cols: int) -> list[tuple[str, Any, type[Exception], str | None]]:
    nan = np.ones((rows, cols))
    nan[0, -1] = np.nan
    return [
        ("wrong-shape", np.ones((rows + 1, cols)), ValueError, "shape"),
        ("transposed", np.ones((cols, rows)) if rows != cols else np.ones((rows, cols + 1)), ValueError, "shape"),
        ("vector", np.ones(cols), ValueError, "shape"),
        ("nan", nan, ValueError, "finite"),
        ("inf", np.full((rows, cols), np.inf), ValueError, "finite"),
        ("complex", np.ones((rows, cols)) * 1j, TypeError, "complex"),
        ("string", "F", TypeError, None),
        ("none", None, TypeError, None),
    ]


def bad_cases() -> list[Any]:
    tables = {
        (kf_predict, "x"): bad_vectors(N),
        (kf_predict, "P"): bad_covariances(N),
        (kf_predict, "F"): bad_matrices(N, N),
        (kf_predict, "Q"): bad_covariances(N),
        (kf_predict, "B"): [case for case in bad_matrices(N, 2) if case[3] != "none"],  # B=None means "no control"
        (kf_predict, "u"): [*bad_vectors(2)],
        (kf_update, "x"): bad_vectors(N),
        (kf_update, "P"): bad_covariances(N),
        (kf_update, "z"): bad_vectors(2),
        (kf_update, "H"): bad_matrices(2, N),
        (kf_update, "R"): bad_covariances(2),
    }
    cases = []
    for (func, name), table in tables.items():
        for label, value, error, rule in table:
            if name in "Bu" and label == "none":
                continue  # B or u alone is tested separately
            cases.append(pytest.param(func, name, value, error, rule, id=f"{func.__name__}-{name}-{label}"))
    return cases


@pytest.mark.parametrize(("func", "name", "value", "error", "rule"), bad_cases())
def test_bad_input_raises_naming_the_argument(
    func: Callable[..., Any], name: str, value: Any, error: type[Exception], rule: str | None
) -> None:
    args = dict(PREDICT_ARGS if func is kf_predict else UPDATE_ARGS)
    args[name] = value
    with pytest.raises(error, match=rf"\b{name}\b") as info:
        func(**args)
    if rule is not None:
        assert rule in str(info.value)


@pytest.mark.parametrize("given_only", ["B", "u"])
def test_control_needs_both_b_and_u(given_only: str) -> None:
    args = {name: value for name, value in PREDICT_ARGS.items() if name != ("u" if given_only == "B" else "B")}
    with pytest.raises(ValueError, match=r"\bB\b.*\bu\b"):
        kf_predict(**args)


def test_control_input_of_the_wrong_length_is_named() -> None:
    with pytest.raises(ValueError, match=r"\bB\b|\bu\b"):
        kf_predict(**(PREDICT_ARGS | {"u": [1.0, 2.0, 3.0]}))


def test_b_and_u_are_keywords() -> None:
    with pytest.raises(TypeError):
        kf_predict(*PREDICT_ARGS.values())  # type: ignore[misc]


@pytest.mark.parametrize(("func", "args"), [(kf_predict, PREDICT_ARGS), (kf_update, UPDATE_ARGS)])
def test_batches_that_do_not_broadcast(func: Callable[..., Any], args: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"\bx\b.*\bP\b"):
        func(**(args | {"x": np.zeros((3, N)), "P": np.broadcast_to(np.eye(N), (4, N, N))}))


def test_bad_update_batches_are_named() -> None:
    with pytest.raises(ValueError, match=r"\bz\b"):
        kf_update(**(UPDATE_ARGS | {"x": np.zeros((3, N)), "z": np.zeros((4, 2))}))
    with pytest.raises(ValueError, match=r"\bR\b"):
        kf_update(**(UPDATE_ARGS | {"x": np.zeros((3, N)), "R": np.broadcast_to(np.eye(2), (4, 2, 2))}))


@pytest.mark.parametrize(("func", "name"), [(kf_predict, "P"), (kf_predict, "Q"), (kf_update, "P"), (kf_update, "R")])
def test_batch_index_of_a_bad_covariance_is_named(func: Callable[..., Any], name: str) -> None:
    args = dict(PREDICT_ARGS if func is kf_predict else UPDATE_ARGS)
    good = np.asarray(args[name], dtype=float)
    size = good.shape[-1]
    batch = np.broadcast_to(good, (4, size, size)).copy()
    batch[2, 0, 1] = batch[2, 1, 0] = 5.0  # indefinite
    args[name] = batch
    with pytest.raises(ValueError, match=rf"^{name} must be positive semi-definite at batch index \(2,\)"):
        func(**args)
    batch = np.broadcast_to(good, (2, 3, size, size)).copy()
    batch[1, 0, 0, 1] += 0.3  # non-symmetric
    args[name] = batch
    with pytest.raises(ValueError, match=rf"^{name} must be symmetric at batch index \(1, 0\)"):
        func(**args)


@pytest.mark.parametrize(
    ("func", "name"), [(kf_predict, "x"), (kf_update, "x"), (kf_update, "z")], ids=["predict-x", "update-x", "update-z"]
)
def test_regression_vector_of_the_wrong_size_is_not_named(func: Callable[..., Any], name: str) -> None:
    args = dict(PREDICT_ARGS if func is kf_predict else UPDATE_ARGS)
    args[name] = [*args[name], 0.0]
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        func(**args)


@pytest.mark.parametrize(
    ("func", "args"),
    [
        (kf_predict, ([1e300, 0.0], np.eye(2), 1e10 * np.eye(2), np.eye(2))),  # mean overflows: silent inf
        (kf_predict, ([0.0, 0.0], 1e300 * np.eye(2), 1e10 * np.eye(2), np.eye(2))),  # cov: inf and NaN
        (kf_predict, ([0.0], [[1e300]], [[1e10]], [[1.0]])),  # n = 1: cov inf
        (kf_update, ([0.0, 0.0], 1e300 * np.eye(2), [1e300, 0.0], 1e10 * np.eye(2), np.eye(2))),  # all NaN
    ],
    ids=["predict-mean", "predict-cov", "predict-n1", "update"],
)
def test_regression_overflow_gives_inf_or_nan(func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    with pytest.raises((OverflowError, ValueError)):
        func(*args)
