"""rts_smoother's two backends: the generated Numba backward pass and the batched NumPy one.

They agree to rounding on every shape the compiled pass takes (one track, batches, masked
measurements, time-varying F), raise the same errors for the same inputs (the NumPy validator
words every input error), and the compiled pass is refused where it cannot run.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np
import pytest

from kfsym.numeric import FilterResult, kf_filter, rts_smoother
from tests.test_sequence import F_CV, H_CV, P0, Q_CV, R_CV, X0, assert_close, simulate

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="needs numba")


def both(result: FilterResult, F: Any, **options: Any) -> tuple[Any, Any]:
    return (
        rts_smoother(result, F, backend="numba", **options),
        rts_smoother(result, F, backend="numpy", **options),
    )


def assert_agree(compiled: Any, reference: Any) -> None:
    for got, want in zip(compiled, reference, strict=True):
        assert got.shape == want.shape
        # the compiled pass scales P_t+1|t by 1/sqrt(P_ii), NumPy by powers of two: rounding only
        assert_close(got, want, 1e-12) if np.any(want) else np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("tracks", [(), (6,), (2, 5)])
def test_backends_agree_for_one_track_and_batches(tracks: tuple[int, ...]) -> None:
    _, z = simulate(40, seed=41, tracks=tracks)
    result = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV)
    compiled, reference = both(result, F_CV)
    assert_agree(compiled, reference)
    assert compiled.smoother_gains.shape == (*tracks, 39, 4, 4)
    # the last smoothed step is the last filtered one, exactly
    np.testing.assert_array_equal(compiled.smoothed_means[..., -1, :], result.filtered_means[..., -1, :])


def test_backends_agree_with_masked_measurements_and_time_varying_F() -> None:
    _, z = simulate(30, seed=42, tracks=(4,))
    masked = np.ma.masked_array(z, mask=np.random.default_rng(42).random(z.shape) < 0.3)
    Fs = np.stack([F_CV * (1.0 + 0.01 * t) for t in range(29)])
    result = kf_filter(masked, X0, P0, Fs, Q_CV, H_CV, R_CV, time_varying="F")
    assert_agree(*both(result, Fs, time_varying="F"))


def test_one_step_has_no_gains_on_either_backend() -> None:
    result = kf_filter([[1.0, 2.0]], X0, P0, F_CV, Q_CV, H_CV, R_CV)
    compiled, reference = both(result, F_CV)
    assert compiled.smoother_gains.shape == reference.smoother_gains.shape == (0, 4, 4)
    np.testing.assert_array_equal(compiled.smoothed_covariances, result.filtered_covariances)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("filtered_means", np.full((2, 1), np.nan), "filtered.filtered_means must be finite"),
        ("predicted_means", np.full((2, 1), np.inf), "filtered.predicted_means must be finite"),
        ("filtered_covariances", -np.ones((2, 1, 1)), "filtered.filtered_covariances must have a nonnegative"),
        ("predicted_covariances", np.array([[[1.0]], [[np.nan]]]), "filtered.predicted_covariances must be finite"),
        ("filtered_covariances", np.ones((2, 2, 2)), "filtered.filtered_covariances has shape"),
    ],
)
def test_a_bad_input_gets_the_same_error_from_both_backends(field: str, value: Any, message: str) -> None:
    result = kf_filter([[1.0], [2.0]], [0.0], [[1.0]], [[1.0]], [[0.1]], [[1.0]], [[1.0]])
    for backend in ("numba", "numpy"):
        with pytest.raises(ValueError, match=message):
            rts_smoother(result._replace(**{field: value}), [[1.0]], backend=backend)


def test_an_asymmetric_or_indefinite_covariance_is_refused_by_both_backends() -> None:
    _, z = simulate(5, seed=43)
    result = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV)
    asymmetric = result.predicted_covariances.copy()
    asymmetric[3, 0, 1] += 1e-6
    indefinite = result.filtered_covariances.copy()
    indefinite[2, 0, 0] = -indefinite[2, 0, 0] * 0 + 1e-3  # |P_01| > sqrt(P_00 P_11): not semi-definite
    indefinite[2, 0, 1] = indefinite[2, 1, 0] = 1.0
    for changed, message in (
        (result._replace(predicted_covariances=asymmetric), "predicted_covariances must be symmetric"),
        (result._replace(filtered_covariances=indefinite), "filtered_covariances must be positive semi-definite"),
    ):
        for backend in ("numba", "numpy"):
            with pytest.raises(ValueError, match=message):
                rts_smoother(changed, F_CV, backend=backend)


def test_a_singular_prediction_is_the_same_error_on_both_backends() -> None:
    """F = 0 and Q = 0 make P_1|0 = 0: the smoother gain is not unique at step 1."""
    result = kf_filter([[1.0], [2.0], [3.0]], [0.0], [[1.0]], [[0.0]], [[0.0]], [[1.0]], [[1.0]])
    for backend in ("numba", "numpy"):
        with pytest.raises(ValueError, match="P_t\\+1\\|t at step 2 is singular"):
            rts_smoother(result, [[0.0]], backend=backend)


def test_a_prediction_singular_to_working_precision_is_refused_on_both_backends() -> None:
    """P0 = 1e300 I, a position measurement: P_1|0 = 1e300 [[1, 1], [1, 1]] in doubles (exactly singular, though
    definite in exact arithmetic): both backends refuse it (they returned two different gains), while a P_t+1|t
    with condition number 2e10 is smoothed, the same on both to cond eps."""
    F, H = [[1.0, 1.0], [0.0, 1.0]], [[1.0, 0.0]]
    result = kf_filter([[0.0], [1.0], [2.0]], [0.0, 0.0], 1e300 * np.eye(2), F, np.eye(2), H, [[1.0]])
    assert np.linalg.det(result.predicted_covariances[1]) == 0.0
    for backend in ("numba", "numpy"):
        with pytest.raises(ValueError, match=r"step 1 is singular \(to working precision"):
            rts_smoother(result, F, backend=backend)
    # condition 2e10, far above the floor 4 n eps: smoothed on both, agreeing to cond eps
    result = kf_filter([[0.0], [1.0], [2.0]], [0.0, 0.0], np.eye(2), F, np.eye(2), H, [[1.0]])
    predicted = result.predicted_covariances.copy()
    predicted[1] = [[1.0, 1.0 - 1e-10], [1.0 - 1e-10, 1.0]]
    compiled, reference = both(result._replace(predicted_covariances=predicted), F)
    for got, want in zip(compiled, reference, strict=True):
        assert np.isfinite(got).all()
        assert_close(got, want, 2e10 * 2.0**-52 * 8)


def test_an_overflowing_smoothed_mean_is_the_same_error_on_both_backends() -> None:
    """x_1|T - x_1|0 beyond the largest double at the second of two tracks: OverflowError naming step and track."""
    result = kf_filter(np.zeros((2, 2, 1)), [0.0], [[1.0]], [[1.0]], [[1.0]], [[1.0]], [[1.0]])
    means, predicted = result.filtered_means.copy(), result.predicted_means.copy()
    means[1, 1, 0], predicted[1, 1, 0] = 1.7e308, -1.7e308
    changed = result._replace(filtered_means=means, predicted_means=predicted)
    for backend in ("numba", "numpy"):
        with pytest.raises(OverflowError, match=r"overflows at step 0 for track \(1,\)"):
            rts_smoother(changed, [[1.0]], backend=backend)


def test_backend_is_checked_and_numba_needs_a_shared_F() -> None:
    result = kf_filter(np.zeros((2, 3, 1)), [0.0], [[1.0]], [[1.0]], [[1.0]], [[1.0]], [[1.0]])
    with pytest.raises(ValueError, match="backend must be"):
        rts_smoother(result, [[1.0]], backend="jax")
    with pytest.raises(ValueError, match="needs F shared by all tracks"):
        rts_smoother(result, np.ones((2, 1, 1)), backend="numba")
    # auto takes the NumPy pass for per-track F, with the same answer as the compiled one for a shared F
    assert_agree(rts_smoother(result, np.ones((2, 1, 1))), rts_smoother(result, [[1.0]], backend="numba"))


# ---------------------------------------------------------------------------
# Found by an independent attack on both backends (issue 14)
# ---------------------------------------------------------------------------

F2 = [[1.0, 1.0], [0.0, 1.0]]


def small_result() -> FilterResult:
    return kf_filter([[1.0], [2.1], [2.9]], [0.0, 1.0], np.eye(2), F2, 0.01 * np.eye(2), [[1.0, 0.0]], [[0.5]])


@pytest.mark.parametrize("steps", [3, 1])
def test_step_0_predicted_moments_are_inputs_checked_by_both_backends(steps: int) -> None:
    """They are never used by the backward pass, but they are part of the input: refused alike (was accepted by
    the compiled pass)."""
    result = small_result()
    result = result._replace(**{name: getattr(result, name)[:steps] for name in FilterResult._fields[:4]})
    nan_cov, inf_mean = result.predicted_covariances.copy(), result.predicted_means.copy()
    nan_cov[0, 0, 0], inf_mean[0, 1] = np.nan, np.inf
    indefinite = result.predicted_covariances.copy()
    indefinite[0] = [[1.0, 2.0], [2.0, 1.0]]
    for changed, message in (
        (result._replace(predicted_covariances=nan_cov), "predicted_covariances must be finite"),
        (result._replace(predicted_means=inf_mean), "predicted_means must be finite"),
        (result._replace(predicted_covariances=indefinite), "predicted_covariances must be positive semi-definite"),
    ):
        for backend in ("numba", "numpy", "auto"):
            with pytest.raises(ValueError, match=message):
                rts_smoother(changed, F2, backend=backend)


def test_the_compiled_check_is_never_more_lenient_than_the_validator() -> None:
    """A filtered covariance at the semi-definite tolerance's edge (found by bisection): the validator refuses it,
    so both backends do (the compiled pass's shift was the validator's, with another rounding)."""
    base = kf_filter([[1.0], [2.0]], [0.0, 0.0], np.eye(2), np.eye(2), np.eye(2), [[1.0, 0.0]], [[0.5]])
    edge = np.array(
        [
            [float.fromhex("0x1.32917e7cfbb11p+6"), float.fromhex("0x1.37ece71975ef1p+1")],
            [float.fromhex("0x1.37ece71975ef1p+1"), float.fromhex("0x1.3d6046968140ap-4")],
        ]
    )
    covs = base.filtered_covariances.copy()
    covs[0] = edge
    for backend in ("numba", "numpy"):
        with pytest.raises(ValueError, match="filtered_covariances must be positive semi-definite"):
            rts_smoother(base._replace(filtered_covariances=covs), np.eye(2), backend=backend)
    # just inside the validator's tolerance, but not the compiled check's: the validator accepts, NumPy smooths
    inside = edge.copy()
    inside[1, 1] *= 1 + 1e-9
    covs[0] = inside
    assert_agree(*both(base._replace(filtered_covariances=covs), np.eye(2)))


def test_an_indefinite_prediction_within_the_tolerance_has_no_gain_on_either_backend() -> None:
    """P_1|0 with eigenvalue -1e-11 passes covariance(definite=False) but has no Cholesky factor: both backends
    refuse it (the NumPy backend's LU solve returned gains of 5e10)."""
    result = kf_filter([[1.0], [2.0]], [0.0, 0.0], np.eye(2), np.eye(2), 0.01 * np.eye(2), [[1.0, 0.0]], [[0.5]])
    predicted = result.predicted_covariances.copy()
    predicted[1] = [[1.0, 1.0 + 1e-11], [1.0 + 1e-11, 1.0]]
    for backend in ("numba", "numpy"):
        with pytest.raises(ValueError, match=r"step 1 is singular .* or indefinite"):
            rts_smoother(result._replace(predicted_covariances=predicted), np.eye(2), backend=backend)


def test_the_compiled_smoother_reads_a_compiled_filter_result_in_place() -> None:
    """The moments of a compiled filter run are read from its output where they are (no copies): the answer is
    the same as from copies, a change made through the returned arrays is seen, and a bad one is refused."""
    from kfsym.numeric import sequence

    _, z = simulate(20, seed=45, tracks=(3, 2))
    result = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV, backend="numba")
    assert all(
        sequence._compiled_origin(getattr(result, name)) is not None
        for name in ("filtered_means", "filtered_covariances", "predicted_means", "predicted_covariances")
    )
    copies = result._replace(**{name: np.array(getattr(result, name)) for name in FilterResult._fields[:4]})
    assert sequence._compiled_origin(copies.filtered_means) is None
    in_place = rts_smoother(result, F_CV, backend="numba")
    for got, want in zip(in_place, rts_smoother(copies, F_CV, backend="numba"), strict=True):
        np.testing.assert_array_equal(got, want)
    assert_agree(in_place, rts_smoother(copies, F_CV, backend="numpy"))
    # a change through the returned view is what the smoother reads
    result.filtered_means[1, 0, 5, 0] += 1.0
    moved = rts_smoother(result, F_CV, backend="numba")
    assert moved.smoothed_means[1, 0, 5, 0] != in_place.smoothed_means[1, 0, 5, 0]
    assert_agree(moved, rts_smoother(result, F_CV, backend="numpy"))
    result.filtered_covariances[2, 1, 7, 0, 0] = -1.0
    with pytest.raises(ValueError, match=r"filtered\.filtered_covariances must have a nonnegative diagonal"):
        rts_smoother(result, F_CV, backend="numba")
