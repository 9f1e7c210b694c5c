"""Whole sequences: kf_filter and rts_smoother against kfsym's own steps, FilterPy, pykalman and exact conditioning.

The oracle for the smoother and the log-likelihood is independent of any filter: the joint
Gaussian of all states and measurements, written down from the model and conditioned on
the measurements with one dense solve (as dynamax tests its smoother).
"""

from __future__ import annotations

import functools
import importlib.util
import math
import re
import warnings
from typing import Any

import numpy as np
import pytest
from filterpy.kalman import KalmanFilter
from filterpy.kalman import rts_smoother as filterpy_rts
from pykalman import KalmanFilter as PyKalman
from scipy.stats import multivariate_normal

from kfsym.numeric import FilterResult, kf_predict, kf_update, rts_smoother
from kfsym.numeric import kf_filter as _kf_filter

BACKENDS = [
    "numpy",
    pytest.param("numba", marks=pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="needs numba")),
]


@pytest.fixture(params=BACKENDS)
def kf_filter(request: pytest.FixtureRequest) -> Any:
    """kf_filter with the backend of this test run: every test below runs on both."""
    return functools.partial(_kf_filter, backend=request.param)


DT = 1.0
F_CV = np.array([[1.0, 0.0, DT, 0.0], [0.0, 1.0, 0.0, DT], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
Q_CV = 0.05 * np.array(
    [
        [DT**3 / 3, 0.0, DT**2 / 2, 0.0],
        [0.0, DT**3 / 3, 0.0, DT**2 / 2],
        [DT**2 / 2, 0.0, DT, 0.0],
        [0.0, DT**2 / 2, 0.0, DT],
    ]
)
H_CV = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
R_CV = np.array([[0.5, 0.1], [0.1, 0.3]])
X0 = np.array([0.0, 0.0, 1.0, 0.5])
P0 = np.diag([1.0, 1.0, 0.5, 0.5])


def simulate(steps: int, seed: int, tracks: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """(states, measurements) of the constant-velocity model, seeded."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.cholesky(Q_CV), np.linalg.cholesky(R_CV)
    state = X0 + rng.standard_normal((*tracks, 4)) @ np.linalg.cholesky(P0).T
    states, measurements = [], []
    for t in range(steps):
        if t > 0:
            state = state @ F_CV.T + rng.standard_normal((*tracks, 4)) @ q.T
        states.append(state)
        measurements.append(state @ H_CV.T + rng.standard_normal((*tracks, 2)) @ r.T)
    return np.stack(states, axis=-2), np.stack(measurements, axis=-2)


def own_loop(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    means, covs = [], []
    x, P = X0, P0
    for t, measurement in enumerate(z):
        if t > 0:
            x, P = kf_predict(x, P, F_CV, Q_CV)
        x, P = kf_update(x, P, measurement, H_CV, R_CV)
        means.append(x)
        covs.append(P)
    return np.array(means), np.array(covs)


def pykalman_model(**overrides: Any) -> PyKalman:
    arguments = {
        "transition_matrices": F_CV,
        "observation_matrices": H_CV,
        "transition_covariance": Q_CV,
        "observation_covariance": R_CV,
        "initial_state_mean": X0,
        "initial_state_covariance": P0,
    }
    return PyKalman(**{**arguments, **overrides})


def assert_close(got: np.ndarray, want: np.ndarray, rtol: float) -> None:
    """|got - want| <= rtol * max|want| (covariances and means of mixed sign: relative to the array's scale)."""
    scale = float(np.max(np.abs(want)))
    assert float(np.max(np.abs(np.asarray(got) - want))) <= rtol * scale


# ---------------------------------------------------------------------------
# One track against its peers
# ---------------------------------------------------------------------------


def test_filter_equals_a_loop_of_kfsym_steps(kf_filter: Any) -> None:
    _, z = simulate(60, seed=1)
    result = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV)
    means, covs = own_loop(z)
    assert_close(result.filtered_means, means, 1e-13)
    assert_close(result.filtered_covariances, covs, 1e-13)
    assert np.array_equal(result.filtered_covariances, np.swapaxes(result.filtered_covariances, -1, -2))


def test_filter_and_smoother_equal_filterpy(kf_filter: Any) -> None:
    _, z = simulate(80, seed=2)
    kf = KalmanFilter(dim_x=4, dim_z=2)
    kf.x, kf.P, kf.F, kf.Q, kf.H, kf.R = X0.copy(), P0.copy(), F_CV, Q_CV, H_CV, R_CV
    means, covs = [], []
    for t, measurement in enumerate(z):
        if t > 0:
            kf.predict()
        kf.update(measurement)
        means.append(kf.x.copy())
        covs.append(kf.P.copy())
    result = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV)
    assert_close(result.filtered_means, np.array(means), 1e-10)
    assert_close(result.filtered_covariances, np.array(covs), 1e-10)
    # FilterPy indexes the transition k -> k+1 as Fs[k+1]; with constant F the index does not matter
    smoothed, smoothed_covs, gains, _ = filterpy_rts(np.array(means), np.array(covs), [F_CV] * len(z), [Q_CV] * len(z))
    ours = rts_smoother(result, F_CV)
    assert_close(ours.smoothed_means, smoothed, 1e-10)
    assert_close(ours.smoothed_covariances, smoothed_covs, 1e-10)
    assert_close(ours.smoother_gains, gains[:-1], 1e-10)


def test_filter_smoother_and_likelihood_equal_pykalman(kf_filter: Any) -> None:
    _, z = simulate(80, seed=3)
    model = pykalman_model()
    means, covs = model.filter(z)
    smoothed, smoothed_covs = model.smooth(z)
    result = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV)
    assert_close(result.filtered_means, means, 1e-10)
    assert_close(result.filtered_covariances, covs, 1e-10)
    ours = rts_smoother(result, F_CV)
    assert_close(ours.smoothed_means, smoothed, 1e-10)
    assert_close(ours.smoothed_covariances, smoothed_covs, 1e-10)
    assert result.log_likelihood == pytest.approx(model.loglikelihood(z), rel=1e-9, abs=0)


def test_missing_steps_match_pykalman_and_are_pure_predictions(kf_filter: Any) -> None:
    _, z = simulate(40, seed=4)
    masked = np.ma.masked_array(z, mask=np.zeros_like(z, dtype=bool))
    masked[[3, 4, 17, 39]] = np.ma.masked
    model = pykalman_model()
    means, covs = model.filter(masked)
    result = kf_filter(masked, X0, P0, F_CV, Q_CV, H_CV, R_CV)
    assert_close(result.filtered_means, means, 1e-10)
    assert_close(result.filtered_covariances, covs, 1e-10)
    assert result.log_likelihood == pytest.approx(model.loglikelihood(masked), rel=1e-9, abs=0)
    for t in (3, 4, 17, 39):  # a missing step leaves the prediction as it is
        assert np.array_equal(result.filtered_means[t], result.predicted_means[t])
        assert np.array_equal(result.filtered_covariances[t], result.predicted_covariances[t])
        assert result.log_likelihoods[t] == 0.0
        assert not result.observed[t].any()
    smoothed, smoothed_covs = model.smooth(masked)
    ours = rts_smoother(result, F_CV)
    assert_close(ours.smoothed_means, smoothed, 1e-10)
    assert_close(ours.smoothed_covariances, smoothed_covs, 1e-10)


def test_a_partly_masked_step_updates_with_its_observed_components_only(kf_filter: Any) -> None:
    _, z = simulate(6, seed=5)
    masked = np.ma.masked_array(z, mask=np.zeros_like(z, dtype=bool))
    masked[2, 1] = np.ma.masked
    result = kf_filter(masked, X0, P0, F_CV, Q_CV, H_CV, R_CV)
    x, P = result.predicted_means[2], result.predicted_covariances[2]
    expected = kf_update(x, P, z[2, :1], H_CV[:1], R_CV[:1, :1])
    assert_close(result.filtered_means[2], expected.mean, 1e-13)
    assert_close(result.filtered_covariances[2], expected.cov, 1e-13)
    s = H_CV[:1] @ P @ H_CV[:1].T + R_CV[:1, :1]
    innovation = z[2, 0] - H_CV[0] @ x
    log_term = -0.5 * (math.log(2 * math.pi * s[0, 0]) + innovation**2 / s[0, 0])
    assert result.log_likelihoods[2] == pytest.approx(log_term, rel=1e-12, abs=0)
    assert result.innovations[2, 1] == 0.0


def test_time_varying_matrices_equal_pykalman(kf_filter: Any) -> None:
    steps = 30
    rng = np.random.default_rng(6)
    _, z = simulate(steps, seed=6)
    Fs = F_CV + 0.01 * rng.standard_normal((steps - 1, 4, 4))
    Hs = H_CV + 0.05 * rng.standard_normal((steps, 2, 4))
    Rs = R_CV * rng.uniform(0.5, 2.0, size=(steps, 1, 1))
    model = pykalman_model(transition_matrices=Fs, observation_matrices=Hs, observation_covariance=Rs)
    means, covs = model.filter(z)
    result = kf_filter(z, X0, P0, Fs, Q_CV, Hs, Rs, time_varying=("F", "H", "R"))
    assert_close(result.filtered_means, means, 1e-10)
    assert_close(result.filtered_covariances, covs, 1e-10)
    # pykalman's loglikelihood fails on time-varying R (a log of 0 inside); score pykalman's
    # predictions with SciPy instead
    predicted = [(X0, P0)] + [(Fs[t] @ means[t], Fs[t] @ covs[t] @ Fs[t].T + Q_CV) for t in range(steps - 1)]
    log_likelihood = sum(
        multivariate_normal.logpdf(z[t], Hs[t] @ mean, Hs[t] @ cov @ Hs[t].T + Rs[t])
        for t, (mean, cov) in enumerate(predicted)
    )
    assert result.log_likelihood == pytest.approx(log_likelihood, rel=1e-9, abs=0)
    smoothed, smoothed_covs = model.smooth(z)
    ours = rts_smoother(result, Fs, time_varying="F")
    assert_close(ours.smoothed_means, smoothed, 1e-10)
    assert_close(ours.smoothed_covariances, smoothed_covs, 1e-10)


def test_control_input_shifts_the_prediction(kf_filter: Any) -> None:
    _, z = simulate(10, seed=7)
    B, u = np.eye(4)[:, 2:], np.array([0.1, -0.2])
    result = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV, B=B, u=u)
    prior = kf_predict(result.filtered_means[3], result.filtered_covariances[3], F_CV, Q_CV, B=B, u=u)
    assert_close(result.predicted_means[4], prior.mean, 1e-14)
    with pytest.raises(ValueError, match="give both B and u"):
        kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV, B=B)


# ---------------------------------------------------------------------------
# The oracle: exact conditioning of the joint Gaussian of all states and measurements
# ---------------------------------------------------------------------------


def joint_gaussian(steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean and covariance of (x_0..x_T-1) and of (z_0..z_T-1), and their cross-covariance, from the model."""
    n = 4
    transfer = np.zeros((steps * n, steps * n))  # x = A (x0-noise, w_1, ..., w_T-1)
    for t in range(steps):
        for s in range(t + 1):
            transfer[t * n : (t + 1) * n, s * n : (s + 1) * n] = np.linalg.matrix_power(F_CV, t - s)
    sources = np.zeros((steps * n, steps * n))
    sources[:n, :n] = P0
    for s in range(1, steps):
        sources[s * n : (s + 1) * n, s * n : (s + 1) * n] = Q_CV
    state_mean = np.concatenate([np.linalg.matrix_power(F_CV, t) @ X0 for t in range(steps)])
    state_cov = transfer @ sources @ transfer.T
    observe = np.kron(np.eye(steps), H_CV)
    measurement_cov = observe @ state_cov @ observe.T + np.kron(np.eye(steps), R_CV)
    return state_mean, state_cov, observe, measurement_cov


def test_smoother_and_likelihood_equal_exact_conditioning_of_the_joint_gaussian(kf_filter: Any) -> None:
    steps = 8
    _, z = simulate(steps, seed=8)
    state_mean, state_cov, observe, measurement_cov = joint_gaussian(steps)
    flat = z.reshape(-1)
    cross = state_cov @ observe.T
    # E[x | z] = m + C S^{-1} (z - H m),  Cov[x | z] = P - C S^{-1} C^T
    conditional_mean = state_mean + cross @ np.linalg.solve(measurement_cov, flat - observe @ state_mean)
    conditional_cov = state_cov - cross @ np.linalg.solve(measurement_cov, cross.T)
    residual = flat - observe @ state_mean
    _, log_det = np.linalg.slogdet(measurement_cov)
    log_likelihood = -0.5 * (
        flat.size * math.log(2 * math.pi) + log_det + residual @ np.linalg.solve(measurement_cov, residual)
    )
    result = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV)
    smoothed = rts_smoother(result, F_CV)
    assert_close(smoothed.smoothed_means, conditional_mean.reshape(steps, 4), 1e-9)
    blocks = np.array([conditional_cov[t * 4 : (t + 1) * 4, t * 4 : (t + 1) * 4] for t in range(steps)])
    assert_close(smoothed.smoothed_covariances, blocks, 1e-9)
    assert result.log_likelihood == pytest.approx(log_likelihood, rel=1e-10, abs=0)


# ---------------------------------------------------------------------------
# Batches of tracks
# ---------------------------------------------------------------------------


def test_a_batch_of_tracks_equals_each_track_alone(kf_filter: Any) -> None:
    _, z = simulate(25, seed=9, tracks=(3, 2))
    x0 = X0 + 0.1 * np.arange(6.0).reshape(3, 2, 1)
    result = kf_filter(z, x0, P0, F_CV, Q_CV, H_CV, R_CV)
    smoothed = rts_smoother(result, F_CV)
    assert result.filtered_means.shape == (3, 2, 25, 4)
    assert result.log_likelihood.shape == (3, 2)
    for index in np.ndindex(3, 2):
        alone = kf_filter(z[index], x0[index], P0, F_CV, Q_CV, H_CV, R_CV)
        assert np.array_equal(result.filtered_means[index], alone.filtered_means)
        assert np.array_equal(result.filtered_covariances[index], alone.filtered_covariances)
        assert result.log_likelihood[index] == alone.log_likelihood
        assert np.array_equal(smoothed.smoothed_means[index], rts_smoother(alone, F_CV).smoothed_means)


def test_nees_and_nis_are_consistent_over_seeded_monte_carlo_runs(kf_filter: Any) -> None:
    tracks, steps = 400, 30
    states, z = simulate(steps, seed=10, tracks=(tracks,))
    result = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV)
    error = states - result.filtered_means
    nees = np.einsum("...i,...i->...", error, np.linalg.solve(result.filtered_covariances, error[..., None])[..., 0])
    nis = np.einsum(
        "...i,...i->...",
        result.innovations,
        np.linalg.solve(result.innovation_covariances, result.innovations[..., None])[..., 0],
    )
    # Each is chi-square with n (or m) degrees of freedom; the mean of N = tracks * steps draws has
    # standard deviation sqrt(2 dof / N). Five of those is a false alarm about once in 3.5 million runs.
    for values, dof in ((nees, 4), (nis, 2)):
        assert abs(values.mean() - dof) <= 5 * math.sqrt(2 * dof / values.size)
    # negative control: a filter that believes R is 10x smaller is inconsistent
    wrong = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV / 10)
    wrong_nis = np.einsum(
        "...i,...i->...",
        wrong.innovations,
        np.linalg.solve(wrong.innovation_covariances, wrong.innovations[..., None])[..., 0],
    )
    assert abs(wrong_nis.mean() - 2) > 5 * math.sqrt(4 / wrong_nis.size)


# ---------------------------------------------------------------------------
# Validation once per call; errors name the argument, the step and the track
# ---------------------------------------------------------------------------


def test_an_indefinite_innovation_covariance_names_the_step_and_the_track(kf_filter: Any) -> None:
    _, z = simulate(5, seed=11, tracks=(3,))
    indefinite = np.eye(4)
    indefinite[0, 1] = indefinite[1, 0] = 2.0
    with pytest.raises(ValueError, match="P0 must be positive semi-definite"):
        kf_filter(z, X0, indefinite, F_CV, Q_CV, H_CV, R_CV)
    # R = 0, and P0 = 0 for track 1 only: S = H P0 H^T + R = 0 there at the very first step
    priors = np.broadcast_to(P0, (3, 4, 4)).copy()
    priors[1] = 0.0
    with pytest.raises(ValueError, match=r"not positive definite at step 0 for track \(1,\)"):
        kf_filter(z, X0, priors, F_CV, Q_CV, H_CV, np.zeros((2, 2)))
    # ... and at a later step: with Q = R = 0 and no velocity uncertainty, track 1 knows its state exactly
    # after step 0, so its S is 0 at step 1 (the other tracks keep a velocity variance)
    priors[1] = np.diag([1.0, 1.0, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"not positive definite at step 1 for track \(1,\)"):
        kf_filter(z, X0, priors, F_CV, np.zeros((4, 4)), H_CV, np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"z": np.ones((5, 3))}, "z has size 3"),
        ({"z": np.ones(5)}, "z must be measurements"),
        ({"z": [[np.nan, 0.0]]}, "z must be finite"),
        ({"x0": np.ones(3)}, "x0 has size 3"),
        ({"F": np.ones((4, 3))}, "F"),
        ({"Q": -np.eye(4)}, "Q must have a nonnegative diagonal"),
        ({"R": [[1.0, 2.0], [2.0, 1.0]]}, "R must be positive semi-definite"),
        ({"H": np.ones((3, 4))}, "H rows has size 3"),
        ({"time_varying": "G"}, "time_varying names model arguments"),
        ({"time_varying": "F"}, "F is time-varying"),
        ({"time_varying": "H", "H": np.ones((4, 2, 4))}, "one entry per measurements"),
    ],
)
def test_bad_arguments_are_named(kf_filter: Any, changes: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"z": np.ones((5, 2)), "x0": X0, "P0": P0, "F": F_CV, "Q": Q_CV, "H": H_CV, "R": R_CV}
    arguments |= changes
    time_varying = arguments.pop("time_varying", ())
    with pytest.raises(ValueError, match=message):
        kf_filter(**arguments, time_varying=time_varying)


def test_smoother_refuses_what_is_not_a_filter_result(kf_filter: Any) -> None:
    with pytest.raises(TypeError, match="filtered must be the FilterResult"):
        rts_smoother((np.zeros((3, 4)),), F_CV)  # type: ignore[arg-type]
    result = kf_filter(np.ones((3, 2)), X0, P0, F_CV, Q_CV, H_CV, R_CV)
    assert isinstance(result, FilterResult)
    with pytest.raises(ValueError, match="rts_smoother takes only F"):
        rts_smoother(result, F_CV, time_varying="Q")


# ---------------------------------------------------------------------------
# The two backends
# ---------------------------------------------------------------------------


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="needs numba")
def test_compiled_and_numpy_backends_agree_to_rounding_with_masks_and_batches() -> None:
    _, z = simulate(40, seed=12, tracks=(5, 3))
    masked = np.ma.masked_array(z, mask=np.random.default_rng(12).random(z.shape) < 0.25)
    for data in (z, masked):
        compiled = _kf_filter(data, X0, P0, F_CV, Q_CV, H_CV, R_CV, backend="numba")
        reference = _kf_filter(data, X0, P0, F_CV, Q_CV, H_CV, R_CV, backend="numpy")
        for name in FilterResult._fields:
            got, want = np.asarray(getattr(compiled, name), float), np.asarray(getattr(reference, name), float)
            assert got.shape == want.shape, name
            # the sums run in another order: rounding only, relative to each output's scale
            assert_close(got, want, 1e-12) if np.any(want) else np.testing.assert_array_equal(got, want)


def test_backend_is_checked() -> None:
    with pytest.raises(ValueError, match="backend must be"):
        _kf_filter(np.ones((3, 2)), X0, P0, F_CV, Q_CV, H_CV, R_CV, backend="jax")
    if importlib.util.find_spec("numba") is not None:
        with pytest.raises(ValueError, match="shared by all tracks"):
            _kf_filter(np.ones((2, 3, 2)), X0, P0, np.stack([F_CV, F_CV]), Q_CV, H_CV, R_CV, backend="numba")
    # auto falls back to NumPy for per-track matrices, and still gives the answer
    result = _kf_filter(np.ones((2, 3, 2)), X0, P0, np.stack([F_CV, F_CV]), Q_CV, H_CV, R_CV)
    assert result.filtered_means.shape == (2, 3, 4)


# ----------------------------------------------------------------------------- regressions: the independent attack


@pytest.mark.parametrize(
    ("args", "step", "track"),
    [
        (([[1.0]], [0.0], [[1.7e308]], [[1.0]], [[0.0]], [[1.0]], [[1.7e308]]), 0, ""),  # S = P + R overflows
        (([[1.0], [1.0]], [0.0], [[1.0]], [[1e200]], [[0.0]], [[1.0]], [[1.0]]), 1, ""),  # the predicted variance
        (([[1.0], [1e300]], [0.0], [[1.0]], [[1.0]], [[0.0]], [[1e10]], [[1.0]]), 1, ""),  # y^T S^-1 y: log-likelihood
        (
            (np.ones((2, 3, 1)), [[0.0], [0.0]], [[[1.0]], [[1e308]]], [[1.0]], [[0.0]], [[1.0]], [[1e308]]),
            0,
            " for track (1,)",
        ),
    ],
)
def test_attack_6_overflow_raises_naming_step_and_track(
    kf_filter: Any, args: tuple[Any, ...], step: int, track: str
) -> None:
    """Every returned quantity finite, or an OverflowError naming the step (and track): never inf returned silently."""
    with pytest.raises(OverflowError, match=rf"at step {step}{re.escape(track)}:"):
        kf_filter(*args)


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="needs numba")
def test_attack_17_backends_agree_where_a_masked_component_overflows() -> None:
    """H x of a masked component overflows: it is missing, not NaN (the compiled loop multiplied inf by 0)."""
    z = np.ma.masked_array([[1.0, 0.0], [1.0, 0.0]], mask=[[False, True], [False, True]])
    H = [[0.0, 1.0], [1e10, 0.0]]
    results = [
        _kf_filter(z, [1e300, 0.0], np.eye(2), np.eye(2), np.zeros((2, 2)), H, np.eye(2), backend=backend)
        for backend in ("numpy", "numba")
    ]
    for name in FilterResult._fields:
        got, want = (np.asarray(getattr(result, name), float) for result in results)
        assert np.isfinite(want).all(), name
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=name)
    # H P H^T of a masked component overflows: its S is returned, so both backends refuse at step 0
    for backend in ("numpy", "numba"):
        with pytest.raises(OverflowError, match="at step 0:"):
            _kf_filter(z, [0.0, 0.0], np.diag([1e300, 1.0]), np.eye(2), np.zeros((2, 2)), H, np.eye(2), backend=backend)


def test_attack_7_kf_filter_with_subnormal_covariances(kf_filter: Any) -> None:
    """P0 and R subnormal: the gain from S scaled to unit diagonal, the log-likelihood apart (was OverflowError)."""
    result = kf_filter([[1e-155]], [0.0], [[1e-310]], [[1.0]], [[0.0]], [[1.0]], [[1e-310]])
    assert math.isclose(result.filtered_means[0, 0], 5e-156, rel_tol=1e-15)
    assert abs(result.filtered_covariances[0, 0, 0] - 5e-311) <= 4 * 5e-324
    # log N(1e-155; 0, 2e-310) = -(log 2 pi + log 2e-310 + 1e-310 / 2e-310) / 2
    exact = -0.5 * (math.log(2 * math.pi) + math.log(2.0) + math.log(1e-310) + 0.5)
    assert math.isclose(result.log_likelihood, exact, rel_tol=1e-12)
    # y^T S^-1 y beyond the largest double: the log-likelihood is, too: OverflowError at that step, not -inf
    with pytest.raises(OverflowError, match="at step 0:"):
        kf_filter([[1.0]], [0.0], [[1e-310]], [[1.0]], [[0.0]], [[1.0]], [[1e-310]])


def test_attack_rts_smoother_with_badly_scaled_covariances() -> None:
    """Variances from 1e-314 to 1e217: the gain from P_t+1|t scaled to unit diagonal (was NaN and a warning)."""
    S1 = np.array(
        [
            [3.50016948988958e-95, -4.457299902401639e-99, 3.031126757831957e61],
            [-4.457299902401639e-99, 1.7234642882359803e-102, 4.5106082990174e57],
            [3.031126757831957e61, 4.5106082990174e57, 8.6868949537461e217],
        ]
    )
    S2 = np.array(
        [
            [1.6243878862815913e-43, 4.9518958441293624e-179, 5.368168071388234e-141],
            [4.9518958441293624e-179, 3.1677831577e-314, -4.632931331296465e-276],
            [5.368168071388234e-141, -4.632931331296465e-276, 2.775306535801783e-237],
        ]
    )
    x = np.array([5.518288440763508e-49, -3.1230721700408636e-51, 4.110877957190933e108])
    filtered = _kf_filter(np.stack([x[:2], x[:2]]), x, S1, np.eye(3), S2, np.eye(3)[:2], S2[:2, :2], backend="numpy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        smoothed = rts_smoother(filtered, np.eye(3))
    assert np.isfinite(smoothed.smoothed_means).all() and np.isfinite(smoothed.smoothed_covariances).all()
    assert (np.diagonal(smoothed.smoothed_covariances, axis1=-2, axis2=-1) >= 0).all()
    np.testing.assert_array_equal(smoothed.smoothed_means[-1], filtered.filtered_means[-1])


def test_attack_15_gain_from_the_cholesky_factor_never_an_lu_failure(kf_filter: Any) -> None:
    """A badly scaled S whose scaled Cholesky factor exists: the gain comes from that factor (an LU solve of the
    scaled S met an exactly zero pivot: "singular to working precision"); both backends agree."""
    z = np.ma.masked_array(
        [
            [-0.4964185614735625, -0.29234090381158373],
            [0.09866090688428263, 0.3859399427193206],
            [0.018419949037985026, -0.09968204579505456],
            [-0.08259756031280842, -0.35793489413912827],
        ],
        mask=[[False, True], [False, False], [False, False], [True, False]],
    )
    x0 = [-4764555.21057033, -1021708.2924244462, 25210149.144313868]
    P0 = [
        [1.0755626169722205e50, -879743143.6925714, -4.385390148989216e-37],
        [-879743143.6925714, 4.330621078034272e-32, -1.9027150605056152e-77],
        [-4.385390148989216e-37, -1.9027150605056152e-77, 2.4190062734542645e-122],
    ]
    F = [
        [-7.231571546103306, 8.727344122911914, -10.973768310977498],
        [-4.098237828364538, -6.803169288388195, 9.68166561608562],
        [-8.575864015016075, 4.477398622355865, 4.146919602856526],
    ]
    Q = [
        [9.30232113740511e-174, 5.0222827620639184e-15, 1.1588095147776506e-150],
        [5.0222827620639184e-15, 1.2910761268692608e145, 496595589.73841506],
        [1.1588095147776506e-150, 496595589.73841506, 1.6271752306807482e-127],
    ]
    H = [
        [6.478670199974671e20, 1.706229294840989e20, 3.968105431253838e20],
        [-5.372408296443663e19, -1.3585863121284905e20, 1.0540717059780837e21],
    ]
    R = [[1.3469373786986389e104, -1.6099152360039677e47], [-1.6099152360039677e47, 4.898126813558407e-10]]
    result = kf_filter(z, x0, P0, F, Q, H, R)
    assert math.isclose(result.log_likelihood, -1156.3644291884107, rel_tol=1e-9)


def test_attack_14_total_log_likelihood_beyond_the_doubles_is_an_overflow_error(kf_filter: Any) -> None:
    """Every step's term is finite (-8.45e307) but their sum is not: OverflowError naming the track, never -inf."""
    z = np.full((3, 1), 1.3e154)
    with pytest.raises(OverflowError, match="total log-likelihood"):
        kf_filter(z, [0.0], [[1e-300]], [[1.0]], [[1e-300]], [[1.0]], [[1.0]])
    with pytest.raises(OverflowError, match=r"total log-likelihood .* for track \(0,\)"):
        kf_filter(np.stack([z, np.zeros((3, 1))]), [0.0], [[1e-300]], [[1.0]], [[1e-300]], [[1.0]], [[1.0]])


def test_attack_14_an_informative_measurement_keeps_the_joseph_update_accurate(kf_filter: Any) -> None:
    """P H^2 / R up to 1e20: the Joseph form's I - K H is then mostly rounding residue, and its error grows as
    eps^2 P H^2 / R (the documented limit). The compiled loop used to multiply by reciprocals of the pivots and
    lost 1e-9 at 1e20 (the NumPy backend 1e-16); both now divide. Exact: P R / (H^2 P + R)."""
    from fractions import Fraction

    rng = np.random.default_rng(14)
    for P0, bound in ((1e8, 1e-15), (1e12, 1e-15), (1e16, 1e-13), (1e20, 1e-9)):
        for _ in range(20):
            H, R = rng.uniform(-3.0, 3.0), rng.uniform(0.1, 10.0)
            exact = float(Fraction(P0) * Fraction(R) / (Fraction(H) ** 2 * Fraction(P0) + Fraction(R)))
            got = kf_filter([[0.5]], [0.0], [[P0]], [[1.0]], [[0.0]], [[H]], [[R]]).filtered_covariances.item()
            assert abs(got - exact) <= bound * exact, (P0, H, R, got, exact)


def test_attack_14_subnormal_covariances_factor_the_scaled_s_on_both_backends(kf_filter: Any) -> None:
    """Covariances of 1e-321: S is factored scaled to unit diagonal (the compiled loop factored S itself, its
    subnormal products lost 0.5 % of the step-0 mean, exactly -0.5 sqrt(s) here)."""
    s = 1e-321
    P0, R = np.array([[1.0, 0.5], [0.5, 1.0]]) * s, np.array([[1.0, 0.5], [0.5, 1.0]]) * s
    z = np.array([[1.0, -1.0]]) * math.sqrt(s)
    result = kf_filter(z, np.zeros(2), P0, np.eye(2), P0, np.eye(2), R)
    # x+ = P (P + R)^-1 z with P = R: z / 2, exactly representable
    np.testing.assert_allclose(result.filtered_means[0] / math.sqrt(s), [0.5, -0.5], rtol=1e-9, atol=0)


def test_filter_outputs_are_fresh_writeable_arrays(kf_filter: Any) -> None:
    _, z = simulate(5, seed=44, tracks=(2,))
    result = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV)
    for name in ("predicted_means", "filtered_means", "filtered_covariances", "log_likelihoods", "observed"):
        assert getattr(result, name).flags.writeable, name
