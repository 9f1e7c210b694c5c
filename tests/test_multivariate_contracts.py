"""Contracts of kfsym/numeric/multivariate.py at extreme magnitudes, where the scaled paths decide the result.

References are computed with mpmath at 60 digits. Where x - m exceeds the largest double (both finite) the
distance and the log-density are formed from the halves; where the z-scores of a product overflow, the
correction is summed per axis; in a batch, no element's result depends on the other elements.
"""

from __future__ import annotations

import warnings
from typing import Any

import mpmath
import numpy as np
import pytest

from kfsym.numeric import mahalanobis, mvn_logpdf, mvn_multiply, mvn_pdf
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
