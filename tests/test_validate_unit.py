"""Input validation's own promises (kfsym/numeric/_validate.py and the probability checks of moments.py).

Fast and direct: exact conversion of big Python integers (and a clear OverflowError beyond the largest double),
the batch index that an error about one matrix of a stack names, and the probability vector's shape, sign and
sum checks with their broadcasting along an axis.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from kfsym.numeric import expectation, kf_predict, kf_update, mvn_logpdf, std, variance
from kfsym.numeric._validate import _compatible, broadcast_shapes, first_indefinite_index, real
from kfsym.numeric.moments import PROBABILITY_TOLERANCE
from tests.tolerance import assert_rel


def test_big_python_integers_become_the_nearest_doubles_in_their_shape() -> None:
    values = np.array([[10**20, 3], [2**70, -(10**30)]], dtype=object)
    got = real(values, "x")
    assert got.dtype == np.float64 and got.shape == (2, 2)
    assert got.tolist() == [[1e20, 3.0], [float(2**70), -1e30]]
    assert real([10**20, 0.5], "x").tolist() == [1e20, 0.5]


def test_an_integer_beyond_the_largest_double_is_an_overflow_error_naming_its_size() -> None:
    with pytest.raises(OverflowError, match=r"^x holds an integer of 1101 bits"):
        real(np.array([1.0, 2**1100], dtype=object), "x")
    with pytest.raises(OverflowError, match=r"^cov holds an integer of 1025 bits"):
        real([2**1024], "cov")


def test_the_first_indefinite_matrix_of_a_stack_is_found_in_row_major_order() -> None:
    good = np.eye(2)
    bad = np.array([[1.0, 2.0], [2.0, 1.0]])
    stack = np.stack([good, good, bad, bad]).reshape(2, 2, 2, 2)
    assert first_indefinite_index(stack) == (1, 0)
    assert first_indefinite_index(np.stack([bad, good])) == (0,)
    assert first_indefinite_index(np.stack([good, good])) is None
    assert first_indefinite_index(bad) == ()


def test_an_error_about_one_covariance_of_a_batch_names_its_batch_index() -> None:
    covs = np.stack([np.eye(2), np.eye(2), np.array([[1.0, 2.0], [2.0, 1.0]])])
    with pytest.raises(ValueError, match=r"at batch index \(2,\)"):
        mvn_logpdf(np.zeros((3, 2)), np.zeros(2), covs)
    with pytest.raises(ValueError) as single:
        mvn_logpdf(np.zeros(2), np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]]))
    assert "batch index" not in str(single.value)
    with pytest.raises(ValueError, match=r"^cov must be symmetric; \|A - A\^T\| reaches 0.5$"):
        mvn_logpdf(np.zeros(2), np.zeros(2), np.array([[1.0, 0.5], [0.0, 1.0]]))
    asymmetric = np.stack([np.eye(2), np.array([[1.0, 0.5], [0.0, 1.0]])]).reshape(1, 2, 2, 2)
    with pytest.raises(ValueError, match=r"at batch index \(0, 1\)"):
        kf_update(np.zeros((1, 2, 2)), asymmetric, np.zeros((1, 2, 1)), np.ones((1, 2, 1, 2)), np.eye(1))


def test_a_zero_variance_with_a_nonzero_row_is_refused_naming_the_variance_and_the_entry() -> None:
    """A semi-definite matrix with A_ii = 0 has a zero row i: the error names that variance, the entry that breaks
    it (row and column) and its value, and the batch element it is in."""
    P = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.25], [0.0, 0.25, 1.0]])
    expected = r"^P must be positive semi-definite; variance \(1, 1\) is 0 but its row has 0.25 at \(1, 2\)$"
    with pytest.raises(ValueError, match=expected):
        kf_predict(np.zeros(3), P, np.eye(3), np.zeros((3, 3)))
    batch = np.stack([np.eye(3), P])
    in_batch = r"at batch index \(1,\); variance \(1, 1\) is 0 but its row has 0.25 at \(1, 2\)$"
    with pytest.raises(ValueError, match=in_batch):
        kf_predict(np.zeros((2, 3)), batch, np.eye(3), np.zeros((3, 3)))


def test_probabilities_must_match_the_values() -> None:
    x = np.arange(6.0).reshape(2, 3)
    with pytest.raises(ValueError, match="shape"):
        expectation(x, np.full(3, 1 / 3))  # no axis: p must have x's shape
    with pytest.raises(ValueError, match="length 2 but x has 3 values along axis 1"):
        expectation(x, [0.5, 0.5], axis=1)
    with pytest.raises(ValueError, match="shape"):
        expectation(x, np.full((3, 2), 1 / 3), axis=0)
    with pytest.raises(ValueError, match="non-negative"):
        expectation([1.0, 2.0], [1.5, -0.5])


def test_probabilities_along_an_axis_weight_that_axis() -> None:
    x = np.array([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0]])
    assert_rel(expectation(x, [0.25, 0.75], axis=0), [7.75, 15.5, 23.25], 1e-15)
    assert_rel(expectation(x, [0.5, 0.25, 0.25], axis=1), [1.75, 17.5], 1e-15)
    assert_rel(expectation(x, [0.5, 0.25, 0.25], axis=-1), [1.75, 17.5], 1e-15)
    assert_rel(expectation(x, [[0.5, 0.25, 0.25], [0.0, 0.0, 1.0]], axis=1), [1.75, 30.0], 1e-15)
    assert_rel(variance(x, [0.25, 0.75], axis=0), [15.1875, 60.75, 136.6875], 1e-14)


def test_probabilities_must_sum_to_one_within_the_stated_tolerance() -> None:
    expectation([1.0, 2.0], [0.5, 0.5 + PROBABILITY_TOLERANCE / 2])
    with pytest.raises(ValueError, match=r"sum to 1 .* they sum to 1.00000001\b"):
        expectation([1.0, 2.0], [0.5, 0.5 + 1e-8])
    with pytest.raises(ValueError, match=r"they sum to 0.9\b"):
        expectation([[1.0, 2.0], [3.0, 4.0]], [[0.5, 0.5], [0.5, 0.4]], axis=1)
    with pytest.raises(ValueError, match=r"they sum to 1.2\b"):
        variance([[1.0, 2.0], [3.0, 4.0]], [[0.5, 0.5], [0.7, 0.5]], axis=1)


def test_std_along_an_axis_is_the_std_of_each_slice() -> None:
    x = np.array([[1.0, 2.0, 4.0], [10.0, 30.0, 20.0]])
    assert_rel(std(x, axis=1), [np.std(x[0]), np.std(x[1])], 1e-15)
    assert_rel(std(x, axis=0), np.std(x, axis=0), 1e-15)


def test_an_overflowing_result_names_the_quantity() -> None:
    with pytest.raises(OverflowError, match=r"^the variance exceeds the largest double$"):
        variance([-1e200, 1e200])
    with pytest.raises(OverflowError, match=r"^the standard deviation exceeds the largest double$"):
        std([-1.7e308, 1.7e308], ddof=1)  # sqrt(2) * 1.7e308


@pytest.mark.parametrize(
    "rows",
    [
        [[1e-300, 2e-300, 4e-300], [3e-310, 1e-309, 2e-309]],  # deviations below the normal range
        [[1e150, -1e150, 5e149], [1e153, 3e153, -2e153]],  # large: variances near 1e306
        [[1.0, 1.0 + 2**-50, 1.0 - 2**-51], [5.0, 6.0, 8.0]],
    ],
)
def test_moments_along_an_axis_are_the_moments_of_each_slice_also_at_extreme_scales(rows: list[list[float]]) -> None:
    x = np.array(rows)
    p = np.array([0.25, 0.5, 0.25])
    for function in (variance, std):
        by_row = [function(row) for row in x]
        assert_rel(function(x, axis=1), by_row, 1e-15)
        assert_rel(function(x.T, axis=0), by_row, 1e-15)
        assert_rel(function(x, p, axis=1), [function(row, p) for row in x], 1e-15)
        assert_rel(function(x, ddof=1, axis=-1), [function(row, ddof=1) for row in x], 1e-15)
    assert_rel(expectation(x, p, axis=1), [expectation(row, p) for row in x], 1e-15)


def _exact_scalar_update(x: float, p: float, z: float, h: float, r: float) -> tuple[float, float]:
    """The n = m = 1 update in exact rational arithmetic, rounded once."""
    x_, p_, z_, h_, r_ = (Fraction(v) for v in (x, p, z, h, r))
    s = h_ * h_ * p_ + r_
    return float(x_ + p_ * h_ * (z_ - h_ * x_) / s), float(p_ * r_ / s)


@pytest.mark.parametrize(
    ("x", "p", "z", "h", "r"),
    [
        (1.0, 2.0, 3.0, 0.5, 0.25),
        (-2.0, 1e-300, 5.0, 3.0, 1e-290),  # tiny variances
        (0.5, 1e300, -1.0, 1e-5, 1e290),  # huge variances, small H
        (3.0, 4.0, 1e200, 1e150, 1e280),  # R / H^2 far from P
        (0.0, 1e-310, 1.0, 2.0, 1e-305),  # a subnormal variance
        (1.0, 2.0, 2.0, -4.0, 8.0),  # negative H
    ],
)
def test_the_scalar_update_is_the_exact_update_rounded(x: float, p: float, z: float, h: float, r: float) -> None:
    result = kf_update([x], [[p]], [z], [[h]], [[r]])
    want_mean, want_var = _exact_scalar_update(x, p, z, h, r)
    assert_rel(result.mean[0], want_mean, 4e-16 * 8)
    assert_rel(result.cov[0, 0], want_var, 4e-16 * 8)


def test_a_callers_raise_errstate_does_not_turn_handled_under_or_overflow_into_an_error() -> None:
    """The functions handle extreme scales themselves: np.errstate(all="raise") around them changes nothing."""
    tiny = np.array([[1e-300, 2e-300, 4e-300], [3e-310, 1e-309, 2e-309]])
    far = np.array([1.7e308, -1.7e308])
    cov = np.diag([1e-300, 1e300])

    def results() -> list[object]:
        return [
            variance(tiny, axis=1),
            std(tiny, axis=1),
            expectation(tiny, [0.25, 0.5, 0.25], axis=1),
            mvn_logpdf(far, -far, cov),
            mvn_logpdf(np.array([1e-320, 0.0]), np.zeros(2), np.eye(2)),
            kf_update([0.0], [[1e-310]], [1.0], [[2.0]], [[1e-305]]).cov,
        ]

    quiet = results()
    with np.errstate(all="raise"):
        loud = results()
    for got, want in zip(loud, quiet, strict=True):
        assert np.array_equal(np.asarray(got), np.asarray(want))


def test_the_smoothers_singular_pivot_floor_is_four_n_machine_epsilons() -> None:
    """singular_pivot_floor(n) is 4 n eps (eps = 2^-52): rounding noise of an n x n Cholesky pivot, linear in n."""
    from kfsym.numeric._validate import singular_pivot_floor

    eps = np.finfo(np.float64).eps
    assert [singular_pivot_floor(n) for n in (1, 2, 3, 10)] == [4 * eps, 8 * eps, 12 * eps, 40 * eps]


@pytest.mark.parametrize(
    ("first", "second", "compatible"),
    [
        ((), (), True),
        ((), (5,), True),
        ((3,), (3,), True),
        ((1,), (4,), True),
        ((4,), (1,), True),
        ((2, 1), (3,), True),
        ((2, 3), (3,), True),
        ((7, 1, 3), (2, 1), True),
        ((0,), (1,), True),
        ((3,), (2,), False),
        ((2, 3), (2,), False),
        ((2, 3), (3, 3), False),
        ((0,), (2,), False),
        ((5, 2, 3), (4, 3), False),
    ],
)
def test_two_shapes_are_compatible_exactly_when_numpy_broadcasts_them(
    first: tuple[int, ...], second: tuple[int, ...], compatible: bool
) -> None:
    """_compatible(a, b) is True when every trailing pair of sizes is equal or has a 1, in either order, else False."""
    assert _compatible(first, second) is compatible
    assert _compatible(second, first) is compatible


def test_a_broadcast_clash_names_the_first_shape_incompatible_with_the_newcomer() -> None:
    """Among the shapes seen so far, the error names the one that clashes with the new shape, not merely the first."""
    with pytest.raises(ValueError, match=r"^mean with shape \(2, 3\) and cov with shape \(4,\) cannot be broadcast"):
        broadcast_shapes(x=(1,), mean=(2, 3), w=(1,), cov=(4,))
    with pytest.raises(ValueError, match=r"^x with shape \(2,\) and cov with shape \(3,\) cannot be broadcast"):
        broadcast_shapes(x=(2,), mean=(1,), cov=(3,))
    assert broadcast_shapes(x=(1,), mean=(2, 1), w=(4,)) == (2, 4)
