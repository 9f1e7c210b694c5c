"""expectation / variance / std / covariance / correlation, the CLT helper: vs NumPy, Monte Carlo, bad input."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from kfsym.numeric import cdf as normal_cdf
from kfsym.numeric import (
    clt_limit,
    clt_sample_means,
    correlation,
    covariance,
    expectation,
    std,
    variance,
)
from tests.tolerance import assert_rel

finite_values = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
samples = hnp.arrays(np.float64, st.integers(2, 40), elements=finite_values)
matrices = hnp.arrays(
    np.float64, st.tuples(st.integers(1, 4), st.integers(2, 30)), elements=st.floats(-1e3, 1e3, allow_nan=False)
)


def close(actual: Any, expected: Any, scale: float) -> None:
    # Two-pass sums of n terms of size <= scale: error bound ~ n * eps * scale^2 (absolute).
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12 * scale)


# ----------------------------------------------------------------------------- against NumPy
@given(samples, st.sampled_from([0, 1]))
def test_variance_and_std_match_numpy(x: np.ndarray, ddof: int) -> None:
    scale = float(np.max(np.abs(x))) ** 2 + 1
    close(variance(x, ddof=ddof), np.var(x, ddof=ddof), scale * x.size)
    close(std(x, ddof=ddof) ** 2, np.std(x, ddof=ddof) ** 2, scale * x.size)
    close(expectation(x), np.mean(x), math.sqrt(scale))


@given(matrices)
def test_covariance_matches_numpy_cov_including_bias(x: np.ndarray) -> None:
    scale = (float(np.max(np.abs(x))) ** 2 + 1) * x.shape[1]
    close(covariance(x), np.cov(x), scale)
    close(covariance(x, ddof=0), np.cov(x, bias=True), scale)
    result = covariance(x)
    if isinstance(result, np.ndarray):
        np.testing.assert_array_equal(result, result.T)  # exactly symmetric


@given(
    hnp.arrays(np.float64, 12, elements=st.floats(-100, 100)), hnp.arrays(np.float64, 12, elements=st.floats(-100, 100))
)
def test_the_tutorials_cov_pair(x: np.ndarray, y: np.ndarray) -> None:
    """np.cov(x, y) (1/(N-1)) and np.cov(x, y, bias=1) (1/N), as in the tutorial."""
    scale = 1e4 * 12
    close(covariance(x, y), np.cov(x, y), scale)
    close(covariance(x, y, ddof=0), np.cov(x, y, bias=1), scale)
    np.testing.assert_allclose(covariance(x, y, ddof=0), covariance(x, y) * 11 / 12, rtol=1e-12, atol=1e-9)


@st.composite
def spread_matrices(draw: st.DrawFn) -> np.ndarray:
    """Rows that are not near-constant by construction: one column lifted 10 to 1000 above its row's maximum.

    Near-constant rows make correlation ill-conditioned (constant ones are rejected, tested below); building
    every row with a spread, instead of returning early on the ones without, keeps every example.
    """
    x = draw(matrices).copy()
    gaps = draw(hnp.arrays(np.float64, x.shape[0], elements=st.floats(10.0, 1e3)))
    column = draw(st.integers(0, x.shape[1] - 1))
    x[:, column] = x.max(axis=1) + gaps
    return x


@given(spread_matrices())
def test_correlation_matches_corrcoef_and_is_bounded(x: np.ndarray) -> None:
    spread = np.ptp(x, axis=1)
    assert (spread >= 1e-3 * (np.max(np.abs(x), axis=1) + 1)).all()  # the strategy's promise: no example discarded
    rho = np.atleast_2d(correlation(x))
    np.testing.assert_allclose(rho, np.atleast_2d(np.corrcoef(x)), rtol=1e-9, atol=1e-9)
    assert np.all(np.abs(rho) <= 1.0)
    np.testing.assert_array_equal(np.diag(rho), 1.0)


def test_weighted_expectation_and_variance_use_the_proved_sums() -> None:
    values, p = np.array([3.0, 1.0, 2.0]), np.array([0.1, 0.3, 0.6])
    assert_rel(expectation(values, p), 0.3 + 0.3 + 1.2, 1e-15)
    mean = 1.8
    assert_rel(variance(values, p), float(np.sum(p * (values - mean) ** 2)), 1e-14)
    # E[X^2] - E[X]^2 form (moments.variance_moments) gives the same value here
    assert_rel(variance(values, p), float(np.sum(p * values**2)) - mean**2, 1e-12)
    assert_rel(std(values, p), math.sqrt(variance(values, p)), 1e-15)


def test_weighted_variance_with_equal_weights_is_the_population_variance() -> None:
    x = np.array([1.0, 4.0, 9.0, 16.0])
    assert_rel(variance(x, np.full(4, 0.25)), np.var(x), 1e-14)


def test_axis_reduction_like_numpy() -> None:
    x = np.arange(12.0).reshape(3, 4) ** 1.5
    np.testing.assert_allclose(variance(x, ddof=1, axis=1), np.var(x, ddof=1, axis=1), rtol=1e-13)
    np.testing.assert_allclose(expectation(x, axis=0), np.mean(x, axis=0), rtol=1e-14)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(expectation(x, p, axis=1), x @ p, rtol=1e-14)


def test_scalar_results_are_floats() -> None:
    assert type(expectation([1, 2])) is float
    assert type(variance([1, 2])) is float
    assert type(covariance([1.0, 2.0, 4.0])) is float
    assert_rel(covariance([1.0, 2.0, 4.0]), np.cov([1.0, 2.0, 4.0]), 1e-15)
    assert_rel(covariance([1.0, 2.0, 4.0]), 7 / 3, 1e-15)  # exact: deviations -4/3, -1/3, 5/3


def test_inputs_are_not_modified() -> None:
    x = np.array([[1.0, 2.0, 3.0], [2.0, 1.0, 0.5]])
    copy = x.copy()
    covariance(x)
    correlation(x)
    variance(x, axis=1)
    np.testing.assert_array_equal(x, copy)


# ----------------------------------------------------------------------------- Monte Carlo
def test_sample_variance_is_unbiased_and_population_variance_biased_by_minus_sigma2_over_n() -> None:
    """Seeded; tolerances from the estimators' standard errors (4 SE, two-sided p ~ 6e-5)."""
    trials, size, sigma2 = 40_000, 5, 4.0
    draws = np.random.default_rng(20261125).normal(3.0, math.sqrt(sigma2), size=(trials, size))
    unbiased = np.asarray(variance(draws, ddof=1, axis=1))
    population = np.asarray(variance(draws, ddof=0, axis=1))
    # Var(s^2) = 2 sigma^4/(N - 1) for Gaussian draws; the 1/N estimator is s^2 (N-1)/N.
    se_unbiased = math.sqrt(2 * sigma2**2 / (size - 1) / trials)
    se_population = se_unbiased * (size - 1) / size
    assert abs(unbiased.mean() - sigma2) < 4 * se_unbiased
    assert abs(population.mean() - (sigma2 - sigma2 / size)) < 4 * se_population
    assert sigma2 - population.mean() > 0.8 * sigma2 / size  # the bias is really there (it is 20 SE)


# ----------------------------------------------------------------------------- CLT helper
def test_clt_sample_means_follow_the_proved_limit() -> None:
    """Kolmogorov-Smirnov at significance 0.01 against N((a+b)/2, (b-a)^2/(12N)), fixed seed."""
    means = clt_sample_means(2000, 1000, seed=11)
    limit = clt_limit(1000)
    assert limit.mean == 5.5
    assert_rel(limit.var, 81 / 12 / 1000, 1e-15)
    result = stats.kstest(means, lambda v: normal_cdf(v, limit.mean, limit.var))
    assert result.pvalue > 0.01
    # moments: mean within 4 standard errors, variance within 4 SE of a chi-square ratio
    assert abs(means.mean() - limit.mean) < 4 * math.sqrt(float(limit.var) / means.size)
    assert abs(means.var(ddof=1) / float(limit.var) - 1) < 4 * math.sqrt(2 / (means.size - 1))


def test_clt_sample_means_are_reproducible_and_seed_dependent() -> None:
    first = clt_sample_means(50, 100, seed=3)
    np.testing.assert_array_equal(first, clt_sample_means(50, 100, seed=3))
    assert not np.array_equal(first, clt_sample_means(50, 100, seed=4))
    # chunked generation gives the same stream as one block
    block = np.random.default_rng(3).uniform(1.0, 10.0, size=(50, 100)).mean(axis=1)
    np.testing.assert_array_equal(first, block)


def test_clt_limit_other_interval() -> None:
    limit = clt_limit(4, low=0.0, high=2.0)
    assert limit.mean == 1.0
    assert_rel(limit.var, 4 / 48, 1e-15)  # (b - a)^2 / (12 N) = 4/48


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: expectation([3, 1, 2], [0.1, 0.3, 0.4]), ValueError, r"sum to 1 .*they sum to 0\.8"),
        (lambda: expectation([1, 2], [1.5, -0.5]), ValueError, r"p must be non-negative"),
        (lambda: expectation([1, 2], [0.5, 0.5, 0.0]), ValueError, r"p has shape \(3,\) but x has shape \(2,\)"),
        (lambda: expectation([1, 2], [0.5, float("nan")]), ValueError, r"p must be finite"),
        (lambda: expectation([], None), ValueError, r"x is empty"),
        (lambda: expectation([1, float("nan")]), ValueError, r"x must be finite"),
        (lambda: expectation([[1, 2], [3]]), ValueError, r"x must be a rectangular array"),
        (lambda: expectation(["a", "b"]), TypeError, r"x must be real numbers"),
        (lambda: expectation([1j, 2]), TypeError, r"x must be real"),
        (lambda: expectation([1, 2], axis=2), ValueError, r"axis 2 is out of bounds"),
        (lambda: expectation([1, 2], axis=0.5), TypeError, r"axis must be an int"),
        (lambda: variance([1, 2, 3], ddof=3), ValueError, r"ddof=3 must be smaller than the number of samples N=3"),
        (lambda: variance([1.0], ddof=1), ValueError, r"ddof=1 must be smaller"),
        (lambda: variance([1, 2], ddof=-1), ValueError, r"ddof must be a finite number >= 0"),
        (lambda: variance([1, 2], ddof="1"), TypeError, r"ddof must be a number"),
        (lambda: variance([1, 2], [0.5, 0.5], ddof=1), ValueError, r"with probabilities p leave ddof=0"),
        (lambda: variance([1, float("inf")]), ValueError, r"x must be finite"),
        (lambda: std([1, 2], [0.2, 0.2]), ValueError, r"they sum to 0\.4"),
        (lambda: std([]), ValueError, r"x is empty"),
        (lambda: covariance([1, 2, 3], [1, 2]), ValueError, r"x has 3 observations but y has 2"),
        (lambda: covariance([1.0], ddof=1), ValueError, r"ddof=1 must be smaller than the number of samples N=1"),
        (lambda: covariance(np.zeros((2, 2, 2))), ValueError, r"x must be 1-D .* or 2-D"),
        (lambda: covariance([[1, 2], [3]]), ValueError, r"x must be a rectangular array"),
        (lambda: covariance([1, 2], [float("nan"), 1]), ValueError, r"y must be finite"),
        (lambda: covariance(np.empty((2, 0))), ValueError, r"x is empty"),
        (lambda: correlation([1, 1, 1], [1, 2, 3]), ValueError, r"variable 0 .* is constant"),
        (lambda: correlation([1.0]), ValueError, r"at least two observations"),
        (lambda: correlation([1, 2], ["a", "b"]), TypeError, r"y must be real numbers"),
        (lambda: clt_sample_means(0, 10), ValueError, r"n_samples must be at least 1"),
        (lambda: clt_sample_means(10, 2.5), TypeError, r"n_draws must be an integer"),
        (lambda: clt_sample_means(10, 10, low=5, high=1), ValueError, r"low must be smaller than high"),
        (lambda: clt_sample_means(10, 10, low=float("nan")), ValueError, r"low must be finite"),
        (lambda: clt_limit(True), TypeError, r"n_draws must be an integer"),
        (lambda: clt_limit(10, high=[1, 2]), ValueError, r"low and high must be scalars"),
    ],
)
def test_bad_input_is_a_clear_error(call: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()
