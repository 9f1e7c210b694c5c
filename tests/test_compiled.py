"""The fused compiled loops (``_generated.COMPILED_SOURCE``, run by :mod:`kfsym.numeric._jit`) vs the NumPy kernels.

The loops are printed from the same lowered steps as the NumPy kernels; here they are checked
three ways: run as plain Python (Numba replaced by an identity decorator) they give the plain-float
kernels' results; compiled, they agree with the NumPy path within the stated ulp bound
(:mod:`tests.paths`); and they meet the same accuracy standard against mpmath as the NumPy path
(:mod:`tests.test_numeric_properties`). ``MIN_SIZE`` is lowered so that small Hypothesis arrays take
the compiled path; ``KFSYM_COMPILED=0`` forces the NumPy one.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfsym.numeric import (
    _generated,
    _jit,
    cdf,
    kf_update,
    logpdf,
    multiply,
    mvn_logpdf,
    mvn_multiply,
    mvn_pdf,
    pdf,
)
from kfsym.numeric.gaussian import CDF_PATH_ULP, PATH_ULP
from tests.paths import assert_paths_agree
from tests.test_numeric_properties import (
    DPS,
    EPS,
    K_ND,
    OVERFLOW,
    SUB,
    assert_close,
    assert_log_close,
    density_cases,
    mpf,
    pair_cases,
    point_cases,
    ref_cdf,
    ref_density_terms,
    ref_from_log,
    ref_logpdf,
    scaled_condition,
    spd_matrices,
    spd_or_skip,
)

HAVE_NUMBA = importlib.util.find_spec("numba") is not None
needs_numba = pytest.mark.skipif(not HAVE_NUMBA, reason="needs numba")
DENSITIES = (pdf, logpdf, cdf)


@pytest.fixture(scope="module")
def compiled() -> Iterator[None]:
    """Every float64 array takes the compiled loop (MIN_SIZE 1); module-scoped, as Hypothesis requires."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_jit, "MIN_SIZE", 1)
        patch.delenv("KFSYM_COMPILED", raising=False)
        yield


def numpy_path(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` with the compiled loops switched off."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KFSYM_COMPILED", "0")
        return function(*args)


# ----------------------------------------------------------------------------- the printed source


def plain_python_kernels() -> types.ModuleType:
    """COMPILED_SOURCE executed as plain Python: ``numba.njit(...)`` is the identity."""
    fake = types.ModuleType("numba")
    fake.njit = lambda **options: lambda function: function  # type: ignore[attr-defined]
    module = types.ModuleType("kfsym_plain_kernels")
    saved = sys.modules.get("numba")
    sys.modules["numba"] = fake
    try:
        exec(compile(_generated.COMPILED_SOURCE, "<COMPILED_SOURCE>", "exec"), module.__dict__)
    finally:
        if saved is None:
            del sys.modules["numba"]
        else:
            sys.modules["numba"] = saved
    return module


@given(density_cases())
def test_the_printed_loops_are_the_plain_float_kernels(case: tuple[float, float, float]) -> None:
    """Run as Python, each loop gives the ``*_scalar`` kernel's value (pdf: NumPy's exp at the end, within bound)."""
    x, mean, var = case
    kernels = plain_python_kernels()
    for name, function in (("gaussian_pdf", pdf), ("gaussian_logpdf", logpdf), ("gaussian_cdf", cdf)):
        out = np.empty(1)
        with np.errstate(all="ignore"):
            nan, _ = getattr(kernels, f"{name}_fused")(np.array([x]), mean, var, out)
        want = getattr(_generated, f"{name}_scalar")(x, mean, var)
        assert nan == 0
        if name == "gaussian_pdf":
            assert_paths_agree(function, float(out[0]), want, {"x": x, "mean": mean, "var": var})
        else:
            assert float(out[0]) == want or (math.isnan(want) and math.isnan(out[0])), (name, case)


@given(pair_cases())
def test_the_printed_product_loop_is_the_plain_float_kernel(case: tuple[float, float, float, float]) -> None:
    kernels = plain_python_kernels()
    mean, var = np.empty(1), np.empty(1)
    arrays = [np.array([value]) for value in case]
    with np.errstate(all="ignore"):  # run as Python, the loop's elements are NumPy scalars, which warn
        invalid, slow = kernels.gaussian_product_pairs(*arrays, mean, var)
    assert invalid == 0
    if not slow:
        assert (float(mean[0]), float(var[0])) == _generated.gaussian_product_scalar(*case)


def test_the_printed_exp_is_within_an_ulp_over_the_whole_range() -> None:
    """_exp (run as Python) against mpmath: within an ulp of exp for normal results, within one subnormal ulp below."""
    kernels = plain_python_kernels()
    rng = np.random.default_rng(11)
    points = [*rng.uniform(-745.2, 709.8, 400), *rng.uniform(-1.0, 1.0, 100), -745.13, -745.14, -708.4, 709.78, 709.79]
    with mpmath.workdps(DPS), np.errstate(over="ignore"):
        for v in points:
            got = float(kernels._exp(np.float64(v)))
            exact = mpmath.exp(mpf(v))
            assert_close(got, exact, rtol=1.2 * EPS, label=f"_exp({v!r})", subnormal_ulps=1)
        assert [float(kernels._exp(np.float64(v))) for v in (-math.inf, -800.0, 0.0, 800.0, math.inf)] == [
            0.0,
            0.0,
            1.0,
            math.inf,
            math.inf,
        ]


def test_loops_that_contract_have_no_rounded_product_feeding_a_sum() -> None:
    from kfsym.derive.compiled import _check_contractible

    _check_contractible("pdf-like", [("subtract", 1), ("square", None), ("multiply", 0.5), ("rsubtract", 2)])
    with pytest.raises(ValueError, match="square feeds add"):
        _check_contractible("bad", [("square", None), ("add", 1.0)])
    with pytest.raises(ValueError, match="multiply feeds subtract"):
        _check_contractible("bad", [("multiply", 0.3), ("subtract", 1.0)])


def test_only_the_density_chain_skips_the_overflow_count() -> None:
    """The loop drops its overflow count only for -c - ((d - mean)/sqrt(var))^2/2, whose overflow exp makes 0."""
    import sympy as sp

    from kfsym.derive.compiled import _overflow_gives_zero

    mean, var, c = sp.symbols("mean var c")
    density = [
        ("subtract", mean),
        ("divide", sp.sqrt(var)),
        ("square", None),
        ("multiply", sp.Float(0.5)),
        ("rsubtract", -c),
    ]
    assert _overflow_gives_zero(density)
    assert not _overflow_gives_zero([*density[:3], ("multiply", sp.Float(2.0)), density[4]])  # another factor
    assert not _overflow_gives_zero([density[0], ("divide", var), *density[2:]])  # var itself may be 1e308
    assert not _overflow_gives_zero([density[0], ("multiply", sp.sqrt(var)), *density[2:]])
    assert not _overflow_gives_zero(density[:-1])  # no final c - v
    assert not _overflow_gives_zero([density[1], density[0], *density[2:]])


@needs_numba
def test_a_density_whose_intermediates_overflow_is_zero_on_every_path(compiled: None) -> None:
    """x - mean or z^2 beyond the doubles: the exact density is below 1e-300000, so 0 on both paths, not NaN."""
    x = np.full(40_000, 1e308)  # above the default MIN_SIZE too
    x[:3] = [1e154, -1e200, 0.0]
    for mean, var in ((-1e308, 1.0), (-1e308, 1.7e308), (1e154, 1.0)):
        got = pdf(x, mean, var)
        assert not np.isnan(got).any()
        assert got.tolist() == numpy_path(pdf, x, mean, var).tolist()
    # x - mean = 2e308 overflows; the exact z = 2e308 / 1.3e154 still has z^2 / 2 > 1e308: the density is 0
    assert pdf(x, -1e308, 1.7e308)[3:].tolist() == [0.0] * (x.size - 3)


def test_the_printed_loops_count_nan_and_invalid_arguments() -> None:
    kernels = plain_python_kernels()
    out = np.empty(3)
    with np.errstate(all="ignore"):
        assert kernels.gaussian_cdf_fused(np.array([0.0, math.nan, math.nan]), 0.0, 1.0, out) == (2, 0)
    mean, var = np.empty(2), np.empty(2)
    with np.errstate(all="ignore"):
        counts = kernels.gaussian_product_pairs(
            np.array([0.0, math.inf]), np.array([1.0, 1.0]), np.zeros(2), np.array([-1.0, 1.0]), mean, var
        )
    assert counts[0] == 2  # (the variance -1 also fails fast_when: counted slow, never used)


# ----------------------------------------------------------------------------- compiled against NumPy and mpmath


@needs_numba
@given(density_cases())
def test_compiled_densities_match_the_numpy_path_and_mpmath(compiled: None, case: tuple[float, float, float]) -> None:
    x, mean, var = case
    point = {"x": x, "mean": mean, "var": var}
    values = {}
    for function in DENSITIES:
        fast = function(np.array([x, x]), mean, var)
        slow = numpy_path(function, np.array([x, x]), mean, var)
        assert type(fast) is np.ndarray and fast.shape == (2,)
        assert_paths_agree(function, float(fast[0]), float(slow[0]), point)
        values[function] = float(fast[0])
    if math.isinf(x):
        assert (values[pdf], values[logpdf], values[cdf]) == (0.0, -math.inf, 1.0 if x > 0 else 0.0)
        return
    with mpmath.workdps(DPS):
        exact_log = ref_logpdf(x, mean, var)
        assert_log_close(values[logpdf], exact_log, f"compiled logpdf{point}")
        assert_close(values[pdf], ref_from_log(exact_log), label=f"compiled pdf{point}")
        assert_close(values[cdf], ref_cdf(x, mean, var), label=f"compiled cdf{point}")


@needs_numba
@pytest.mark.parametrize("function", DENSITIES, ids=lambda f: f.__name__)
def test_compiled_densities_on_a_large_array(function: Callable[..., Any]) -> None:
    """At the default MIN_SIZE: shapes kept, non-contiguous input, the far tails, equal to the NumPy path's bound."""
    rng = np.random.default_rng(3)
    x = rng.normal(0.3, 5.0, (300, 400))[:, ::2]  # 60_000 points, not contiguous
    x[0, :6] = [math.inf, -math.inf, 1e300, -1e300, 1e200, 0.3]
    got, want = function(x, 0.3, 2.89), numpy_path(function, x, 0.3, 2.89)
    assert got.shape == x.shape
    with np.errstate(invalid="ignore"):
        difference = np.abs(got - want)
    # pdf: PATH_ULP (ulp(c) |pdf| <= 40 ulp); cdf: CDF_PATH_ULP (the compiled loop calls the C library's erfc)
    ulps = {pdf: PATH_ULP * 40, logpdf: PATH_ULP, cdf: CDF_PATH_ULP}[function]
    bound = ulps * np.spacing(np.abs(want))
    assert np.all((got == want) | (difference <= bound))


@needs_numba
def test_compiled_nan_is_the_named_error(compiled: None) -> None:
    with pytest.raises(ValueError, match=r"x must not contain NaN; got nan at index 2"):
        cdf(np.array([0.0, 1.0, math.nan]), 0.0, 1.0)
    with pytest.raises(ValueError, match=r"var must be a positive, finite variance"):
        pdf(np.zeros(4), 0.0, -1.0)


@needs_numba
def test_compiled_logpdf_recomputes_intermediate_overflow(compiled: None) -> None:
    # (x - mean)^2 overflows though logpdf is a finite double: the halves correct it as in the NumPy path
    x = np.array([1e154, 0.0])
    got, want = logpdf(x, -1e154, 1e10), numpy_path(logpdf, x, -1e154, 1e10)
    assert np.isfinite(got).all()
    np.testing.assert_array_equal(got[0], want[0])


@needs_numba
@given(pair_cases())
def test_compiled_multiply_is_the_numpy_path_bit_for_bit(
    compiled: None, case: tuple[float, float, float, float]
) -> None:
    arrays = [np.array([value, value]) for value in case]
    fast, slow = multiply(*arrays), numpy_path(multiply, *arrays)
    np.testing.assert_array_equal(fast.mean, slow.mean)
    np.testing.assert_array_equal(fast.var, slow.var)


@needs_numba
def test_compiled_multiply_broadcasts_and_names_errors(compiled: None) -> None:
    got = multiply(np.zeros((3, 1)), 2.0, np.array([10.0, 20.0]), np.array([2.0, 2.0]))
    assert got.mean.shape == got.var.shape == (3, 2)
    np.testing.assert_array_equal(got.mean, [[5.0, 10.0]] * 3)
    with pytest.raises(ValueError, match=r"var2 must be a positive, finite variance; got 0.0 at index 1"):
        multiply(np.zeros(3), np.ones(3), np.zeros(3), np.array([1.0, 0.0, 1.0]))


@needs_numba
@given(point_cases())
def test_compiled_mvn_densities_match_mpmath_within_k_n_cond_eps(compiled: None, case: tuple[np.ndarray, ...]) -> None:
    """The loop over points with one covariance meets the NumPy path's bound (forward substitution, not LU)."""
    x, mean, cov = case
    n = len(x)
    cond = scaled_condition(cov)
    points = np.stack([x, x])
    got_log, got_pdf = mvn_logpdf(points, mean, cov), mvn_pdf(points, mean, cov)
    assert got_log.shape == got_pdf.shape == (2,)
    slow = numpy_path(mvn_logpdf, points, mean, cov)
    with mpmath.workdps(DPS):
        squared, log_det = ref_density_terms(x, mean, cov)
        exact_log = -(n * mpmath.log(2 * mpmath.pi) + log_det + squared) / 2
        terms = squared / 2 + abs(log_det) / 2 + n * mpmath.log(2 * mpmath.pi) / 2 + 1
        log_bound = K_ND * n * cond * EPS * terms
        if exact_log <= -OVERFLOW:
            assert got_log[0] == slow[0] == -math.inf
            return
        error = abs(mpf(got_log[0]) - exact_log)
        assert error <= log_bound, f"compiled mvn_logpdf error {mpmath.nstr(error, 3)} > {mpmath.nstr(log_bound, 3)}"
        exact_pdf = ref_from_log(exact_log)
        if exact_pdf < OVERFLOW:
            error = abs(mpf(got_pdf[0]) - exact_pdf)
            assert error <= (log_bound + 4 * EPS) * exact_pdf + 2 * SUB, f"compiled mvn_pdf {got_pdf[0]!r}"


@needs_numba
def test_compiled_mvn_densities_on_a_large_batch() -> None:
    """At the default MIN_SIZE: batch shape kept, infinite points and NaN handled as in the NumPy path."""
    rng = np.random.default_rng(5)
    mean, cov = np.array([0.5, -0.2, 1.0]), np.array([[2.0, 0.9, 0.1], [0.9, 0.5, 0.0], [0.1, 0.0, 1.0]])
    points = rng.normal(size=(200, 200, 3))
    got, want = mvn_logpdf(points, mean, cov), numpy_path(mvn_logpdf, points, mean, cov)
    assert got.shape == (200, 200)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    np.testing.assert_allclose(mvn_pdf(points, mean, cov), numpy_path(mvn_pdf, points, mean, cov), rtol=1e-13)
    points[3, 4, 1] = math.inf
    assert mvn_logpdf(points, mean, cov)[3, 4] == -math.inf
    points[3, 4, 1] = math.nan
    with pytest.raises(ValueError, match=r"x must not contain NaN; got nan at index \(3, 4, 1\)"):
        mvn_pdf(points, mean, np.eye(3) - 2.0)  # x is named first, as in the NumPy path
    points[3, 4, 1] = 0.0
    with pytest.raises(ValueError, match="cov must have a nonnegative diagonal"):
        mvn_pdf(points, mean, np.eye(3) - 2.0)


@st.composite
def moderate_products(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """(m1, cov1, m2, cov2), n = 2..4, standard deviations within 2^+-8 (the coupled-scales defect class left out)."""
    n = draw(st.integers(2, 4))
    cov1, cov2 = draw(spd_matrices(n, exponents=(-8, 8))), draw(spd_matrices(n, exponents=(-8, 8)))
    spd_or_skip(cov1)
    spd_or_skip(cov2)
    mean1 = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n))) * np.sqrt(np.diagonal(cov1))
    mean2 = np.array(draw(st.lists(st.floats(-1e3, 1e3), min_size=n, max_size=n))) * np.sqrt(np.diagonal(cov2))
    return mean1, cov1, mean2, cov2


@needs_numba
@given(moderate_products())
def test_compiled_mvn_multiply_agrees_with_the_numpy_path(compiled: None, case: tuple[np.ndarray, ...]) -> None:
    """Both paths meet |error| <= 64 n cond(T~) eps |S1||T^-1||S2| (the property test's bound): so their difference."""
    m1, s1, m2, s2 = case
    n = len(m1)
    batch = [np.stack([value, value]) for value in case]
    fast, slow = mvn_multiply(*batch), numpy_path(mvn_multiply, *batch)
    assert (fast.cov == np.swapaxes(fast.cov, -1, -2)).all() and (np.diagonal(fast.cov, axis1=1, axis2=2) >= 0).all()
    k = 2 * K_ND * n * scaled_condition(s1 + s2) * EPS
    inverse = np.abs(np.linalg.inv(s1 + s2))
    mean_magnitude = np.abs(s2) @ inverse @ np.abs(m1) + np.abs(s1) @ inverse @ np.abs(m2)
    cov_magnitude = np.abs(s1) @ inverse @ np.abs(s2)
    scale = np.sqrt(np.outer(np.diagonal(cov_magnitude), np.diagonal(cov_magnitude)))
    assert (np.abs(fast.mean - slow.mean) <= k * mean_magnitude + 2 * SUB).all(), (fast.mean, slow.mean)
    assert (np.abs(fast.cov - slow.cov) <= k * scale + 2 * SUB).all(), (fast.cov, slow.cov)


@needs_numba
def test_compiled_mvn_multiply_redoes_special_elements_and_names_errors(compiled: None) -> None:
    dense = np.array([[2.0, 0.5], [0.5, 1.0]])
    m1, m2 = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]]), np.array([[3.0, -1.0], [3.0, -1.0], [0.0, 0.0]])
    s1 = np.stack([dense, np.diag([2.0, 3.0]), dense])
    s2 = np.stack([dense.T * 3.0, np.diag([1e-300, 3.0]), dense])
    fast, slow = mvn_multiply(m1, s1, m2, s2), numpy_path(mvn_multiply, m1, s1, m2, s2)
    np.testing.assert_array_equal(fast.mean[1], slow.mean[1])  # both diagonal: redone by the NumPy path
    np.testing.assert_array_equal(fast.cov[1], slow.cov[1])
    np.testing.assert_allclose(fast.cov[::2], slow.cov[::2], rtol=1e-14)
    np.testing.assert_allclose(fast.mean[::2], slow.mean[::2], rtol=1e-14)
    s2[2] = [[1.0, 2.0], [2.0, 1.0]]
    with pytest.raises(ValueError, match=r"cov2 must be positive definite at batch index \(2,\)"):
        mvn_multiply(m1, s1, m2, s2)
    with pytest.raises(ValueError, match="cov1 must be symmetric"):
        mvn_multiply(m1, s1 + np.triu(np.ones((2, 2)), 1), m2, s2)


def random_products(seed: int, count: int, n: int, offset: tuple[int, int] = (0, 0)) -> list[np.ndarray]:
    """(m1, cov1, m2, cov2): a batch of correlated, exactly symmetric covariances with standard deviations
    2^(k + j), k per element within ``offset`` (the same for both), j per axis within +-2 (axes far apart in
    scale between cov1 and cov2 are the coupled-scales defect class of the xfail property, on either path)."""
    rng = np.random.default_rng(seed)
    common = rng.integers(*offset, size=(count, 1), endpoint=True)
    arrays = []
    for _ in range(2):
        factor = rng.normal(size=(count, n, n))
        unit = factor @ np.swapaxes(factor, -1, -2) + n * np.eye(n)
        scale = np.ldexp(1.0, common + rng.integers(-2, 2, size=(count, n), endpoint=True))
        with np.errstate(under="ignore"):
            cov = unit * scale[:, :, None] * scale[:, None, :]
        cov = np.tril(cov) + np.swapaxes(np.tril(cov, -1), -1, -2)  # exactly symmetric
        arrays += [rng.normal(size=(count, n)) * np.sqrt(np.diagonal(cov, axis1=1, axis2=2)), cov]
    return arrays


def assert_products_agree(fast: Any, slow: Any, case: Sequence[np.ndarray]) -> None:
    """Element by element within the bound of test_compiled_mvn_multiply_agrees_with_the_numpy_path,
    |S1| |T^-1| |S2| formed with T scaled to about unit diagonal by powers of two (any variances)."""
    m1, s1, m2, s2 = case
    assert (fast.cov == np.swapaxes(fast.cov, -1, -2)).all()
    for e in range(len(m1)):
        total = s1[e] + s2[e]
        d = np.ldexp(1.0, np.frexp(np.diagonal(total))[1] // 2)
        outer = np.outer(d, d)
        k = 2 * K_ND * len(m1[e]) * scaled_condition(total) * EPS
        inverse = np.abs(np.linalg.inv(total / outer))
        first, second = np.abs(s1[e]) / outer, np.abs(s2[e]) / outer
        mean_magnitude = d * (second @ inverse @ (np.abs(m1[e]) / d) + first @ inverse @ (np.abs(m2[e]) / d))
        cov_magnitude = outer * (first @ inverse @ second)
        scale = np.sqrt(np.diagonal(cov_magnitude))
        scale = np.outer(scale, scale)
        assert (np.abs(fast.mean[e] - slow.mean[e]) <= k * mean_magnitude + 2 * SUB).all(), e
        assert (np.abs(fast.cov[e] - slow.cov[e]) <= k * scale + 2 * SUB).all(), e


def product_flags(m1: Any, s1: Any, m2: Any, s2: Any) -> np.ndarray:
    """The status the unrolled compiled product gives each element (0 done, 1 invalid, 2 for the NumPy path)."""
    from kfsym.numeric._compiled_filter import product_kernel
    from kfsym.numeric.multivariate import _HUGE_Z, _TINY_Z, SYMMETRY_RTOL

    count, n = m1.shape
    flags = np.empty(count, dtype=np.int8)
    square = count, n * n
    arguments = (m1, s1.reshape(square), m2, s2.reshape(square), SYMMETRY_RTOL, _TINY_Z, _HUGE_Z)
    flagged = product_kernel(n)(*arguments, np.empty((count, n)), np.empty(square), flags)
    assert flagged == np.count_nonzero(flags)
    return flags


@needs_numba
@pytest.mark.parametrize("count", [1, 255, 256, 257, 600])
@pytest.mark.parametrize("n", [2, 3, 4])
def test_compiled_product_across_block_boundaries(compiled: None, n: int, count: int) -> None:
    """The unrolled product runs blocks of 256 elements: every element of a partial or full block agrees."""
    case = random_products(count + n, count, n)
    assert not product_flags(*case).any()
    assert_products_agree(mvn_multiply(*case), numpy_path(mvn_multiply, *case), case)


@needs_numba
@pytest.mark.parametrize("n", [2, 3, 4])
def test_compiled_product_is_the_per_element_loop_but_for_pivoting(n: int) -> None:
    """The unrolled loop against the per-element loop it replaces (same formulas but r from the variances, and
    elimination without exchanges where that loop pivots partially): the same flags, the same numbers to rounding."""
    from kfsym.numeric.multivariate import _HUGE_Z, _TINY_Z, SYMMETRY_RTOL

    m1, s1, m2, s2 = random_products(20 + n, 600, n)
    s2[7] = np.diag(np.diagonal(s2[7]))
    s1[7] = np.diag(np.diagonal(s1[7]))  # flagged by both
    kernels = _jit.elementwise_kernels()
    assert kernels is not None
    mean, cov, flags = np.empty((600, n)), np.empty((600, n, n)), np.empty(600, dtype=np.int8)
    kernels.mvn_product_batch(m1, s1, m2, s2, SYMMETRY_RTOL, _TINY_Z, _HUGE_Z, mean, cov, flags)
    np.testing.assert_array_equal(product_flags(m1, s1, m2, s2), flags)
    fast = mvn_multiply(m1, s1, m2, s2)
    done = flags == 0
    assert done.sum() == 599
    inputs = [m1[done], s1[done], m2[done], s2[done]]
    assert_products_agree(type(fast)(fast.mean[done], fast.cov[done]), type(fast)(mean[done], cov[done]), inputs)


@needs_numba
def test_compiled_product_keeps_batch_shapes_and_reads_any_layout(compiled: None) -> None:
    """A (20, 30) batch, cov1 in Fortran order and mean2 a strided view: the loop reads C-ordered copies."""
    m1, s1, m2, s2 = (array.reshape(20, 30, *array.shape[1:]) for array in random_products(11, 600, 3))
    s1 = np.asfortranarray(s1)
    m2 = np.repeat(m2, 2, axis=-1)[..., ::2]
    fast, slow = mvn_multiply(m1, s1, m2, s2), numpy_path(mvn_multiply, m1, s1, m2, s2)
    assert fast.mean.shape == (20, 30, 3) and fast.cov.shape == (20, 30, 3, 3)
    flat = [array.reshape(600, *array.shape[2:]) for array in (m1, s1, m2, s2)]
    assert_products_agree(
        type(fast)(fast.mean.reshape(600, 3), fast.cov.reshape(600, 3, 3)),
        type(slow)(slow.mean.reshape(600, 3), slow.cov.reshape(600, 3, 3)),
        flat,
    )


@needs_numba
def test_compiled_product_redoes_special_elements_in_the_middle_of_a_block(compiled: None) -> None:
    """Elements outside the common case, among ordinary ones of the same block: flagged 2, and exactly the NumPy
    path's result there (it recomputes them); the others untouched."""
    m1, s1, m2, s2 = random_products(7, 600, 3)
    s1[300], s2[300] = np.diag([2.0, 3.0, 1e-300]), np.diag([1.0, 5e-324, 4.0])  # both diagonal
    s1[301, 0, 1] *= 1.0 + 1e-12  # symmetric within the tolerance, not exactly: done here, as in NumPy
    m1[302], m2[302] = [1e-310, -3e-310, 0.0], [5e-324, 0.0, 2e-309]  # every mean subnormal
    m1[303], m2[303] = [-1e300, 0.0, 0.0], [1e300, 0.0, 0.0]  # z = R (m2 - m1) overflows
    s1[303] *= 1e-300
    m1[304], m2[304] = [1e-300, 0.0, 0.0], [0.0, 0.0, 0.0]  # a correction that underflows
    s1[304] *= 1e300
    flags = product_flags(m1, s1, m2, s2)
    special = [300, 302, 303, 304]
    assert list(np.flatnonzero(flags)) == special and (flags[special] == 2).all()
    fast, slow = mvn_multiply(m1, s1, m2, s2), numpy_path(mvn_multiply, m1, s1, m2, s2)
    np.testing.assert_array_equal(fast.mean[special], slow.mean[special])
    np.testing.assert_array_equal(fast.cov[special], slow.cov[special])
    rest = np.setdiff1d(np.arange(600), special)
    assert_products_agree(
        type(fast)(fast.mean[rest], fast.cov[rest]),
        type(slow)(slow.mean[rest], slow.cov[rest]),
        [m1[rest], s1[rest], m2[rest], s2[rest]],
    )


@needs_numba
def test_compiled_product_names_an_invalid_element_in_the_middle_of_a_block(compiled: None) -> None:
    m1, s1, m2, s2 = random_products(8, 600, 4)
    bad = s2.copy()
    bad[300, 1, 2] = bad[300, 2, 1] = 2.0 * math.sqrt(bad[300, 1, 1] * bad[300, 2, 2])  # not positive definite
    assert list(np.flatnonzero(product_flags(m1, s1, m2, bad))) == [300]
    with pytest.raises(ValueError, match=r"cov2 must be positive definite at batch index \(300,\)"):
        mvn_multiply(m1, s1, m2, bad)
    bad = s1.copy()
    bad[299, 0, 3] *= 1.0 + 1e-6
    with pytest.raises(ValueError, match=r"cov1 must be symmetric at batch index \(299,\)"):
        mvn_multiply(m1, bad, m2, s2)
    bad = m2.copy()
    bad[257, 2] = math.inf
    assert product_flags(m1, s1, bad, s2)[257] == 1
    with pytest.raises(ValueError, match="mean2"):
        mvn_multiply(m1, s1, bad, s2)


@needs_numba
@pytest.mark.parametrize("offset", [(-535, -500), (490, 505), (-500, 500)])
def test_compiled_product_at_subnormal_and_huge_scales(compiled: None, offset: tuple[int, int]) -> None:
    """Variances from 2^-1074 (subnormal) to 2^1020: the checks scale each matrix exactly as covariance() does,
    and the product agrees with the NumPy path (or is redone by it)."""
    case = random_products(9, 300, 3, offset)
    assert not (product_flags(*case) == 1).any()
    assert_products_agree(mvn_multiply(*case), numpy_path(mvn_multiply, *case), case)


@needs_numba
@pytest.mark.parametrize("n", [5, 6, 7])
def test_compiled_product_for_larger_sizes(compiled: None, n: int) -> None:
    """Unrolled up to n = 6; beyond, the per-element loop of COMPILED_SOURCE."""
    case = random_products(n, 300, n)
    assert_products_agree(mvn_multiply(*case), numpy_path(mvn_multiply, *case), case)


def test_the_product_source_is_printed_for_2_to_6() -> None:
    from kfsym.numeric._product_source import MAX_SIZE, product_source
    from kfsym.numeric.multivariate import _UNROLLED_PRODUCT

    assert MAX_SIZE == _UNROLLED_PRODUCT
    assert "def product_batch(" in product_source(2, 256)
    for n in (1, MAX_SIZE + 1):
        with pytest.raises(ValueError, match="2 <= n <= 6"):
            product_source(n, 256)


def random_updates(seed: int, count: int, n: int, m: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(count, n, n))
    P = factor @ np.swapaxes(factor, -1, -2) + n * np.eye(n)
    return rng.normal(size=(count, n)), P, rng.normal(size=(count, m)), rng.normal(size=(m, n))


@needs_numba
@pytest.mark.parametrize(("n", "m"), [(4, 2), (2, 1), (1, 3), (3, 3)])
def test_compiled_kf_update_agrees_with_the_numpy_path(compiled: None, n: int, m: int) -> None:
    """Batched and shared H and R; the gain from the Cholesky factor of S, not LU: agreement to rounding."""
    x, P, z, H = random_updates(n + 10 * m, 4096, n, m)
    R = np.diag(np.arange(1.0, m + 1.0)) + 0.1
    for h, r in ((H, R), (np.broadcast_to(H, (4096, m, n)).copy(), np.broadcast_to(R, (4096, m, m)).copy())):
        fast, slow = kf_update(x, P, z, h, r), numpy_path(kf_update, x, P, z, h, r)
        assert fast.mean.shape == (4096, n) and fast.cov.shape == (4096, n, n)
        assert (fast.cov == np.swapaxes(fast.cov, -1, -2)).all()
        np.testing.assert_allclose(fast.mean, slow.mean, rtol=1e-11, atol=1e-12 * np.abs(slow.mean).max())
        np.testing.assert_allclose(fast.cov, slow.cov, rtol=1e-11, atol=1e-12 * np.abs(slow.cov).max())


@needs_numba
def test_compiled_kf_update_redoes_special_elements_and_names_errors(compiled: None) -> None:
    x, P, z, H = random_updates(7, 3, 2, 2)
    R = np.stack([np.eye(2), np.zeros((2, 2)), np.eye(2)])  # element 1: exact measurements, semi-definite R
    fast, slow = kf_update(x, P, z, H, R), numpy_path(kf_update, x, P, z, H, R)
    np.testing.assert_allclose(fast.cov, slow.cov, rtol=1e-12, atol=1e-14)
    H0 = np.stack([H, np.zeros((2, 2)), H])  # element 1: S = R = 0, not positive definite: the NumPy path's error
    with pytest.raises(ValueError, match="the innovation covariance H P H\\^T \\+ R is not positive definite"):
        kf_update(x, P, z, H0, R)
    P[2, 0, 0] = -1.0
    with pytest.raises(ValueError, match="P must have a nonnegative diagonal"):
        kf_update(x, P, z, H, R)


# ----------------------------------------------------------------------------- import cost and dispatch


def run_python(code: str, **env: str) -> Any:
    import os

    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120, env={**os.environ, **env}
    )
    return json.loads(done.stdout)


def test_small_arrays_and_the_fallback_never_import_numba() -> None:
    code = (
        "import json, sys\n"
        "import numpy as np\n"
        "import kfsym.numeric as kn\n"
        "kn.cdf(np.zeros(100)); kn.pdf(np.zeros(100)); kn.multiply(np.zeros(100), 1.0, 0.0, 1.0)\n"
        "small = 'numba' in sys.modules\n"
        "kn.cdf(np.zeros(10**5))\n"
        "print(json.dumps([small, 'numba' in sys.modules]))\n"
    )
    assert run_python(code, KFSYM_COMPILED="0") == [False, False]
    assert run_python(code)[0] is False


@needs_numba
def test_the_property_suite_passes_on_the_compiled_loops() -> None:
    """tests/test_numeric_properties.py again with KFSYM_COMPILED_MIN_SIZE=1: every array takes a compiled loop
    where one applies (multiply and mvn_multiply on arrays of any size), against the same mpmath standards."""
    import os

    env = {**os.environ, "KFSYM_COMPILED_MIN_SIZE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("KFSYM_COMPILED", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "tests/test_numeric_properties.py"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-2000:]}"


@needs_numba
def test_the_loader_reuses_one_module_per_source(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KFSYM_CACHE_DIR", str(tmp_path))
    source = "import numba\n\n@numba.njit(cache=True)\ndef twice(x):\n    return 2 * x\n"
    first = _jit.load_source("kfsym_test_twice", source)
    assert first.twice(2.0) == 4.0
    assert _jit.load_source("kfsym_test_twice", source) is first
    assert [path.suffix for path in tmp_path.iterdir() if path.name.startswith("kfsym_test_twice")] == [".py"]


@needs_numba
def test_compiled_mvn_logpdf_redoes_a_substitution_that_overflows_into_nan(compiled: None) -> None:
    """x - m = 4.4e304 against a variance of 6e-8: the first whitened component overflows and the next ones meet
    inf - inf in the forward substitution. The row goes to the NumPy path: -inf, as there (was NaN; found by the
    mpmath property in CI)."""
    x = np.array([[4.388899255034951e304, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    cov = np.array(
        [
            [5.96046448e-08, -1.14940628e-20, 1.55053737e-20, 7.76698043e-21],
            [-1.14940628e-20, 1.00000000e00, 2.14152123e-16, 3.81694145e-17],
            [1.55053737e-20, 2.14152123e-16, 1.00000000e00, 5.25656267e-18],
            [7.76698043e-21, 3.81694145e-17, 5.25656267e-18, 1.00000000e00],
        ]
    )
    got = mvn_logpdf(x, np.zeros(4), cov)
    assert got[0] == -math.inf
    np.testing.assert_array_equal(got, numpy_path(mvn_logpdf, x, np.zeros(4), cov))


@needs_numba
def test_an_element_refused_on_the_redo_is_named_by_its_index_in_the_whole_batch() -> None:
    """An element the loop sends to the NumPy path as special, where it is refused (definiteness decided by
    rounding): the error names its index in the whole batch, not in the subset recomputed (independent review)."""
    n, count, index = 3, 3700, 1246  # 3700 * 9 covariance entries: the compiled loop
    rng = np.random.default_rng(0)
    spread = rng.standard_normal((count, n, n))
    spd = spread @ np.swapaxes(spread, -1, -2) + np.eye(n)
    cov1 = spd.copy()
    cov1[index] = [
        [6.90949974393716e-249, 8.811876655447688e18, 0.0],
        [8.811876655447688e18, 1.123803069230277e286, 0.0],
        [0.0, 0.0, 1.4483591971123644e-215],
    ]
    means = rng.standard_normal((count, n))
    with pytest.raises(ValueError, match=r"cov1 must be positive definite at batch index \(1246,\)"):
        mvn_multiply(means, cov1, means, spd)
