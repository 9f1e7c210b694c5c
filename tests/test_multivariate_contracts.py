"""Contracts of kfsym/numeric/multivariate.py at extreme magnitudes, where the scaled paths decide the result.

References are computed with mpmath at 60 digits. Where x - m exceeds the largest double (both finite) the
distance and the log-density are formed from the halves; where the z-scores of a product overflow, the
correction is summed per axis; in a batch, no element's result depends on the other elements. The helpers of
that per-axis sum (_times_power, _per_axis_sum) are checked directly against exact fractions.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import pytest

from kfsym.numeric import mahalanobis, mvn_logpdf, mvn_multiply, mvn_pdf
from kfsym.numeric.multivariate import _per_axis_sum, _times_power
from tests.test_gaussian_contracts import compiled  # noqa: F401 (the fixture: the compiled loops run as Python)

DPS = 60


def quadratic_form(x: list[float], m: list[float], cov: list[list[float]]) -> mpmath.mpf:
    """(x - m)^T cov^-1 (x - m) at DPS digits, for n = 2 (the explicit inverse: no pivoting tolerance)."""
    with mpmath.workdps(DPS):
        d1, d2 = (mpmath.mpf(a) - mpmath.mpf(b) for a, b in zip(x, m, strict=True))
        a, b, c = mpmath.mpf(cov[0][0]), mpmath.mpf(cov[0][1]), mpmath.mpf(cov[1][1])
        return (c * d1**2 - 2 * b * d1 * d2 + a * d2**2) / (a * c - b**2)


def log_density(x: list[float], m: list[float], cov: list[list[float]]) -> mpmath.mpf:
    with mpmath.workdps(DPS):
        det = mpmath.mpf(cov[0][0]) * mpmath.mpf(cov[1][1]) - mpmath.mpf(cov[0][1]) ** 2
        return -(2 * mpmath.log(2 * mpmath.pi) + mpmath.log(det)) / 2 - quadratic_form(x, m, cov) / 2


def test_mahalanobis_where_x_minus_m_exceeds_the_largest_double_matches_mpmath() -> None:
    """x - m beyond 1.8e308 (both finite) still gives the distance, within 1e-14 of a 60-digit reference."""
    cov = [[4e10, 1e5], [1e5, 1.0]]  # correlation 0.5
    for x, m in (([1e308, 0.5], [-1e308, 0.0]), ([-1.5e308, 2.0], [1e308, -1.0]), ([1e308, 1e308], [-1e308, -1e308])):
        with mpmath.workdps(DPS):
            want = float(mpmath.sqrt(quadratic_form(x, m, cov)))
        assert mahalanobis(x, m, cov) == pytest.approx(want, rel=1e-14, abs=0.0), (x, m)
    # batched: the overflowing point beside an ordinary one
    got = mahalanobis([[1e308, 0.5], [1.0, 0.5]], [-1e308, 0.0], cov)
    with mpmath.workdps(DPS):
        want_ordinary = float(mpmath.sqrt(quadratic_form([1.0, 0.5], [-1e308, 0.0], cov)))
    assert got[1] == pytest.approx(want_ordinary, rel=1e-14, abs=0.0)


def test_log_density_where_x_minus_m_exceeds_the_largest_double_matches_mpmath() -> None:
    """mvn_logpdf stays finite and right (1e-14) when x - m overflows but the log-density is a finite double."""
    cov = [[1.7e308, 1e153], [1e153, 1.0]]  # correlation ~0.08
    cases = [([1e308, 0.5], [-1e308, 0.0]), ([-1e308, -2.0], [0.9e308, 1.0])]
    for x, m in cases:
        want = float(log_density(x, m, cov))
        got = mvn_logpdf(x, m, cov)
        assert np.isfinite(got) and got == pytest.approx(want, rel=1e-14, abs=0.0), (x, m)
    # every coordinate of x - m overflows: strongly correlated variances near the largest double
    strong = [[1.7e308, 1.6e308], [1.6e308, 1.7e308]]
    want = float(log_density([1e308, 1e308], [-1e308, -1e308], strong))
    assert mvn_logpdf([1e308, 1e308], [-1e308, -1e308], strong) == pytest.approx(want, rel=1e-14, abs=0.0)
    # batched, beside an ordinary point and a point at infinity
    points = np.array([cases[0][0], [0.25, -0.5], [np.inf, 0.0]])
    got = mvn_logpdf(points, [-1e308, 0.0], cov)
    assert got[0] == pytest.approx(float(log_density(cases[0][0], [-1e308, 0.0], cov)), rel=1e-14, abs=0.0)
    assert got[1] == pytest.approx(float(log_density([0.25, -0.5], [-1e308, 0.0], cov)), rel=1e-14, abs=0.0)
    assert got[2] == -np.inf
    assert mvn_pdf(points, [-1e308, 0.0], cov).tolist() == [0.0, 0.0, 0.0]


def test_no_floating_point_warning_escapes_the_extreme_paths() -> None:
    """Overflow and underflow inside the scaled paths never reach the caller as a RuntimeWarning."""
    cov = [[1.7e308, 1e153], [1e153, 1.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mvn_logpdf([[1e308, 0.5], [np.inf, 0.0]], [-1e308, 0.0], cov)
        mvn_pdf([[1e308, 0.5], [5e-324, 0.0]], [-1e308, 0.0], cov)
        mahalanobis([1e308, 5e-324], [-1e308, 0.0], [[4e10, 1e5], [1e5, 1.0]])


def product_reference(m1: list[float], s1: list[list[float]], m2: list[float], s2: list[list[float]]) -> list[float]:
    """The posterior mean m1 + S1 (S1 + S2)^-1 (m2 - m1), n = 2, at 700 digits (1 + 1e-300 is exact there)."""
    with mpmath.workdps(700):
        a1, a2 = mpmath.matrix(s1), mpmath.matrix(s2)
        total = a1 + a2
        det = total[0, 0] * total[1, 1] - total[0, 1] * total[1, 0]
        inverse = mpmath.matrix([[total[1, 1], -total[0, 1]], [-total[1, 0], total[0, 0]]]) / det
        mean = mpmath.matrix(m1) + a1 * inverse * (mpmath.matrix(m2) - mpmath.matrix(m1))
        return [float(mean[0]), float(mean[1])]


def assert_batch_matches_alone_and_reference(elements: list[tuple[Any, Any, Any, Any]]) -> None:
    """Each element of the batched product equals its product computed alone, which matches the reference."""
    batch = [np.array([element[i] for element in elements]) for i in range(4)]
    got = mvn_multiply(*batch)
    for index, element in enumerate(elements):
        alone = mvn_multiply(*element)
        assert got.mean[index].tolist() == alone.mean.tolist() and got.cov[index].tolist() == alone.cov.tolist()
        want = product_reference(*element)
        assert alone.mean.tolist() == pytest.approx(want, rel=1e-12, abs=0.0), index


def test_a_batch_element_of_the_information_product_does_not_depend_on_the_others() -> None:
    """Means 1e300 apart beside means 1e-300 apart (the square-root information form, per-axis z-scores):
    each element of the batch is the product computed alone, and matches a 60-digit reference."""
    s1 = [[1.0, 0.5], [0.5, 1.0]]
    s2 = [[1e-8, 0.0], [0.0, 1e8]]  # scale ratios spread over 2^53: the information form, correlated
    elements = [
        ([0.0, 0.0], s1, [1e300, -3e299], s2),
        ([0.0, 0.0], s1, [1e-300, -2e-300], s2),
        ([2e-300, 0.0], s1, [0.0, 5e-301], s2),
        # the first axis pinned by the second factor (variance 1e-300), its two means equal
        ([0.0, 0.0], s1, [0.0, 1e-200], [[1e-300, 0.0], [0.0, 1e8]]),
        ([0.0, 0.0], s1, [0.0, 1e100], [[1e-300, 0.0], [0.0, 1e8]]),
    ]
    assert_batch_matches_alone_and_reference(elements)


def test_products_whose_z_scores_overflow_are_right_in_a_batch() -> None:
    """Correlated products with means near +-1e308 (z-scores beyond 2^960: summed per axis, in halves where a
    sum overflows) match a 700-digit reference, alone and batched with ordinary elements."""
    s1 = [[2.19, -1.27], [-1.27, 0.89]]
    s2 = [[4.06, -1.34], [-1.34, 0.55]]
    elements = [
        ([-8.6e307, 9.7e307], s1, [8.6e307, -9.7e307], s2),  # the per-axis terms overflow, their sum does not
        ([0.0, 0.0], s1, [1e300, 2e299], s2),
        ([1.0, -2.0], s1, [3.0, 0.5], s2),
        ([0.0, 1e-300], s2, [3e-300, 0.0], s1),
    ]
    assert_batch_matches_alone_and_reference(elements)


COV = [[2.0, 0.6], [0.6, 0.5]]
MEAN = [0.5, -1.0]


@pytest.mark.parametrize("path", ["numpy", "compiled"])
def test_log_density_of_a_batch_of_points_keeps_its_shape_and_values(path: str, request: pytest.FixtureRequest) -> None:
    """Points (2, 3, 2) against one mean and covariance: shape (2, 3), each value the 60-digit log-density."""
    if path == "compiled":
        request.getfixturevalue("compiled")
    points = np.arange(12.0).reshape(2, 3, 2) / 4.0 - 1.0
    got = mvn_logpdf(points, MEAN, COV)
    assert got.shape == (2, 3)
    for index in np.ndindex(2, 3):
        want = float(log_density(points[index].tolist(), MEAN, COV))
        assert got[index] == pytest.approx(want, rel=1e-13, abs=0.0), index
    with pytest.raises(TypeError, match="x"):
        mvn_logpdf(points.astype(complex), MEAN, COV)


def test_one_point_against_a_batch_of_covariances() -> None:
    """A single point and mean against covariances (3, 2, 2) (and (1, 3, 2, 2)): one log-density per covariance."""
    covs = np.array([COV, [[1.0, 0.0], [0.0, 1.0]], [[4.0, -1.0], [-1.0, 1.0]]])
    want = [float(log_density([1.0, 2.0], MEAN, cov.tolist())) for cov in covs]
    assert mvn_logpdf([1.0, 2.0], MEAN, covs).tolist() == pytest.approx(want, rel=1e-13, abs=0.0)
    nested = mvn_logpdf([1.0, 2.0], MEAN, covs[None])
    assert nested.shape == (1, 3) and nested[0].tolist() == pytest.approx(want, rel=1e-13, abs=0.0)


# --- the scaled products behind the per-axis correction: _times_power, _per_axis_sum ----------------------------

SMALLEST = math.ldexp(1.0, -1074)  # the smallest subnormal


def exact_double(value: Fraction) -> float:
    """The double nearest to an exact rational (ties to even), +-inf beyond the largest double."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def test_times_power_is_the_product_times_a_power_of_two_rounded_once() -> None:
    """x y 2^k equals the exactly rounded value wherever it is a normal double, even when x y alone over- or
    underflows (x y beyond 1e308 brought back by k < 0, x y below 1e-308 brought back by k > 0)."""
    rng = np.random.default_rng(7)
    x = rng.uniform(-1.0, 1.0, 400) * np.ldexp(1.0, rng.integers(-1070, 1020, 400))
    y = rng.uniform(-1.0, 1.0, 400) * np.ldexp(1.0, rng.integers(-1070, 1020, 400))
    _, ex = np.frexp(x)
    _, ey = np.frexp(y)
    k = rng.integers(-1000, 1000, 400) - (ex + ey)  # x y 2^k between 2^-1002 and 2^1000
    got = _times_power(x, y, k)
    assert got.shape == (400,)
    for index in range(400):
        want = exact_double(Fraction(x[index]) * Fraction(y[index]) * Fraction(2) ** int(k[index]))
        assert got[index] == want, (x[index], y[index], k[index])
    with np.errstate(all="ignore"):
        plain = np.abs(x * y)
    assert np.count_nonzero(~np.isfinite(plain) | (plain < 2.0**-1022)) > 100  # x y alone out of the normal range


@pytest.mark.parametrize(
    ("x", "y", "k", "want"),
    [
        (1.5, 3.0, 0, 4.5),
        (-1.5, 3.0, 4, -72.0),
        (3.0, -5.0, -3, -1.875),
        (1e300, 1e300, -1993, exact_double(Fraction(1e300) ** 2 / 2**1993)),  # x y = 1e600 overflows; result ~1
        (1e-300, 1e-300, 1993, exact_double(Fraction(1e-300) ** 2 * 2**1993)),  # x y = 1e-600 underflows; result ~1
        (0.0, 1e308, 2000, 0.0),
        (2.0**1023, 2.5, 0, math.inf),  # 2.5 2^1023 is beyond the largest double
        (-(2.0**1023), 2.5, 0, -math.inf),
        (2.0**1023, 0.75, 1, math.ldexp(0.75, 1024)),  # the largest doubles' neighbourhood: no spurious overflow
        (math.ldexp(1.0, -1000), 3.0, -74, 3 * SMALLEST),  # an exact subnormal
        (math.ldexp(1.0, -1000), 1.0, -75, 0.0),  # half the smallest subnormal: ties to even, 0
        (math.ldexp(1.0, -1000), 3.0, -75, 2 * SMALLEST),  # 1.5 smallest: ties to even, 2 smallest
        (SMALLEST, SMALLEST, 2148, 1.0),  # subnormal operands: their exponents still add up
        (SMALLEST, 5.0, 1, 10 * SMALLEST),
    ],
)
def test_times_power_at_the_edges_of_the_range(x: float, y: float, k: int, want: float) -> None:
    """Exact small cases, a product outside the range brought back, overflow to inf, subnormal and zero results."""
    with np.errstate(all="ignore"):  # as in its callers (@quiet): an overflow to inf is the result, not an error
        got = _times_power(np.float64(x), np.float64(y), np.int64(k))
    assert got == want and math.copysign(1.0, got) == math.copysign(1.0, want), (got, want)


def test_times_power_with_a_subnormal_result_is_within_one_step_of_the_exact_value() -> None:
    """A result below 2^-1022 is rounded twice (the mantissa product, then to the subnormal grid): never more than one
    step of 2^-1074 from the exact value, and exactly rounded when the mantissa product is exact."""
    rng = np.random.default_rng(11)
    x = rng.uniform(0.5, 1.0, 300)
    y = rng.uniform(0.5, 1.0, 300)
    k = rng.integers(-1100, -1021, 300)
    got = _times_power(x, y, k)
    for index in range(300):
        exact = Fraction(x[index]) * Fraction(y[index]) * Fraction(2) ** int(k[index])
        assert abs(Fraction(got[index]) - exact) <= Fraction(SMALLEST), (x[index], y[index], k[index])
    small = rng.integers(1, 2**20, 300).astype(float)  # 20-bit integers: their product is exact
    exponents = rng.integers(-1120, -1060, 300)
    got = _times_power(small, small[::-1], exponents)
    for index in range(300):
        exact = Fraction(int(small[index]) * int(small[::-1][index])) * Fraction(2) ** int(exponents[index])
        assert got[index] == exact_double(exact)


def test_times_power_broadcasts_its_three_arguments() -> None:
    """x (2, 1), y (2, 3) and k (3,) give (2, 3), element [i, j] = x[i] y[i, j] 2^k[j]."""
    x = np.array([[3.0], [-0.5]])
    y = np.array([[1.0, 2.0, 5.0], [7.0, -1.0, 0.25]])
    k = np.array([0, -3, 10])
    assert _times_power(x, y, k).tolist() == (x * y * np.ldexp(1.0, k)).tolist()


# A = R S D^-1 for S = [[1, 1], [1, 4]] (s = (1, 2), rho_01 = 1/2), r = (1/2, 1/4), d = (1, 1): every entry dyadic, so
# D A^T = S R holds exactly and the fallback of _weighted (S R Y where A^T Y overflows) is the same number.
RHO = np.array([[1.0, 0.5], [0.5, 1.0]])
STD = np.array([1.0, 2.0])
U = STD * np.array([0.5, 0.25])
D = np.ones(2)
A = RHO * (U[:, None] * (STD / D)[None, :])


def per_axis_reference(solved: Any, scales: Any) -> list[float]:
    """sum_j 2^k_j d_i (A^T Y)_ij exactly (fractions), rounded once; +-inf beyond the largest double."""
    inner = [[sum(Fraction(A[m, i]) * Fraction(solved[m, j]) for m in range(2)) for j in range(2)] for i in range(2)]
    return [
        exact_double(sum(Fraction(2) ** int(scales[j]) * Fraction(D[i]) * inner[i][j] for j in range(2)))
        for i in range(2)
    ]


PER_AXIS_CASES = [
    # (Y, k): an ordinary sum, rows and columns of different sums
    ([[1.0, 2.0], [3.0, -1.0]], [0, 1]),
    # terms 1.5 2^1024 and -2^1024 overflow to inf and -inf (NaN), their sum 2^1023 does not: summed in halves
    ([[1.5, -1.0], [0.0, 0.0]], [1025, 1025]),
    # a term 2^1024 overflows to inf beside a finite -2^1023: the sum 2^1023 is finite, also summed in halves
    ([[2.0, -1.0], [0.0, 0.0]], [1024, 1024]),
    # a true sum beyond the largest double: +inf in one row, -inf in the other, never NaN
    ([[4.0, 0.0], [-4.0, 0.0]], [1024, 0]),
    # 3 2^-1074, which halving would round (1.5 2^-1074 -> 2^-1073): an element that does not overflow keeps its sum
    ([[3.0, 0.0], [0.0, 0.0]], [-1073, 0]),
]


def test_the_per_axis_sum_is_the_scaled_sum_also_where_its_terms_overflow() -> None:
    """sum_j 2^k_j D A^T Y_j per axis: exact here, finite where only the terms overflow, +-inf where the sum does;
    in a batch each element is its sum alone (only the overflowing ones are summed in halves)."""
    solved = np.array([case[0] for case in PER_AXIS_CASES])
    scales = np.array([case[1] for case in PER_AXIS_CASES])[:, None, :]
    with np.errstate(all="ignore"):  # as in its callers (@quiet)
        batch = _per_axis_sum(D, A, solved, (RHO, STD, U), scales)
        alone = [_per_axis_sum(D, A, solved[n], (RHO, STD, U), scales[n]) for n in range(len(PER_AXIS_CASES))]
    assert batch.shape == (len(PER_AXIS_CASES), 2)
    for n, (y, k) in enumerate(PER_AXIS_CASES):
        want = per_axis_reference(np.array(y), k)
        assert batch[n].tolist() == want, (n, batch[n], want)
        assert alone[n].tolist() == want, (n, alone[n], want)
    assert batch[1].tolist() == [2.0**1023, 2.0**1023] and batch[3].tolist() == [math.inf, -math.inf]
    assert batch[4].tolist() == [3 * SMALLEST, 3 * SMALLEST]
