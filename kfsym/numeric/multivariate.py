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

from kfsym.numeric import _generated, gaussian
from kfsym.numeric._validate import FloatArray, broadcast_shapes, covariance, same_size, vectors

__all__ = ["MultivariateGaussian", "mahalanobis", "mvn_add", "mvn_logpdf", "mvn_multiply", "mvn_pdf"]

_LOG_2PI = math.log(2.0 * math.pi)


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
    """``A/2 + A^T/2``: exactly symmetric, equal to A where A was symmetric, and never overflowing."""
    result: FloatArray = 0.5 * matrices + 0.5 * np.swapaxes(matrices, -1, -2)
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


def _whitened(points: FloatArray, means: FloatArray, covariances: FloatArray) -> FloatArray:
    """y with x - m = L y, Sigma = L L^T (finite points)."""
    return _solve_factor(np.linalg.cholesky(covariances), points - means)


def _squared_distance(points: FloatArray, means: FloatArray, covariances: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(Mahalanobis distance squared, log det cov), by a Cholesky factor: never an inverse."""
    factor = np.linalg.cholesky(covariances)
    with np.errstate(over="ignore", invalid="ignore"):  # x - m beyond the largest double: infinitely far
        deviation = points - means
    infinite = np.asarray(~np.isfinite(deviation).all(axis=-1))
    if infinite.any():  # a point at infinity is infinitely far; keep the solve finite
        deviation = np.where(infinite[..., None], 0.0, deviation)
    # x - m = L y with Sigma = L L^T  =>  (x - m)^T Sigma^{-1} (x - m) = y^T y   (multivariate.pdf_general)
    whitened = _solve_factor(factor, deviation)
    shape = whitened.shape[:-1]
    squared = np.einsum("...i,...i->...", whitened, whitened)
    squared = np.where(np.broadcast_to(infinite, shape), np.inf, squared)
    # log det Sigma = 2 sum log diag L
    log_det = 2.0 * np.log(np.diagonal(factor, axis1=-2, axis2=-1)).sum(axis=-1)
    return squared, np.broadcast_to(log_det, shape)


def _scalar_or_array(value: Any) -> Any:
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array


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
    points, means, covariances = _point_args(x, mean, cov)
    if covariances.shape[-1] == 1:  # n = 1: exactly the 1-D function
        return gaussian.logpdf(points[..., 0], means[..., 0], covariances[..., 0, 0])
    squared, log_det = _squared_distance(points, means, covariances)
    size = covariances.shape[-1]
    # log N = -(n log 2 pi + log det Sigma + d^2) / 2
    return _scalar_or_array(-0.5 * (size * _LOG_2PI + log_det + squared))


def mvn_pdf(x: ArrayLike, mean: ArrayLike, cov: ArrayLike) -> Any:
    """Density of N(mean, cov) at ``x`` (shapes as :func:`mvn_logpdf`).

    Examples
    --------
    >>> round(mvn_pdf([0.0, 0.0], [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]]), 12)
    0.159154943092
    """
    points, means, covariances = _point_args(x, mean, cov)
    if covariances.shape[-1] == 1:  # n = 1: exactly the 1-D function
        return gaussian.pdf(points[..., 0], means[..., 0], covariances[..., 0, 0])
    squared, log_det = _squared_distance(points, means, covariances)
    size = covariances.shape[-1]
    with np.errstate(under="ignore"):
        return _scalar_or_array(np.exp(-0.5 * (size * _LOG_2PI + log_det + squared)))


def mahalanobis(x: ArrayLike, mean: ArrayLike, cov: ArrayLike) -> Any:
    """Mahalanobis distance sqrt((x - mean)^T cov^{-1} (x - mean)) — the distance, as SciPy returns.

    Examples
    --------
    >>> mahalanobis([3.0, 4.0], [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]])
    5.0
    """
    points, means, covariances = _point_args(x, mean, cov, infinite_x=False)
    whitened = _whitened(points, means, covariances)
    # |y| = s |y / s| with s = max |y_i|: no overflow or underflow of the squares
    scale = np.max(np.abs(whitened), axis=-1)
    safe = np.where(scale > 0, scale, 1.0)
    ratio = whitened / safe[..., None]
    return _scalar_or_array(scale * np.sqrt(np.einsum("...i,...i->...", ratio, ratio)))


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


def mvn_multiply(mean1: ArrayLike, cov1: ArrayLike, mean2: ArrayLike, cov2: ArrayLike) -> MultivariateGaussian:
    """Normalised product N(x; mean1, cov1) N(x; mean2, cov2) ∝ N(x; mean, cov), batched.

    Gain form, proved equal to the information form (``multivariate.product_general``)::

        K    = cov1 (cov1 + cov2)^{-1}
        mean = mean1 + K (mean2 - mean1)
        cov  = K cov2              (= cov1 - K cov1, symmetric, no cancellation)

    ``K`` comes from one batched linear solve; no covariance is inverted.

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
    m1, s1, m2, s2 = _pair_args(mean1, cov1, mean2, cov2)
    if s1.shape[-1] == 1:  # n = 1: the generated 1-D kernel, bit for bit
        with np.errstate(over="ignore", under="ignore"):
            mean, var = _generated.gaussian_product(m1[..., 0], s1[..., 0, 0], m2[..., 0], s2[..., 0, 0])
        return broadcast_gaussian(np.asarray(mean)[..., None], np.asarray(var)[..., None, None])
    # K^T = (S1 + S2)^{-1} S1 (both symmetric), so K = solve(S1 + S2, S1)^T
    total = s1 + s2
    gain = np.swapaxes(np.linalg.solve(total, np.broadcast_to(s1, total.shape)), -1, -2)
    # m = m1 + K (m2 - m1)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = m1 + np.einsum("...ij,...j->...i", gain, m2 - m1)
        if not np.isfinite(mean).all():  # means near the largest double: the mean is linear in (m1, m2)
            mean = 2.0 * (0.5 * m1 + np.einsum("...ij,...j->...i", gain, 0.5 * m2 - 0.5 * m1))
    if not np.isfinite(mean).all():
        raise OverflowError("the posterior mean exceeds the largest double")
    # S = K S2 = S1 (S1 + S2)^{-1} S2
    cov = symmetrized(gain @ s2)
    return broadcast_gaussian(mean, cov)


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
        mean, cov = m1 + m2, symmetrized(s1 + s2)
    if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
        raise OverflowError("the sum of the means or covariances exceeds the largest double")
    return broadcast_gaussian(mean, cov)
