"""Property tests of every public function of :mod:`kfsym.numeric` over the whole double range.

Every property compares against the textbook formula evaluated by mpmath at 50 significant
digits (``mpmath.workdps(50)``) from the float inputs converted exactly, so it judges the
floating-point evaluation only. The domain is the whole range of accepted inputs: points and
means anywhere in ±1.8e308 (±inf for the points of densities), variances from the smallest
subnormal 5e-324 (subnormal variances are accepted) up to the largest double.

The standards checked (``DESIGN.md``, "Numerical standards"):

- relative error ≤ 1e-12 wherever the exact value is a normal double; where it is subnormal,
  within that plus two subnormal ulps (2·2^-1074); where it is beyond the largest double, ±inf
  (or an OverflowError where the function documents one);
- logpdf and log_evidence: absolute error ≤ 1e-12·max(|exact|, 1);
- n-D: bounds of the form k·n·cond·eps, with cond the 2-norm condition number of the covariance
  scaled to unit diagonal (Cholesky and the solves are invariant under diagonal scaling, van der
  Sluis), k stated at each test;
- never NaN for valid input; product means inside the closed hull of the means combined (exactly
  the mean when both are equal); no variance, and no returned covariance diagonal, negative;
- scalar fast path and array path within the bound of :mod:`tests.paths`.

Run a larger search with ``HYPOTHESIS_PROFILE=thorough`` (see ``tests/conftest.py``).

The references are computed once per input (and precision) in a process (``tests/memo.py``): the derandomized
examples come back on every run, and a run forked from one that has seen them (mutation testing) only evaluates the
code under test and compares.

Known defects are held to the same standard as strict xfails (with the failing input and the measured
error in the reason): a fix makes them XPASS, which fails, and the marker must then go.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import mpmath
import numpy as np
import pytest
from hypothesis import Phase, assume, example, given, note, settings
from hypothesis import strategies as st

from kfsym.numeric import (
    add,
    cdf,
    correlation,
    covariance,
    evidence,
    expectation,
    kf_filter,
    kf_predict,
    kf_update,
    log_evidence,
    logpdf,
    mahalanobis,
    multiply,
    mvn_add,
    mvn_logpdf,
    mvn_multiply,
    mvn_pdf,
    pdf,
    rts_smoother,
    std,
    variance,
)
from tests.memo import memoised
from tests.paths import assert_paths_agree

MAX = sys.float_info.max
EPS = sys.float_info.epsilon  # 2^-52
SUB = 5e-324  # 2^-1074, the smallest subnormal (and the spacing of all subnormals)
RTOL = 1e-12
DPS = 50

# ----------------------------------------------------------------------------- strategies


def _log_uniform(mantissa: float, exponent: int) -> float:
    return math.ldexp(mantissa, exponent)


#: Positive doubles with a log-uniform exponent over the whole range, subnormals included.
log_uniform_positive = st.builds(_log_uniform, st.floats(1.0, 2.0, exclude_max=True), st.integers(-1074, 1023))
#: Every accepted variance: 5e-324 .. 1.8e308 (Hypothesis' own float draws plus log-uniform ones).
variances = st.one_of(st.floats(min_value=SUB, max_value=MAX), log_uniform_positive)
#: Every finite double, and signed log-uniform ones (Hypothesis' draws cluster near simple values).
finite_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.builds(lambda value, negative: -value if negative else value, log_uniform_positive, st.booleans()),
)
z_scores = st.floats(-45.0, 45.0)


@st.composite
def density_cases(draw: st.DrawFn) -> tuple[float, float, float]:
    """(x, mean, var): x anywhere (±inf included) or a moderate z-score away from the mean."""
    mean, var = draw(finite_floats), draw(variances)
    x = draw(
        st.one_of(
            st.floats(allow_nan=False),
            finite_floats,
            z_scores.map(lambda z: mean + z * math.sqrt(var)),  # may overflow to ±inf: a valid point too
        )
    )
    return x, mean, var


@st.composite
def pair_cases(draw: st.DrawFn) -> tuple[float, float, float, float]:
    """(mean1, var1, mean2, var2) over the whole range, with equal and nearby means often."""
    mean1, var1, var2 = draw(finite_floats), draw(variances), draw(variances)
    mean2 = draw(
        st.one_of(
            finite_floats,
            st.just(mean1),
            z_scores.map(lambda z: mean1 + z * math.sqrt(var1 + var2) if math.isfinite(var1 + var2) else mean1),
        )
    )
    assume(math.isfinite(mean2))
    return mean1, var1, mean2, var2


# ----------------------------------------------------------------------------- references and checks


def mpf(value: float) -> mpmath.mpf:
    """The float ``value`` exactly."""
    return mpmath.mpf(float(value))


#: Exact values at or beyond this round to ±inf (round to nearest: MAX + half an ulp).
OVERFLOW = mpmath.mpf(2) ** 1024 - mpmath.mpf(2) ** 970


def assert_close(got: float, exact: mpmath.mpf, rtol: float = RTOL, label: str = "", subnormal_ulps: int = 2) -> None:
    """Relative error ≤ rtol for a normal exact value; + ``subnormal_ulps`` subnormal ulps below; ±inf beyond MAX."""
    assert not math.isnan(got), f"{label}: NaN (exact {mpmath.nstr(exact, 17)})"
    if abs(exact) >= OVERFLOW:
        assert got == math.copysign(math.inf, exact), f"{label}: {got!r}, exact {mpmath.nstr(exact, 17)} overflows"
        return
    assert math.isfinite(got), f"{label}: {got!r}, exact {mpmath.nstr(exact, 17)}"
    error = abs(mpf(got) - exact)
    bound = rtol * abs(exact) + subnormal_ulps * SUB
    assert error <= bound, (
        f"{label}: got {got!r}, exact {mpmath.nstr(exact, 20)}, error {mpmath.nstr(error, 3)} > bound "
        f"{mpmath.nstr(bound, 3)} (relative {mpmath.nstr(error / abs(exact), 3) if exact else 'inf'})"
    )


def assert_log_close(got: float, exact: mpmath.mpf, label: str = "") -> None:
    """Absolute error ≤ 1e-12·max(|exact|, 1); -inf where the exact value is below -MAX."""
    assert not math.isnan(got), label
    if exact <= -OVERFLOW:
        assert got == -math.inf, f"{label}: {got!r}, exact {mpmath.nstr(exact, 17)} is below -MAX"
        return
    assert math.isfinite(got), f"{label}: {got!r}, exact {mpmath.nstr(exact, 17)}"
    error = abs(mpf(got) - exact)
    bound = RTOL * max(abs(exact), 1)
    assert error <= bound, f"{label}: got {got!r}, exact {mpmath.nstr(exact, 20)}, error {mpmath.nstr(error, 3)}"


@memoised
def ref_logpdf(x: float, mean: float, var: float) -> mpmath.mpf:
    x_, mean_, var_ = mpf(x), mpf(mean), mpf(var)
    return -((x_ - mean_) ** 2) / (2 * var_) - mpmath.log(2 * mpmath.pi * var_) / 2


@memoised
def ref_from_log(log_value: mpmath.mpf) -> mpmath.mpf:
    """exp(log_value), short-circuited to 0 far below the subnormals (exp(-800) < 2^-1075 / 1e50)."""
    return mpmath.mpf(0) if log_value < -800 else mpmath.exp(log_value)


@memoised
def ref_cdf(x: float, mean: float, var: float) -> mpmath.mpf:
    w = (mpf(mean) - mpf(x)) / mpmath.sqrt(2 * mpf(var))
    if w > 30:  # erfc(30)/2 < 1e-393: rounds to 0
        return mpmath.mpf(0)
    if w < -30:  # 1 - 1e-393 rounds to 1
        return mpmath.mpf(1)
    return mpmath.erfc(w) / 2


@memoised
def ref_log_evidence(m1: float, v1: float, m2: float, v2: float) -> mpmath.mpf:
    """log N(m1; m2, var1 + var2), the sum exact (var1 + var2 may exceed the largest double)."""
    total = mpf(v1) + mpf(v2)
    return -((mpf(m1) - mpf(m2)) ** 2) / (2 * total) - mpmath.log(2 * mpmath.pi * total) / 2


@memoised
def ref_product_mean(m1: float, v1: float, m2: float, v2: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(m1 v2 + m2 v1) / (v1 + v2) and the size of its terms (|m1| v2 + |m2| v1) / (v1 + v2)."""
    x1, s1, x2, s2 = mpf(m1), mpf(v1), mpf(m2), mpf(v2)
    return (x1 * s2 + x2 * s1) / (s1 + s2), (abs(x1) * s2 + abs(x2) * s1) / (s1 + s2)


def both_paths(function: Callable[..., Any], *args: float) -> tuple[Any, Any]:
    """(plain-float fast path, array path) of one call."""
    return function(*args), function(*(np.array([value]) for value in args))


# ----------------------------------------------------------------------------- 1-D densities


@given(density_cases())
def test_pdf_logpdf_cdf_match_mpmath_over_the_whole_range(case: tuple[float, float, float]) -> None:
    x, mean, var = case
    point = {"x": x, "mean": mean, "var": var}
    with mpmath.workdps(DPS):
        for function in (pdf, logpdf, cdf):
            scalar, array = both_paths(function, x, mean, var)
            assert type(scalar) is float and not math.isnan(scalar), (function.__name__, point, scalar)
            assert_paths_agree(function, float(array[0]), scalar, point)
        density, log_density, probability = pdf(x, mean, var), logpdf(x, mean, var), cdf(x, mean, var)
        assert density >= 0.0 and 0.0 <= probability <= 1.0
        if math.isinf(x):
            assert (density, log_density, probability) == (0.0, -math.inf, 1.0 if x > 0 else 0.0)
            return
        exact_log = ref_logpdf(x, mean, var)
        note(f"exact logpdf {mpmath.nstr(exact_log, 20)}")
        assert_log_close(log_density, exact_log, f"logpdf{point}")
        assert_close(density, ref_from_log(exact_log), label=f"pdf{point}")
        assert_close(probability, ref_cdf(x, mean, var), label=f"cdf{point}")


@given(pair_cases())
def test_evidence_and_log_evidence_match_mpmath(case: tuple[float, float, float, float]) -> None:
    m1, v1, m2, v2 = case
    args = {"var1": v1, "var2": v2}
    with mpmath.workdps(DPS):
        for function in (evidence, log_evidence):
            scalar, array = both_paths(function, m1, v1, m2, v2)
            assert not math.isnan(scalar), (function.__name__, case)
            assert_paths_agree(function, float(array[0]), scalar, args)
        exact_log = ref_log_evidence(m1, v1, m2, v2)
        assert_log_close(log_evidence(m1, v1, m2, v2), exact_log, f"log_evidence{case}")
        assert_close(evidence(m1, v1, m2, v2), ref_from_log(exact_log), label=f"evidence{case}")


# ----------------------------------------------------------------------------- 1-D product and sum


def ratio_overflows(var1: float, var2: float) -> bool:
    """var1/var2 or var2/var1 beyond the largest double: the class where multiply's kernel weight underflows."""
    return max(var1, var2) / min(var1, var2) == math.inf


@memoised
def ref_product_1d(m1: float, v1: float, m2: float, v2: float) -> tuple[mpmath.mpf, mpmath.mpf, mpmath.mpf]:
    """(exact mean, the bound of its error, exact variance) of the 1-D product.

    Mixed bound for the mean: |error| <= 1e-12 (|w1 m1| + |w2 m2|) (+ two subnormal ulps for terms that underflow).
    Where w1 m1 and w2 m2 cancel, the mean is ill-conditioned in its inputs (a relative change of eps in m1 moves it
    by eps |w1 m1|): that is the problem's conditioning, not the algorithm's. (The class where the ratio of the
    variances overflows has its own property below as well.)
    """
    x1, s1, x2, s2 = mpf(m1), mpf(v1), mpf(m2), mpf(v2)
    w1, w2 = s2 / (s1 + s2), s1 / (s1 + s2)  # the exact weights of the convex combination
    exact_mean = w1 * x1 + w2 * x2
    return exact_mean, RTOL * (abs(w1 * x1) + abs(w2 * x2)) + 2 * SUB, s1 * s2 / (s1 + s2)


@given(pair_cases())
def test_multiply_matches_mpmath_mean_in_hull_variance_positive(case: tuple[float, float, float, float]) -> None:
    m1, v1, m2, v2 = case
    scalar, array = both_paths(multiply, m1, v1, m2, v2)
    # Pure IEEE arithmetic on both paths: the same bits (tests/paths.py bounds only exp and log).
    assert (scalar.mean, scalar.var) == (float(array.mean[0]), float(array.var[0]))
    mean, var = scalar
    assert not (math.isnan(mean) or math.isnan(var))
    assert min(m1, m2) <= mean <= max(m1, m2), f"mean {mean!r} outside the hull of {m1!r}, {m2!r}"
    if m1 == m2:
        assert mean == m1
    # Never negative; 0 only as the correctly rounded value of a subnormal (var1 = var2 = 5e-324 -> 2^-1075 -> 0).
    assert 0.0 <= var <= min(v1, v2)
    with mpmath.workdps(DPS):
        # the mixed bound of ref_product_1d: 1e-12 of the size of the terms w1 m1, w2 m2
        exact_mean, bound, exact_var = ref_product_1d(m1, v1, m2, v2)
        error = abs(mpf(mean) - exact_mean)
        assert error <= bound, (
            f"multiply{case}.mean = {mean!r}, exact {mpmath.nstr(exact_mean, 20)}, error {mpmath.nstr(error, 3)}, "
            f"bound {mpmath.nstr(bound, 3)}"
        )
        assert_close(var, exact_var, label=f"multiply{case}.var")


@given(pair_cases())
def test_add_is_the_correctly_rounded_sum_or_overflows(case: tuple[float, float, float, float]) -> None:
    m1, v1, m2, v2 = case
    with mpmath.workdps(DPS):
        exact_mean, exact_var = mpf(m1) + mpf(m2), mpf(v1) + mpf(v2)
        try:
            mean, var = add(m1, v1, m2, v2)
        except OverflowError:
            assert max(abs(exact_mean), exact_var) >= OVERFLOW * (1 - mpmath.mpf(2) ** -50), case
            with pytest.raises(OverflowError):
                add(np.array([m1]), v1, m2, v2)
            return
        assert (mean, var) == tuple(float(field[0]) for field in add(np.array([m1]), [v1], [m2], [v2]))
        # One rounding each: within half an ulp, far inside 1e-12.
        assert_close(mean, exact_mean, rtol=EPS / 2, label=f"add{case}.mean")
        assert_close(var, exact_var, rtol=EPS / 2, label=f"add{case}.var")
        assert var > 0.0


# ----------------------------------------------------------------------------- moments

data_arrays = st.lists(finite_floats, min_size=2, max_size=12).map(np.array)


def _overflow_or_close(call: Callable[[], Any], exact: mpmath.mpf, bound: mpmath.mpf, label: str) -> None:
    """``call()`` within ``bound`` of ``exact``; an OverflowError or ±inf only where exact exceeds MAX.

    Where exact exceeds MAX by more than ``bound``, the result must overflow; where it exceeds MAX by less (the
    bound is the problem's conditioning, e.g. weights that sum to 1 - eps), a finite result within the bound is
    right too.
    """
    certain = abs(exact) - bound >= OVERFLOW
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = float(call())
    except OverflowError:
        assert abs(exact) + bound >= OVERFLOW * (1 - mpmath.mpf(2) ** -40), f"{label}: OverflowError, exact {exact}"
        return
    assert not math.isnan(got), label
    if certain:
        assert math.isinf(got) and (got > 0) == (exact > 0), f"{label}: {got!r}, exact {mpmath.nstr(exact, 17)}"
        return
    assert math.isfinite(got) or abs(exact) + bound >= OVERFLOW, f"{label}: {got!r}, exact {mpmath.nstr(exact, 17)}"
    error = abs(mpf(got) - exact) if math.isfinite(got) else 0
    assert error <= bound, (
        f"{label}: got {got!r}, exact {mpmath.nstr(exact, 20)}, error {mpmath.nstr(error, 3)} > {mpmath.nstr(bound, 3)}"
    )


@memoised
def ref_moments(values: np.ndarray, ddof: int) -> tuple[mpmath.mpf, ...]:
    """(mean, its bound, variance, its bound, standard deviation, its bound): exact, and the two-pass algorithm's."""
    n = len(values)
    xs = [mpf(value) for value in values]
    exact_mean = mpmath.fsum(xs) / n
    magnitude = mpmath.fsum(abs(value) for value in xs) / n
    # A sum of n terms (pairwise or not): |error| <= n eps mean|x| (mixed bound: the sum's own conditioning).
    mean_bound = n * EPS * magnitude + n * SUB
    scatter = mpmath.fsum((value - exact_mean) ** 2 for value in xs)
    exact_var = scatter / (n - ddof)
    # Two-pass variance (Chan, Golub & LeVeque): the computed mean's error delta adds n delta^2 to the scatter;
    # each of the n squares and the sum add ~(n + 3) eps relative: |error| <= 4 n eps var + n (2 n eps mean|x|)^2.
    delta = 2 * n * EPS * magnitude
    bound = 4 * n * EPS * exact_var + n * delta**2 / (n - ddof) + 4 * n * SUB
    exact_std = mpmath.sqrt(exact_var)
    std_bound = (2 * n * EPS + EPS) * exact_std + (mpmath.sqrt(bound) if exact_var < bound else bound / exact_std)
    return exact_mean, mean_bound, exact_var, bound, exact_std, std_bound + 4 * SUB


@given(data_arrays, st.sampled_from([0, 1]))
def test_expectation_variance_std_match_mpmath(values: np.ndarray, ddof: int) -> None:
    with mpmath.workdps(DPS):
        exact_mean, mean_bound, exact_var, var_bound, exact_std, std_bound = ref_moments(values, ddof)
        _overflow_or_close(lambda: expectation(values), exact_mean, mean_bound, "expectation")
        _overflow_or_close(lambda: variance(values, ddof=ddof), exact_var, var_bound, f"variance(ddof={ddof})")
        _overflow_or_close(lambda: std(values, ddof=ddof), exact_std, std_bound, f"std(ddof={ddof})")


@memoised
def ref_weighted_moments(values: np.ndarray, weights: np.ndarray) -> tuple[mpmath.mpf, ...]:
    """(mean, its bound, variance, its bound) with weights ``weights``: exact, and the two-pass algorithm's."""
    n = len(values)
    xs, ps = [mpf(value) for value in values], [mpf(weight) for weight in weights]
    exact_mean = mpmath.fsum(p * x for p, x in zip(ps, xs, strict=True))
    magnitude = mpmath.fsum(p * abs(x) for p, x in zip(ps, xs, strict=True))
    exact_var = mpmath.fsum(p * (x - exact_mean) ** 2 for p, x in zip(ps, xs, strict=True))
    delta = 2 * n * EPS * magnitude
    bound = 4 * n * EPS * exact_var + 2 * delta**2 + 4 * n * SUB
    return exact_mean, 2 * n * EPS * magnitude + 2 * n * SUB, exact_var, bound


@given(data_arrays, st.data())
def test_weighted_expectation_and_variance_match_mpmath(values: np.ndarray, data: st.DataObject) -> None:
    n = len(values)
    weights = np.array(data.draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    assume(weights.sum() > 0)
    weights = weights / weights.sum()
    assume(abs(weights.sum() - 1.0) <= 1e-12)
    with mpmath.workdps(DPS):
        exact_mean, mean_bound, exact_var, var_bound = ref_weighted_moments(values, weights)
        _overflow_or_close(lambda: expectation(values, weights), exact_mean, mean_bound, "expectation(p)")
        _overflow_or_close(lambda: variance(values, weights), exact_var, var_bound, "variance(p)")


class CovarianceReference(NamedTuple):
    """The exact covariance and correlation matrices of a table, and the bounds of the two-pass algorithm."""

    cov: tuple[tuple[mpmath.mpf, ...], ...]
    cov_bound: tuple[tuple[mpmath.mpf, ...], ...]
    #: None where an exact variance is 0 (no correlation)
    rho: tuple[tuple[mpmath.mpf, ...], ...] | None
    rho_bound: tuple[tuple[mpmath.mpf, ...], ...] | None


@memoised
def ref_covariance(table: np.ndarray) -> CovarianceReference:
    """The covariance (ddof 1) and correlation of the rows of ``table``, exact from the floats."""
    rows, count = table.shape
    xs = [[mpf(value) for value in row] for row in table]
    means = [mpmath.fsum(row) / count for row in xs]
    centred = [[value - mean for value in row] for row, mean in zip(xs, means, strict=True)]
    magnitudes = [mpmath.fsum(abs(value) for value in row) / count for row in xs]
    exact = [
        [mpmath.fsum(a * b for a, b in zip(centred[k], centred[j], strict=True)) / (count - 1) for j in range(rows)]
        for k in range(rows)
    ]
    cov_bound = []
    for k in range(rows):
        line = []
        for j in range(rows):
            # Cauchy-Schwarz scale of the entry, plus the two-pass mean error as for variance.
            scale = mpmath.sqrt(exact[k][k] * exact[j][j])
            delta = 2 * count * EPS * max(magnitudes[k], magnitudes[j])
            line.append(4 * count * EPS * scale + 2 * delta * (mpmath.sqrt(scale) + delta) + 4 * count * SUB)
        cov_bound.append(tuple(line))
    diagonal = [exact[k][k] for k in range(rows)]
    rho = rho_bound = None
    if all(entry > 0 for entry in diagonal):
        rho, rho_bound = [], []
        for k in range(rows):
            rho_line, bound_line = [], []
            for j in range(rows):
                rho_line.append(exact[k][j] / mpmath.sqrt(diagonal[k] * diagonal[j]))
                delta = 2 * count * EPS * max(magnitudes[k], magnitudes[j])
                spread = min(mpmath.sqrt(diagonal[k]), mpmath.sqrt(diagonal[j]))
                bound_line.append(8 * count * EPS + 4 * delta / spread + 4 * delta**2 / spread**2 if spread else 1)
            rho.append(tuple(rho_line))
            rho_bound.append(tuple(bound_line))
    return CovarianceReference(
        cov=tuple(tuple(line) for line in exact),
        cov_bound=tuple(cov_bound),
        rho=None if rho is None else tuple(rho),
        rho_bound=None if rho_bound is None else tuple(rho_bound),
    )


@given(st.integers(2, 3), st.integers(2, 8), st.data())
def test_covariance_and_correlation_match_mpmath(rows: int, count: int, data: st.DataObject) -> None:
    table = np.array([data.draw(st.lists(finite_floats, min_size=count, max_size=count)) for _ in range(rows)])
    with mpmath.workdps(DPS):
        ref = ref_covariance(table)
        exact = ref.cov
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                got = np.asarray(covariance(table))
        except OverflowError:
            assert max(abs(entry) for line in exact for entry in line) >= OVERFLOW * (1 - mpmath.mpf(2) ** -40)
            return
        assert not np.isnan(got).any() and (np.diagonal(got) >= 0).all()
        assert (got == got.T).all()
        for k in range(rows):
            for j in range(rows):
                if abs(exact[k][j]) >= OVERFLOW:
                    assert math.isinf(got[k, j])
                    continue
                error, bound = abs(mpf(got[k, j]) - exact[k][j]), ref.cov_bound[k][j]
                assert error <= bound, (k, j, got[k, j], mpmath.nstr(exact[k][j], 17), mpmath.nstr(error, 3))
        assume(ref.rho is not None)  # every exact variance > 0
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                rho = np.asarray(correlation(table))
        except ValueError as error:  # a variable whose computed variance is 0: refused, by name
            assert "constant" in str(error)
            return
        assert not np.isnan(rho).any() and (np.abs(rho) <= 1.0).all() and (np.diagonal(rho) == 1.0).all()
        for k in range(rows):
            for j in range(rows):
                exact_rho, bound = ref.rho[k][j], ref.rho_bound[k][j]
                error = abs(mpf(rho[k, j]) - exact_rho)
                assert error <= bound, (k, j, rho[k, j], mpmath.nstr(exact_rho, 17), mpmath.nstr(error, 3))


# ----------------------------------------------------------------------------- n-D: strategies and references


def unit_diagonal_scaled(matrix: np.ndarray) -> np.ndarray:
    """D^-1/2 A D^-1/2 with D = diag(A), computed without overflow (two divisions, not a product)."""
    root = np.sqrt(np.diagonal(matrix))
    return matrix / root[:, None] / root[None, :]


def scaled_condition(matrix: np.ndarray) -> float:
    """2-norm condition number of ``matrix`` scaled to unit diagonal: what governs Cholesky (van der Sluis)."""
    return float(np.linalg.cond(unit_diagonal_scaled(matrix)))


@st.composite
def spd_matrices(draw: st.DrawFn, n: int, exponents: tuple[int, int] = (-537, 511)) -> np.ndarray:
    """S = D C D: C a correlation matrix with condition up to ~1e12, D = diag(2^k) spread over ``exponents``.

    The default spread puts the variances anywhere in [2^-1074, 2^1022], subnormals included.
    """
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    orthogonal, _ = np.linalg.qr(rng.standard_normal((n, n)))
    decades = draw(st.floats(0.0, 12.0))
    spectrum = np.logspace(0.0, -decades, n)
    correlated = unit_diagonal_scaled(orthogonal @ np.diag(spectrum) @ orthogonal.T)
    correlated = 0.5 * (correlated + correlated.T)
    np.fill_diagonal(correlated, 1.0)
    scale = np.ldexp(1.0, np.array(draw(st.lists(st.integers(*exponents), min_size=n, max_size=n))))
    with np.errstate(under="ignore"):
        matrix = correlated * scale[:, None] * scale[None, :]
    return np.asarray(0.5 * (matrix + matrix.T))


def mp_matrix(array: np.ndarray) -> mpmath.matrix:
    return mpmath.matrix([[mpf(value) for value in row] for row in np.atleast_2d(array)])


def mp_vector(array: np.ndarray) -> mpmath.matrix:
    return mpmath.matrix([mpf(value) for value in array])


def mp_abs(matrix: mpmath.matrix) -> mpmath.matrix:
    return matrix.apply(abs)


def spd_or_skip(matrix: np.ndarray) -> None:
    """Rounding the scaled entries can leave a stored matrix that is not positive definite: not a case."""
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        assume(False)
    assume(np.all(np.diagonal(matrix) > 0))
    assume(scaled_condition(matrix) < 1e13)


@st.composite
def point_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, mean, cov) in n = 2..4: x a moderate Mahalanobis distance away, or anywhere."""
    n = draw(st.integers(2, 4))
    cov = draw(spd_matrices(n))
    spd_or_skip(cov)
    std_devs = np.sqrt(np.diagonal(cov))
    mean = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n))) * std_devs
    z = np.array(draw(st.lists(st.floats(-30.0, 30.0), min_size=n, max_size=n)))
    x = draw(
        st.one_of(
            st.just(mean + std_devs * z / math.sqrt(n)),
            st.lists(finite_floats, min_size=n, max_size=n).map(np.array),
        )
    )
    return x, mean, cov


def mp_inverse_spd(matrix: mpmath.matrix) -> mpmath.matrix:
    """A^-1 = R (R A R)^-1 R, R = diag(A_ii)^-1/2: mpmath's pivot tolerance is absolute, so scale first."""
    size = matrix.rows
    root = [1 / mpmath.sqrt(matrix[i, i]) for i in range(size)]
    scaled = mpmath.matrix(size, size)
    for i in range(size):
        for j in range(size):
            scaled[i, j] = root[i] * matrix[i, j] * root[j]
    inverse = mpmath.inverse(scaled)
    for i in range(size):
        for j in range(size):
            inverse[i, j] *= root[i] * root[j]
    return inverse


def mp_log_det_spd(matrix: mpmath.matrix) -> mpmath.mpf:
    """log det A = log det (R A R) + sum log A_ii (scaled as in :func:`mp_inverse_spd`)."""
    size = matrix.rows
    scaled = mpmath.matrix(size, size)
    for i in range(size):
        for j in range(size):
            scaled[i, j] = matrix[i, j] / mpmath.sqrt(matrix[i, i] * matrix[j, j])
    return mpmath.log(mpmath.det(scaled)) + sum(mpmath.log(matrix[i, i]) for i in range(size))


@memoised
def ref_density_terms(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(Mahalanobis distance squared, log det cov), exactly from the float inputs (50 digits)."""
    matrix = mp_matrix(cov)
    deviation = mp_vector(x) - mp_vector(mean)
    solved = mp_inverse_spd(matrix) * deviation
    squared = sum(deviation[i] * solved[i] for i in range(len(x)))
    return squared, mp_log_det_spd(matrix)


# ----------------------------------------------------------------------------- n-D densities and distance

#: k in the n-D bounds k·n·cond·eps (cond: the covariance scaled to unit diagonal).
K_ND = 64


@memoised
def ref_mvn_density(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> tuple[Any, ...]:
    """(cond, exact logpdf, its bound, exact pdf, exact Mahalanobis distance) at ``x``.

    Cholesky is backward stable (|dA| <= c n eps |L||L^T|); the solve and log det inherit cond (the covariance
    scaled to unit diagonal): |error of logpdf| <= 64 n cond eps (d^2/2 + |log det|/2 + n log(2 pi)/2 + 1).
    """
    n = len(x)
    cond = scaled_condition(cov)
    squared, log_det = ref_density_terms(x, mean, cov)
    exact_log = -(n * mpmath.log(2 * mpmath.pi) + log_det + squared) / 2
    terms = squared / 2 + abs(log_det) / 2 + n * mpmath.log(2 * mpmath.pi) / 2 + 1
    return cond, exact_log, K_ND * n * cond * EPS * terms, ref_from_log(exact_log), mpmath.sqrt(squared)


@given(point_cases())
def test_mvn_logpdf_pdf_mahalanobis_match_mpmath_within_k_n_cond_eps(case: tuple[np.ndarray, ...]) -> None:
    x, mean, cov = case
    n = len(x)
    with mpmath.workdps(DPS):
        cond, exact_log, log_bound, exact_pdf, distance = ref_mvn_density(x, mean, cov)
        note(f"n={n} cond={cond:.3g} x={x.tolist()!r} mean={mean.tolist()!r} cov={cov.tolist()!r}")
        # the bound of ref_mvn_density: 64 n cond eps (d^2/2 + |log det|/2 + n log(2 pi)/2 + 1)
        got_log = mvn_logpdf(x, mean, cov)
        assert not math.isnan(got_log)
        if exact_log <= -OVERFLOW:
            assert got_log == -math.inf
        else:
            error = abs(mpf(got_log) - exact_log)
            assert error <= log_bound, f"mvn_logpdf error {mpmath.nstr(error, 3)} > {mpmath.nstr(log_bound, 3)}"
        if exact_pdf < OVERFLOW:  # beyond the largest double the density is not a number to compare
            # pdf = exp(logpdf): its relative error is the absolute error of logpdf, plus exp's ulp
            got_pdf = mvn_pdf(x, mean, cov)
            assert not math.isnan(got_pdf)
            error = abs(mpf(got_pdf) - exact_pdf)
            assert error <= (log_bound + 4 * EPS) * exact_pdf + 2 * SUB, f"mvn_pdf {got_pdf!r} vs {exact_pdf}"
        # relative error of d^2 <= 64 n cond eps, so of d <= 32 n cond eps (+ the final square root's ulp)
        if distance < OVERFLOW:
            got = mahalanobis(x, mean, cov)
            assert not math.isnan(got), "mahalanobis returned NaN"
            assert_close(got, distance, rtol=K_ND / 2 * n * cond * EPS + EPS, label=f"mahalanobis (cond {cond:.3g})")


@given(density_cases())
def test_one_dimensional_mvn_is_the_1d_function(case: tuple[float, float, float]) -> None:
    x, mean, var = case
    point = {"x": x, "mean": mean, "var": var}
    assert_paths_agree(logpdf, mvn_logpdf([x], [mean], [[var]]), logpdf(x, mean, var), point)
    assert_paths_agree(pdf, mvn_pdf([x], [mean], [[var]]), pdf(x, mean, var), point)


# ----------------------------------------------------------------------------- n-D product and sum


# Known defects, found by these properties (see the report of issue 10's property layer). Each test holds the
# library to the standard; strict xfail, so a fix turns it into an XPASS failure and the marker must go.
#: Properties that fail on a known defect: no shrinking (it only costs time; the reason gives the input).
NO_SHRINK = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])


#: Digits of the product's reference (the gain form's S1 (S1 + S2)^-1 S2 cancels through ~1e75 on coupled scales).
PRODUCT_DPS = 300


@given(st.integers(2, 4), st.data())
def test_mvn_multiply_with_diagonal_covariances_is_the_1d_product_per_axis(n: int, data: st.DataObject) -> None:
    """Variance ratios across the whole normal range (and beyond, into the subnormals)."""
    v1 = np.array(data.draw(st.lists(variances, min_size=n, max_size=n)))
    v2 = np.array(data.draw(st.lists(variances, min_size=n, max_size=n)))
    m1 = np.array(data.draw(st.lists(finite_floats, min_size=n, max_size=n)))
    m2 = np.array(data.draw(st.lists(finite_floats, min_size=n, max_size=n)))
    product = mvn_multiply(m1, np.diag(v1), m2, np.diag(v2))
    assert not np.isnan(product.mean).any() and not np.isnan(product.cov).any()
    assert (product.cov == product.cov.T).all() and (np.diagonal(product.cov) >= 0).all()
    off_diagonal = product.cov[~np.eye(n, dtype=bool)]
    assert (off_diagonal == 0.0).all(), off_diagonal
    for axis in range(n):
        expected = multiply(float(m1[axis]), float(v1[axis]), float(m2[axis]), float(v2[axis]))
        label = f"axis {axis}: multiply({m1[axis]!r}, {v1[axis]!r}, {m2[axis]!r}, {v2[axis]!r}) = {expected}"
        mean, var = float(product.mean[axis]), float(product.cov[axis, axis])
        assert min(m1[axis], m2[axis]) <= mean <= max(m1[axis], m2[axis]), label
        with mpmath.workdps(DPS):
            # Where the variance (or the mean) is subnormal, the scaled factors of the n-D product are subnormal too: a
            # few subnormal ulps (8 2^-1074) of absolute error there; the relative standard holds wherever it is normal.
            assert_close(var, mpf(expected.var), label=label + f", var {var!r}", subnormal_ulps=8)
            # the mean: the mixed bound of the 1-D test, against the exact mean (the 1-D mean is measured against the
            # same in test_multiply_matches_mpmath...; where it fails, see test_multiply_mean_when_the_variance_ratio_
            # overflows, the n-D product is the right one of the two)
            exact_mean, scale = ref_product_mean(m1[axis], v1[axis], m2[axis], v2[axis])
            error = abs(mpf(mean) - exact_mean)
            assert error <= RTOL * scale + 8 * SUB, label + f", mean {mean!r}, error {mpmath.nstr(error, 3)}"


@st.composite
def product_cases(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(2, 4))
    cov1 = draw(spd_matrices(n, exponents=(-200, 200)))
    cov2 = draw(spd_matrices(n, exponents=(-200, 200)))
    spd_or_skip(cov1)
    spd_or_skip(cov2)
    mean1 = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n))) * np.sqrt(np.diagonal(cov1))
    mean2 = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n))) * np.sqrt(np.diagonal(cov2))
    return mean1, cov1, mean2, cov2


def to_float(matrix: mpmath.matrix) -> np.ndarray:
    return np.array([[float(matrix[i, j]) for j in range(matrix.cols)] for i in range(matrix.rows)])


def entries(matrix: mpmath.matrix) -> tuple[tuple[mpmath.mpf, ...], ...]:
    """The entries of ``matrix`` as a tuple of rows (immutable, unlike the matrix)."""
    return tuple(tuple(matrix[i, j] for j in range(matrix.cols)) for i in range(matrix.rows))


def column(vector: mpmath.matrix) -> tuple[mpmath.mpf, ...]:
    """The entries of the column ``vector`` as a tuple."""
    return tuple(vector[i] for i in range(vector.rows))


class ProductReference(NamedTuple):
    """mvn_multiply's exact result at PRODUCT_DPS digits and the componentwise bounds it is held to."""

    cond: float
    mean: tuple[mpmath.mpf, ...]
    cov: tuple[tuple[mpmath.mpf, ...], ...]
    mean_bound: tuple[mpmath.mpf, ...]
    cov_bound: tuple[tuple[mpmath.mpf, ...], ...]


@memoised
def ref_mvn_product(m1: np.ndarray, s1: np.ndarray, m2: np.ndarray, s2: np.ndarray) -> ProductReference:
    """W1 m1 + W2 m2 and S1 (S1 + S2)^-1 S2, W1 = S2 (S1 + S2)^-1, W2 = S1 (S1 + S2)^-1, at PRODUCT_DPS digits.

    cond: the largest of the unit-diagonal T~ = R (S1 + S2) R's that the gain form solves with, and of cov1's and
    cov2's scaled to unit diagonal, whose factors the square-root information form inverts (where scale ratios
    spread: tests/test_mvn_multiply_scales.py); the form's error grows with these. Componentwise bounds of a
    computed matrix product (Higham, ch. 3): magnitudes of the factors, not of the product, times 64 n cond eps:

      |d mean| <= 64 n cond eps (|S2||T^-1||m1| + |S1||T^-1||m2|)   (the mixed bound of the 1-D mean),
      |d S_ij| <= 64 n cond eps sqrt(M_ii M_jj),  M = |S1||T^-1||S2|   (each + 2 SUB).

    S1 (S1 + S2)^-1 S2 cancels through ~1e75 where the scales of cov1 and cov2 differ by many decades: DPS digits
    (50) gave a reference off by more than the bound (the result right to 4e-3 of it at 300 digits).
    """
    n = len(m1)
    cond = max(scaled_condition(s1 + s2), scaled_condition(s1), scaled_condition(s2))
    with mpmath.workdps(PRODUCT_DPS):
        a, b = mp_matrix(s1), mp_matrix(s2)
        inverse = mp_inverse_spd(a + b)
        x1, x2 = mp_vector(m1), mp_vector(m2)
        exact_mean = b * inverse * x1 + a * inverse * x2  # W1 m1 + W2 m2, W1 + W2 = I
        exact_cov = a * inverse * b
        exact_cov = (exact_cov + exact_cov.T) / 2
        k = K_ND * n * cond * EPS
        absolute_inverse = mp_abs(inverse)
        mean_magnitude = mp_abs(b) * absolute_inverse * mp_abs(x1) + mp_abs(a) * absolute_inverse * mp_abs(x2)
        cov_magnitude = mp_abs(a) * absolute_inverse * mp_abs(b)
        axes = range(n)
        return ProductReference(
            cond=cond,
            mean=column(exact_mean),
            cov=entries(exact_cov),
            mean_bound=tuple(k * mean_magnitude[i] + 2 * SUB for i in axes),
            # a covariance entry is measured against its own scale: sqrt(M_ii M_jj), M = |S1||T^-1||S2|
            cov_bound=tuple(
                tuple(k * mpmath.sqrt(cov_magnitude[i, i] * cov_magnitude[j, j]) + 2 * SUB for j in axes) for i in axes
            ),
        )


@given(product_cases())
def test_mvn_multiply_matches_mpmath_within_k_n_cond_eps(case: tuple[np.ndarray, ...]) -> None:
    """Componentwise, with cond the largest of cond(T~), cond(unit S1), cond(unit S2).

    It was a strict xfail with cond(T~) alone: the coupled-scales defect (cov[0, 0] = 6.0e-55, exact 1.39e-93) is
    gone (elements whose scale ratios spread over 2^10 take the square-root information form, whose error grows
    with cond of cov1 and cov2 scaled to unit diagonal: cond(unit S1) = 1.3e10 gave 2.4e-12 where cond(T~) = 8.5).
    Known residue: the 2000-example ``thorough`` profile still finds a mean 1.02 times over this bound (n = 4,
    mean[2] error 2.05e-24 > 2.01e-24), and below the threshold the gain form's LU solve gave 1.5 times the
    cond(T~) bound (n = 2, s2 = [[1, 7.58], [7.58, 256]]); the ``ci`` profile's examples are within it.
    """
    m1, s1, m2, s2 = case
    n = len(m1)
    product = mvn_multiply(m1, s1, m2, s2)
    assert not np.isnan(product.mean).any() and not np.isnan(product.cov).any()
    assert (product.cov == product.cov.T).all() and (np.diagonal(product.cov) >= 0).all()
    # the bounds of ref_mvn_product: 64 n cond eps of the magnitudes of the factors (Higham, ch. 3)
    exact = ref_mvn_product(m1, s1, m2, s2)
    with mpmath.workdps(PRODUCT_DPS):
        note(
            f"n={n} cond(T~)={exact.cond:.3g} m1={m1.tolist()!r} s1={s1.tolist()!r} m2={m2.tolist()!r} "
            f"s2={s2.tolist()!r}"
        )
        for i in range(n):
            error = abs(mpf(product.mean[i]) - exact.mean[i])
            bound = exact.mean_bound[i]
            assert error <= bound, f"mean[{i}] error {mpmath.nstr(error, 3)} > {mpmath.nstr(bound, 3)}"
            for j in range(n):
                error = abs(mpf(product.cov[i, j]) - exact.cov[i][j])
                bound = exact.cov_bound[i][j]
                assert error <= bound, f"cov[{i},{j}] error {mpmath.nstr(error, 3)} > {mpmath.nstr(bound, 3)}"


@given(st.integers(2, 4), st.data())
def test_mvn_add_is_the_correctly_rounded_sum_or_overflows(n: int, data: st.DataObject) -> None:
    """Whole range: variances 5e-324..9e307, means anywhere; an OverflowError exactly where a sum exceeds MAX."""
    s1, s2 = data.draw(spd_matrices(n)), data.draw(spd_matrices(n))
    spd_or_skip(s1)
    spd_or_skip(s2)
    m1 = np.array(data.draw(st.lists(finite_floats, min_size=n, max_size=n)))
    m2 = np.array(data.draw(st.lists(finite_floats, min_size=n, max_size=n)))
    with mpmath.workdps(DPS):
        sums = [mpf(a) + mpf(b) for a, b in zip([*m1, *s1.ravel()], [*m2, *s2.ravel()], strict=True)]
        try:
            result = mvn_add(m1, s1, m2, s2)
        except OverflowError:
            assert max(abs(value) for value in sums) >= OVERFLOW * (1 - mpmath.mpf(2) ** -50)
            return
    with np.errstate(over="ignore"):
        assert (result.mean == m1 + m2).all()  # IEEE addition: each entry correctly rounded
        assert (result.cov == s1 + s2).all()  # symmetric inputs: the sum is symmetric, nothing to fix
    assert (np.diagonal(result.cov) > 0).all()


# ----------------------------------------------------------------------------- Kalman steps


@st.composite
def kf_cases(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """(x, P, F, Q, z, H, R): P and Q possibly singular (rank-deficient), scales over many decades."""
    n, m = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)

    def semi_definite(size: int, rank: int, exponents: tuple[int, int]) -> np.ndarray:
        factor = rng.standard_normal((size, rank)) * np.ldexp(1.0, rng.integers(*exponents, size=(size, 1)))
        return np.asarray(factor @ factor.T)

    spread = draw(st.sampled_from([(0, 1), (-20, 20), (-100, 100)]))
    P = semi_definite(n, draw(st.integers(0, n)), spread)
    Q = semi_definite(n, draw(st.integers(0, n)), spread)
    R = semi_definite(m, m, spread)
    F = rng.standard_normal((n, n)) * np.ldexp(1.0, rng.integers(-10, 10, size=(n, n)))
    H = rng.standard_normal((m, n))
    x = rng.standard_normal(n) * np.ldexp(1.0, rng.integers(*spread, size=n))
    z = H @ x + rng.standard_normal(m) * np.sqrt(np.diagonal(R))
    return x, P, F, Q, z, H, R


@memoised
def ref_kf_predict(x: np.ndarray, P: np.ndarray, F: np.ndarray, Q: np.ndarray) -> tuple[tuple[Any, ...], ...]:
    """(F x, F P F^T + Q, |F||x|, |F||P||F|^T + |Q|), exact from the floats (nested tuples)."""
    f, p, q = mp_matrix(F), mp_matrix(P), mp_matrix(Q)
    magnitude = mp_abs(f) * mp_abs(p) * mp_abs(f).T + mp_abs(q)
    mean_magnitude = mp_abs(f) * mp_abs(mp_vector(x))
    return column(f * mp_vector(x)), entries(f * p * f.T + q), column(mean_magnitude), entries(magnitude)


@given(kf_cases())
def test_kf_predict_matches_mpmath_mixed_bound(case: tuple[np.ndarray, ...]) -> None:
    x, P, F, Q, _, _, _ = case
    n = len(x)
    predicted = kf_predict(x, P, F, Q)
    assert not np.isnan(predicted.cov).any() and (np.diagonal(predicted.cov) >= 0).all()
    assert (predicted.cov == predicted.cov.T).all()
    with mpmath.workdps(DPS):
        exact_mean, exact_cov, mean_magnitude, magnitude = ref_kf_predict(x, P, F, Q)
        # Products and sums only: |error| <= 4 n eps (|F||P||F|^T + |Q|) entrywise, 4 n eps |F||x| for the mean.
        for i in range(n):
            assert abs(mpf(predicted.mean[i]) - exact_mean[i]) <= 4 * n * EPS * mean_magnitude[i] + 2 * SUB
            for j in range(n):
                error = abs(mpf(predicted.cov[i, j]) - exact_cov[i][j])
                assert error <= 4 * n * EPS * magnitude[i][j] + 2 * SUB, (i, j, mpmath.nstr(error, 3))


@memoised
def ref_kf_update(x: np.ndarray, P: np.ndarray, z: np.ndarray, H: np.ndarray, R: np.ndarray) -> tuple[Any, ...]:
    """(cond(S), exact x+ and P+, and the magnitudes of ``kf_update_reference``), exact from the floats.

    (None,) where S = H P H^T + R is not a case: not positive definite as doubles, or cond(S) >= 1e12.
    """
    n = len(x)
    p, h, r = mp_matrix(P), mp_matrix(H), mp_matrix(R)
    s = h * p * h.T + r
    s_float = to_float(s)
    try:
        np.linalg.cholesky(s_float)
    except np.linalg.LinAlgError:
        return (None,)
    cond = float(np.linalg.cond(s_float))  # the gain comes from an unscaled LU solve with S
    if not cond < 1e12:
        return (None,)
    inverse = mp_inverse_spd(s)
    gain = p * h.T * inverse
    innovation = mp_vector(z) - h * mp_vector(x)
    reduce = mpmath.eye(n) - gain * h
    # M = |I| + |K||H|: I - KH is formed by a subtraction whose rounding is eps |KH|, not eps |I - KH| (Joseph form)
    reduce_magnitude = mpmath.eye(n) + mp_abs(gain) * mp_abs(h)
    # The magnitudes of the computation itself: K = P H^T S^-1 is formed from |P||H^T||S^-1|, which may exceed |K|
    # by many orders of magnitude (cancellation) when P is badly scaled.
    gain_work = mp_abs(p) * mp_abs(h).T * mp_abs(inverse)
    work_reduce = mpmath.eye(n) + gain_work * mp_abs(h)
    x_abs = mp_abs(mp_vector(x))
    return (
        cond,
        column(mp_vector(x) + gain * innovation),
        entries(reduce * p * reduce.T + gain * r * gain.T),
        column(mp_abs(mp_vector(x)) + mp_abs(gain) * (mp_abs(innovation) + mp_abs(h) * mp_abs(mp_vector(x)))),
        entries(reduce_magnitude * mp_abs(p) * reduce_magnitude.T + mp_abs(gain) * mp_abs(r) * mp_abs(gain).T),
        column(x_abs + gain_work * (mp_abs(mp_vector(z)) + mp_abs(h) * x_abs)),
        entries(work_reduce * mp_abs(p) * work_reduce.T + gain_work * mp_abs(r) * gain_work.T),
    )


def kf_update_reference(case: tuple[np.ndarray, ...]) -> dict[str, Any]:
    """kf_update at ``case`` and its exact value (mpmath), with the magnitudes the bounds are stated in."""
    x, P, _, _, z, H, R = case
    n = len(x)
    exact = ref_kf_update(x, P, z, H, R)
    assume(exact[0] is not None)
    cond, mean, cov, mean_magnitude, cov_magnitude, mean_work, cov_work = exact
    updated = kf_update(x, P, z, H, R)
    assert not np.isnan(updated.cov).any() and (np.diagonal(updated.cov) >= 0).all()
    assert (updated.cov == updated.cov.T).all()
    return {
        "n": n,
        "k": K_ND * n * cond * EPS,
        "updated": updated,
        "mean": mean,
        "cov": cov,
        "mean_magnitude": mean_magnitude,
        "cov_magnitude": cov_magnitude,
        "mean_work": mean_work,
        "cov_work": cov_work,
    }


@given(kf_cases())
def test_kf_update_matches_mpmath_within_k_n_cond_eps_of_its_work(case: tuple[np.ndarray, ...]) -> None:
    """The mixed bound the algorithm (LU gain, Joseph form) guarantees, in the magnitudes it computes with.

    |d x+| <= 64 n cond(S) eps (|x| + |P||H^T||S^-1| (|z| + |H||x|)),
    |d P+| <= 64 n cond(S) eps (W |P| W^T + G |R| G^T),  G = |P||H^T||S^-1|,  W = |I| + G |H|.
    Where these magnitudes exceed those of the result (a badly scaled P), the result is not componentwise accurate:
    see the strict xfail below, which holds kf_update to the magnitudes of the result.
    """
    with mpmath.workdps(DPS):
        ref = kf_update_reference(case)
        n, k, updated = ref["n"], ref["k"], ref["updated"]
        for i in range(n):
            error = abs(mpf(updated.mean[i]) - ref["mean"][i])
            assert error <= k * ref["mean_work"][i] + 2 * SUB, (i, mpmath.nstr(error, 3))
            for j in range(n):
                error = abs(mpf(updated.cov[i, j]) - ref["cov"][i][j])
                assert error <= k * ref["cov_work"][i][j] + 2 * SUB, (i, j, mpmath.nstr(error, 3))


def from_hex(shape: tuple[int, ...], *values: str) -> np.ndarray:
    """An array of the doubles written in ``float.hex`` form (exact, unlike a decimal repr), in ``shape``."""
    return np.array([float.fromhex(value) for value in values]).reshape(shape)


#: A case of the defect below found by the derandomized search (n = 3, m = 2; F and Q are not used): x+[1] is
#: 1.46e14 where the exact value is 1.35e10 (P's variances 1.9e6, 1.0e52 and 2.5e-27). An explicit example, so that
#: the xfail does not depend on which examples a run happens to generate (they differ under mutmut's trampolines).
KF_UPDATE_CANCELLATION = (
    from_hex((3,), "-0x1.0972df6e9bfe4p+34", "0x1.91653b998f2cap+33", "0x1.7e5180e78d0dfp+14"),
    from_hex(
        (3, 3),
        *("0x1.c60ae65c20699p+20", "0x1.4319972e04265p+96", "-0x1.a5bbf2583cf8dp-36"),
        *("0x1.4319972e04265p+96", "0x1.b6fc443efe067p+172", "-0x1.3ffff5958bccfp+41"),
        *("-0x1.a5bbf2583cf8dp-36", "-0x1.3ffff5958bccfp+41", "0x1.8bdb078eba7eap-89"),
    ),
    np.eye(3),
    np.zeros((3, 3)),
    from_hex((2,), "0x1.791ca132b74d6p+30", "0x1.f1ec8b79e971fp+72"),
    from_hex(
        (2, 3),
        *("-0x1.ac643e69916c2p-3", "-0x1.4617c3124dbcbp-3", "0x1.14e9b664d2b5bp-1"),
        *("0x1.b79f33b79f514p-3", "0x1.6be6d2ccde9a7p-2", "-0x1.4ec29f9d48276p-1"),
    ),
    from_hex(
        (2, 2),
        *("0x1.5d08673d0da9bp-164", "0x1.874b9f2091497p-10"),
        *("0x1.874b9f2091497p-10", "0x1.0b5448105c147p+145"),
    ),
)


@pytest.mark.xfail(
    strict=True,
    reason="kf_update (n or m >= 2) forms K = P H^T S^-1 with cancellation when P is badly scaled: a component of "
    "the posterior mean far smaller than the terms it is computed from loses its accuracy, also normwise (error "
    "2.8e-3 where |x| + |K|(|z - Hx| + |H||x|) is 1.1e-8, P = [[2.6e22, 1.6e7], ...]). x = [-6.57e-15, "
    "-4.30e-30], P = [[5.02e-12, 3.16e5], [3.16e5, 2.02e22]], R with variances 7.0e23, 9.4e18, 2.6e-37: x+[1] is "
    "-2.35e-4, exact 2.16e-18 (K[1, 0] = 1.7e-30 is the difference of terms near 20, so the LU gain carries an "
    "absolute error of eps 20). Componentwise accuracy needs another algorithm (e.g. square-root information form)",
)
@NO_SHRINK
@given(kf_cases())
@example(KF_UPDATE_CANCELLATION)
def test_kf_update_matches_mpmath_componentwise_within_k_n_cond_eps(case: tuple[np.ndarray, ...]) -> None:
    """|d x+| <= 64 n cond(S) eps (|x| + |K||z - Hx| + |K||H||x|), |d P+| <= 64 n cond(S) eps (M|P|M^T + |K||R||K|^T).

    Where R << H P H^T the covariance bound is far above |P+|: the posterior variance then has no relative accuracy
    in n-D (test_kf_update_1d_relative_accuracy holds the 1-D update to the 1e-12 relative standard).
    """
    with mpmath.workdps(DPS):
        ref = kf_update_reference(case)
        n, k, updated = ref["n"], ref["k"], ref["updated"]
        for i in range(n):
            error = abs(mpf(updated.mean[i]) - ref["mean"][i])
            assert error <= k * ref["mean_magnitude"][i] + 2 * SUB, (i, mpmath.nstr(error, 3))
            for j in range(n):
                error = abs(mpf(updated.cov[i, j]) - ref["cov"][i][j])
                assert error <= k * ref["cov_magnitude"][i][j] + 2 * SUB, (i, j, mpmath.nstr(error, 3))


@memoised
def ref_kf_update_1d(mean: float, var: float, z: float, h: float, noise: float) -> tuple[mpmath.mpf, ...]:
    """(H^2 P + R, P+ = P R / (H^2 P + R), x+ = (x R + z H P) / (H^2 P + R), the size of x+'s terms), exact."""
    p, hh, r = mpf(var), mpf(h), mpf(noise)
    total = hh * hh * p + r
    x, zz = mpf(mean), mpf(z)
    return total, p * r / total, (x * r + zz * hh * p) / total, (abs(x) * r + abs(zz * hh) * p) / total


@given(mean=st.floats(-1e3, 1e3), var=variances, z=st.floats(-1e3, 1e3), h=st.floats(0.01, 100.0), noise=variances)
def test_kf_update_1d_relative_accuracy(mean: float, var: float, z: float, h: float, noise: float) -> None:
    """n = m = 1 with any H: the posterior variance to 1e-12 relative wherever it is a normal double.

    (The Joseph form lost it all where R << H^2 P: P = 0.2529, H = 0.3616, R = 2.74e-52 gave P+ with an error of
    3.1e-33 against 2.1e-51; the 1-D update is now the product of N(x, P) and N(z/H, R/H^2).)
    """
    with mpmath.workdps(DPS):
        total, exact_var, exact_mean, scale = ref_kf_update_1d(mean, var, z, h, noise)
        assume(total < OVERFLOW)
        updated = kf_update([mean], [[var]], [z], [[h]], [[noise]])
        assert_close(float(updated.cov[0, 0]), exact_var, label=f"kf_update P+ ({var!r}, {h!r}, {noise!r})")
        # x+ = (x R + z H P)/(H^2 P + R): the mixed bound of the product mean (z/H rounds once more: 2 eps of it)
        # the mean, also where the ratio of the variances overflows
        error = abs(mpf(float(updated.mean[0])) - exact_mean)
        assert error <= RTOL * scale + 2 * SUB, f"kf_update x+ error {mpmath.nstr(error, 3)}"


# ----------------------------------------------------------------------------- semi-definite inputs


@given(kf_cases())
def test_no_returned_variance_is_negative_with_singular_covariances(case: tuple[np.ndarray, ...]) -> None:
    x, P, F, Q, z, H, R = case
    outputs = [kf_predict(x, P, F, Q).cov]
    try:
        outputs.append(kf_update(x, P, z, H, R).cov)
    except ValueError as error:  # S = H P H^T + R singular: refused, by name
        assert "innovation covariance" in str(error)
    for cov in outputs:
        assert not np.isnan(cov).any() and (np.diagonal(cov) >= 0).all() and (cov == cov.T).all()


# ----------------------------------------------------------------------------- regressions: issue 10, with its numbers


def test_issue10_1_no_overflow_inside_the_density() -> None:
    with mpmath.workdps(DPS):
        value = logpdf(1.3407807929942597e154, 0.0, 100.0)
        assert_log_close(value, ref_logpdf(1.3407807929942597e154, 0.0, 100.0), "logpdf")
        assert -9.0e305 < value < -8.98e305
        density = pdf(1e155, 0.0, 1e308)
        assert_close(density, mpmath.exp(ref_logpdf(1e155, 0.0, 1e308)), label="pdf")
        assert 7.69e-177 < density < 7.70e-177
        assert_close(evidence(1e155, 5e307, 0.0, 5e307), mpmath.exp(ref_logpdf(1e155, 0.0, 1e308)), label="evidence")
        assert_log_close(mvn_logpdf([1e155], [0.0], [[1e300]]), ref_logpdf(1e155, 0.0, 1e300), "mvn_logpdf n=1")
        assert_log_close(
            mvn_logpdf([1e155, 0.0], [0.0, 0.0], [[1e300, 0.0], [0.0, 1.0]]),
            ref_logpdf(1e155, 0.0, 1e300) + ref_logpdf(0.0, 0.0, 1.0),
            "mvn_logpdf n=2",
        )


def test_issue10_2_subnormal_variances_are_computed_right() -> None:
    with mpmath.workdps(DPS):
        density = pdf(0.0, 0.0, 5e-324)
        assert math.isfinite(density)
        assert_close(density, 1 / mpmath.sqrt(2 * mpmath.pi * mpf(5e-324)), label="pdf(0, 0, 5e-324)")
        assert_log_close(logpdf(1e-161, 0.0, 1e-320), ref_logpdf(1e-161, 0.0, 1e-320), "logpdf(1e-161, 0, 1e-320)")
        assert abs(logpdf(1e-161, 0.0, 1e-320) - 367.49) < 0.01


def test_issue10_3_negative_variances_never_pass_the_covariance_check() -> None:
    with pytest.raises(ValueError, match="P"):
        kf_predict([0.0, 0.0], np.diag([1e10, -1.0]), np.eye(2), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="Q"):
        kf_predict([0.0, 0.0], np.eye(2), np.eye(2), np.diag([1e10, -1.0]))
    with pytest.raises(ValueError, match="P"):
        kf_update([0.0, 0.0], np.diag([1.0, -1e-11]), [0.0, 0.0], np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="cov1"):
        mvn_multiply([0.0, 0.0], np.diag([1e10, -1.0]), [0.0, 0.0], np.eye(2))


@pytest.mark.parametrize(("small", "large"), [(1e-160, 1e160), (1e-300, 1e30)])
def test_issue10_4_mvn_multiply_across_scales_matches_1d(small: float, large: float) -> None:
    product = mvn_multiply([0.0, 0.0], np.diag([1.0, small]), [1.0, 1.0], np.diag([1.0, large]))
    for axis, (v1, v2) in enumerate([(1.0, 1.0), (small, large)]):
        expected = multiply(0.0, v1, 1.0, v2)
        with mpmath.workdps(DPS):
            assert_close(float(product.cov[axis, axis]), mpf(expected.var), label=f"var {axis}")
            assert_close(float(product.cov[axis, axis]), mpf(v1) * mpf(v2) / (mpf(v1) + mpf(v2)), label="exact")
            # the mean against the exact one
            exact_mean = mpf(v1) / (mpf(v1) + mpf(v2))
            assert_close(float(product.mean[axis]), exact_mean, label=f"mean {axis}")
    assert product.cov[1, 1] > 0.0


def test_issue10_5_product_mean_stays_in_the_hull() -> None:
    assert multiply(12.6, 2.8, 12.6, 0.5).mean == 12.6
    assert multiply(np.array([12.6]), 2.8, 12.6, 0.5).mean[0] == 12.6
    assert multiply(5e-324, 1.0, 5e-324, 1.0).mean == 5e-324
    assert multiply(np.array([5e-324]), 1.0, 5e-324, 1.0).mean[0] == 5e-324


def test_issue10_6_evidence_past_the_largest_double() -> None:
    with mpmath.workdps(DPS):
        for m1, v1, m2, v2 in [(0.0, 1e308, 0.0, 1e308), (1e308, 1.5e308, -1e308, 1.5e308), (1e155, 1e308, 0.0, 9e307)]:
            total = mpf(v1) + mpf(v2)
            assert total > MAX
            exact_log = -((mpf(m1) - mpf(m2)) ** 2) / (2 * total) - mpmath.log(2 * mpmath.pi * total) / 2
            assert_close(evidence(m1, v1, m2, v2), mpmath.exp(exact_log), label=f"evidence{(m1, v1, m2, v2)}")
            assert_log_close(log_evidence(m1, v1, m2, v2), exact_log, f"log_evidence{(m1, v1, m2, v2)}")


MASKED_CALLS: list[tuple[Callable[..., Any], str, Callable[[Any], tuple[Any, ...]]]] = [
    (pdf, "x", lambda a: (a, 0.0, 1.0)),
    (logpdf, "mean", lambda a: (0.0, a, 1.0)),
    (cdf, "var", lambda a: (0.0, 0.0, a)),
    (multiply, "mean2", lambda a: (0.0, 1.0, a, 1.0)),
    (evidence, "var1", lambda a: (0.0, a, 0.0, 1.0)),
    (expectation, "x", lambda a: (a,)),
    (mvn_logpdf, "x", lambda a: (a, [0.0, 0.0], np.eye(2))),
    (kf_update, "z", lambda a: ([0.0, 0.0], np.eye(2), a, np.eye(2), np.eye(2))),
]


@pytest.mark.parametrize(("function", "name", "arguments"), MASKED_CALLS)
def test_issue10_7_masked_arrays(function: Callable[..., Any], name: str, arguments: Callable[..., Any]) -> None:
    masked = np.ma.masked_array([1.0, 2.0], mask=[False, True])
    with pytest.raises(TypeError, match=name):
        function(*arguments(masked))
    unmasked = np.ma.masked_array([1.0, 2.0], mask=[False, False])
    plain = function(*arguments(np.array([1.0, 2.0])))
    got = function(*arguments(unmasked))
    pairs = zip(got, plain, strict=True) if isinstance(got, tuple) else [(got, plain)]
    for left, right in pairs:
        assert np.array_equal(left, right)


@NO_SHRINK
@given(
    small=variances,
    gap=st.integers(1024, 1100),
    mean=finite_floats,
    other=st.one_of(st.just(0.0), finite_floats),
)
def test_multiply_mean_where_the_variance_ratio_overflows(small: float, gap: int, mean: float, other: float) -> None:
    """max(var)/min(var) beyond the largest double: the kernel's weight underflows, the numeric layer corrects it."""
    large = MAX if math.frexp(small)[1] + gap > 1024 else math.ldexp(small, gap)
    assume(ratio_overflows(small, large))
    with mpmath.workdps(DPS):
        for m1, v1, m2, v2 in ((mean, large, other, small), (other, small, mean, large)):
            exact_mean, scale = ref_product_mean(m1, v1, m2, v2)
            error = abs(mpf(multiply(m1, v1, m2, v2).mean) - exact_mean)
            assert error <= RTOL * scale + 2 * SUB, (m1, v1, m2, v2, mpmath.nstr(error, 3))


@pytest.mark.parametrize("case", [(1e308, 1e300, 0.0, 1e-10), (0.0, 1e-160, 1.0, 1e160), (3.0, 1.0, 0.0, 5e-324)])
def test_multiply_mean_when_the_variance_ratio_overflows(case: tuple[float, float, float, float]) -> None:
    m1, v1, m2, v2 = case
    with mpmath.workdps(DPS):
        exact_mean = (mpf(m1) * mpf(v2) + mpf(m2) * mpf(v1)) / (mpf(v1) + mpf(v2))
        assert_close(multiply(m1, v1, m2, v2).mean, exact_mean, label=f"multiply{case}.mean")


# ----------------------------------------------------------------------------- regressions: moments, whole range


def test_moments_have_no_intermediate_overflow() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert expectation([1e308, 1e308]) == 1e308
        assert expectation([1.7e308] * 4 + [-1.7e308]) == pytest.approx(1.02e308, rel=1e-15, abs=0)
        assert variance([1e308, 1e308]) == 0.0
        assert std([1e308, -1e308]) == 1e308  # the variance 1e616 is not a double, the standard deviation is
        with mpmath.workdps(DPS):
            values = [0.0, 0.0, 0.0, 2.6e154]
            mean = mpf(2.6e154) / 4
            exact = sum((mpf(v) - mean) ** 2 for v in values) / 4
            assert_close(variance(values), exact, rtol=1e-15, label="variance([0, 0, 0, 2.6e154])")
        # a zero weight on a huge value: 0 * inf was NaN; a weight of 0 sets no scale either
        weighted = variance([0.0, 0.0, 1.1247284486357991e161, 1.0, 0.0, 0.0], [0, 0, 0, 0.5, 0, 0.5])
        assert weighted == pytest.approx(0.25, rel=4 * EPS, abs=0)
        assert variance([1.7e308, -1.7e308], [1.0, 0.0]) == 0.0
        big = np.array([[1e308, 1e308, -1e308], [1.0, 2.0, 4.0]])
        rescaled = np.corrcoef(big / np.array([[1e308], [1.0]]))[0, 1]  # correlation is scale-invariant
        assert correlation(big)[0, 1] == pytest.approx(rescaled, rel=1e-14, abs=0)
        tiny = np.array([[0.0, 1e-170, 3e-170], [0.0, 1e-170, 2e-170]])
        assert correlation(tiny)[0, 1] == pytest.approx(float(correlation(tiny * 1e170)[0, 1]), rel=1e-15, abs=0)
    with pytest.raises(OverflowError, match="variance"):
        variance([1e308, -1e308])
    with pytest.raises(OverflowError, match="covariance"):
        covariance([[1e308, -1e308], [1.0, 2.0]])


def test_mvn_multiply_regressions_from_the_properties() -> None:
    """Inputs the diagonal property found before the mean was formed from the better-conditioned side."""
    with mpmath.workdps(DPS):
        # gain form m1 + K (m2 - m1): 2e-12 relative off, the 1-D product is right
        product = mvn_multiply([1.0, 0.0], np.diag([18268.0, 1.0]), [0.0, 0.0], np.diag([2.0, 1.0]))
        assert_close(float(product.mean[0]), mpf(2.0) / mpf(18270.0), label="mean[0]")
        # was OverflowError("the posterior mean exceeds the largest double"); exact 0.01
        product = mvn_multiply([1e308, 0.0], np.diag([1e300, 1.0]), [0.0, 0.0], np.diag([1e-10, 1.0]))
        assert_close(float(product.mean[0]), mpf(1e308) * mpf(1e-10) / (mpf(1e300) + mpf(1e-10)), label="mean[0]")
        # a subnormal variance against a huge one: the ratio of standard deviations overflowed, cov was NaN
        product = mvn_multiply([0.0, 0.0], np.diag([1.0, 1.7e308]), [0.0, 1.0], np.diag([1.0, 5e-324]))
        assert not np.isnan(product.cov).any() and product.mean[1] == 1.0
        assert 0.0 <= product.cov[1, 1] <= 8 * SUB  # exact 5e-324 (1 - 3e-632): subnormal, a few ulps (see above)
        # a z-score between the means below the subnormals: exact -2.85e-256, was m2 = 2.87e-305
        v1, v2, m1, m2 = 1.5841699656310277e308, 1.350862958628655e226, -3.3400372678368853e-174, 2.867035394650856e-305
        product = mvn_multiply([m1, 0.0], np.diag([v1, 1.0]), [m2, 0.0], np.diag([v2, 1.0]))
        exact = (mpf(m1) * mpf(v2) + mpf(m2) * mpf(v1)) / (mpf(v1) + mpf(v2))
        assert_close(float(product.mean[0]), exact, label="mean[0]")


# ----------------------------------------------------------------------------- regressions: the independent attack


def test_attack_8_subnormal_positive_definite_covariances_are_accepted() -> None:
    """Validation factors the covariance scaled to unit diagonal by powers of two, not the raw matrix."""
    cov = [[5 * SUB, 3 * SUB], [3 * SUB, 2 * SUB]]  # det = SUB^2 > 0, unit-diagonal condition number 38
    with mpmath.workdps(DPS):
        exact = -mpmath.log(2 * mpmath.pi) - mpmath.log(mpf(SUB))  # -(2 log 2 pi + log SUB^2) / 2
    assert_close(mvn_logpdf([0.0, 0.0], [0.0, 0.0], cov), exact, label="logpdf")
    assert math.isfinite(mahalanobis([SUB, 0.0], [0.0, 0.0], cov))
    kf_predict([0.0, 0.0], cov, np.eye(2), np.zeros((2, 2)))  # semi-definite arguments too


def test_attack_15_no_linalg_error_after_validation() -> None:
    """A nearly singular subnormal covariance: a value, or a ValueError naming cov; never LinAlgError."""
    cov = [
        [5.562684646268003e-309, -1.822716931558848e-304, 4.345751538142e-311, -1.1125168025852912e-308],
        [-1.822716931558848e-304, 5.972887158420601e-300, -1.4240451859684224e-306, 3.6455510561959476e-304],
        [4.345751538142e-311, -1.4240451859684224e-306, 3.39519326554e-313, -8.6916930555183e-311],
        [-1.1125168025852912e-308, 3.6455510561959476e-304, -8.6916930555183e-311, 2.2250738585072014e-308],
    ]
    for function in (mvn_logpdf, mvn_pdf, mahalanobis):
        try:
            value = function(np.zeros(4), np.zeros(4), cov)
        except ValueError as error:
            assert "cov" in str(error)
        else:
            assert not math.isnan(value)


@pytest.mark.parametrize("scale", [1.0, 1e-300, 1e300, 1e-310])
def test_attack_9_zero_variance_with_a_covariance_is_refused(scale: float) -> None:
    """A_ii = 0 forces row i of a semi-definite matrix to zero, whatever the other entries' scale."""
    P = np.array([[0.0, 1e-5], [1e-5, 1.0]]) * scale
    with pytest.raises(ValueError, match="P must be positive semi-definite"):
        kf_update([0.0, 0.0], P, [1.0], [[1.0, 0.0]], [[1e-20]])
    with pytest.raises(ValueError, match="P must be positive semi-definite"):
        kf_predict([0.0, 0.0], P, np.eye(2), np.zeros((2, 2)))
    # a zero variance with a zero row is fine, and the results are valid arguments again
    result = kf_update([0.0, 0.0], np.diag([0.0, 1.0]), [1.0], [[1.0, 1.0]], [[1.0]])
    kf_predict(result.mean, result.cov, np.eye(2), np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("P", "z", "h", "R"),
    [
        (1e-96, 1e242, 1e-14, 1e250),
        (1e-96, 1e242, 1e-34, 1e250),
        (1e-300, 1.0, 1e-150, 1e10),
        (1e-200, 1e100, 1e50, 1e-5),
    ],
)
def test_attack_3_kf_update_1d_prescaling_accounts_for_h_squared(P: float, z: float, h: float, R: float) -> None:
    """n = m = 1, H != 1: the power-of-two pre-scaling keeps R/H^2 finite (the mean was 0, exact 1e-118)."""
    result = kf_update([0.0], [[P]], [z], [[h]], [[R]])
    with mpmath.workdps(DPS):
        noise = mpf(R) / mpf(h) ** 2
        exact_mean = mpf(P) / (mpf(P) + noise) * mpf(z) / mpf(h)
        exact_var = mpf(P) * noise / (mpf(P) + noise)
    assert_close(float(result.mean[0]), exact_mean, label="mean")
    assert_close(float(result.cov[0, 0]), exact_var, label="var")


@memoised
def exact_product_mean(m1: Any, s1: Any, m2: Any, s2: Any) -> tuple[mpmath.mpf, ...]:
    """W1 m1 + W2 m2 at DPS digits, W1 = S2 (S1 + S2)^-1, W2 = S1 (S1 + S2)^-1."""
    with mpmath.workdps(DPS):
        a, b = mp_matrix(np.asarray(s1, float)), mp_matrix(np.asarray(s2, float))
        inverse = mp_inverse_spd(a + b)
        mean = b * inverse * mp_vector(np.asarray(m1, float)) + a * inverse * mp_vector(np.asarray(m2, float))
        return column(mean)


@pytest.mark.parametrize(
    ("m1", "s1", "m2", "s2"),
    [
        ([-1.7e308, 0.0], np.eye(2), [1.7e308, 0.0], [[1.0, 0.5], [0.5, 1.0]]),
        ([-1.7e308, 1.7e308], np.eye(2), [1.7e308, -1.7e308], np.eye(2)),
        ([-1.7e308, 1.7e308], [[1.0, -0.3], [-0.3, 2.0]], [1.7e308, -1.7e308], [[1.0, 0.5], [0.5, 1.0]]),
        ([MAX, -MAX, 0.0], np.diag([1.0, 3.0, 1.0]), [-MAX, MAX, 1.0], np.diag([2.0, 1.0, 1.0])),
    ],
)
def test_attack_1_mvn_multiply_means_near_the_largest_double(m1: Any, s1: Any, m2: Any, s2: Any) -> None:
    """R m2 - R m1 overflows although the posterior mean is representable: was OverflowError."""
    product = mvn_multiply(m1, s1, m2, s2)
    for i, exact in enumerate(exact_product_mean(m1, s1, m2, s2)):
        assert abs(mpf(product.mean[i]) - exact) <= 1e-12 * MAX, f"mean[{i}] = {product.mean[i]!r}, exact {exact}"


def test_attack_2_mvn_multiply_diagonal_is_the_1d_product_per_axis() -> None:
    """Both covariances diagonal: the 1-D product per axis, not a solve through subnormal intermediates."""
    product = mvn_multiply([1e-186, 0.0], np.diag([1e191, 1.0]), [0.0, 0.0], np.diag([1e107, 1.0]))
    expected = multiply(1e-186, 1e191, 0.0, 1e107)
    assert (product.mean[0], product.cov[0, 0]) == (expected.mean, expected.var)  # was 1.56e-270, exact 1e-270
    # per element: a batch mixing diagonal and correlated elements keeps each element's own result
    batch = mvn_multiply(
        [[1e-186, 0.0], [1.0, 2.0]],
        [np.diag([1e191, 1.0]), [[2.0, 0.5], [0.5, 1.0]]],
        [0.0, 0.0],
        [np.diag([1e107, 1.0]), [[1.0, 0.2], [0.2, 3.0]]],
    )
    alone = mvn_multiply([1.0, 2.0], [[2.0, 0.5], [0.5, 1.0]], [0.0, 0.0], [[1.0, 0.2], [0.2, 3.0]])
    assert (batch.mean[0] == product.mean).all() and (batch.mean[1] == alone.mean).all()
    assert (batch.cov[1] == alone.cov).all()


@pytest.mark.parametrize("scale", [1e200, 1e250, 1e300])
def test_attack_2_mvn_multiply_tiny_means_with_correlated_covariances(scale: float) -> None:
    """Means near 1e-300 and large variances (z = R (m2 - m1) subnormal): the means are scaled by 2^k first."""
    m1, s1 = [1e-300, -2e-300], scale * np.array([[2.0, 0.5], [0.5, 1.0]])
    m2, s2 = [3e-300, 0.0], scale * np.array([[1.0, 0.2], [0.2, 3.0]])
    product = mvn_multiply(m1, s1, m2, s2)
    for i, exact in enumerate(exact_product_mean(m1, s1, m2, s2)):
        assert_close(float(product.mean[i]), exact, label=f"mean[{i}]")


@pytest.mark.parametrize("tiny", [1e-310, 1e-320, 2.2250738585072014e-308])
def test_attack_7_kf_update_with_subnormal_covariances(tiny: float) -> None:
    """n-D update with subnormal P and R: the gain is solved with S scaled to unit diagonal (was OverflowError)."""
    result = kf_update([0.0, 0.0], np.diag([tiny, 1.0]), [1.0], [[1.0, 0.0]], [[tiny]])
    assert abs(result.mean[0] - 0.5) <= 2 * EPS and result.mean[1] == 0.0
    assert result.cov[1, 1] == 1.0 and result.cov[0, 1] == 0.0
    assert abs(result.cov[0, 0] - tiny / 2) <= 4 * SUB
    # a subnormal covariance with correlation: the same as the problem scaled by 2^1000, scaled back
    P = np.array([[3.0, 1.0], [1.0, 2.0]])
    big = kf_update([0.0, 0.0], P, [1.0, 1.0], np.eye(2), np.eye(2))
    small = kf_update([0.0, 0.0], np.ldexp(P, -1060), [1.0, 1.0], np.eye(2), np.ldexp(np.eye(2), -1060))
    np.testing.assert_allclose(small.mean, big.mean, rtol=1e-12)
    np.testing.assert_allclose(small.cov, np.ldexp(big.cov, -1060), rtol=0, atol=64 * SUB)


@pytest.mark.parametrize(
    ("values", "p", "ddof"),
    [
        ([1e-200, 2e-200], None, 0),
        ([1e-160, 3e-160], None, 0),
        ([1e-200, 2e-200, 4e-200], None, 1),
        ([1e-300, 3e-300], [0.25, 0.75], 0),
        ([-3e-250, 1e-250, 7e-251, 0.0], None, 0),
    ],
)
def test_attack_11_std_when_the_squares_underflow(values: list[float], p: list[float] | None, ddof: int) -> None:
    """The squares of the deviations underflow although the standard deviation is a normal double (was 0)."""
    with mpmath.workdps(DPS):
        x = [mpf(v) for v in values]
        weights = [mpf(w) for w in p] if p else [mpf(1) / len(x)] * len(x)
        mean = sum(w * v for w, v in zip(weights, x, strict=True))
        scatter = sum(w * (v - mean) ** 2 for w, v in zip(weights, x, strict=True))
        exact = mpmath.sqrt(scatter * len(x) / (len(x) - ddof)) if p is None else mpmath.sqrt(scatter)
    assert_close(std(values, p, ddof), exact, label="std")


@pytest.mark.parametrize("constant", [0.1, 1 / 3, 1e-300, 7e300, -2.2250738585072014e-308])
@pytest.mark.parametrize("count", [3, 7, 100])
def test_attack_12_correlation_refuses_a_constant_variable(constant: float, count: int) -> None:
    """Equal values whose rounded mean leaves deviations of an ulp are still constant."""
    with pytest.raises(ValueError, match=r"variable 0 .* is constant"):
        correlation([constant] * count, np.arange(count, dtype=float))
    # a variable that does vary is kept, whatever its scale
    assert abs(correlation(constant * (1 + 1e-6 * np.arange(count)), np.arange(count, dtype=float))[0, 1]) > 0.999


def test_attack_13_big_python_ints_and_long_doubles() -> None:
    """Python ints beyond int64 are real numbers; beyond the doubles (and long doubles beyond them) an error."""
    assert pdf(0.0, 0.0, 10**20) == pdf(0.0, 0.0, 1e20)
    assert expectation([10**20, 1]) == 5e19
    assert mvn_logpdf([10**20, 0], [0, 0], np.eye(2)) == mvn_logpdf([1e20, 0.0], [0.0, 0.0], np.eye(2))
    with pytest.raises(OverflowError, match="var holds an integer"):
        pdf(0.0, 0.0, 10**400)
    for function in (pdf, logpdf, cdf):  # and a ValueError, like every other bad argument
        for arguments in ((10**400, 0.0, 1.0), (0.0, -(10**400), 1.0), (0.0, 0.0, 10**400)):
            with pytest.raises(ValueError, match="holds an integer of 1329 bits"):
                function(*arguments)
    with pytest.raises(OverflowError, match="x holds an integer"):
        expectation([1, -(10**5000)])
    with pytest.raises(TypeError, match="x must be real numbers"):
        expectation([1, "2"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="var must lie within the range of doubles"):
            pdf(0.0, 0.0, np.longdouble("1e400"))
        with pytest.raises(ValueError, match="x must lie within the range of doubles"):
            pdf(np.array([0.0, np.longdouble("-1e400")]), 0.0, 1.0)
        assert pdf(np.longdouble(0.5), 0.0, 1.0) == pdf(0.5, 0.0, 1.0)


ATTACK_14_CALLS: dict[str, Callable[[], Any]] = {
    "mvn_logpdf": lambda: mvn_logpdf([0.0, 0.0], [0.0, 0.0], np.diag([1e-300, 1.0])),
    "mvn_pdf beyond MAX": lambda: mvn_pdf([0.0, 0.0], [0.0, 0.0], np.diag([SUB, SUB])),
    "mahalanobis": lambda: mahalanobis([1e-300, 0.0], [0.0, 0.0], np.diag([1e-300, 1.0])),
    "mvn_multiply": lambda: mvn_multiply([1e-186, 0.0], np.diag([1e191, 1.0]), [0.0, 0.0], np.diag([1e107, 1.0])),
    "kf_update n-D": lambda: kf_update([0.0, 0.0], np.diag([1e-310, 1.0]), [1.0], [[1.0, 0.0]], [[1e-310]]),
    "kf_update 1-D": lambda: kf_update(
        [-2.529163844697435e-87],
        [[3.5117380323364435e-246]],
        [-1.7914665043649532e305],
        [[-8.12562676180448e-31]],
        [[6.1014516882949925e259]],
    ),
    "kf_filter": lambda: kf_filter(
        [[1e-155]], [0.0], [[1e-310]], [[1.0]], [[0.0]], [[1.0]], [[1e-310]], backend="numpy"
    ),
    "rts_smoother": lambda: rts_smoother(
        kf_filter([[1e-200], [2e-200]], [0.0], [[1e-300]], [[1.0]], [[1e-302]], [[1.0]], [[1e-300]], backend="numpy"),
        [[1.0]],
    ),
    "covariance": lambda: covariance([1e-300, 2e-300, 0.0], [1.0, 2.0, 3.0]),
    "std": lambda: std([1e-200, 2e-200]),
    "expectation": lambda: expectation([SUB, 0.0]),
    "mvn_logpdf subnormal": lambda: mvn_logpdf([0.0, 0.0], [SUB, 0.0], np.diag([1.0, SUB])),
    "mvn_multiply subnormal": lambda: mvn_multiply(
        [1e-310, 0.0], np.eye(2), [0.0, 1.0], [[1.0, 1e-170], [1e-170, SUB]]
    ),
    "kf_predict subnormal": lambda: kf_predict(
        [1e-310, 1.0], np.diag([1e-310, 1.0]), [[1.0, 1.0], [0.0, 1.0]], np.eye(2)
    ),
}


@pytest.mark.parametrize("call", ATTACK_14_CALLS.values(), ids=ATTACK_14_CALLS.keys())
def test_attack_14_no_warning_leaks_and_errstate_raise_is_harmless(call: Callable[[], Any]) -> None:
    """Internal over- and underflow is handled, not reported: no warning, and no FloatingPointError in raise mode."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        expected = call()
        with np.errstate(all="raise"):
            again = call()
    assert repr(again) == repr(expected)


def test_attack_18_time_varying_and_rts_smoother_validation() -> None:
    """time_varying=None is a TypeError naming it; rts_smoother validates the FilterResult it is given."""
    args = ([[1.0], [2.0]], [0.0], [[1.0]], [[1.0]], [[0.1]], [[1.0]], [[1.0]])
    with pytest.raises(TypeError, match="time_varying"):
        kf_filter(*args, time_varying=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="time_varying"):
        kf_filter(*args, time_varying=[1])  # type: ignore[list-item]
    result = kf_filter(*args, backend="numpy")
    for field, value in (
        ("filtered_means", np.full((2, 1), np.nan)),
        ("predicted_means", np.full((2, 1), np.inf)),
        ("filtered_covariances", -np.ones((2, 1, 1))),
        ("predicted_covariances", np.array([[[1.0]], [[np.nan]]])),
        ("filtered_covariances", np.ones((2, 2, 2))),
    ):
        with pytest.raises(ValueError, match=f"filtered.{field}"):
            rts_smoother(result._replace(**{field: value}), [[1.0]])
    rts_smoother(result, [[1.0]])


def test_mahalanobis_of_a_subnormal_deviation() -> None:
    """The deviation scaled down by the variance's power of two rounded to 0 (found by the n-D property)."""
    cov = [[4.0, 1.9725366022179032], [1.9725366022179032, 1.0]]
    with mpmath.workdps(DPS):
        exact = mpf(SUB) * mpmath.sqrt(mp_inverse_spd(mp_matrix(np.array(cov)))[0, 0])
    assert abs(mpf(mahalanobis([SUB, 0.0], [0.0, 0.0], cov)) - exact) <= 2 * SUB  # was 0.0, exact 1.5e-323
    assert mahalanobis([[1e-300, 1e150], [1.0, 2.0]], [0.0, 0.0], np.diag([1e-300, 1e300])).tolist() == [1.0, 1e150]
