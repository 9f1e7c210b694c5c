"""Multivariate Gaussians, batched over leading axes: density, distance, product and sum.

Shapes: a mean or point is ``(..., n)``, a covariance ``(..., n, n)``; leading
axes broadcast, so one call handles a whole batch without a Python loop.
Covariances are checked (square, matching n, symmetric, positive definite) and
never inverted explicitly: densities use a Cholesky factor, the product uses a
linear solve. Returned covariances are exactly symmetric. The formulas are the
ones proved in ``multivariate.product_general`` / ``product_concrete`` (gain
form) and ``multivariate.pdf_general`` (Cholesky change of variables). For
n = 1 every function returns exactly what the 1-D function of
:mod:`kfsym.numeric.gaussian` returns.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, cast

import numpy as np
from numpy.typing import ArrayLike

from kfsym.numeric import _jit, gaussian
from kfsym.numeric._validate import (
    SYMMETRY_RTOL,
    FloatArray,
    broadcast_shapes,
    covariance,
    quiet,
    same_size,
    unit_scaled,
    vectors,
)

__all__ = ["MultivariateGaussian", "mahalanobis", "mvn_add", "mvn_logpdf", "mvn_multiply", "mvn_pdf"]

_LOG_2PI = math.log(2.0 * math.pi)
_LOG_2 = math.log(2.0)
_SQRT_HALF = math.sqrt(0.5)
_EPS = 2.0**-52
_TINY_Z = 2.0**-960  # a z-score below this may have lost bits to underflow in the product
_HUGE_Z = 2.0**960  # above this, T~^-1 z (cond(T~) >= 1) and the products that follow may overflow
_UNROLLED_PRODUCT = 6  # the compiled product is unrolled up to this n (kfsym.numeric._product_source.MAX_SIZE)


class MultivariateGaussian(NamedTuple):
    """N(mean, cov) in n dimensions, possibly a batch.

    Attributes
    ----------
    mean : ndarray, shape (..., n)
    cov : ndarray, shape (..., n, n)
        Exactly symmetric.
    """

    mean: FloatArray
    cov: FloatArray


def symmetrized(matrices: FloatArray) -> FloatArray:
    """``A/2 + A^T/2``: exactly symmetric, never overflowing, and exactly A where A was symmetric.

    Symmetric entries are kept as they are (halving a subnormal entry would round it away).
    """
    transposed = np.swapaxes(matrices, -1, -2)
    result: FloatArray = np.where(matrices == transposed, matrices, 0.5 * matrices + 0.5 * transposed)
    return result


def covariance_result(matrices: FloatArray) -> FloatArray:
    """A computed covariance as returned: exactly symmetric, and no variance below zero.

    The exact result is positive semi-definite, so its diagonal is nonnegative; rounding in a
    product such as ``F P F^T`` with a singular ``P`` can leave a diagonal entry a few ulp below
    zero. Such entries are returned as 0, the nearest admissible value; and a zero variance forces its
    row and column to zero (|S_ij| <= sqrt(S_ii S_jj)), so their rounding residue is dropped too: every
    returned covariance is a valid semi-definite argument again.
    """
    result = symmetrized(matrices)
    diagonal = np.diagonal(result, axis1=-2, axis2=-1)
    zero = diagonal <= 0.0
    if zero.any():
        size = result.shape[-1]
        result[..., np.arange(size), np.arange(size)] = np.maximum(diagonal, 0.0)
        coupled = (zero[..., :, None] | zero[..., None, :]) & ~np.eye(size, dtype=bool)
        result = np.where(coupled, 0.0, result)
    return result


def _point_args(
    x: ArrayLike, mean: ArrayLike, cov: ArrayLike, *, infinite_x: bool = True
) -> tuple[FloatArray, FloatArray, FloatArray]:
    points, means = vectors(x, "x", allow_inf=infinite_x), vectors(mean, "mean")
    covariances = covariance(cov, "cov", definite=True)
    same_size(x=points.shape[-1], mean=means.shape[-1], cov=covariances.shape[-1])
    broadcast_shapes(x=points.shape[:-1], mean=means.shape[:-1], cov=covariances.shape[:-2])
    return points, means, covariances


def _solve_factor(factor: Any, deviation: FloatArray) -> FloatArray:
    """y with L y = x - m, Sigma = L L^T, broadcast over the batch axes of both."""
    shape = np.broadcast_shapes(deviation.shape[:-1], factor.shape[:-2])
    size = deviation.shape[-1]
    deviation = np.broadcast_to(deviation, (*shape, size))
    if factor.ndim == 2:  # one covariance for every point: a single solve with many right-hand sides
        single = np.linalg.solve(factor, deviation.reshape(-1, size).T).T.reshape(deviation.shape)
        return cast(FloatArray, single)
    batched = np.linalg.solve(np.broadcast_to(factor, (*shape, size, size)), deviation[..., None])[..., 0]
    return cast(FloatArray, batched)


def _scaled_cholesky(covariances: FloatArray) -> tuple[FloatArray, Any]:
    """(L, k) with Sigma = S L L^T S, S = diag(2^k): the Cholesky factor of Sigma scaled to about unit diagonal.

    2^k_i is within a factor sqrt(2) of sqrt(Sigma_ii), so the scaling is exact (but for entries far below
    their own scale sqrt(Sigma_ii Sigma_jj), which do not matter) and L never holds subnormals or huge
    entries, whatever the variances (5e-324 to 1.8e308). The rounding errors of the factorisation and of
    the solve are then governed by the condition number of the unit-diagonal matrix (van der Sluis), and
    the general solve with L does not pivot its way into the errors of a badly scaled triangle.
    """
    scaled, exponents = unit_scaled(covariances)  # the matrix validation factored: its Cholesky factor exists
    try:
        factor = cast(FloatArray, np.linalg.cholesky(scaled))
        return factor, exponents
    except np.linalg.LinAlgError:  # not reached after covariance(..., definite=True) accepted it
        raise ValueError("cov must be positive definite; it is not") from None


def _log_det(factor: FloatArray, exponents: Any) -> Any:
    """log det Sigma = 2 sum log diag L + 2 log 2 sum k for Sigma = S L L^T S, S = diag(2^k)."""
    return 2.0 * (np.log(np.diagonal(factor, axis1=-2, axis2=-1)).sum(axis=-1) + _LOG_2 * exponents.sum(axis=-1))


def _whitened(points: FloatArray, means: FloatArray, covariances: FloatArray) -> tuple[FloatArray, Any]:
    """(y, e) with x - m = 2^e S L y, Sigma = S L L^T S (finite points; y inf where it exceeds the largest double).

    v = S^-1 (x - m) is formed from mantissas and exponents apart and scaled by 2^-e, e the exponent of its
    largest entry, so neither a subnormal deviation against a large variance (5e-324 / 2) nor a huge one
    against a tiny variance under- or overflows: y depends on x - m only through v 2^-e, of order 1.
    """
    factor, exponents = _scaled_cholesky(covariances)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        deviation = points - means
        overflowed = ~np.isfinite(deviation)
        # x - m beyond the largest double: from the halves (exact), one more power of two
        deviation = np.where(overflowed, 0.5 * points - 0.5 * means, deviation)
        mantissa, power = np.frexp(deviation)
        power = power + overflowed - exponents  # v_i = mantissa_i 2^power_i
        power = np.where(mantissa != 0.0, power, np.iinfo(np.int32).min // 2)
        largest = power.max(axis=-1, keepdims=True)
        largest = np.where(largest < np.iinfo(np.int32).min // 4, 0, largest)  # x = m: v = 0
        scaled = np.ldexp(mantissa, np.maximum(power - largest, -1100))
        return _solve_factor(factor, scaled), largest[..., 0]


def _half_squared_distance(
    points: FloatArray, means: FloatArray, covariances: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """(half the squared Mahalanobis distance, log det cov), by a Cholesky factor: never an inverse.

    No intermediate overflows while the log-density is finite: y is scaled by 1/sqrt(2) before it is
    squared, and where x - m itself exceeds the largest double (both finite) y comes from the halves,
    y(x - m) = 2 y((x - m)/2), so the half squared distance is 4 times theirs. Where y overflows, the
    exact half squared distance exceeds the largest double too: it is inf.
    """
    factor, exponents = _scaled_cholesky(covariances)
    with np.errstate(over="ignore", invalid="ignore"):
        deviation = points - means
        overflowed = np.asarray((~np.isfinite(deviation) & np.isfinite(points)).any(axis=-1))
        if overflowed.any():  # halve every coordinate of those points (exact)
            deviation = np.where(overflowed[..., None], 0.5 * points - 0.5 * means, deviation)
    infinite = np.asarray(~np.isfinite(deviation).all(axis=-1))
    if infinite.any():  # a point at infinity is infinitely far; keep the solve finite
        deviation = np.where(infinite[..., None], 0.0, deviation)
    # x - m = L y with Sigma = L L^T  =>  (x - m)^T Sigma^{-1} (x - m) / 2 = (y/sqrt 2)^T (y/sqrt 2)
    #   (multivariate.pdf_general)
    with np.errstate(over="ignore", invalid="ignore"):
        with np.errstate(under="ignore"):
            deviation = np.ldexp(deviation, -exponents)  # S^-1 (x - m), exact but for underflow
        scaled = _solve_factor(factor, deviation) * _SQRT_HALF
        shape = scaled.shape[:-1]
        half_squared = np.einsum("...i,...i->...", scaled, scaled)
        halved = np.broadcast_to(overflowed, shape)
        half_squared = np.where(halved, 4.0 * half_squared, half_squared)
    unbounded = np.broadcast_to(infinite, shape) | ~np.isfinite(half_squared)
    half_squared = np.where(unbounded, np.inf, half_squared)
    return half_squared, np.broadcast_to(_log_det(factor, exponents), shape)


def _compiled_log_density(x: ArrayLike, mean: ArrayLike, cov: ArrayLike) -> FloatArray | None:
    """log N(x; mean, cov) for many points and one mean and covariance, by the compiled loop; else None.

    It applies to a float64 ndarray ``x`` of at least ``_jit.MIN_SIZE`` points (..., n), n >= 2, a single
    mean (n,) and covariance (n, n), with Numba available. Validation factors the covariance once (the
    unit-scaled Cholesky factor of :func:`covariance`, as :func:`_scaled_cholesky` computes it) and the
    loop solves every point with that factor; NaN in ``x`` is counted in the same pass and reported by
    :func:`vectors`. Points with an infinite or overflowing x - m, and invalid arguments, take the NumPy
    path (which raises the errors, in the order of the arguments).
    """
    if not (type(x) is np.ndarray and x.dtype == np.float64 and x.ndim >= 2 and x.shape[-1] >= 2):
        return None
    count = x.size // x.shape[-1]
    if count < _jit.MIN_SIZE:
        return None
    found: list[Any] = []  # the Cholesky factor that validation computes: the loop solves with it
    try:
        means, covariances = vectors(mean, "mean"), covariance(cov, "cov", definite=True, factor=found)
    except (TypeError, ValueError):
        return None  # the NumPy path raises, naming the arguments in order
    size = x.shape[-1]
    if means.shape != (size,) or covariances.shape != (size, size):
        return None
    kernels = _jit.elementwise_kernels()
    if kernels is None:
        return None
    factor, exponents = found[0]
    # log N = -(n log 2 pi + log det Sigma)/2 - d^2/2: the constant part, once
    constant = float(-0.5 * (size * _LOG_2PI + _log_det(factor, exponents)))
    out = np.empty(x.shape[:-1])
    nan, special = kernels.mvn_log_density_rows(
        np.ascontiguousarray(x.reshape(count, size)),
        np.ascontiguousarray(means),
        np.ascontiguousarray(factor),
        np.ldexp(1.0, -exponents),  # S^-1 = diag(2^-k): exact
        constant,
        out.reshape(-1),
    )
    if nan:
        vectors(x, "x", allow_inf=True)  # raises, naming the first NaN
    return None if special else out


def _scalar_or_array(value: Any) -> Any:
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array


@quiet
def mvn_logpdf(x: ArrayLike, mean: ArrayLike, cov: ArrayLike) -> Any:
    """Log-density of N(mean, cov) at ``x``; finite far in the tails where the density underflows.

    Parameters
    ----------
    x : array_like, shape (..., n)
        Points; ±inf entries give ``-inf``.
    mean : array_like, shape (..., n)
    cov : array_like, shape (..., n, n)
        Symmetric positive definite.

    Returns
    -------
    float or ndarray, shape (...)

    Examples
    --------
    >>> round(mvn_logpdf([0.5, -0.2], [0.5, -0.2], [[2.0, 0.9], [0.9, 0.5]]), 10)
    -1.007511463
    """
    fused = _compiled_log_density(x, mean, cov)
    if fused is not None:
        return fused
    points, means, covariances = _point_args(x, mean, cov)
    if covariances.shape[-1] == 1:  # n = 1: exactly the 1-D function
        return gaussian.logpdf(points[..., 0], means[..., 0], covariances[..., 0, 0])
    half_squared, log_det = _half_squared_distance(points, means, covariances)
    size = covariances.shape[-1]
    # log N = -(n log 2 pi + log det Sigma)/2 - d^2/2
    return _scalar_or_array(-0.5 * (size * _LOG_2PI + log_det) - half_squared)


@quiet
def mvn_pdf(x: ArrayLike, mean: ArrayLike, cov: ArrayLike) -> Any:
    """Density of N(mean, cov) at ``x`` (shapes as :func:`mvn_logpdf`).

    Examples
    --------
    >>> round(mvn_pdf([0.0, 0.0], [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]]), 12)
    0.159154943092
    """
    fused = _compiled_log_density(x, mean, cov)
    if fused is not None:
        with np.errstate(under="ignore", over="ignore"):  # a density beyond the largest double is inf, silently
            return np.exp(fused, out=fused)
    points, means, covariances = _point_args(x, mean, cov)
    if covariances.shape[-1] == 1:  # n = 1: exactly the 1-D function
        return gaussian.pdf(points[..., 0], means[..., 0], covariances[..., 0, 0])
    half_squared, log_det = _half_squared_distance(points, means, covariances)
    size = covariances.shape[-1]
    with np.errstate(under="ignore", over="ignore"):  # a density beyond the largest double is inf, silently
        return _scalar_or_array(np.exp(-0.5 * (size * _LOG_2PI + log_det) - half_squared))


@quiet
def mahalanobis(x: ArrayLike, mean: ArrayLike, cov: ArrayLike) -> Any:
    """Mahalanobis distance sqrt((x - mean)^T cov^{-1} (x - mean)) — the distance, as SciPy returns.

    Examples
    --------
    >>> mahalanobis([3.0, 4.0], [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])
    5.0
    """
    points, means, covariances = _point_args(x, mean, cov, infinite_x=False)
    whitened, power = _whitened(points, means, covariances)
    # |y| = s |y / s| with s = max |y_i|: no overflow or underflow of the squares
    scale = np.max(np.abs(whitened), axis=-1)
    unbounded = ~np.isfinite(whitened).all(axis=-1)  # y beyond the largest double: so is the distance
    safe = np.where((scale > 0) & ~unbounded, scale, 1.0)
    ratio = whitened / safe[..., None]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        distance = np.ldexp(scale * np.sqrt(np.einsum("...i,...i->...", ratio, ratio)), power)  # d = 2^e |y|
    return _scalar_or_array(np.where(unbounded, np.inf, distance))


def _pair_args(
    mean1: ArrayLike, cov1: ArrayLike, mean2: ArrayLike, cov2: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    m1, m2 = vectors(mean1, "mean1"), vectors(mean2, "mean2")
    s1, s2 = covariance(cov1, "cov1", definite=True), covariance(cov2, "cov2", definite=True)
    same_size(mean1=m1.shape[-1], cov1=s1.shape[-1], mean2=m2.shape[-1], cov2=s2.shape[-1])
    broadcast_shapes(mean1=m1.shape[:-1], cov1=s1.shape[:-2], mean2=m2.shape[:-1], cov2=s2.shape[:-2])
    return m1, s1, m2, s2


def broadcast_gaussian(mean: FloatArray, cov: FloatArray, batch: tuple[int, ...] = ()) -> MultivariateGaussian:
    """Mean and covariance as fresh arrays broadcast to a common batch shape (at least ``batch``)."""
    batch = np.broadcast_shapes(batch, mean.shape[:-1], cov.shape[:-2])
    size = cov.shape[-1]
    return MultivariateGaussian(
        np.array(np.broadcast_to(mean, (*batch, size))), np.array(np.broadcast_to(cov, (*batch, size, size)))
    )


@quiet
def mvn_multiply(mean1: ArrayLike, cov1: ArrayLike, mean2: ArrayLike, cov2: ArrayLike) -> MultivariateGaussian:
    """Normalised product N(x; mean1, cov1) N(x; mean2, cov2) ∝ N(x; mean, cov), batched.

    Gain form, proved equal to the information form (``multivariate.product_general``)::

        K    = cov1 (cov1 + cov2)^{-1}
        mean = mean1 + K (mean2 - mean1)
        cov  = K cov2              (= cov1 - K cov1, symmetric, no cancellation)

    ``K`` comes from one batched linear solve; no covariance is inverted. Elements whose two
    covariances are both diagonal get exactly the 1-D :func:`kfsym.numeric.multiply` per axis.
    Elements where the gain form cancels (per-axis ratios cov1_ii/cov2_ii spread over more than
    2^(2 SCALE_SPREAD) with correlations) or returns an impossible result are recomputed in the
    centred square-root information form (:func:`_information_product`).

    Parameters
    ----------
    mean1, mean2 : array_like, shape (..., n)
    cov1, cov2 : array_like, shape (..., n, n)
        Symmetric positive definite.

    Returns
    -------
    MultivariateGaussian
        ``mean (..., n)`` and exactly symmetric ``cov (..., n, n)``.

    Examples
    --------
    >>> product = mvn_multiply([0.0, 0.0], [[2.0, 0.0], [0.0, 2.0]], [10.0, 0.0], [[2.0, 0.0], [0.0, 2.0]])
    >>> product.mean
    array([5., 0.])
    >>> product.cov
    array([[1., 0.],
           [0., 1.]])
    """
    fused = _compiled_product(mean1, cov1, mean2, cov2)
    if fused is not None:
        return fused
    return _numpy_product(mean1, cov1, mean2, cov2)


def _compiled_product(
    mean1: ArrayLike, cov1: ArrayLike, mean2: ArrayLike, cov2: ArrayLike
) -> MultivariateGaussian | None:
    """The product by a compiled loop (checks first, in the same pass), or None where it does not apply.

    It applies to float64 ndarrays of one batch shape, means (..., n) and covariances (..., n, n), n >= 2, with
    at least ``_jit.MIN_SIZE`` covariance entries, and Numba available. For n up to ``_UNROLLED_PRODUCT`` the loop
    is unrolled for n and vectorised across the batch (:mod:`kfsym.numeric._product_source`, compiled once per
    n); beyond, it is the per-element loop ``mvn_product_batch``. Either checks each element as
    :func:`covariance` does (finite, symmetric, a Cholesky factor of the unit-scaled matrix) and computes
    :func:`_scaled_product` for it; an element with an invalid argument sends the whole call to the NumPy
    path (which raises the error naming it), and the elements outside the common case (z-scores that may
    over- or underflow, both covariances diagonal, a singular T~, a result to repair, scale ratios s1_i/s2_i
    spread over more than 2^SCALE_SPREAD or a variance above min(S1_ii, S2_ii): see :func:`_untrusted_covariance`;
    for the unrolled loop also a covariance symmetric only within the tolerance, or every mean subnormal) are
    recomputed there.
    """
    arrays = (mean1, cov1, mean2, cov2)
    if not all(type(array) is np.ndarray and array.dtype == np.float64 for array in arrays):
        return None
    m1, s1, m2, s2 = cast(tuple[FloatArray, FloatArray, FloatArray, FloatArray], arrays)
    if m1.ndim < 1 or m1.shape != m2.shape or s1.shape != s2.shape or s1.shape != (*m1.shape, m1.shape[-1]):
        return None
    size = m1.shape[-1]
    if size < 2 or s1.size < _jit.MIN_SIZE:
        return None
    kernels = _jit.elementwise_kernels()
    if kernels is None:
        return None
    batch, count = m1.shape[:-1], m1.size // size
    mean, cov = np.empty((count, size)), np.empty((count, size, size))
    flags = np.empty(count, dtype=np.int8)
    flat = [np.ascontiguousarray(array).reshape(count, *array.shape[len(batch) :]) for array in (m1, s1, m2, s2)]
    if size <= _UNROLLED_PRODUCT:  # vectorised across the batch, unrolled for this n
        from kfsym.numeric._compiled_filter import product_kernel

        square = count, size * size  # the covariances flattened, as the unrolled loop reads them
        inputs = (flat[0], flat[1].reshape(square), flat[2], flat[3].reshape(square))
        flagged = product_kernel(size)(*inputs, SYMMETRY_RTOL, _TINY_Z, _HUGE_Z, mean, cov.reshape(square), flags)
    else:
        flagged = kernels.mvn_product_batch(*flat, SYMMETRY_RTOL, _TINY_Z, _HUGE_Z, mean, cov, flags)
        # the per-element loop has no check of the scales: the NumPy path's, on its results (the unrolled loop's own)
        untrusted = (flags == 0) & _untrusted_covariance(flat[1], flat[3], cov)
        flags[untrusted] = 2
        flagged += int(untrusted.sum())
    if flagged:
        if (flags == 1).any():
            return _numpy_product(*arrays)  # raises, naming the argument
        redo = np.flatnonzero(flags)
        try:
            again = _numpy_product(*(array[redo] for array in flat))
        except ValueError:  # an element the loop passed at the edge of definiteness: the error names its index
            return _numpy_product(*arrays)  # in the whole batch (raises)
        mean[redo], cov[redo] = again.mean, again.cov
    return MultivariateGaussian(mean.reshape(*batch, size), cov.reshape(*batch, size, size))


def _numpy_product(mean1: ArrayLike, cov1: ArrayLike, mean2: ArrayLike, cov2: ArrayLike) -> MultivariateGaussian:
    """:func:`mvn_multiply` by batched NumPy operations (any shapes; the fallback)."""
    m1, s1, m2, s2 = _pair_args(mean1, cov1, mean2, cov2)
    if s1.shape[-1] == 1:  # n = 1: the generated 1-D kernel, the same numbers as multiply()
        with np.errstate(over="ignore", under="ignore"):
            mean, var = gaussian.product_moments(m1[..., 0], s1[..., 0, 0], m2[..., 0], s2[..., 0, 0])
        return broadcast_gaussian(np.asarray(mean)[..., None], np.asarray(var)[..., None, None])
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        # The mean is linear in (m1, m2): tiny means are scaled up by 2^k (exact) so that no intermediate of the
        # solve is subnormal, and the mean scaled back once (one rounding into the subnormals at most).
        largest = np.maximum(np.abs(m1), np.abs(m2)).max(axis=-1, keepdims=True)
        shift = np.where(largest > 0.0, np.maximum(-np.frexp(largest)[1], 0), 0)
        mean, cov = _scaled_product(np.ldexp(m1, shift), s1, np.ldexp(m2, shift), s2)
        mean = np.ldexp(mean, -shift)
        mean, cov = _checked_product(m1, s1, m2, s2, mean=mean, cov=cov)
        mean, cov = _independent_axes(m1, s1, m2, s2, mean=mean, cov=cov)
    if not np.isfinite(mean).all():
        raise OverflowError("the posterior mean exceeds the largest double")
    return broadcast_gaussian(mean, covariance_result(cov))


#: Elements whose per-axis ratios of standard deviations s1_i/s2_i spread over more than 2^SCALE_SPREAD (max over
#: min, in powers of two) get the square-root information product (:func:`_information_product`). The gain
#: form's covariance error grows about in proportion to that spread. Measured against the property test's bound
#: (64 n cond eps of |S1||T^-1||S2|), worst of ~90 random correlated cases per spread (n = 2..4, 120-digit
#: references): 0.009 at 2^0, 0.025 at 2^4, 0.08 at 2^8, 0.8 at 2^10, 2.1 at 2^12, 25 at 2^16; on the review's
#: cases 1e9 at 2^130. 2^10 keeps it within the bound (the first excess measured at 2^11) and flags no element of
#: the compiled tests' common case (scales 2^+-2 per axis and covariance: spreads up to 2^10, 1% above 2^8 for
#: n = 4); a flagged element costs about twice the NumPy path, and leaves the compiled loop for it.
SCALE_SPREAD = 10


def _scale_spread(s1: Any, s2: Any) -> Any:
    """max_i - min_i of (k1_i - k2_i), 2^k the unit scales of ``unit_scaled``: log2 of the spread of s1_i/s2_i (+-1)."""
    k1 = np.frexp(np.diagonal(s1, axis1=-2, axis2=-1))[1] // 2
    k2 = np.frexp(np.diagonal(s2, axis1=-2, axis2=-1))[1] // 2
    difference = k1 - k2
    return difference.max(axis=-1) - difference.min(axis=-1)


def _untrusted_covariance(s1: Any, s2: Any, cov: Any) -> Any:
    """Elements whose gain-form product is not to be trusted (batch shape).

    Correlated (not both diagonal) with a spread of scale ratios above 2^SCALE_SPREAD, or a result that is
    impossible: a non-finite entry, a variance <= 0, or C_ii > min(S1_ii, S2_ii) (1 + 64 n eps), where exactly
    C <= S1 and C <= S2 in the Loewner order.
    """
    size = s1.shape[-1]
    off = ~np.eye(size, dtype=bool)
    correlated = ((s1 != 0.0) & off).any(axis=(-2, -1)) | ((s2 != 0.0) & off).any(axis=(-2, -1))
    spread = _scale_spread(s1, s2) > SCALE_SPREAD
    variances = np.diagonal(cov, axis1=-2, axis2=-1)
    bound = np.minimum(np.diagonal(s1, axis1=-2, axis2=-1), np.diagonal(s2, axis1=-2, axis2=-1))
    # C_ii <= min(S1_ii, S2_ii) (1 + 64 n eps), the bound in halves: (1 + x) of the largest double overflows
    allowed = bound + bound * (64 * size * _EPS)
    impossible = ~np.isfinite(cov).all(axis=(-2, -1)) | ~((variances > 0.0) & (variances <= allowed)).all(axis=-1)
    return (correlated & spread) | impossible


def _checked_product(m1: Any, s1: Any, m2: Any, s2: Any, *, mean: Any, cov: Any) -> tuple[Any, Any]:
    """(mean, cov) with the elements :func:`_untrusted_covariance` flags replaced by :func:`_information_product`."""
    batch = np.broadcast_shapes(m1.shape[:-1], s1.shape[:-2], m2.shape[:-1], s2.shape[:-2], cov.shape[:-2])
    size = s1.shape[-1]
    vector, square = (*batch, size), (*batch, size, size)
    m1, m2, mean = (np.broadcast_to(array, vector) for array in (m1, m2, mean))
    s1, s2, cov = (np.broadcast_to(array, square) for array in (s1, s2, cov))
    redo = np.asarray(_untrusted_covariance(s1, s2, cov))
    if not redo.any():
        return mean, cov
    mean, cov = np.array(mean), np.array(cov)
    mean[redo], cov[redo] = _information_product(m1[redo], s1[redo], m2[redo], s2[redo])
    return mean, cov


def _information_product(m1: Any, s1: Any, m2: Any, s2: Any) -> tuple[Any, Any]:
    """The product by the square-root information form, centred: QR, no cancellation of scales.

    S_i = E_i L_i L_i^T E_i, E_i = diag(2^k_i) the unit scales (``unit_scaled``, L_i its Cholesky factor). In the
    coordinates y = D^-1 x, D = diag(2^t), t = min(k1, k2) (2^t within sqrt 2 of the smaller standard deviation
    of the axis, which bounds the posterior's), the information is G1^T G1 + G2^T G2 with G_i = L_i^-1 E_i^-1 D:
    columns of L_i^-1 times 2^(t - k_i) <= 1 (exact, or below 2^-1074 of the other factor's column, where they do
    not count). [G1; G2] = Q R (Householder QR: backward stable column by column, the columns of order 1), so

        C = D R^-1 R^-T D,

    symmetric positive definite, each entry accurate to about n cond eps of sqrt(C_ii C_jj) whatever the scales,
    cond that of S1 and S2 scaled to unit diagonal (measured against 300-digit references on the cases where the
    gain form fails: <= 1e-15 relative). Exactly C <= S1 and C <= S2; a variance that rounds above
    min(S1_ii, S2_ii) is set to it.

    The mean, centred on r, r_i the mean of the more precise factor on axis i (k1_i <= k2_i: m1_i, else m2_i):

        m = r + C (S1^-1 (m1 - r) + S2^-1 (m2 - r)) = r + D R^-1 R^-T (G1^T w1 + G2^T w2),
        w_i = L_i^-1 E_i^-1 (m_i - r),

    so an axis that one factor pins down (its standard deviation 1e-25 against 1e25) takes that factor's mean
    plus a correction of the posterior's own scale: the uncentred C (S1^-1 m1 + S2^-1 m2) mixes components
    m_i / 2^t of every size and lost the small ones (measured on the review's random batches, standard deviations
    1e-25..1e25: the gain form's mean off by more than 1e-6 of |m| + sd in 43 of 200 elements, this one in none).
    The deviations are formed in halves (no overflow) and scaled by one power of two 2^p common to both factors.
    """
    size = s1.shape[-1]
    eye = np.eye(size)
    scaled1, k1 = unit_scaled(s1)
    scaled2, k2 = unit_scaled(s2)
    t = np.minimum(k1, k2)
    inverses, columns = [], []
    for scaled, k in ((scaled1, k1), (scaled2, k2)):
        factor = np.linalg.cholesky(scaled)
        # L^-1 = (L^-T)^T, L^-T by a solve with the upper triangle L^T (its LU needs no row exchange)
        inverse = np.swapaxes(np.linalg.solve(np.swapaxes(factor, -1, -2), eye), -1, -2)
        inverses.append(inverse)
        # G = L^-1 E^-1 D: column j times 2^(t_j - k_j)
        columns.append(np.ldexp(inverse, (t - k)[..., None, :]))
    # [G1; G2] = Q R
    r: Any = np.linalg.qr(np.concatenate(columns, axis=-2), mode="r")
    # R^-1 by a solve with the upper triangle R
    r_inverse = np.linalg.solve(r, np.broadcast_to(eye, np.shape(r)))
    r_inverse_t = np.swapaxes(r_inverse, -1, -2)
    # C = D R^-1 R^-T D
    cov = symmetrized(np.ldexp(r_inverse @ r_inverse_t, t[..., :, None] + t[..., None, :]))
    # C_ii <= min(S1_ii, S2_ii) exactly: a rounding above it is brought back (a few ulp at most)
    bound = np.minimum(np.diagonal(s1, axis1=-2, axis2=-1), np.diagonal(s2, axis1=-2, axis2=-1))
    diagonal = np.arange(size)
    cov[..., diagonal, diagonal] = np.minimum(cov[..., diagonal, diagonal], bound)
    # (m_i - r)/2 and its exponents relative to E_i: v_i = mantissa 2^(exponent - k_i), all scaled by 2^-p
    centre = np.where(k1 <= k2, m1, m2)
    parts = []
    for m, k in ((m1, k1), (m2, k2)):
        mantissa, exponent = np.frexp(0.5 * m - 0.5 * centre)
        parts.append((mantissa, np.where(mantissa != 0.0, exponent - k, np.iinfo(np.int32).min // 2)))
    p = np.maximum(parts[0][1].max(axis=-1), parts[1][1].max(axis=-1))[..., None]
    p = np.where(p < np.iinfo(np.int32).min // 4, 0, p)  # m1 = m2 = r: no correction
    information = np.zeros((*np.shape(m1), 1))
    for (mantissa, exponent), inverse, g in zip(parts, inverses, columns, strict=True):
        # w = L^-1 E^-1 (m - r) 2^-1-p;  G^T w
        w = inverse @ np.ldexp(mantissa, np.maximum(exponent - p, -1100))[..., None]
        information = information + np.swapaxes(g, -1, -2) @ w
    # m = r + D R^-1 R^-T (G1^T w1 + G2^T w2) 2^(1+p)
    correction = (r_inverse @ (r_inverse_t @ information))[..., 0]
    mean = centre + np.ldexp(correction, t + p + 1)
    return mean, cov


def _independent_axes(m1: Any, s1: Any, m2: Any, s2: Any, *, mean: Any, cov: Any) -> tuple[Any, Any]:
    """Elements whose two covariances are both diagonal: the 1-D product per axis (``gaussian.product_moments``).

    Their axes are independent, so the product is exactly the 1-D one on each; the 1-D kernel has no
    solve and no intermediate that under- or overflows (the n-D path may lose bits to subnormal
    intermediates). Chosen per element: no element's result depends on the others in the call.
    """
    size = s1.shape[-1]
    off = ~np.eye(size, dtype=bool)
    diagonal = ~((s1 != 0.0) & off).any(axis=(-2, -1)) & ~((s2 != 0.0) & off).any(axis=(-2, -1))
    if not diagonal.any():
        return mean, cov
    axis_mean, axis_var = gaussian.product_moments(
        m1, np.diagonal(s1, axis1=-2, axis2=-1), m2, np.diagonal(s2, axis1=-2, axis2=-1)
    )
    axis_mean, axis_var = np.asarray(axis_mean, dtype=np.float64), np.asarray(axis_var, dtype=np.float64)
    diagonal_cov = axis_var[..., :, None] * np.eye(size)
    return (
        np.where(diagonal[..., None], axis_mean, mean),
        np.where(diagonal[..., None, None], diagonal_cov, cov),
    )


def _scaled_product(m1: FloatArray, s1: FloatArray, m2: FloatArray, s2: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Product computed in per-axis scaled coordinates, so no intermediate leaves the range of doubles.

    With T = S1 + S2 the posterior is  S = S1 T^{-1} S2  and  m = m1 + S1 T^{-1} (m2 - m1)
    (``multivariate.product_general``). Per axis i let s1_i, s2_i be the two standard deviations,
    r_i = 1/sqrt(s1_i^2 + s2_i^2), R = diag(r), u = s r in (0, 1], and rho = S_ij/(s_i s_j) in [-1, 1]
    the correlations. With the unit-diagonal T~ = R T R = rho1 u1 u1^T + rho2 u2 u2^T,

        S = D A^T T~^{-1} B D,   A = R S1 D^{-1},  B = R S2 D^{-1},  D = diag(d),
        m = m1 + W2 (m2 - m1) = m2 - W1 (m2 - m1),   W2 = D A^T T~^{-1} R,  W1 = D B^T T~^{-1} R,

    d_i the smaller standard deviation of axis i (but at least 2^-1020 times the larger). Entry by entry
    A_ij = rho1_ij u1_i (s1_j/d_j), B_ij = rho2_ij u2_i (s2_j/d_j): the only large or small factors are the
    per-axis ratios s/d in [1, 2^1020] and u <= 1, so variances of one axis may differ by the whole range
    (5e-324 to 1.8e308) before anything under- or overflows; the direct gain S1 T^{-1} underflows once
    their ratio is below 1e-308. For diagonal covariances this is the 1-D product per axis to a few ulp.

    The mean: m1 + W2 (m2 - m1) rounds with an error of about eps (|m1| + |W2 (m2 - m1)|), which is
    not small against the mean when m1 carries almost no weight (m1 large, the result near m2); the
    mirrored m2 - W1 (m2 - m1) is then accurate. Both are formed and, component by component, the one
    with the smaller such magnitude is kept: the error is then a few eps (|W1||m1| + |W2||m2|), the mixed
    bound of the 1-D mean. Where a z-score R (m2 - m1) overflows or underflows, each axis is solved for
    separately (one right-hand side per axis) at its own power-of-two scale.
    """
    std1 = np.sqrt(np.diagonal(s1, axis1=-2, axis2=-1))
    std2 = np.sqrt(np.diagonal(s2, axis1=-2, axis2=-1))
    r = 1.0 / np.hypot(std1, std2)
    u1, u2 = std1 * r, std2 * r
    rho1 = s1 / std1[..., :, None] / std1[..., None, :]
    rho2 = s2 / std2[..., :, None] / std2[..., None, :]
    # T~ = R S1 R + R S2 R
    scaled_total = rho1 * (u1[..., :, None] * u1[..., None, :]) + rho2 * (u2[..., :, None] * u2[..., None, :])
    # D = diag(d), d the smaller standard deviation of each axis, but at least 2^-1020 times the larger: the ratios
    # s/d stay below 2^1020 even for a subnormal variance against a huge one (1.3e154/2.2e-162 would overflow).
    d = np.maximum(np.minimum(std1, std2), np.ldexp(np.maximum(std1, std2), -1020))
    size = s1.shape[-1]
    # A = R S1 D^{-1},  B = R S2 D^{-1}
    a = rho1 * (u1[..., :, None] * (std1 / d)[..., None, :])
    b = rho2 * (u2[..., :, None] * (std2 / d)[..., None, :])
    deviation = r * m2 - r * m1  # z = R (m2 - m1), without forming m2 - m1 (it may overflow)
    batch = np.broadcast_shapes(scaled_total.shape[:-2], b.shape[:-2], deviation.shape[:-1])
    total = np.broadcast_to(scaled_total, (*batch, size, size))
    # an overflowed z (inf, or inf - inf) never reaches a product: those elements are redone per axis below
    finite_deviation = np.where(np.isfinite(deviation), deviation, 0.0)
    solved = _solve_total(
        total,
        np.concatenate(
            [
                np.broadcast_to(b, (*batch, size, size)),
                np.broadcast_to(finite_deviation[..., None], (*batch, size, 1)),
            ],
            axis=-1,
        ),
    )
    # S = D (A^T T~^{-1} B) D
    cov = d[..., :, None] * (np.swapaxes(a, -1, -2) @ solved[..., :size]) * d[..., None, :]
    # W2 (m2 - m1) = D A^T T~^{-1} R (m2 - m1),  W1 (m2 - m1) = D B^T T~^{-1} R (m2 - m1)
    toward_second = _weighted(d, a, solved[..., size:], factor=(rho1, std1, u1))[..., 0]
    toward_first = _weighted(d, b, solved[..., size:], factor=(rho2, std2, u2))[..., 0]
    # A z-score near or beyond the largest double (the solve and the products need headroom), or a z-score or a
    # correction so small that it may have lost bits to underflow (the means differ): again per axis, with
    # z_j = 2^k_j z'_j, z'_j near 1, one right-hand side per axis, W (m2 - m1) = sum_j 2^k_j (D A^T T~^-1 e_j z'_j).
    size_z = np.abs(deviation)
    smallest = np.minimum(np.abs(toward_second), np.abs(toward_first))
    unsafe = ~(size_z <= _HUGE_Z) | (((size_z < _TINY_Z) | (smallest < _TINY_Z)) & (m1 != m2))
    if unsafe.any():
        exponents = np.frexp(r)[1] + np.frexp(np.maximum(np.abs(m1), np.abs(m2)))[1]
        columns = (r * np.ldexp(m2, -exponents) - r * np.ldexp(m1, -exponents))[..., :, None] * np.eye(size)
        solved = _solve_total(total, np.broadcast_to(columns, (*batch, size, size)))
        scales = exponents[..., None, :]  # column j of the solution carries 2^k_j
        # only the elements that need it take the per-axis result: no element depends on the others in the batch
        redo = np.broadcast_to(unsafe.any(axis=-1, keepdims=True), np.shape(toward_second))
        per_axis_second = _per_axis_sum(d, a, solved, (rho1, std1, u1), scales)
        per_axis_first = _per_axis_sum(d, b, solved, (rho2, std2, u2), scales)
        toward_second = np.where(redo, per_axis_second, toward_second)
        toward_first = np.where(redo, per_axis_first, toward_first)
    # m = m1 + W2 (m2 - m1) = m2 - W1 (m2 - m1): per component the form with the smaller rounding error, compared
    # in halves (the sums may exceed the largest double). A correction beyond the largest double is not taken:
    # mean - m1 and m2 - mean cannot both overflow where the mean lies between the two.
    first_error = 0.5 * np.abs(m1) + 0.5 * np.abs(toward_second)
    second_error = 0.5 * np.abs(m2) + 0.5 * np.abs(toward_first)
    from_first = np.isfinite(first_error) & ~(first_error > second_error)
    mean = np.where(from_first, m1 + toward_second, m2 - toward_first)
    # Independent axes (both covariances diagonal): per axis a convex combination of the two means, which rounding
    # must not leave (with correlations the exact mean may lie outside the box of the two means, and is kept).
    eye = np.eye(size, dtype=bool)
    independent = ((s1 == 0.0) | eye).all(axis=(-2, -1)) & ((s2 == 0.0) | eye).all(axis=(-2, -1))
    if independent.any():
        clipped = np.clip(mean, np.minimum(m1, m2), np.maximum(m1, m2))
        mean = np.where(independent[..., None], clipped, mean)
    return mean, cov


def _solve_total(total: Any, right: Any) -> Any:
    """T~^-1 right; T~ is the unit-diagonal sum of two positive-definite matrices, so the solve succeeds."""
    try:
        return np.linalg.solve(total, right)
    except np.linalg.LinAlgError:  # an exactly zero pivot: singular to working precision
        raise ValueError("cov1 + cov2 is singular to working precision (cov1 and cov2 far apart in scale)") from None


def _per_axis_sum(d: Any, a: Any, solved: Any, factor: tuple[Any, Any, Any], scales: Any) -> Any:
    """sum_j 2^k_j D A^T Y_j, summed in halves where the plain sum overflows (inf + -inf would be NaN)."""
    total = _weighted(d, a, solved, factor=factor, exponents=scales).sum(axis=-1)
    overflowed = ~np.isfinite(total)
    if overflowed.any():
        halves = _weighted(d, a, solved, factor=factor, exponents=scales - 1).sum(axis=-1)
        total = np.where(overflowed, np.ldexp(halves, 1), total)
    return total


def _weighted(d: Any, a: Any, solved: Any, *, factor: tuple[Any, Any, Any], exponents: Any = None) -> Any:
    """D A^T Y (Y: columns of T~^{-1} R (m2 - m1)), column j times 2^k_j when ``exponents`` are given.

    Where the ratios s/d make A^T Y overflow, (S R) Y = D A^T Y instead; ``factor`` is (rho, s, u) of the
    covariance S that A = R S D^{-1} was formed from.
    """
    rho, std, u = factor
    inner = np.swapaxes(a, -1, -2) @ solved
    result = d[..., :, None] * inner if exponents is None else _times_power(d[..., :, None], inner, exponents)
    overflowed = ~np.isfinite(result)
    if overflowed.any():  # S R has no ratio of standard deviations (entries rho_ij s_i u_j), it may underflow instead
        direct = (rho * (std[..., :, None] * u[..., None, :])) @ solved
        result = np.where(overflowed, direct if exponents is None else np.ldexp(direct, exponents), result)
    return result


def _times_power(x: Any, y: Any, exponents: Any) -> Any:
    """x y 2^k without intermediate under- or overflow: the mantissas multiplied, the exponents added.

    One rounding where the result is a normal double (or overflows); a subnormal result is rounded twice (the
    mantissa product, then ``ldexp`` onto the subnormal grid), so it may be one step of 2^-1074 from the correctly
    rounded value.
    """
    x_mantissa, x_exponent = np.frexp(x)
    y_mantissa, y_exponent = np.frexp(y)
    return np.ldexp(x_mantissa * y_mantissa, x_exponent + y_exponent + exponents)


@quiet
def mvn_add(mean1: ArrayLike, cov1: ArrayLike, mean2: ArrayLike, cov2: ArrayLike) -> MultivariateGaussian:
    """Sum of independent Gaussian vectors: N(mean1 + mean2, cov1 + cov2) (``multivariate.sum``).

    Examples
    --------
    >>> mvn_add([1.0, 2.0], [[1.0, 0.0], [0.0, 1.0]], [0.5, 0.5], [[1.0, 0.5], [0.5, 1.0]]).cov
    array([[2. , 0.5],
           [0.5, 2. ]])
    """
    m1, s1, m2, s2 = _pair_args(mean1, cov1, mean2, cov2)
    with np.errstate(over="ignore"):
        mean, cov = m1 + m2, covariance_result(s1 + s2)
    if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
        raise OverflowError("the sum of the means or covariances exceeds the largest double")
    return broadcast_gaussian(mean, cov)
