"""kfsym.numeric against independent references: mpmath, SciPy and quadrature.

Project accuracy standard: relative error ≤ 1e-12 wherever the true value is a
normal double (cases whose reference lies below ~1e-300 or above 1e300 are
assumed away), and for ``logpdf`` absolute error ≤ 1e-12·max(|logpdf|, 1).

Every mpmath reference evaluates the *textbook* formula at 50 significant digits
from the float inputs converted exactly (``mpmath.mpf(float)``), so it judges the
floating-point evaluation only, never the rounding of the inputs themselves. The references are computed once
per input and precision in a process (``tests/memo.py``).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from kfsym.numeric import Gaussian, add, cdf, evidence, logpdf, multiply, pdf
from tests import tolerance
from tests.memo import memoised

RTOL = 1e-12
TINY = 1e-300  # below this (or above 1/TINY) a value is outside the standard
HUGE = 1e300

# ---------------------------------------------------------------------------
# mpmath at 50 digits (module-scoped so other test modules see the default)
# ---------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="module")
def _mp_50_digits():
    saved = mpmath.mp.dps
    mpmath.mp.dps = 50
    yield
    mpmath.mp.dps = saved


def mpf(value: float) -> mpmath.mpf:
    """The float ``value`` exactly, as an mpmath number."""
    return mpmath.mpf(float(value))


@memoised
def ref_pdf(x: float, mean: float, var: float) -> mpmath.mpf:
    x, mean, var = mpf(x), mpf(mean), mpf(var)
    return mpmath.exp(-((x - mean) ** 2) / (2 * var)) / mpmath.sqrt(2 * mpmath.pi * var)


@memoised
def ref_logpdf(x: float, mean: float, var: float) -> mpmath.mpf:
    x, mean, var = mpf(x), mpf(mean), mpf(var)
    return -((x - mean) ** 2) / (2 * var) - mpmath.log(2 * mpmath.pi * var) / 2


@memoised
def ref_cdf(x: float, mean: float, var: float) -> mpmath.mpf:
    return mpmath.ncdf(mpf(x), mu=mpf(mean), sigma=mpmath.sqrt(mpf(var)))


@memoised
def ref_multiply(m1: float, v1: float, m2: float, v2: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    m1, v1, m2, v2 = mpf(m1), mpf(v1), mpf(m2), mpf(v2)
    return (m1 * v2 + m2 * v1) / (v1 + v2), v1 * v2 / (v1 + v2)


@memoised
def ref_evidence(m1: float, v1: float, m2: float, v2: float) -> mpmath.mpf:
    m1, v1, m2, v2 = mpf(m1), mpf(v1), mpf(m2), mpf(v2)
    total = v1 + v2
    return mpmath.exp(-((m1 - m2) ** 2) / (2 * total)) / mpmath.sqrt(2 * mpmath.pi * total)


def rel_err(got: float, ref: mpmath.mpf) -> float:
    """|got - ref| / |ref| evaluated in mpmath (ref must be nonzero)."""
    return float(abs(mpf(got) - ref) / abs(ref))


def is_normal_range(ref: mpmath.mpf) -> bool:
    """Whether the true value lies where the relative standard applies."""
    return TINY <= abs(ref) <= HUGE


def assert_rel(got: float, ref: mpmath.mpf, rtol: float = RTOL) -> None:
    assert isinstance(got, float)
    if ref == 0:
        assert got == 0.0
        return
    err = rel_err(got, ref)
    assert err <= rtol, f"got {got!r}, reference {mpmath.nstr(ref, 20)}, relative error {err:.3e}"


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

# log-uniform variances over 1e-150..1e150
variances = st.floats(-150.0, 150.0).map(lambda e: 10.0**e)
# signed log-uniform means up to ±1e150, plus zero and a few small integers
means = st.one_of(
    st.sampled_from([0.0, 1.0, -2.0]),
    st.tuples(st.sampled_from([-1.0, 1.0]), st.floats(-150.0, 150.0)).map(lambda t: t[0] * 10.0 ** t[1]),
)
# z-scores: moderate values (pdf and cdf stay ≥ 1e-300 for |z| ≲ 37)
moderate_z = st.floats(-40.0, 40.0)
# large z-scores up to 1e5 (pdf underflows, logpdf stays finite)
large_z = st.tuples(st.sampled_from([-1.0, 1.0]), st.floats(0.0, 5.0)).map(lambda t: t[0] * 10.0 ** t[1])
any_z = st.one_of(moderate_z, large_z)

MANY = settings(max_examples=200, deadline=None)


def point(mean: float, var: float, z: float) -> float:
    """A float x at z standard deviations from mean (rounded: the reference uses the rounded x)."""
    return mean + z * math.sqrt(var)


# ---------------------------------------------------------------------------
# mpmath: densities and distribution
# ---------------------------------------------------------------------------


@MANY
@given(mean=means, var=variances, z=moderate_z)
def test_pdf_matches_mpmath(mean: float, var: float, z: float) -> None:
    x = point(mean, var, z)
    ref = ref_pdf(x, mean, var)
    assume(is_normal_range(ref))
    assert_rel(pdf(x, mean, var), ref)


@MANY
@given(mean=means, var=variances, z=any_z)
def test_logpdf_matches_mpmath(mean: float, var: float, z: float) -> None:
    x = point(mean, var, z)
    ref = ref_logpdf(x, mean, var)
    got = logpdf(x, mean, var)
    assert isinstance(got, float)
    assert math.isfinite(got)
    tol = RTOL * max(abs(ref), 1)
    assert abs(mpf(got) - ref) <= tol, f"got {got!r}, reference {mpmath.nstr(ref, 20)}"


@MANY
@given(mean=means, var=variances, z=moderate_z)
def test_cdf_matches_mpmath(mean: float, var: float, z: float) -> None:
    x = point(mean, var, z)
    ref = ref_cdf(x, mean, var)
    assume(is_normal_range(ref))
    assert_rel(cdf(x, mean, var), ref)


# ---------------------------------------------------------------------------
# mpmath: product, evidence, sum
# ---------------------------------------------------------------------------


def assert_mean_close(got: float, ref: mpmath.mpf, inputs: tuple[float, float, float, float]) -> None:
    """The posterior mean within 1e-12 of the size of its two terms.

    The posterior mean is (1-K)·m1 + K·m2 with K = v1/(v1+v2). When the two
    terms have opposite signs and nearly cancel, the result is ill-conditioned
    in the *terms*: an error of one ulp in either of them (unavoidable in any
    double evaluation) is huge relative to their small difference. The honest
    tolerance is therefore relative to the magnitude of the terms,
    |(1-K)·m1| + |K·m2|, computed in mpmath; it reduces to the relative
    standard whenever the terms do not cancel. (1-K is formed as v2/(v1+v2):
    1 - K would lose everything at 50 digits for variance ratios up to 1e300.)
    A scale below 1e-300 is outside the standard: the error may then be up to
    1e-12·1e-300 in absolute terms (e.g. a true mean of 1e-600 computed as 0).
    """
    m1, v1, m2, v2 = inputs
    total = mpf(v1) + mpf(v2)
    scale = abs(mpf(v2) / total * mpf(m1)) + abs(mpf(v1) / total * mpf(m2))
    err = abs(mpf(got) - ref)
    assert err <= RTOL * max(scale, mpf(TINY)), (
        f"mean {got!r}, reference {mpmath.nstr(ref, 20)}, scale {mpmath.nstr(scale, 5)}, error {mpmath.nstr(err, 5)}"
    )


@MANY
@given(m1=means, v1=variances, m2=means, v2=variances)
def test_multiply_matches_mpmath(m1: float, v1: float, m2: float, v2: float) -> None:
    got = multiply(m1, v1, m2, v2)
    assert isinstance(got, Gaussian)
    assert isinstance(got.mean, float)
    ref_mean, ref_var = ref_multiply(m1, v1, m2, v2)
    assert_mean_close(got.mean, ref_mean, (m1, v1, m2, v2))
    assert_rel(got.var, ref_var)


@MANY
@given(m1=means, v1=variances, v2=variances, wiggle=st.floats(-1e-6, 1e-6))
def test_multiply_mean_with_cancelling_terms(m1: float, v1: float, v2: float, wiggle: float) -> None:
    # m2 = -m1·v2/v1·(1 + wiggle) makes (1-K)·m1 and K·m2 nearly cancel: the case
    # for which assert_mean_close measures error against the size of the terms.
    m2 = -m1 * (v2 / v1) * (1 + wiggle)
    assume(math.isfinite(m2) and abs(m2) <= 1e150)
    got = multiply(m1, v1, m2, v2)
    ref_mean, ref_var = ref_multiply(m1, v1, m2, v2)
    assert_mean_close(got.mean, ref_mean, (m1, v1, m2, v2))
    assert_rel(got.var, ref_var)


@MANY
@given(m1=means, v1=variances, v2=variances, z=moderate_z)
def test_evidence_matches_mpmath(m1: float, v1: float, v2: float, z: float) -> None:
    m2 = point(m1, v1 + v2, z)
    ref = ref_evidence(m1, v1, m2, v2)
    assume(is_normal_range(ref))
    assert_rel(evidence(m1, v1, m2, v2), ref)


@MANY
@given(m1=means, v1=variances, m2=means, v2=variances)
def test_add_matches_mpmath(m1: float, v1: float, m2: float, v2: float) -> None:
    ref_mean = mpf(m1) + mpf(m2)
    ref_var = mpf(v1) + mpf(v2)
    got = add(m1, v1, m2, v2)
    assert isinstance(got, Gaussian)
    # A sum of two doubles is correctly rounded: relative accuracy even under cancellation.
    assume(ref_mean == 0 or abs(ref_mean) >= TINY)
    assert_rel(got.mean, ref_mean)
    assert_rel(got.var, ref_var)


# ---------------------------------------------------------------------------
# Specific extremes
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("v1", "v2"), [(1e300, 1e-300), (1e-300, 1e300)])
@pytest.mark.parametrize(("m1", "m2"), [(0.0, 1.0), (3.0, -7.0), (1e10, 1e-10)])
def test_multiply_extreme_variance_ratio(m1: float, v1: float, m2: float, v2: float) -> None:
    got = multiply(m1, v1, m2, v2)
    assert math.isfinite(got.mean)
    assert math.isfinite(got.var)
    assert got.var > 0
    ref_mean, ref_var = ref_multiply(m1, v1, m2, v2)
    assert_rel(got.var, ref_var)
    assert_rel(got.var, mpmath.mpf(1e-300))
    assert_mean_close(got.mean, ref_mean, (m1, v1, m2, v2))
    # the precise Gaussian wins: the other mean has weight 1e-600, below the double range
    assert got.mean == (m2 if v2 < v1 else m1)


def test_readme_extreme_multiply() -> None:
    got = multiply(0, 1e300, 1, 1e-300)
    assert got == Gaussian(1.0, 1e-300)


@pytest.mark.parametrize(("x", "var"), [(40.0, 1.0), (-40.0, 1.0), (1e5, 1.0), (-1e5, 1.0), (1.0, 1e-4), (1e50, 1e80)])
def test_logpdf_finite_where_pdf_underflows(x: float, var: float) -> None:
    assert pdf(x, 0.0, var) == 0.0
    got = logpdf(x, 0.0, var)
    assert math.isfinite(got)
    ref = ref_logpdf(x, 0.0, var)
    assert abs(mpf(got) - ref) <= RTOL * max(abs(ref), 1)


def test_logpdf_docstring_value() -> None:
    tolerance.assert_rel(logpdf(40.0), -800.9189385332047, RTOL)


@pytest.mark.parametrize("x", [-5.0, -10.0, -20.0, -30.0, -37.0])
def test_cdf_lower_tail(x: float) -> None:
    assert_rel(cdf(x), ref_cdf(x, 0.0, 1.0))


def test_cdf_lower_tail_shifted_and_scaled() -> None:
    # 30 standard deviations below the mean, with non-trivial mean and variance
    assert_rel(cdf(-30.0 * 2.0 + 5.0, 5.0, 4.0), ref_cdf(-55.0, 5.0, 4.0))
    assert f"{cdf(-30.0):.10e}" == "4.9067139271e-198"


@pytest.mark.parametrize(("mean", "var"), [(0.0, 1.0), (1e10, 1e-20), (-3.0, 1e100)])
def test_infinite_x(mean: float, var: float) -> None:
    inf = math.inf
    assert cdf(inf, mean, var) == 1.0
    assert cdf(-inf, mean, var) == 0.0
    assert pdf(inf, mean, var) == 0.0
    assert pdf(-inf, mean, var) == 0.0
    assert logpdf(inf, mean, var) == -inf
    assert logpdf(-inf, mean, var) == -inf
    arr = np.array([-inf, inf])
    np.testing.assert_array_equal(cdf(arr, mean, var), [0.0, 1.0])
    np.testing.assert_array_equal(pdf(arr, mean, var), [0.0, 0.0])
    np.testing.assert_array_equal(logpdf(arr, mean, var), [-inf, -inf])


def test_cdf_symmetry_and_centre() -> None:
    assert cdf(0.0) == 0.5
    assert cdf(7.0, 7.0, 123.0) == 0.5
    tolerance.assert_rel(cdf(1.0) + cdf(-1.0), 1.0, 1e-15)


# ---------------------------------------------------------------------------
# scipy.stats.norm (scale = sqrt(var): scale is a standard deviation)
# ---------------------------------------------------------------------------


@st.composite
def moderate_arrays(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 16))
    mean = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n)))
    var = 10.0 ** np.array(draw(st.lists(st.floats(-6.0, 6.0), min_size=n, max_size=n)))
    z = np.array(draw(st.lists(st.floats(-29.0, 29.0), min_size=n, max_size=n)))
    return mean + z * np.sqrt(var), mean, var


@memoised
def scipy_norm(x: np.ndarray, mean: np.ndarray, var: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scipy.stats.norm's (pdf, logpdf, cdf) at ``x`` (read-only: shared by every caller)."""
    frozen = scipy.stats.norm(loc=mean, scale=np.sqrt(var))
    values = frozen.pdf(x), frozen.logpdf(x), frozen.cdf(x)
    for value in values:
        value.flags.writeable = False
    return values


@MANY
@given(moderate_arrays())
def test_scipy_norm_agrees(arrays: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    x, mean, var = arrays
    want_pdf, want_logpdf, want_cdf = scipy_norm(x, mean, var)
    np.testing.assert_allclose(pdf(x, mean, var), want_pdf, rtol=RTOL, atol=0)
    np.testing.assert_allclose(logpdf(x, mean, var), want_logpdf, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(cdf(x, mean, var), want_cdf, rtol=RTOL, atol=0)


def test_scipy_scale_is_std_not_var() -> None:
    """The tutorial's bug: passing the variance as scipy's ``scale`` is wrong."""
    tolerance.assert_rel(pdf(1.0, 0.0, 4.0), scipy.stats.norm.pdf(1.0, 0.0, 2.0), RTOL)
    assert tolerance.rel_error(pdf(1.0, 0.0, 4.0), scipy.stats.norm.pdf(1.0, 0.0, 4.0)) > 1e-3


# ---------------------------------------------------------------------------
# Quadrature
# ---------------------------------------------------------------------------

PAIRS = [
    (0.0, 1.0, 0.0, 1.0),
    (0.0, 2.0, 10.0, 2.0),
    (-3.0, 0.5, 4.0, 2.5),
    (100.0, 4.0, 103.0, 0.25),
    (1.5, 1e-2, 1.4, 3.0),
    (-20.0, 9.0, -17.5, 16.0),
]


def _textbook_posterior(m1: float, v1: float, m2: float, v2: float) -> tuple[float, float]:
    """Only used to place the quadrature window, not as the expected value."""
    return (m1 * v2 + m2 * v1) / (v1 + v2), v1 * v2 / (v1 + v2)


def _integrate(func, centre: float, std: float, extra: tuple[float, ...], size: float) -> float:
    """∫ func over centre ± 15 std (beyond which a Gaussian-shaped integrand is < 1e-49 of its peak).

    ``size`` is the order of magnitude of the integral's terms, so that an
    integral that is 0 by symmetry is still accepted to 1e-13·size.
    """
    lo, hi = centre - 15 * std, centre + 15 * std
    points = sorted({p for p in (centre, *extra) if lo < p < hi})
    value, _ = quad(func, lo, hi, points=points or None, epsabs=1e-13 * size, epsrel=1e-13, limit=200)
    return value


@pytest.mark.parametrize(("m1", "v1", "m2", "v2"), PAIRS)
def test_product_integral_and_moments(m1: float, v1: float, m2: float, v2: float) -> None:
    def product(x: float) -> float:
        return pdf(x, m1, v1) * pdf(x, m2, v2)

    centre, var = _textbook_posterior(m1, v1, m2, v2)
    std = math.sqrt(var)
    ev = evidence(m1, v1, m2, v2)
    z = _integrate(product, centre, std, (m1, m2), ev)
    tolerance.assert_rel(z, ev, 1e-8)

    post = multiply(m1, v1, m2, v2)
    first = _integrate(lambda x: x * product(x), centre, std, (m1, m2), ev * (abs(centre) + std)) / z
    assert first == pytest.approx(post.mean, rel=1e-8, abs=1e-10 * std)
    second = _integrate(lambda x: (x - first) ** 2 * product(x), centre, std, (m1, m2), ev * var) / z
    tolerance.assert_rel(second, post.var, 1e-8)


@pytest.mark.parametrize(("m1", "v1", "m2", "v2"), PAIRS)
@pytest.mark.parametrize("k", [-2.5, 0.0, 1.0])
def test_convolution_is_add(m1: float, v1: float, m2: float, v2: float, k: float) -> None:
    total = add(m1, v1, m2, v2)
    x = total.mean + k * total.std

    def integrand(t: float) -> float:
        return pdf(t, m1, v1) * pdf(x - t, m2, v2)

    # in t the integrand is N(t; m1, v1)·N(t; x - m2, v2): concentrated around their product
    centre, var = _textbook_posterior(m1, v1, x - m2, v2)
    conv = _integrate(integrand, centre, math.sqrt(var), (m1, x - m2), integrand(centre) * math.sqrt(var))
    tolerance.assert_rel(conv, pdf(x, *total), 1e-8)


# ---------------------------------------------------------------------------
# Worked numbers, symmetry, algebraic forms
# ---------------------------------------------------------------------------


def test_tutorial_numbers() -> None:
    post = multiply(0, 2, 10, 2)
    assert post == Gaussian(5.0, 1.0)
    assert type(post.mean) is float
    assert type(post.var) is float
    pred = add(5, 1, 10, 1)
    assert pred == Gaussian(15.0, 2.0)
    assert type(pred.mean) is float
    assert type(pred.var) is float
    assert multiply(0.0, 2.0, 10.0, 2.0) == (5.0, 1.0)


@MANY
@given(m1=means, v1=variances, m2=means, v2=variances)
def test_multiply_symmetric(m1: float, v1: float, m2: float, v2: float) -> None:
    a = multiply(m1, v1, m2, v2)
    b = multiply(m2, v2, m1, v1)
    assert a.var == b.var
    # within one ulp of the larger term (the stable form is in fact exactly symmetric)
    assert abs(a.mean - b.mean) <= np.spacing(max(abs(a.mean), abs(b.mean), np.finfo(float).tiny))


moderate_means = st.floats(-1e6, 1e6)
moderate_vars = st.floats(-8.0, 8.0).map(lambda e: 10.0**e)


@MANY
@given(m1=moderate_means, v1=moderate_vars, m2=moderate_means, v2=moderate_vars)
def test_gain_and_information_forms_agree(m1: float, v1: float, m2: float, v2: float) -> None:
    got = multiply(m1, v1, m2, v2)
    # Kalman gain form
    gain = v1 / (v1 + v2)
    gain_mean = m1 + gain * (m2 - m1)
    gain_var = (1 - gain) * v1
    # information (precision) form
    info_var = 1 / (1 / v1 + 1 / v2)
    info_mean = info_var * (m1 / v1 + m2 / v2)
    scale = abs(m1) + abs(m2) + 1e-300  # floor: subnormal means are outside the standard
    # (1 - gain) loses relative accuracy when gain ≈ 1, up to ~eps/(1-gain)
    tolerance.assert_rel(gain_var, got.var, 1e-12 + 4e-16 * (v1 + v2) / v2)
    tolerance.assert_rel(info_var, got.var, 1e-12)
    assert gain_mean == pytest.approx(got.mean, rel=0, abs=1e-12 * scale)
    assert info_mean == pytest.approx(got.mean, rel=0, abs=1e-12 * scale)
    assert gain_mean == pytest.approx(info_mean, rel=0, abs=1e-12 * scale)


# ---------------------------------------------------------------------------
# Regressions: deep tails with small variances, means near the largest double
# ---------------------------------------------------------------------------

DBL_MAX = float(np.finfo(np.float64).max)


@pytest.mark.parametrize(
    ("x", "mean", "var"),
    [
        (3.8e-13, 0.0, 1e-28),  # exp(-722) is subnormal: 1.15e-11 relative error
        (4e-74, 0.0, 1e-150),  # exp(-800) underflows to 0: returns 0.0, true 1.46e-273
        (-4e-49, 0.0, 1e-100),  # returns 0.0, true 1.46e-298
    ],
)
def test_pdf_small_variance_deep_tail(x: float, mean: float, var: float) -> None:
    ref = ref_pdf(x, mean, var)
    assert is_normal_range(ref)
    assert_rel(pdf(x, mean, var), ref)


def test_evidence_small_variance_deep_tail() -> None:
    m1, v1, m2, v2 = 0.0, 5e-101, 4e-49, 5e-101
    ref = ref_evidence(m1, v1, m2, v2)
    assert is_normal_range(ref)  # 1.46e-298
    assert_rel(evidence(m1, v1, m2, v2), ref)  # kfsym returns 0.0


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_multiply_mean_near_largest_double(sign: float) -> None:
    m = sign * DBL_MAX
    got = multiply(m, 1.0, m, 3.0)  # true posterior mean is exactly m
    assert got.var == 0.75
    assert math.isfinite(got.mean)
    tolerance.assert_rel(got.mean, m, RTOL)
