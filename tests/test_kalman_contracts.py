"""Contracts of kf_update's scalar (n = m = 1) path: exact answers at extreme scales, and which elements it takes.

The reference is the exact update computed with 60-digit mpmath; the scaled product path exists to get the
update right where P, R and H span the whole double range, so agreement there is the property tested.
"""

from __future__ import annotations

import itertools
import warnings

import mpmath
import numpy as np
import pytest

from kfsym.numeric import kf_update, multiply
from kfsym.numeric.kalman import _scalar_update

pytestmark = pytest.mark.filterwarnings("error")

EPS = 2.0**-52
TINY = 2.0**-1074  # the smallest subnormal: one ulp of a subnormal result


def _exact(x: float, p: float, z: float, h: float, r: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    """The exact posterior (mean, variance) of N(x, p) given z = h x + v, v ~ N(0, r), to 60 digits."""
    with mpmath.workdps(60):
        x_, p_, z_, h_, r_ = (mpmath.mpf(value) for value in (x, p, z, h, r))
        s = h_ * h_ * p_ + r_
        return (x_ * r_ + z_ * h_ * p_) / s, p_ * r_ / s


def _assert_exact(got: float, want: mpmath.mpf, what: str) -> None:
    error = abs(mpmath.mpf(got) - want)
    assert error <= 4 * EPS * abs(want) + 2 * TINY, f"{what}: got {got!r}, exact {mpmath.nstr(want, 17)}"


def _update(x: float, p: float, z: float, h: float, r: float) -> tuple[float, float]:
    result = kf_update(np.array([x]), np.array([[p]]), np.array([z]), np.array([[h]]), np.array([[r]]))
    return float(result.mean[0]), float(result.cov[0, 0])


SCALES = (1e-310, 1e-300, 1e-160, 3e-5, 1.0, 1e160, 1e300)
GAINS = (1e-300, 1e-160, 3.0, 1e160, 1e300)


def test_the_scalar_update_agrees_with_a_60_digit_mpmath_reference_from_1e_310_to_1e300() -> None:
    """x+ and P+ are the exact update to a few ulps for every P, R in 1e-310..1e300 and H in 1e-300..1e300."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for p, r, h in itertools.product(SCALES, SCALES, GAINS):
            x, z = 0.3, 1.7 * h
            mean, var = _update(x, p, z, h, r)
            want_mean, want_var = _exact(x, p, z, h, r)
            _assert_exact(mean, want_mean, f"mean at P={p}, R={r}, H={h}")
            _assert_exact(var, want_var, f"variance at P={p}, R={r}, H={h}")


@pytest.mark.parametrize(
    ("p", "h", "r"),
    [
        (1.7e308, 1e-300, 5e-324),  # R/H^2 = 4.9e276: R must not be scaled (and lost) before the division by H^2
        (1.7e308, 1e-160, 5e-324),  # R/H^2 = 4.9e-4
        (1.7e308, 1e-5, 1e-310),  # R/H^2 = 1e-300
        (1e300, 1e-300, 1e-310),
    ],
)
def test_a_subnormal_noise_variance_divided_by_a_tiny_h_squared_keeps_its_value(p: float, h: float, r: float) -> None:
    """With P near the largest double, R/H^2 (normal) is formed without first underflowing the subnormal R."""
    x, z = 0.3, 1.7 * h
    mean, var = _update(x, p, z, h, r)
    want_mean, want_var = _exact(x, p, z, h, r)
    _assert_exact(mean, want_mean, "mean")
    _assert_exact(var, want_var, "variance")


def test_the_scalar_path_takes_exactly_the_elements_with_positive_variances_and_nonzero_h() -> None:
    """_scalar_update marks an element eligible only where P > 0, R > 0 and H != 0 (R = 0 is the Joseph form's)."""
    mean = np.array([[0.3], [0.3], [0.3], [0.3]])
    cov = np.array([[[2.0]], [[0.0]], [[2.0]], [[2.0]]])
    measurement = np.array([[1.0], [1.0], [1.0], [1.0]])
    observation = np.array([[[3.0]], [[3.0]], [[0.0]], [[3.0]]])
    noise = np.array([[[0.0]], [[1.0]], [[1.0]], [[1.0]]])
    result = _scalar_update(mean, cov, measurement, observation, noise)
    assert result is not None
    np.testing.assert_array_equal(result[2], [False, False, False, True])
    mean_, var_ = _exact(0.3, 2.0, 1.0, 3.0, 1.0)
    _assert_exact(float(result[0][3]), mean_, "mean")
    _assert_exact(float(result[1][3]), var_, "variance")


def test_an_exact_measurement_gives_the_measured_state_and_zero_variance() -> None:
    """R = 0 (scalar): x+ = z/H and P+ = 0, elementwise beside a noisy element of the same batch."""
    result = kf_update([[0.3], [0.3]], [[[2.0]], [[2.0]]], [[1.5], [1.5]], [[[3.0]], [[3.0]]], [[[0.0]], [[1.0]]])
    assert float(result.mean[0, 0]) == pytest.approx(0.5, rel=4 * EPS, abs=0.0)
    assert float(result.cov[0, 0, 0]) == pytest.approx(0.0, abs=4 * EPS)
    want_mean, want_var = _exact(0.3, 2.0, 1.5, 3.0, 1.0)
    _assert_exact(float(result.mean[1, 0]), want_mean, "mean")
    _assert_exact(float(result.cov[1, 0, 0]), want_var, "variance")


def test_a_batch_of_states_shares_one_scalar_measurement_model() -> None:
    """x batched (3 states), P, z, H, R shared: each posterior is that state's own single update."""
    states = np.array([[0.0], [1.0], [-2.0]])
    result = kf_update(states, [[2.0]], [1.5], [[3.0]], [[1.0]])
    assert result.mean.shape == (3, 1)
    assert result.cov.shape == (3, 1, 1)
    for i, state in enumerate(states[:, 0]):
        want_mean, want_var = _exact(float(state), 2.0, 1.5, 3.0, 1.0)
        _assert_exact(float(result.mean[i, 0]), want_mean, f"mean {i}")
        _assert_exact(float(result.cov[i, 0, 0]), want_var, f"variance {i}")


def test_two_batch_axes_update_each_element_on_its_own() -> None:
    """P, x, z, R of batch shape (2, 3) with n = m = 2: each element is the single update of its own arguments."""
    rng = np.random.default_rng(7)
    factor = rng.normal(size=(2, 3, 2, 2))
    cov = factor @ np.swapaxes(factor, -1, -2) + np.eye(2)
    state, measurement = rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 3, 2))
    observation = np.array([[1.0, 0.5], [0.0, 2.0]])
    noise = np.broadcast_to(np.array([[0.5, 0.1], [0.1, 0.3]]), (2, 3, 2, 2)).copy()
    result = kf_update(state, cov, measurement, observation, noise)
    assert result.mean.shape == (2, 3, 2)
    assert result.cov.shape == (2, 3, 2, 2)
    for i, j in itertools.product(range(2), range(3)):
        single = kf_update(state[i, j], cov[i, j], measurement[i, j], observation, noise[i, j])
        np.testing.assert_allclose(result.mean[i, j], single.mean, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(result.cov[i, j], single.cov, rtol=1e-13, atol=1e-13)


def test_a_large_batch_of_1d_updates_is_exactly_multiply() -> None:
    """n = m = 1, H = 1 in a batch big enough for the compiled loop: every element is exactly numeric.multiply."""
    rng = np.random.default_rng(11)
    count = 1 << 15  # _jit.MIN_SIZE entries of P
    x, z = rng.normal(size=count), rng.normal(size=count)
    p, r = np.exp(rng.uniform(-20, 20, count)), np.exp(rng.uniform(-20, 20, count))
    result = kf_update(x[:, None], p[:, None, None], z[:, None], np.ones((1, 1)), r[:, None, None])
    for start in range(0, count, 4096):  # multiply in slices below its own compiled path's size
        part = slice(start, start + 4096)
        product = multiply(x[part], p[part], z[part], r[part])
        np.testing.assert_array_equal(result.mean[part, 0], product.mean)
        np.testing.assert_array_equal(result.cov[part, 0, 0], product.var)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([0.0, 0.0], np.eye(2), [1.0], [[1.0, 0.0, 0.0]], [[1.0]]), "H columns has size 3 but x, P have size 2"),
        (([0.0, 0.0], np.eye(2), [1.0, 2.0], np.ones((3, 2)), np.eye(2)), "H rows has size 3 but z, R have size 2"),
        ((np.zeros((3, 2)), np.eye(2), np.zeros((3, 1)), np.ones((4, 1, 2)), [[1.0]]), "x with shape .* and H with"),
    ],
)
def test_a_mismatched_observation_matrix_is_refused_naming_h(args: tuple[object, ...], message: str) -> None:
    """H's columns must match x and P, its rows z and R, its batch shape the others': a ValueError naming H."""
    with pytest.raises(ValueError, match=message):
        kf_update(*args)  # type: ignore[arg-type]


def test_shared_arguments_broadcast_over_a_batch_as_large_as_the_compiled_loop_s() -> None:
    """x, z unbatched, or H, R with a length-1 batch axis, over 8192 covariances: each element is its own update."""
    rng = np.random.default_rng(5)
    count = (1 << 15) // 4  # _jit.MIN_SIZE entries of P
    factor = rng.normal(size=(count, 2, 2))
    cov = factor @ np.swapaxes(factor, -1, -2) + np.eye(2)
    state, measurement = np.array([0.5, -1.0]), np.array([1.0, 2.0])
    observation, noise = np.array([[1.0, 0.5], [0.0, 2.0]]), np.array([[0.5, 0.1], [0.1, 0.3]])
    states, measurements = np.tile(state, (count, 1)), np.tile(measurement, (count, 1))
    for args in (
        (state, cov, measurement, observation, noise),
        (states, cov, measurement, observation, noise),
        (states, cov, measurements, observation[None], noise),
        (states, cov, measurements, observation, noise[None]),
    ):
        result = kf_update(*args)
        assert result.mean.shape == (count, 2)
        for i in (0, 1, count - 1):
            single = kf_update(state, cov[i], measurement, observation, noise)
            np.testing.assert_allclose(result.mean[i], single.mean, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(result.cov[i], single.cov, rtol=1e-12, atol=1e-12)


def test_a_zero_dimensional_state_is_refused_naming_x() -> None:
    """x must be a vector: a 0-d float64 array is a ValueError naming x (all arguments float64 arrays)."""
    with pytest.raises(ValueError, match="x"):
        kf_update(np.array(0.0), np.eye(2), np.zeros(2), np.eye(2), np.eye(2))
