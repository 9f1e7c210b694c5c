"""One-dimensional Gaussians: density, distribution, product (update) and sum (prediction).

Every parameter named ``var`` is a *variance* (σ², not σ). All functions
broadcast like NumPy ufuncs and return a Python float when every argument is a
scalar. The arithmetic is the generated code in :mod:`kfsym.numeric._generated`,
printed from the derivations ``gaussian.pdf``, ``gaussian.logpdf``,
``gaussian.cdf``, ``gaussian.product_stable`` and ``gaussian.sum_mgf``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast

import numpy as np
from numpy.typing import ArrayLike

from kfsym.numeric import _generated
from kfsym.numeric._validate import FloatArray, FloatOrArray, broadcast_shape, finite, not_nan, positive, to_output

__all__ = ["Gaussian", "add", "cdf", "evidence", "logpdf", "multiply", "pdf"]


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
# Plain floats skip NumPy entirely: the generated ``*_scalar`` kernels run the same IEEE steps as the
# array kernels, so both paths return identical numbers (a test checks it bit for bit).


def _density(
    scalar: Callable[[float, float, float], float],
    array: Callable[..., Any],
    x: ArrayLike,
    mean: ArrayLike,
    var: ArrayLike,
) -> FloatOrArray:
    """Validate, then evaluate with the plain-float kernel (all scalars) or the in-place one."""
    xs, means, variances, shape = _density_args(x, mean, var)
    if shape == ():
        return scalar(float(xs), float(means), float(variances))
    with _far_tails():
        result: FloatOrArray = array(xs, means, variances, out=np.empty(shape))
    return result


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
    return _density(_generated.gaussian_logpdf_scalar, _generated.gaussian_logpdf_inplace, x, mean, var)


def _cdf(x: ArrayLike, mean: ArrayLike = 0.0, var: ArrayLike = 1.0) -> FloatOrArray:
    """Gaussian cumulative distribution function P(X ≤ x), X ~ N(mean, var).

    Computed as ``erfc((mean - x) / sqrt(2 var)) / 2``, accurate to full
    relative precision in the lower tail. Parameters and errors as for
    :func:`pdf`; ``x = -inf`` gives 0 and ``x = +inf`` gives 1.

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
    m1, v1, m2, v2, shape = _pair_args(mean1, var1, mean2, var2)
    # The stable form may divide to inf (a ratio of extreme variances); its weight is then 0, by design.
    with _far_tails():
        mean, var = _generated.gaussian_product(m1, v1, m2, v2)
        if not np.all(np.isfinite(mean)):
            # Both weighted terms near the largest double. The mean is linear in (mean1, mean2): halve
            # them (exact) and double the result. It is a convex combination of mean1 and mean2
            # (weights 1/(1 + r) and 1/(1 + 1/r) sum to 1), so a rounding excursion is clipped back.
            halved = 2.0 * _generated.gaussian_product(0.5 * m1, v1, 0.5 * m2, v2)[0]
            mean = np.clip(halved, np.minimum(m1, m2), np.maximum(m1, m2))
    return Gaussian(to_output(mean, shape), to_output(var, shape))


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


def evidence(mean1: ArrayLike, var1: ArrayLike, mean2: ArrayLike, var2: ArrayLike) -> FloatOrArray:
    """Normaliser of the product: N(mean1; mean2, var1 + var2) (proved in ``gaussian.product``).

    It is the likelihood of the measurement under the prior, used to compare
    models or to gate outliers.

    Raises
    ------
    OverflowError
        When ``var1 + var2`` exceeds the largest double.

    Examples
    --------
    >>> evidence(0.0, 2.0, 10.0, 2.0) == pdf(0.0, 10.0, 4.0)
    True
    """
    if _plain_pair(mean1, var1, mean2, var2):
        plain_total: float = var1 + var2  # type: ignore[operator, assignment]
        if plain_total < _INF:
            return _generated.gaussian_pdf_scalar(mean1, mean2, plain_total)  # type: ignore[arg-type]
    m1, v1, m2, v2, shape = _pair_args(mean1, var1, mean2, var2)
    with _far_tails():
        total = v1 + v2
        if not np.all(np.isfinite(total)):
            raise OverflowError("var1 + var2 exceeds the largest double")
        if shape == ():
            return _generated.gaussian_pdf_scalar(float(m1), float(m2), float(total))
        result: FloatOrArray = _generated.gaussian_pdf_inplace(m1, m2, total, out=np.empty(shape))
    return result


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
) -> _Function:
    fast = factory(validated, make)
    functools.update_wrapper(fast, validated)
    fast.__defaults__ = validated.__defaults__
    fast.__name__ = fast.__qualname__ = validated.__name__.lstrip("_")
    return cast(_Function, fast)


pdf = _with_fast_path(_generated.gaussian_pdf_fastpath, _pdf)
logpdf = _with_fast_path(_generated.gaussian_logpdf_fastpath, _logpdf)
cdf = _with_fast_path(_generated.gaussian_cdf_fastpath, _cdf)
multiply = _with_fast_path(_generated.gaussian_product_fastpath, _multiply, Gaussian)
add = _with_fast_path(_generated.gaussian_sum_fastpath, _add, Gaussian)
