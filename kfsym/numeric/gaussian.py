"""One-dimensional Gaussians: density, distribution, product (update) and sum (prediction).

Every parameter named ``var`` is a *variance* (σ², not σ). All functions
broadcast like NumPy ufuncs and return a Python float when every argument is a
scalar. The arithmetic is the generated code in :mod:`kfsym.numeric._generated`,
printed from the derivations ``gaussian.pdf``, ``gaussian.logpdf``,
``gaussian.cdf``, ``gaussian.product_stable`` and ``gaussian.sum_mgf``.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast

import numpy as np
from numpy.typing import ArrayLike

from kfsym.numeric import _generated, _jit
from kfsym.numeric._validate import FloatArray, FloatOrArray, broadcast_shape, finite, not_nan, positive, to_output

__all__ = ["Gaussian", "add", "cdf", "evidence", "log_evidence", "logpdf", "multiply", "pdf", "product_moments"]


class Gaussian(NamedTuple):
    """A Gaussian N(mean, var), parametrised by its variance.

    Attributes
    ----------
    mean : float or ndarray
    var : float or ndarray
        The variance σ² (same shape as ``mean``).

    Examples
    --------
    >>> g = Gaussian(mean=5.0, var=4.0)
    >>> g.std
    2.0
    """

    mean: FloatOrArray
    var: FloatOrArray

    @property
    def std(self) -> FloatOrArray:
        """Standard deviation √var."""
        root = np.sqrt(self.var)
        return float(root) if np.ndim(root) == 0 else root


# Far in a tail z^2 overflows to inf and the density underflows to 0 (or logpdf to -inf): the
# correctly rounded results. NumPy's warnings about those intermediate steps carry no information.
def _far_tails() -> np.errstate:
    return np.errstate(over="ignore", under="ignore")


_INF = math.inf
_LOG_2 = math.log(2.0)
_SMALLEST_NORMAL = 2.0**-1022
# Plain floats skip NumPy entirely: the generated ``*_scalar`` kernels run the same IEEE steps as the
# array kernels. Only the library exp/log differ (the C library's against NumPy's, which may be SIMD),
# so the two paths agree within PATH_ULP ulp of the result plus the log-variance term's share
# (see PATH_ULP); tests check that bound, never bit equality.

#: Bound, in units in the last place, between the scalar fast path and the array path of pdf, logpdf
#: and cdf: |scalar - array| <= PATH_ULP * (ulp(result) + ulp(c) * |result|) for pdf, with
#: c = log(var)/2 + log(2 pi)/2 the log-normaliser inside the exponent, and
#: |scalar - array| <= PATH_ULP * (ulp(result) + ulp(c)) for logpdf. The arithmetic is identical;
#: each path's exp and log is within one ulp or so of the correctly rounded value.
PATH_ULP = 4

#: The same bound for cdf, whose paths use two implementations of erfc: the scalar and compiled paths the C
#: library's (glibc's measured within 2.2 ulp of exact), the NumPy array path kfsym's own
#: (:mod:`kfsym.numeric._erfc`, within its ``ULP_BOUND`` = 5, measured 4.1):
#: |scalar - array| <= CDF_PATH_ULP ulp(result).
CDF_PATH_ULP = 8


def _density(
    scalar: Callable[[float, float, float], float],
    array: Callable[..., Any],
    x: ArrayLike,
    mean: ArrayLike,
    var: ArrayLike,
) -> FloatOrArray:
    """Validate, then evaluate with the plain-float kernel (all scalars), the fused loop or the in-place one."""
    fused = _compiled_density(array.__name__.removesuffix("_inplace"), x, mean, var)
    if fused is not None:
        return fused[0]
    xs, means, variances, shape = _density_args(x, mean, var)
    if shape == ():
        return scalar(float(xs), float(means), float(variances))
    with _far_tails():
        result: FloatOrArray = array(xs, means, variances, out=np.empty(shape))
    return result


def _real_scalar(value: object) -> float | None:
    """``value`` as a float when it is a real number (not a bool, not an array), else None."""
    if isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_)):
        try:
            return float(value)
        except OverflowError:  # a Python int beyond the doubles: the validated path names it
            return None
    return None


def _compiled_density(name: str, x: ArrayLike, mean: ArrayLike, var: ArrayLike) -> tuple[FloatArray, int] | None:
    """(values, overflow count) from the fused compiled loop of ``name``, or None where it does not apply.

    It applies to a float64 ndarray of points with at least ``_jit.MIN_SIZE`` elements, a real scalar
    finite mean and a real scalar positive finite variance, with Numba installed (and not disabled by
    ``KFSYM_COMPILED=0``). The points are checked for NaN in the same pass: a NaN sends them through
    :func:`not_nan`, which raises the error naming ``x``.
    """
    if not (type(x) is np.ndarray and x.dtype == np.float64 and x.size >= _jit.MIN_SIZE):
        return None
    mu, variance = _real_scalar(mean), _real_scalar(var)
    if mu is None or variance is None or not (-_INF < mu < _INF and 0.0 < variance < _INF):
        return None
    kernels = _jit.elementwise_kernels()
    if kernels is None:
        return None
    out = np.empty(x.shape)
    with _far_tails():  # the final exp of pdf underflows far in the tails: the correctly rounded 0
        nan, overflow = getattr(kernels, f"{name}_fused")(np.ravel(x), mu, variance, out.reshape(-1))
    if nan:
        not_nan(x, "x")  # raises
    return out, int(overflow)


def _density_args(
    x: ArrayLike, mean: ArrayLike, var: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, tuple[int, ...]]:
    xs, means, variances = not_nan(x, "x"), finite(mean, "mean"), positive(var, "var")
    return xs, means, variances, broadcast_shape(x=xs, mean=means, var=variances)


def _pdf(x: ArrayLike, mean: ArrayLike = 0.0, var: ArrayLike = 1.0) -> FloatOrArray:
    """Gaussian probability density N(x; mean, var).

    .. math:: N(x; \\mu, \\sigma^2) = \\frac{1}{\\sqrt{2\\pi\\sigma^2}}
              \\exp\\left(-\\frac{(x-\\mu)^2}{2\\sigma^2}\\right)

    Parameters
    ----------
    x : array_like
        Points; ±inf allowed (density 0), NaN is an error.
    mean : array_like
        Finite means μ.
    var : array_like
        Positive, finite variances σ² (not standard deviations).

    Returns
    -------
    float or ndarray
        Densities, shape ``broadcast(x, mean, var)``.

    Raises
    ------
    ValueError
        NaN in ``x``, non-finite ``mean``, ``var`` ≤ 0 or non-finite, shapes
        that do not broadcast.
    TypeError
        Non-numeric or complex input.

    Examples
    --------
    >>> round(pdf(0.0), 12)
    0.398942280401
    >>> pdf([0.0, 5.0], mean=5.0, var=5.0).round(6)
    array([0.014645, 0.178412])
    """
    return _density(_generated.gaussian_pdf_scalar, _generated.gaussian_pdf_inplace, x, mean, var)


def _logpdf(x: ArrayLike, mean: ArrayLike = 0.0, var: ArrayLike = 1.0) -> FloatOrArray:
    """Natural logarithm of the Gaussian density; finite where :func:`pdf` underflows.

    Parameters and errors as for :func:`pdf`; ``x = ±inf`` gives ``-inf``.

    Examples
    --------
    >>> pdf(40.0)
    0.0
    >>> logpdf(40.0)
    -800.9189385332047
    """
    fused = _compiled_density("gaussian_logpdf", x, mean, var)
    if fused is not None:
        values, overflow = fused
        if not overflow:
            return values
        # the fused loop only runs for real scalar parameters: float() is exact here
        return _finite_log_density(np.asarray(x), np.float64(mean), np.float64(var), values)  # type: ignore[arg-type]
    xs, means, variances, shape = _density_args(x, mean, var)
    return _log_density(xs, means, variances, shape)


def _log_density(xs: FloatArray, means: FloatArray, variances: FloatArray, shape: tuple[int, ...]) -> FloatOrArray:
    """logpdf of validated arrays, finite wherever the exact value is a finite double."""
    with _far_tails():
        values = np.asarray(_generated.gaussian_logpdf_inplace(xs, means, variances, out=np.empty(shape)))
    return to_output(_finite_log_density(xs, means, variances, values), shape)


def _finite_log_density(xs: FloatArray, means: FloatArray, variances: FloatArray, values: FloatArray) -> FloatArray:
    """``values`` (logpdf from the kernel) with the entries where an intermediate overflowed recomputed."""
    shape = values.shape
    with _far_tails():
        overflowed = np.isneginf(values) & np.isfinite(xs)
        if overflowed.any():
            # x - mean or z^2 overflowed (z = (x - mean)/sqrt(var)) though the log-density is finite. z is linear
            # in (x, mean), so from halves (exact): logpdf(x/2, mean/2, var) = -z^2/8 - c. Here z^2/2 > 8.9e307,
            # beside which |c| < 373 is below an ulp: logpdf = -z^2/2 - c = 4 logpdf(x/2, mean/2, var).
            halves = _generated.gaussian_logpdf_inplace(0.5 * xs, 0.5 * means, variances, out=np.empty(shape))
            values = np.where(overflowed, 4.0 * halves, values)
    return values


def _cdf(x: ArrayLike, mean: ArrayLike = 0.0, var: ArrayLike = 1.0) -> FloatOrArray:
    """Gaussian cumulative distribution function P(X ≤ x), X ~ N(mean, var).

    Computed as ``erfc(w) / 2`` with ``w = (mean - x) / sqrt(2 var)``, so the lower tail keeps
    its relative accuracy instead of cancelling in ``1 - erfc(-w)/2``. Rounding ``w`` (a few
    ulp) is magnified by erfc's slope: the relative error is about ``2 w^2`` ulp, 3e-14 at
    30 standard deviations below the mean and 2e-13 at the smallest normal results (as with
    ``scipy.special.ndtr``). Parameters and errors as for :func:`pdf`; ``x = -inf`` gives 0
    and ``x = +inf`` gives 1.

    Examples
    --------
    >>> cdf(0.0)
    0.5
    >>> f"{cdf(-30.0):.10e}"
    '4.9067139271e-198'
    """
    return _density(_generated.gaussian_cdf_scalar, _generated.gaussian_cdf_inplace, x, mean, var)


def _pair_args(
    mean1: ArrayLike, var1: ArrayLike, mean2: ArrayLike, var2: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, tuple[int, ...]]:
    m1, v1 = finite(mean1, "mean1"), positive(var1, "var1")
    m2, v2 = finite(mean2, "mean2"), positive(var2, "var2")
    return m1, v1, m2, v2, broadcast_shape(mean1=m1, var1=v1, mean2=m2, var2=v2)


def _multiply(mean1: ArrayLike, var1: ArrayLike, mean2: ArrayLike, var2: ArrayLike) -> Gaussian:
    """Normalised product of two Gaussian densities: the Bayes measurement update.

    N(x; mean1, var1) · N(x; mean2, var2) ∝ N(x; mean, var) with

    .. math:: \\mu = \\frac{\\mu_1\\sigma_2^2 + \\mu_2\\sigma_1^2}{\\sigma_1^2+\\sigma_2^2},\\qquad
              \\sigma^2 = \\frac{\\sigma_1^2\\sigma_2^2}{\\sigma_1^2+\\sigma_2^2}

    evaluated in the overflow-free form proved in ``gaussian.product_stable``
    (finite for any positive normal doubles, e.g. variances 1e300 and 1e-300).

    Parameters
    ----------
    mean1, var1 : array_like
        Prior mean and variance.
    mean2, var2 : array_like
        Measurement mean and variance.

    Returns
    -------
    Gaussian
        Posterior; both fields have the broadcast shape of all four inputs.

    Examples
    --------
    >>> multiply(0.0, 2.0, 10.0, 2.0)
    Gaussian(mean=5.0, var=1.0)
    """
    fused = _compiled_pairs("gaussian_product", mean1, var1, mean2, var2)
    if fused is not None:
        return Gaussian(*fused)
    m1, v1, m2, v2, shape = _pair_args(mean1, var1, mean2, var2)
    mean, var = product_moments(m1, v1, m2, v2)
    return Gaussian(to_output(mean, shape), to_output(var, shape))


def _compiled_pairs(name: str, *arguments: ArrayLike) -> tuple[FloatArray, FloatArray] | None:
    """(mean, var) from the compiled per-element loop ``<name>_pairs``, or None where it does not apply.

    It applies when every argument is a float64 ndarray or a real scalar, they broadcast to a shape of
    at least ``_jit.MIN_SIZE`` elements (not 0-d), and Numba is available. The loop checks the domain
    in the same pass; an argument outside it goes through :func:`_pair_args`, which raises the error
    naming it. Elements outside the kernel's ``fast_when`` (a variance ratio below the normal range)
    send the whole call to the NumPy path, which corrects them.
    """
    shapes = []
    for argument in arguments:
        if type(argument) is np.ndarray:
            if argument.dtype != np.float64:
                return None
            shapes.append(argument.shape)
        elif _real_scalar(argument) is None:
            return None
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        return None
    if shape == () or math.prod(shape) < _jit.MIN_SIZE:
        return None
    kernels = _jit.elementwise_kernels()
    if kernels is None:
        return None
    flat = [
        np.ravel(np.broadcast_to(np.asarray(argument, dtype=np.float64), shape))  # a view unless broadcast
        for argument in arguments
    ]
    mean, var = np.empty(shape), np.empty(shape)
    invalid, slow = getattr(kernels, f"{name}_pairs")(*flat, mean.reshape(-1), var.reshape(-1))
    if invalid:
        _pair_args(*arguments)  # raises, naming the argument
    if invalid or slow:
        return None
    return mean, var


def product_moments(m1: Any, v1: Any, m2: Any, v2: Any) -> tuple[Any, Any]:
    """Mean and variance of the normalised product, for validated arrays (multiply, mvn_multiply, kf_update).

    The generated kernel (``gaussian.product_stable``) clips the mean to [min(m1, m2), max(m1, m2)]: it is
    a convex combination (weights 1/(1 + r) and 1/(1 + 1/r) sum to 1), so rounding never moves it outside,
    equal means give exactly that mean, and a sum that rounds past the largest double comes back.
    Where the ratio r = min/max of the variances is below the normal range (the kernel's ``fast_when``
    fails), the weight of the mean with the larger variance, r/(1 + r), underflows in the kernel; there

        mean = m_lo + m_hi v_lo / v_hi        (the dropped m_lo r is below 2^-1022 |m_lo|: not an ulp)

    with m_hi v_lo / v_hi formed from mantissas and exponents apart (frexp/ldexp), so neither m_hi/v_hi
    nor m_hi v_lo over- or underflows on the way to a representable product.
    """
    with _far_tails():
        mean, var = _generated.gaussian_product(m1, v1, m2, v2)
        low, high = np.minimum(v1, v2), np.maximum(v1, v2)
        underflow = low <= high * _SMALLEST_NORMAL
        if np.any(underflow):
            first_low = v1 <= v2
            m_low, m_high = np.where(first_low, m1, m2), np.where(first_low, m2, m1)
            (mantissa_m, exponent_m), (mantissa_lo, exponent_lo) = np.frexp(m_high), np.frexp(low)
            mantissa_hi, exponent_hi = np.frexp(high)
            term = np.ldexp(mantissa_m * mantissa_lo / mantissa_hi, exponent_m + exponent_lo - exponent_hi)
            corrected = np.clip(m_low + term, np.minimum(m1, m2), np.maximum(m1, m2))
            mean = np.where(underflow, corrected, mean)
    return mean, var


def _plain_pair(mean1: object, var1: object, mean2: object, var2: object) -> bool:
    """Four plain floats with finite means and positive finite variances (the scalar fast path)."""
    return (
        type(mean1) is float
        and type(var1) is float
        and type(mean2) is float
        and type(var2) is float
        and -_INF < mean1 < _INF
        and -_INF < mean2 < _INF
        and 0.0 < var1 < _INF
        and 0.0 < var2 < _INF
    )


def _pair_total(
    mean1: ArrayLike, var1: ArrayLike, mean2: ArrayLike, var2: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, Any, tuple[int, ...]]:
    """(m1, m2, var1 + var2) for N(m1; m2, var1 + var2), rescaled where the sum overflows.

    Where ``var1 + var2`` exceeds the largest double the density is still representable:
    N(m1; m2, V) = N(m1/2; m2/2, V/4) / 2 (halving is exact here: the variances are huge). The
    returned ``halved`` mask marks those entries (None when there are none).
    """
    m1, v1, m2, v2, shape = _pair_args(mean1, var1, mean2, var2)
    with _far_tails():
        total = v1 + v2
        overflowed = ~np.isfinite(total)
    if not overflowed.any():
        return m1, m2, total, None, shape
    scale = np.where(overflowed, 0.5, 1.0)
    return m1 * scale, m2 * scale, np.where(overflowed, 0.25 * v1 + 0.25 * v2, total), overflowed, shape


def evidence(mean1: ArrayLike, var1: ArrayLike, mean2: ArrayLike, var2: ArrayLike) -> FloatOrArray:
    """Normaliser of the product: N(mean1; mean2, var1 + var2) (proved in ``gaussian.product``).

    It is the likelihood of the measurement under the prior, used to compare
    models or to gate outliers. Filters accumulate its logarithm,
    :func:`log_evidence`, which stays finite where this underflows.

    Parameters
    ----------
    mean1, var1 : array_like
        Prior mean and variance (variance positive and finite).
    mean2, var2 : array_like
        Measurement mean and variance.

    Returns
    -------
    float or ndarray
        The broadcast shape of the four inputs. Finite for every valid input,
        also where ``var1 + var2`` exceeds the largest double.

    Examples
    --------
    >>> evidence(0.0, 2.0, 10.0, 2.0) == pdf(0.0, 10.0, 4.0)
    True
    >>> evidence(0.0, 1e308, 0.0, 1e308) > 0.0
    True
    """
    if _plain_pair(mean1, var1, mean2, var2):
        plain_total: float = var1 + var2  # type: ignore[operator, assignment]
        if plain_total < _INF:
            return _generated.gaussian_pdf_scalar(mean1, mean2, plain_total)  # type: ignore[arg-type]
    m1, m2, total, halved, shape = _pair_total(mean1, var1, mean2, var2)
    with _far_tails():
        values = _generated.gaussian_pdf_inplace(m1, m2, total, out=np.empty(shape))
    if halved is not None:
        values = np.where(halved, 0.5 * values, values)
    return to_output(values, shape)


def log_evidence(mean1: ArrayLike, var1: ArrayLike, mean2: ArrayLike, var2: ArrayLike) -> FloatOrArray:
    """Logarithm of :func:`evidence`: log N(mean1; mean2, var1 + var2), the term a filter sums.

    Finite wherever the exact value is a finite double: far in the tails
    (where :func:`evidence` underflows to 0), for means whose difference
    exceeds the largest double and for variances whose sum does.

    Parameters
    ----------
    mean1, var1 : array_like
        Prior mean and variance (variance positive and finite).
    mean2, var2 : array_like
        Measurement mean and variance.

    Returns
    -------
    float or ndarray
        The broadcast shape of the four inputs.

    Examples
    --------
    >>> log_evidence(0.0, 2.0, 10.0, 2.0) == logpdf(0.0, 10.0, 4.0)
    True
    >>> log_evidence(0.0, 1.0, 100.0, 1.0)
    -2501.265512123484
    """
    m1, m2, total, halved, shape = _pair_total(mean1, var1, mean2, var2)
    values = _log_density(m1, m2, total, shape)
    if halved is not None:
        # log N(m1; m2, V) = log N(m1/2; m2/2, V/4) - log 2
        values = to_output(np.where(halved, np.asarray(values) - _LOG_2, values), shape)
    return values


def _add(mean1: ArrayLike, var1: ArrayLike, mean2: ArrayLike, var2: ArrayLike) -> Gaussian:
    """Distribution of the sum of independent Gaussian variables: the prediction step.

    N(mean1, var1) + N(mean2, var2) = N(mean1 + mean2, var1 + var2)
    (proved in ``gaussian.sum_mgf`` and ``gaussian.sum_convolution``).

    Raises
    ------
    OverflowError
        When ``var1 + var2`` (or the mean) exceeds the largest double.

    Examples
    --------
    >>> add(5.0, 1.0, 10.0, 1.0)
    Gaussian(mean=15.0, var=2.0)
    """
    m1, v1, m2, v2, shape = _pair_args(mean1, var1, mean2, var2)
    with np.errstate(over="ignore"):
        mean, var = _generated.gaussian_sum(m1, v1, m2, v2)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(var))):
        raise OverflowError("the sum of the means or of the variances exceeds the largest double")
    return Gaussian(to_output(mean, shape), to_output(var, shape))


# ----------------------------------------------------------------------------- scalar fast paths
# The public functions are the validated ones above behind a plain-float fast path, generated from the
# same derivations (``*_fastpath`` in _generated): exact floats inside the proved domain are computed
# inline with the same IEEE steps as the array kernels; everything else goes to the validated path.
_Function = TypeVar("_Function", bound=Callable[..., Any])


def _with_fast_path(
    factory: Callable[[Callable[..., Any], Any], Callable[..., Any]], validated: _Function, make: Any = None
) -> _Function:  # pragma: no mutate block (runs at import only, before mutmut selects a mutant)
    fast = factory(validated, make)
    functools.update_wrapper(fast, validated)
    # the defining function's defaults, also when a wrapper (a decorator, a mutation-testing trampoline) hides them
    fast.__defaults__ = inspect.unwrap(validated).__defaults__
    fast.__name__ = fast.__qualname__ = validated.__name__.lstrip("_")
    return cast(_Function, fast)


pdf = _with_fast_path(_generated.gaussian_pdf_fastpath, _pdf)
logpdf = _with_fast_path(_generated.gaussian_logpdf_fastpath, _logpdf)
cdf = _with_fast_path(_generated.gaussian_cdf_fastpath, _cdf)
multiply = _with_fast_path(_generated.gaussian_product_fastpath, _multiply, Gaussian)
add = _with_fast_path(_generated.gaussian_sum_fastpath, _add, Gaussian)
