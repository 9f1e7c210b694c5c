"""Kalman filter predict and update steps, batched over leading axes.

Shapes: state ``x (..., n)``, covariance ``P (..., n, n)``, transition
``F (..., n, n)``, process noise ``Q (..., n, n)``, control ``B (..., n, k)``
with ``u (..., k)``, measurement ``z (..., m)``, ``H (..., m, n)``,
``R (..., m, m)``. A singular (semi-definite) ``P``, ``Q`` or ``R`` is
legitimate; the innovation covariance ``S = H P H^T + R`` must be positive
definite. The update uses the Joseph form, proved equal to ``(I - K H) P`` for
the optimal gain (``kalman.joseph_general``, ``kalman.update_concrete``), and a
linear solve for the gain, never an explicit inverse.

With n = m = 1, ``F = 1`` and ``H = 1`` the filter is the 1-D one
(``kalman.scalar``): predict returns exactly :func:`kfsym.numeric.add` and
update exactly :func:`kfsym.numeric.multiply`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from kfsym.numeric import _generated, _jit, gaussian
from kfsym.numeric._validate import (
    SYMMETRY_RTOL,
    FloatArray,
    broadcast_shapes,
    covariance,
    quiet,
    rectangular,
    same_size,
    unit_scaled,
    vectors,
)
from kfsym.numeric.multivariate import MultivariateGaussian, broadcast_gaussian, covariance_result, symmetrized

__all__ = ["kf_predict", "kf_update"]


def _checked_finite(result: MultivariateGaussian) -> MultivariateGaussian:
    if not (np.isfinite(result.mean).all() and np.isfinite(result.cov).all()):
        raise OverflowError("the result exceeds the largest double")
    return result


def _apply(matrix: FloatArray, vector: FloatArray) -> FloatArray:
    result: FloatArray = np.einsum("...ij,...j->...i", matrix, vector)
    return result


@quiet
def kf_predict(
    x: ArrayLike,
    P: ArrayLike,
    F: ArrayLike,
    Q: ArrayLike,
    *,
    B: ArrayLike | None = None,
    u: ArrayLike | None = None,
) -> MultivariateGaussian:
    """Predict step: x' = F x + B u, P' = F P F^T + Q (``kalman.predict``).

    Parameters
    ----------
    x : array_like, shape (..., n)
        State mean.
    P : array_like, shape (..., n, n)
        State covariance, symmetric positive semi-definite.
    F : array_like, shape (..., n, n)
        State transition.
    Q : array_like, shape (..., n, n)
        Process noise covariance, symmetric positive semi-definite.
    B, u : array_like, optional (keywords)
        Control matrix ``(..., n, k)`` and input ``(..., k)``; give both or neither.

    Returns
    -------
    MultivariateGaussian
        Predicted mean ``(..., n)`` and exactly symmetric covariance ``(..., n, n)``.

    Examples
    --------
    >>> dt = 1.0
    >>> F = [[1.0, dt], [0.0, 1.0]]
    >>> kf_predict([0.0, 1.0], [[1.0, 0.0], [0.0, 1.0]], F, [[0.1, 0.0], [0.0, 0.1]]).mean
    array([1., 1.])
    """
    mean = vectors(x, "x")
    cov = covariance(P, "P", definite=False)
    transition = rectangular(F, "F")
    noise = covariance(Q, "Q", definite=False)
    size = same_size(
        x=mean.shape[-1], P=cov.shape[-1], F=transition.shape[-1], **{"F rows": transition.shape[-2]}, Q=noise.shape[-1]
    )
    shapes = {"x": mean.shape[:-1], "P": cov.shape[:-2], "F": transition.shape[:-2], "Q": noise.shape[:-2]}
    if (B is None) != (u is None):
        raise ValueError("give both B and u, or neither")
    if B is not None and u is not None:
        control = vectors(u, "u")
        gain = rectangular(B, "B")
        same_size(x=size, **{"B rows": gain.shape[-2]})
        same_size(u=control.shape[-1], **{"B columns": gain.shape[-1]})
        shapes |= {"B": gain.shape[:-2], "u": control.shape[:-1]}
    batch = broadcast_shapes(**shapes)
    if size == 1 and B is None and np.all(transition == 1.0):  # the 1-D prediction is numeric.add
        new_mean, new_var = _generated.gaussian_sum(mean[..., 0], cov[..., 0, 0], 0.0, noise[..., 0, 0])
        return _checked_finite(
            broadcast_gaussian(np.asarray(new_mean)[..., None], np.asarray(new_var)[..., None, None], batch)
        )
    with np.errstate(over="ignore", invalid="ignore"):
        # x' = F x + B u
        predicted = _apply(transition, mean)
        if B is not None and u is not None:
            predicted = predicted + _apply(gain, control)
        # P' = F P F^T + Q
        predicted_cov = covariance_result(transition @ cov @ np.swapaxes(transition, -1, -2) + noise)
    return _checked_finite(broadcast_gaussian(predicted, predicted_cov, batch))


@quiet
def kf_update(x: ArrayLike, P: ArrayLike, z: ArrayLike, H: ArrayLike, R: ArrayLike) -> MultivariateGaussian:
    """Update step: condition N(x, P) on the measurement z = H x + v, v ~ N(0, R).

    Equations (``kalman.update_general``, Joseph form from ``kalman.joseph_general``)::

        S  = H P H^T + R                 innovation covariance (must be positive definite)
        K  = P H^T S^{-1}                from a linear solve with S
        x+ = x + K (z - H x)
        P+ = (I - K H) P (I - K H)^T + K R K^T

    Parameters
    ----------
    x : array_like, shape (..., n)
    P : array_like, shape (..., n, n)
        Symmetric positive semi-definite.
    z : array_like, shape (..., m)
    H : array_like, shape (..., m, n)
    R : array_like, shape (..., m, m)
        Symmetric positive semi-definite.

    Returns
    -------
    MultivariateGaussian
        Posterior mean ``(..., n)`` and exactly symmetric covariance ``(..., n, n)``.

    Examples
    --------
    >>> kf_update([0.0], [[2.0]], [10.0], [[1.0]], [[2.0]])
    MultivariateGaussian(mean=array([5.]), cov=array([[1.]]))
    """
    fused = _compiled_update(x, P, z, H, R)
    if fused is not None:
        return fused
    return _numpy_update(x, P, z, H, R)


def _compiled_update(
    x: ArrayLike, P: ArrayLike, z: ArrayLike, H: ArrayLike, R: ArrayLike
) -> MultivariateGaussian | None:
    """The update by the compiled per-element loop (checks first, in the same pass), or None where it does not apply.

    It applies to float64 ndarrays of one batch shape B: x (*B, n), P (*B, n, n), z (*B, m), H (m, n) or
    (*B, m, n), R (m, m) or (*B, m, m), n or m at least 2, at least ``_jit.MIN_SIZE`` entries of P, with Numba
    available. The loop checks P and R as :func:`covariance` does (semi-definite) and computes
    :func:`_joseph_update`, solving for the gain with the Cholesky factor that shows S positive definite. An
    invalid argument sends the whole call to the NumPy path (its errors); elements outside the common case (S
    not positive definite, overflow, a variance to repair) are recomputed there.
    """
    arrays = (x, P, z, H, R)
    if not all(type(array) is np.ndarray and array.dtype == np.float64 for array in arrays):
        return None
    mean, cov, measurement, observation, noise = (np.asarray(array) for array in arrays)
    if mean.ndim < 1 or measurement.ndim < 1:
        return None
    batch, n, m = mean.shape[:-1], mean.shape[-1], measurement.shape[-1]
    if cov.shape != (*batch, n, n) or measurement.shape != (*batch, m) or (n == 1 and m == 1):
        return None
    if observation.shape not in ((m, n), (*batch, m, n)) or noise.shape not in ((m, m), (*batch, m, m)):
        return None
    if cov.size < _jit.MIN_SIZE:
        return None
    kernels = _jit.elementwise_kernels()
    if kernels is None:
        return None
    count = cov.size // (n * n)
    flat = [
        np.ascontiguousarray(array).reshape(count if array.ndim > ndim else 1, *array.shape[array.ndim - ndim :])
        for array, ndim in ((mean, 1), (cov, 2), (measurement, 1), (observation, 2), (noise, 2))
    ]
    new_mean, new_cov = np.empty((count, n)), np.empty((count, n, n))
    flags = np.empty(count, dtype=np.int8)
    flagged = kernels.kf_update_batch(*flat, SYMMETRY_RTOL, new_mean, new_cov, flags)
    if flagged:
        if (flags == 1).any():
            return _numpy_update(*arrays)  # raises, naming the argument
        redo = np.flatnonzero(flags)
        shared = [array if array.shape[0] == 1 and count > 1 else array[redo] for array in flat[3:]]
        again = _numpy_update(flat[0][redo], flat[1][redo], flat[2][redo], *shared)
        new_mean[redo], new_cov[redo] = again.mean, again.cov
    return MultivariateGaussian(new_mean.reshape(*batch, n), new_cov.reshape(*batch, n, n))


def _numpy_update(x: ArrayLike, P: ArrayLike, z: ArrayLike, H: ArrayLike, R: ArrayLike) -> MultivariateGaussian:
    """:func:`kf_update` by batched NumPy operations (any shapes; the fallback)."""
    mean = vectors(x, "x")
    cov = covariance(P, "P", definite=False)
    measurement = vectors(z, "z")
    observation = rectangular(H, "H")
    noise = covariance(R, "R", definite=False)
    size = same_size(x=mean.shape[-1], P=cov.shape[-1], **{"H columns": observation.shape[-1]})
    count = same_size(z=measurement.shape[-1], R=noise.shape[-1], **{"H rows": observation.shape[-2]})
    batch = broadcast_shapes(
        x=mean.shape[:-1], P=cov.shape[:-2], z=measurement.shape[:-1], H=observation.shape[:-2], R=noise.shape[:-2]
    )
    scalar = _scalar_update(mean, cov, measurement, observation, noise) if size == count == 1 else None
    if scalar is not None and scalar[2].all():
        return broadcast_gaussian(scalar[0][..., None], scalar[1][..., None, None], batch)
    joseph = _joseph_update(mean, cov, measurement, observation, noise, batch=batch)
    if scalar is None:
        return joseph
    # per element: the product where it applies, the Joseph form elsewhere (never chosen for the whole batch,
    # so no element's result depends on the others in the call)
    new_mean, new_var, eligible = scalar
    return MultivariateGaussian(
        np.where(eligible[..., None], new_mean[..., None], joseph.mean),
        np.where(eligible[..., None, None], new_var[..., None, None], joseph.cov),
    )


def _scalar_update(
    mean: FloatArray, cov: FloatArray, measurement: FloatArray, observation: FloatArray, noise: FloatArray
) -> tuple[FloatArray, FloatArray, Any] | None:
    """n = m = 1: (mean, variance, eligible) by the product of N(x, P) and N(z/H, R/H^2) where P, R > 0, H != 0.

    z = H x + v is the measurement z/H of x with variance R/H^2, so the update is the product of two Gaussians
    (``kalman.scalar``; for H = 1 exactly :func:`kfsym.numeric.multiply`). The Joseph form would round 1 - K H
    with an error of eps K H, which is all of P+ = P R/S when R << H^2 P; dividing by H costs an ulp or two
    instead. Both variances are first scaled by 2^k (from their exponents and H's) so that neither R/H^2 nor P
    is subnormal where that can be avoided and neither R, R/H^2 nor P overflows (k < 0 where R/H^2 alone
    would). Elements where this does not apply are computed with dummies and
    marked not eligible.
    """
    h, variance, noise_variance = observation[..., 0, 0], cov[..., 0, 0], noise[..., 0, 0]
    eligible = (noise_variance > 0) & (variance > 0) & (h != 0.0)
    if not eligible.any():
        return None
    h, variance = np.where(eligible, h, 1.0), np.where(eligible, variance, 1.0)
    noise_variance = np.where(eligible, noise_variance, 1.0)
    variance_exponent = np.frexp(variance)[1]
    (noise_mantissa, noise_exponent), (h_mantissa, h_exponent) = np.frexp(noise_variance), np.frexp(h)
    # R/H^2 < 2^(e_R - 2 e_H + 2): the exponent bound of the second variance once divided by H^2
    ratio_exponent = noise_exponent - 2 * h_exponent + 2
    smallest = np.minimum(variance_exponent, ratio_exponent)
    # 2^shift times P, R and R/H^2 stays below 2^1020 (R/H^2 beyond the largest double: a negative shift)
    headroom = np.minimum(np.minimum(1020 - variance_exponent, 1020 - noise_exponent), 1020 - ratio_exponent)
    shift = np.minimum(np.maximum(4 - smallest, 0), headroom)
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        scaled_z = measurement[..., 0] / h
        scaled_variance = np.ldexp(variance, shift)
        # 2^shift R/H^2 from the mantissas and exponents apart: 2^shift R alone underflows for a subnormal R and
        # shift < 0 (bits of R, or all of it, lost), R/H^2 alone may overflow; where neither does, the same bits
        scaled_noise = np.maximum(
            np.ldexp(noise_mantissa / h_mantissa / h_mantissa, noise_exponent - 2 * h_exponent + shift), 5e-324
        )
        new_mean, new_var = gaussian.product_moments(mean[..., 0], scaled_variance, scaled_z, scaled_noise)
        new_var = np.ldexp(new_var, -shift)
    normal = 2.0**-1022
    eligible = eligible & np.isfinite(scaled_z) & np.isfinite(scaled_noise) & (scaled_variance >= normal)
    shape = np.broadcast_shapes(np.shape(new_mean), np.shape(eligible))
    return (
        np.broadcast_to(np.asarray(new_mean, dtype=np.float64), shape),
        np.broadcast_to(np.asarray(new_var, dtype=np.float64), shape),
        np.broadcast_to(eligible, shape),
    )


def _joseph_update(
    mean: FloatArray,
    cov: FloatArray,
    measurement: FloatArray,
    observation: FloatArray,
    noise: FloatArray,
    *,
    batch: tuple[int, ...],
) -> MultivariateGaussian:
    """The general update: gain from a solve with S = H P H^T + R, covariance in Joseph form."""
    size = cov.shape[-1]
    observation_t = np.swapaxes(observation, -1, -2)
    with np.errstate(over="ignore", invalid="ignore"):
        ph_t = cov @ observation_t
        innovation_cov = symmetrized(observation @ ph_t + noise)
    if not np.isfinite(innovation_cov).all():
        raise OverflowError("the innovation covariance H P H^T + R exceeds the largest double")
    # S = D C D, D = diag(2^k), C about unit diagonal (exact): subnormal or huge innovation variances factor and
    # solve like unit ones
    scaled, exponents = unit_scaled(innovation_cov)
    try:
        np.linalg.cholesky(scaled)
    except np.linalg.LinAlgError:
        raise ValueError("the innovation covariance H P H^T + R is not positive definite") from None
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        # K^T = S^{-1} H P = D^-1 C^-1 (D^-1 H P)  (S, P symmetric): one solve, no inverse
        try:
            scaled_hp = np.ldexp(np.swapaxes(ph_t, -1, -2), -exponents[..., :, None])
            gain = np.swapaxes(np.ldexp(np.linalg.solve(scaled, scaled_hp), -exponents[..., :, None]), -1, -2)
        except (
            np.linalg.LinAlgError
        ):  # Cholesky passed, but LU met an exactly zero pivot: singular to working precision
            raise ValueError(
                "the innovation covariance H P H^T + R is singular to working precision "
                "(R and H P H^T far apart in scale)"
            ) from None
        # x+ = x + K (z - H x)
        updated = mean + _apply(gain, measurement - _apply(observation, mean))
        # P+ = (I - K H) P (I - K H)^T + K R K^T   (Joseph form)
        reduce = np.eye(size) - gain @ observation
        joseph = reduce @ cov @ np.swapaxes(reduce, -1, -2) + gain @ noise @ np.swapaxes(gain, -1, -2)
    return _checked_finite(broadcast_gaussian(updated, covariance_result(joseph), batch))
