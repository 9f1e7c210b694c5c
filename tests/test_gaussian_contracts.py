"""Contracts of kfsym/numeric/gaussian.py that its property tests leave to chance.

The compiled dispatch (``_compiled_pairs``, ``_compiled_density``) is exercised without Numba: the printed
loops of ``_generated.COMPILED_SOURCE`` run as plain Python (``numba.njit`` the identity) with ``MIN_SIZE``
lowered to 1, so every float64 array takes the compiled path in a few milliseconds. The mixed-overflow
evidence and the defaults of the validated functions are stated directly.
"""

from __future__ import annotations

import types
import warnings
from collections.abc import Iterator

import mpmath
import numpy as np
import pytest

from kfsym.numeric import _jit, gaussian
from kfsym.numeric.gaussian import evidence, log_evidence, multiply, pdf
from tests.test_compiled import plain_python_kernels
from tests.test_numeric_references import ref_evidence, ref_logpdf, ref_multiply

_PLAIN: list[types.ModuleType] = []


def plain_kernels() -> types.ModuleType:
    """COMPILED_SOURCE executed as plain Python (built once)."""
    if not _PLAIN:
        _PLAIN.append(plain_python_kernels())
    return _PLAIN[0]


@pytest.fixture
def compiled() -> Iterator[None]:
    """Every float64 array (and every all-scalar call) is offered to the compiled loops, run as Python."""
    kernels = plain_kernels()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_jit, "MIN_SIZE", 1)
        patch.setattr(_jit, "elementwise_kernels", lambda: kernels)
        with np.errstate(all="ignore"):  # as Python, the loops' elements are NumPy scalars, which warn
            yield


def product_reference(m1: float, v1: float, m2: float, v2: float) -> tuple[float, float]:
    """tests.test_numeric_references' exact product moments, at 60 digits, rounded to doubles."""
    with mpmath.workdps(60):
        mean, var = ref_multiply(m1, v1, m2, v2)
        return float(mean), float(var)


def test_multiply_on_the_compiled_path_is_the_normalised_product(compiled: None) -> None:
    """multiply of float64 arrays (compiled path) gives, element by element, the 60-digit product moments."""
    m1, v1 = np.array([0.0, 1.0, -3.0]), np.array([2.0, 0.5, 4.0])
    m2, v2 = np.array([10.0, 2.0, 5.0]), np.array([2.0, 1.5, 0.25])
    got = multiply(m1, v1, m2, v2)
    assert isinstance(got.mean, np.ndarray) and got.mean.shape == (3,)
    for i in range(3):
        mean, var = product_reference(m1[i], v1[i], m2[i], v2[i])
        assert got.mean[i] == pytest.approx(mean, rel=1e-15, abs=0.0)
        assert got.var[i] == pytest.approx(var, rel=1e-15, abs=0.0)
    # broadcasting a scalar against the arrays, on the same path
    broadcast = multiply(m1, 2.0, 10.0, 2.0)
    assert broadcast.mean.tolist() == [5.0, 5.5, 3.5] and broadcast.var.tolist() == [1.0, 1.0, 1.0]


def test_all_scalar_calls_return_python_floats_even_when_everything_may_be_compiled(compiled: None) -> None:
    """A call with only scalars never takes the array loop: its fields are Python floats (MIN_SIZE 1)."""
    got = multiply(np.float64(0.0), np.float64(2.0), np.float64(10.0), np.float64(2.0))
    assert type(got.mean) is float and type(got.var) is float
    assert (got.mean, got.var) == (5.0, 1.0)


def test_complex_and_boolean_arguments_are_refused_on_the_compiled_path(compiled: None) -> None:
    """A complex array or a boolean scalar beside float64 arrays is a TypeError, never silently converted."""
    ones = np.ones(4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a ComplexWarning (an imaginary part dropped) would fail too
        with pytest.raises(TypeError, match="mean1"):
            multiply(np.ones(4, dtype=complex), 1.0, 0.0, 1.0)
    with pytest.raises(TypeError, match="var1"):
        multiply(ones, True, ones, ones)
    with pytest.raises(TypeError, match="mean"):
        pdf(ones, True, 1.0)
    with pytest.raises(TypeError, match="var"):
        pdf(ones, 0.0, np.bool_(True))


def test_the_validated_functions_default_to_the_standard_normal() -> None:
    """pdf, logpdf and cdf without mean and var (the validated functions too) are those of N(0, 1)."""
    for function in (gaussian._pdf, gaussian._logpdf, gaussian._cdf, gaussian.pdf, gaussian.logpdf, gaussian.cdf):
        assert function(np.array([1.5]))[0] == function(np.array([1.5]), 0.0, 1.0)[0]
    assert gaussian._cdf(0.0) == 0.5
    assert gaussian._cdf(1.0) == pytest.approx(float(mpmath.ncdf(1.0)), rel=1e-15, abs=0.0)


def test_evidence_with_some_variance_sums_beyond_the_largest_double_is_right_everywhere() -> None:
    """evidence and log_evidence on an array mixing overflowing and ordinary variance sums match 60 digits."""
    m1 = np.array([1e154, 1.0, -2.0, 3e153])
    v1 = np.array([1.5e308, 2.0, 0.5, 1e308])
    m2 = np.array([-1e154, 3.0, 1.0, 0.0])
    v2 = np.array([1e308, 2.0, 0.25, 1.7e308])
    values, logs = evidence(m1, v1, m2, v2), log_evidence(m1, v1, m2, v2)
    for i in range(4):
        with mpmath.workdps(60):
            want = ref_evidence(m1[i], v1[i], m2[i], v2[i])
        # the log-normaliser log(v1 + v2)/2 ~ 355 carries ~355 eps of absolute rounding: 1e-12 relative
        assert values[i] == pytest.approx(float(want), rel=1e-12, abs=0.0)
        assert logs[i] == pytest.approx(float(mpmath.log(want)), rel=1e-14, abs=0.0)


def test_evidence_of_plain_floats_is_exactly_the_density_of_the_summed_variance() -> None:
    """For plain floats evidence(m1, v1, m2, v2) == pdf(m1, m2, v1 + v2) exactly, as its docstring shows."""
    rng = np.random.default_rng(20261130)
    means = rng.standard_normal((2000, 2)) * 10.0 ** rng.uniform(-3, 3, (2000, 2))
    variances = 10.0 ** rng.uniform(-4, 4, (2000, 2))  # half of each below 1
    for (m1, m2), (v1, v2) in zip(means.tolist(), variances.tolist(), strict=True):
        assert evidence(m1, v1, m2, v2) == pdf(m1, m2, v1 + v2), (m1, v1, m2, v2)


def test_densities_on_the_compiled_path_are_the_densities(compiled: None) -> None:
    """pdf, logpdf and cdf of a float64 array (the compiled loops) match 60-digit references; complex is refused."""
    x = np.array([-3.0, -0.5, 0.0, 2.5, 40.0])
    mean, var = 0.5, 2.0
    with mpmath.workdps(60):
        sd = mpmath.sqrt(mpmath.mpf(var))
        pdfs = [mpmath.npdf(value, mean, sd) for value in x.tolist()]
        cdfs = [mpmath.ncdf(value, mean, sd) for value in x.tolist()]
    assert gaussian.pdf(x, mean, var).tolist() == pytest.approx([float(p) for p in pdfs], rel=1e-13, abs=0.0)
    assert gaussian.logpdf(x, mean, var).tolist() == pytest.approx(
        [float(mpmath.log(p)) for p in pdfs], rel=1e-13, abs=0.0
    )
    assert gaussian.cdf(x, mean, var).tolist() == pytest.approx([float(c) for c in cdfs], rel=1e-12, abs=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for function in (gaussian.pdf, gaussian.logpdf, gaussian.cdf):
            with pytest.raises(TypeError, match="x"):
                function(np.ones(3, dtype=complex), 0.0, 1.0)


@pytest.mark.parametrize("path", ["numpy", "compiled"])
def test_logpdf_where_x_minus_mean_overflows_is_finite_and_right(path: str, request: pytest.FixtureRequest) -> None:
    """logpdf with x - mean beyond 1.8e308 but a finite log-density matches 60 digits on both paths."""
    if path == "compiled":
        request.getfixturevalue("compiled")
    x = np.array([1e308, -1.5e308, 0.0, 1e308])
    got = gaussian.logpdf(x, -1e308, 1.7e308)
    with mpmath.workdps(60):
        want = [float(ref_logpdf(value, -1e308, 1.7e308)) for value in x.tolist()]
    assert np.isfinite(got).all()
    assert got.tolist() == pytest.approx(want, rel=1e-14, abs=0.0)
