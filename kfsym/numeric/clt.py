"""The central-limit demo: seeded means of uniform draws and their proved Gaussian law.

:func:`clt_limit` is generated from ``clt.uniform_mean_of_draws``: the mean of
``n_draws`` Uniform(low, high) draws has mean (low + high)/2 and variance
(high - low)^2 / (12 n_draws), exactly for every ``n_draws``; by the CLT
(``clt.uniform_limit``) its distribution approaches that Gaussian.
"""

from __future__ import annotations

import numbers

import numpy as np

from kfsym.numeric import _generated
from kfsym.numeric._validate import FloatArray, finite
from kfsym.numeric.gaussian import Gaussian

__all__ = ["clt_limit", "clt_sample_means"]

# Rows generated at a time, so that memory stays bounded for large demos.
_CHUNK_ELEMENTS = 1 << 20


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if int(value) < 1:
        raise ValueError(f"{name} must be at least 1, got {int(value)}")
    return int(value)


def _interval(low: float, high: float) -> tuple[float, float]:
    bounds = finite(low, "low"), finite(high, "high")
    if bounds[0].ndim or bounds[1].ndim:
        raise ValueError("low and high must be scalars")
    lower, upper = float(bounds[0]), float(bounds[1])
    if not lower < upper:
        raise ValueError(f"low must be smaller than high, got low={lower!r}, high={upper!r}")
    return lower, upper


def clt_sample_means(
    n_samples: int, n_draws: int, low: float = 1.0, high: float = 10.0, *, seed: int | None = None
) -> FloatArray:
    """Means of ``n_draws`` Uniform(low, high) draws, repeated ``n_samples`` times.

    Parameters
    ----------
    n_samples : int
        How many means (the histogram's sample size).
    n_draws : int
        Draws averaged into each mean (the CLT's N).
    low, high : float
        The uniform interval; the tutorial uses 1 and 10.
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same
        means. Without it the result is not reproducible.

    Returns
    -------
    ndarray, shape (n_samples,)

    Examples
    --------
    >>> means = clt_sample_means(200, 1000, seed=7)
    >>> means.shape
    (200,)
    >>> bool(abs(means.mean() - 5.5) < 0.03)
    True
    """
    samples, draws = _count(n_samples, "n_samples"), _count(n_draws, "n_draws")
    lower, upper = _interval(low, high)
    rng = np.random.default_rng(seed)
    rows = max(1, _CHUNK_ELEMENTS // draws)
    means = np.empty(samples, dtype=np.float64)
    for start in range(0, samples, rows):
        stop = min(samples, start + rows)
        means[start:stop] = rng.uniform(lower, upper, size=(stop - start, draws)).mean(axis=1)
    return means


def clt_limit(n_draws: int, low: float = 1.0, high: float = 10.0) -> Gaussian:
    """The Gaussian that the mean of ``n_draws`` Uniform(low, high) draws follows in the limit.

    Its mean and variance are exact for every ``n_draws``:
    N((low + high)/2, (high - low)^2 / (12 n_draws)).

    Examples
    --------
    >>> clt_limit(1000)
    Gaussian(mean=5.5, var=0.00675)
    """
    draws = _count(n_draws, "n_draws")
    lower, upper = _interval(low, high)
    mean, var = _generated.clt_limit(float(draws), lower, upper)
    return Gaussian(float(mean), float(var))
