"""Contracts of the moments' scaled paths: right answers at extreme scales, per row along an axis, silently.

The scaled paths (an overflowing sum, squares of deviations beyond 1.3e154 or below 2^-960) exist to give the
finite answer where the plain formula over- or underflows; they must do so for each row of an ``axis``
reduction on its own, and handle their over- and underflows themselves: no RuntimeWarning, and a caller's
``np.errstate(all="raise")`` does not turn an internal underflow into an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import mpmath
import numpy as np
import pytest

from kfsym.numeric import correlation, covariance, expectation, std, variance
from tests.tolerance import assert_rel

pytestmark = pytest.mark.filterwarnings("error")

DBL_MAX = float(np.finfo(np.float64).max)


@contextmanager
def _strict() -> Iterator[None]:
    """Every floating-point report an error: a RuntimeWarning or a FloatingPointError would fail the test."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        yield


REL = 1e-14  # the moments at extreme scales: a few ulps


def test_an_overflowing_sum_of_opposite_signs_gives_the_exact_mean_silently() -> None:
    """E[X] of +-1.5e308 (pairwise partial sums +inf and -inf) is exactly 0, with no invalid-value report."""
    with _strict():
        assert expectation(np.array([1.5e308, -1.5e308] * 8)) == 0.0
        # rescaling 1e-300 by 2^-1024 with the others underflows it: no report either
        assert expectation([1.5e308, 1.5e308, 1e-300]) == 1e308


def test_a_rescaled_mean_whose_big_terms_cancel_is_silent() -> None:
    """+-max double cancel and leave 2^-40/5: the subnormal scaled mean underflows inside, with no report."""
    with _strict():
        mean = expectation([DBL_MAX, DBL_MAX, -DBL_MAX, -DBL_MAX, 2.0**-40])
    assert mean == pytest.approx(2.0**-40 / 5, rel=2e-3, abs=1e-300)


def test_a_weighted_mean_beyond_the_largest_double_reports_no_runtime_warning() -> None:
    """p summing to 1 + 5e-10 over max doubles: E[X] exceeds the largest double; +inf or OverflowError, no warning."""
    with _strict():
        try:
            mean = expectation([DBL_MAX, DBL_MAX], p=[0.5 + 5e-10, 0.5])
        except OverflowError:
            return
    assert mean == float("inf")


def test_the_overflowing_mean_is_recomputed_per_row_along_an_axis() -> None:
    """expectation(axis=1): a row whose sum overflows is rescaled by its own power of two, the others untouched."""
    x = np.array([[1.5e308, 1.5e308, -1e308], [1e-300, 2e-300, 4e-300], [1.0, 2.0, 4.0]])
    with _strict():
        assert_rel(expectation(x, axis=1), [1.5e308 / 3 + 1.5e308 / 3 - 1e308 / 3, 7e-300 / 3, 7.0 / 3], rel=REL)
        assert_rel(expectation(x.T, axis=0), [1.5e308 / 3 + 1.5e308 / 3 - 1e308 / 3, 7e-300 / 3, 7.0 / 3], rel=REL)
        # a row whose own mean is subnormal is rescaled with the others and scaled back without a report
        cancelling = expectation([[1.5e308, 1.5e308, -1e308], [1e-300, -1e-300, 1e-310]], axis=1)
    assert float(np.asarray(cancelling)[1]) == pytest.approx(1e-310 / 3, rel=0.0, abs=2 * 2.0**-1074)


def test_the_weighted_mean_whose_sum_overflows_is_the_exact_weighted_mean_per_row() -> None:
    """p summing to 1 + 9e-10 (admitted) can overflow sum p x although E[X] = (1 - 1e-10) max double is finite."""
    p = [0.5, 0.5 + 4e-10, 5e-10]
    x = np.array([[DBL_MAX, DBL_MAX, -DBL_MAX], [1.0, 2.0, 4.0], [1e-300, 2e-300, 4e-300]])
    with mpmath.workdps(40):
        want = [float(sum(mpmath.mpf(pi) * mpmath.mpf(xi) for pi, xi in zip(p, row, strict=True))) for row in x]
    with _strict():
        assert_rel(expectation(x, p=p, axis=1), want, rel=REL)
        assert_rel(expectation(x[0], p=p), want[0], rel=REL)


def test_std_at_extreme_scales_is_right_for_each_row_on_its_own() -> None:
    """std(axis=1) rows 1e200 (squares overflow), 1e-300 (squares underflow) and 1 each get their own exact value."""
    with _strict():
        assert_rel(std([[1e200, -1e200], [1.0, 3.0]], axis=1), [1e200, 1.0], rel=REL)
        assert_rel(std([[1e-300, 3e-300], [1.0, 3.0]], axis=1), [1e-300, 1.0], rel=REL)
        assert_rel(std([[1.0, 3.0], [1e-300, 3e-300]], axis=1), [1.0, 1e-300], rel=REL)
        assert_rel(
            std([[1e200, -1e200, 0.0], [1.0, 3.0, 2.0], [1e-300, 3e-300, 2e-300]], axis=1),
            [1e200 * np.sqrt(2 / 3), np.sqrt(2 / 3), 1e-300 * np.sqrt(2 / 3)],
            rel=REL,
        )
        assert_rel(variance([[1e-150, 3e-150], [1.0, 3.0]], axis=1), [1e-300, 1.0], rel=REL)


def test_overflowing_squares_with_a_subnormal_value_raise_no_underflow() -> None:
    """The halved, scaled terms of a tiny value underflow inside std, never into a caller's errstate(all='raise')."""
    with _strict():
        assert_rel(
            std([[1e200, -1e200, 5e-324], [1.0, 3.0, 2.0]], axis=1), [1e200 * np.sqrt(2 / 3), np.sqrt(2 / 3)], rel=REL
        )
        assert_rel(std([1e200, -1e200, 0.0, 5e-324], p=[0.25, 0.25, 0.25, 0.25]), 1e200 * np.sqrt(0.5), rel=REL)


def test_the_variance_beyond_the_largest_double_is_an_overflow_error_naming_it() -> None:
    """variance raises OverflowError naming the variance; the covariance matrix names the covariance."""
    with pytest.raises(OverflowError, match="the variance exceeds"):
        variance([1e200, -1e200])
    with pytest.raises(OverflowError, match="the covariance exceeds"):
        covariance([[1.5e308, -1.5e308], [1.0, 3.0]])
    # deviations +inf at two observations where the other variable's are +1 and -1: inf - inf in the plain
    # product, which is no RuntimeWarning, only the OverflowError
    spread = [1.7e308, 1.7e308, -1.7e308, -1.7e308, -1.7e308, -1.7e308]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(OverflowError, match="the covariance exceeds"):
            covariance([spread, [1.0, -1.0, 0.0, 0.0, 0.0, 0.0]])


def test_the_covariance_whose_products_overflow_is_rescaled_silently() -> None:
    """covariance with sum of squares beyond the largest double but a finite result: exact, no underflow report."""
    with _strict():
        got = covariance([[1.2e154, -1.2e154, 1e-300], [1.0, 3.0, 2.0]])
    assert_rel(np.asarray(got)[0, 0], 1.2e154**2 * (2 / 2), rel=1e-14)
    assert_rel(np.asarray(got)[1, 1], 1.0, rel=REL)
    assert_rel(np.asarray(got)[0, 1], -1.2e154, rel=REL)


def test_correlation_of_values_spanning_the_range_is_silent() -> None:
    """correlation scales each variable; entries that underflow on the way are no floating-point report."""
    with _strict():
        assert_rel(correlation([1.0, 2.0, 1e-200], [3.0, 1.0, 2.0]), [[1.0, -0.5], [-0.5, 1.0]], rel=REL)


def test_a_variable_varying_by_a_few_ulps_is_correlated_whatever_the_others() -> None:
    """Not refused as constant: x = [1, 1, 1, 1 + 2^-49] next to three unrelated variables, and 1 + 1e-10."""
    rho = correlation([1.0, 1.0, 1.0, 1.0 + 2.0**-49], [[1, -1, 1, -1], [1, -1, -1, 1], [1, 1, -1, -1]])
    assert_rel(np.asarray(rho)[0], [1.0, -1 / np.sqrt(3), 1 / np.sqrt(3), -1 / np.sqrt(3)], rel=1e-12)
    rho = correlation([1.0, 1.0 + 1e-10, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0])
    assert float(np.asarray(rho)[0, 1]) == pytest.approx(-0.2581988897, abs=1e-6)


def test_a_variable_is_refused_exactly_when_its_scatter_is_below_n_eps_squared_times_its_squares() -> None:
    """[1, 1 + 2 ulp]: (N-1) var = 2^-103 <= N eps^2 sum x^2 = 2^-102 (scaled), refused; [1, 1 + 4 ulp] admitted."""
    with pytest.raises(ValueError, match=r"variable 0 .* constant"):
        correlation([1.0, 1.0 + 2 * 2.0**-52], [1.0, 2.0])
    rho = np.asarray(correlation([1.0, 1.0 + 4 * 2.0**-52], [1.0, 2.0]))
    assert float(rho[0, 1]) == pytest.approx(1.0, abs=1e-15)


def test_an_all_zero_variable_is_refused_as_constant() -> None:
    """correlation of a variable that is identically 0 is undefined: ValueError naming it."""
    with pytest.raises(ValueError, match=r"variable 0 .* constant"):
        correlation([0.0, 0.0, 0.0], [1.0, 2.0, 3.0])


@pytest.mark.parametrize("function", [expectation, variance, std])
def test_reductions_keep_the_other_axes_even_of_length_one(function: Callable[..., Any]) -> None:
    """axis=1 of a (1, 3) array has shape (1,), like NumPy's; axis=-2 (= -ndim) is a valid axis."""
    assert np.shape(function(np.array([[1.0, 2.0, 4.0]]), axis=1)) == (1,)
    assert np.shape(function(np.array([[1e150, -1e150, 0.0]]), axis=1)) == (1,)
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    references: dict[Any, Callable[..., Any]] = {expectation: np.mean, variance: np.var, std: np.std}
    reference = references[function]
    assert_rel(function(x, axis=-2), reference(x, axis=-2), rel=REL)


def test_an_axis_equal_to_ndim_is_refused_naming_x() -> None:
    """axis = x.ndim is out of bounds: our ValueError naming x (not NumPy's AxisError from deeper down)."""
    with pytest.raises(ValueError, match="for x with 2 dimension"):
        expectation([[1.0, 2.0], [3.0, 4.0]], axis=2)


def test_a_matrix_with_no_variables_is_refused_as_empty() -> None:
    """covariance of shape (0, 5): no variable, so the ValueError names x as empty."""
    with pytest.raises(ValueError, match="x is empty"):
        covariance(np.empty((0, 5)))


def test_p_of_another_shape_than_a_one_dimensional_x_is_refused_naming_both_shapes() -> None:
    """x of shape (4,) reduced along axis 0 with p of shape (2,): the ValueError gives both shapes."""
    with pytest.raises(ValueError, match=r"^p has shape \(2,\) but x has shape \(4,\); they must match$"):
        expectation([1, 2, 3, 4], p=[0.5, 0.5], axis=0)
