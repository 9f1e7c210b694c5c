"""Expectation, variance, covariance and correlation of data or of a finite distribution.

The formulas are the ones proved in the ``moments`` topic of :mod:`kfsym.derive`:
``E[X] = sum p_i x_i`` (``moments.discrete_expectation``), the two-pass
variance ``E[(X - mu)^2]`` (equal to ``E[X^2] - E[X]^2`` by
``moments.variance_moments``, but without its cancellation), and the
``1/(N - ddof)`` scatter normalisation (``moments.sample_variance_bias``:
``ddof=1`` is unbiased, ``ddof=0`` is biased by ``-sigma^2/N``). Layouts follow
NumPy: :func:`variance` reduces like :func:`numpy.var`, :func:`covariance` and
:func:`correlation` like :func:`numpy.cov` and :func:`numpy.corrcoef`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from kfsym.numeric._validate import FloatArray, FloatOrArray, finite

__all__ = ["PROBABILITY_TOLERANCE", "correlation", "covariance", "expectation", "std", "variance"]

#: Probabilities must sum to 1 within this absolute tolerance.
PROBABILITY_TOLERANCE = 1e-9

_TINY_DEVIATION = 2.0**-480  # deviations below this have squares below 2^-960: bits lost to underflow
_EPS = float(np.finfo(np.float64).eps)


def _output(value: Any) -> FloatOrArray:
    array = np.asarray(value, dtype=np.float64)
    return float(array) if array.ndim == 0 else array


def _data(x: ArrayLike, name: str = "x") -> FloatArray:
    values = finite(x, name)
    if values.size == 0:
        raise ValueError(f"{name} is empty; at least one value is needed")
    return values


def _axis(values: FloatArray, axis: int | None) -> int | None:
    if axis is None:
        return None
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an int or None, got {type(axis).__name__}")
    if not -values.ndim <= axis < values.ndim:
        raise ValueError(f"axis {axis} is out of bounds for x with {values.ndim} dimension(s)")
    return int(axis)


def _exponents(values: FloatArray, axis: int | None) -> Any:
    """e with max |values| < 2^e along ``axis`` (kept as a length-1 axis); 0 where all values are 0."""
    return np.frexp(np.max(np.abs(values), axis=axis, keepdims=True))[1]


def _reduced(array: Any, axis: int | None) -> Any:
    """A keepdims reduction over ``axis`` with that axis removed."""
    return array.reshape(()) if axis is None else np.squeeze(array, axis=axis)


def _mean(values: FloatArray, weights: FloatArray | None, axis: int | None) -> Any:
    """E[X] over ``axis`` (keepdims), finite wherever the exact mean is (i.e. always).

    The sum may overflow although the mean cannot exceed max |x|: then it is recomputed from the
    values scaled by a power of two (exact, but for entries that become subnormal, whose share of
    the sum is below an ulp), so results are unchanged wherever the plain sum is finite.
    """
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        # E[X] = sum_i p_i x_i                                  (moments.discrete_expectation)
        mean = values.mean(axis=axis, keepdims=True) if weights is None else (weights * values).sum(axis, keepdims=True)
    if np.isfinite(mean).all():
        return mean
    exponents = _exponents(values, axis)
    with np.errstate(under="ignore"):
        scaled = np.ldexp(values, -exponents)
        # the big terms may cancel, leaving subnormal ones whose mean underflows: no news for the caller
        inner = (
            scaled.mean(axis=axis, keepdims=True) if weights is None else (weights * scaled).sum(axis, keepdims=True)
        )
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(inner, exponents)


def _scatter(values: FloatArray, weights: FloatArray | None, divisor: float, axis: int | None) -> tuple[Any, Any]:
    """(s, e) with the variance ``s * 4**e`` over ``axis``: no intermediate overflows where it is finite.

    ``e`` is 0 unless the plain two-pass sum overflows (squares of deviations beyond 1.3e154, or a
    zero weight times an infinite square); then each term is scaled by 2^-e, 2^e just above the
    largest weighted half-deviation, so no square exceeds 1 and no term that matters underflows.
    """
    plain, largest = _two_pass(values, weights, divisor, axis)
    # Squares of deviations below 2^-960 lose bits to underflow (and vanish below 2^-1075): there the values
    # themselves are scaled up by 2^-e (exact), e < 0 the exponent of the largest |x|, and the variance is 4^e
    # times theirs. The nonzero deviations are at least an ulp of the values, so scaled they exceed 2^-54.
    exponents = np.minimum(_exponents(values, axis), 0)
    tiny = (largest > 0.0) & (largest < _TINY_DEVIATION) & (_reduced(exponents, axis) < 0)
    if np.isfinite(plain).all() and not tiny.any():
        return plain, 0
    if np.isfinite(plain).all():
        with np.errstate(under="ignore"):
            inner, _ = _two_pass(np.ldexp(values, -exponents), weights, divisor, axis)
        return np.where(tiny, inner, plain), np.where(tiny, _reduced(exponents, axis), 0)
    # sum p_i d_i^2 = 4^(e+1) sum (t_i / 2^e)^2 with t_i = sqrt(p_i) |d_i / 2|, 2^e just above max t_i: the halves
    # never overflow, every scaled square is at most 1, and what underflows is below 2^-1022 of the largest term
    # (a value with weight 0 sets no scale).
    with np.errstate(under="ignore"):
        halves = np.abs(0.5 * values - 0.5 * _mean(values, weights, axis))
        terms = halves if weights is None else np.sqrt(weights) * halves
        exponents = _exponents(terms, axis)
        inner = 4.0 * (np.ldexp(terms, -exponents) ** 2).sum(axis=axis) / divisor
    return inner, _reduced(exponents, axis)


def _two_pass(values: FloatArray, weights: FloatArray | None, divisor: float, axis: int | None) -> tuple[Any, Any]:
    """(sum p_i (x_i - mean)^2 / divisor, max |x_i - mean|) over ``axis``, unscaled (may over- or underflow)."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        mean = _mean(values, weights, axis)
        # Var X = E[(X - mu)^2], the two-pass form of E[X^2] - E[X]^2   (moments.variance_moments)
        # s^2 = sum (x_i - xbar)^2 / (N - ddof)                  (moments.sample_variance_bias)
        deviations = values - mean
        squares = deviations**2
        plain = (squares.sum(axis=axis) if weights is None else (weights * squares).sum(axis=axis)) / divisor
        largest = np.max(np.abs(deviations), axis=axis)
    return plain, largest


def _scaled_back(value: Any, exponents: Any, what: str) -> Any:
    """``value * 2**exponents``; an OverflowError if that exceeds the largest double."""
    with np.errstate(over="ignore", under="ignore"):
        result = np.ldexp(value, exponents)
    if not np.isfinite(result).all():
        raise OverflowError(f"the {what} exceeds the largest double")
    return result


def _probabilities(p: ArrayLike, values: FloatArray, axis: int | None) -> FloatArray:
    """Validate ``p`` against ``values``; returns it broadcast to ``values.shape``."""
    weights = finite(p, "p")
    if axis is None:
        if weights.shape != values.shape:
            raise ValueError(f"p has shape {weights.shape} but x has shape {values.shape}; they must match")
    elif weights.ndim == 1 and values.ndim > 1:
        if weights.shape[0] != values.shape[axis]:
            raise ValueError(f"p has length {weights.shape[0]} but x has {values.shape[axis]} values along axis {axis}")
        shape = [1] * values.ndim
        shape[axis] = weights.shape[0]
        weights = np.broadcast_to(weights.reshape(shape), values.shape)
    elif weights.shape != values.shape:
        raise ValueError(f"p has shape {weights.shape} but x has shape {values.shape}; they must match")
    if (weights < 0).any():
        raise ValueError(f"p must be non-negative; got {float(weights.min())!r}")
    totals = weights.sum(axis=axis)
    worst = float(np.max(np.abs(totals - 1.0)))
    if worst > PROBABILITY_TOLERANCE:
        bad = float(np.ravel(totals)[int(np.argmax(np.abs(np.ravel(totals) - 1.0)))])
        raise ValueError(f"p must sum to 1 (within {PROBABILITY_TOLERANCE:g}); they sum to {bad:.12g}")
    return weights


def expectation(x: ArrayLike, p: ArrayLike | None = None, *, axis: int | None = None) -> FloatOrArray:
    """Expected value: the probability-weighted sum ``sum p_i x_i``, or the mean of ``x``.

    Parameters
    ----------
    x : array_like
        Finite values.
    p : array_like, optional
        Probabilities of the values, same shape as ``x`` (or, with ``axis``,
        one per position along it); non-negative, summing to 1 within
        :data:`PROBABILITY_TOLERANCE`. Without ``p`` every value weighs equally.
    axis : int, optional
        Reduce along this axis; by default over all elements, like NumPy.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> expectation([1, 2, 3, 4, 5, 6])
    3.5
    >>> expectation([3, 1, 2], [0.1, 0.3, 0.6])
    1.8
    >>> expectation([3, 1, 2], [0.1, 0.3, 0.4])
    Traceback (most recent call last):
    ...
    ValueError: p must sum to 1 (within 1e-09); they sum to 0.8
    """
    values = _data(x)
    reduce = _axis(values, axis)
    weights = None if p is None else _probabilities(p, values, reduce)
    return _output(_reduced(_mean(values, weights, reduce), reduce))


def _ddof(ddof: float, count: int) -> float:
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise TypeError(f"ddof must be a number, got {type(ddof).__name__}")
    if not np.isfinite(ddof) or ddof < 0:
        raise ValueError(f"ddof must be a finite number >= 0, got {ddof!r}")
    if ddof >= count:
        raise ValueError(f"ddof={ddof!r} must be smaller than the number of samples N={count}")
    return float(ddof)


def variance(x: ArrayLike, p: ArrayLike | None = None, ddof: float = 0, *, axis: int | None = None) -> FloatOrArray:
    """Variance ``E[(X - E[X])^2]``: population (``ddof=0``), sample (``ddof=1``) or weighted.

    Parameters
    ----------
    x : array_like
        Finite values.
    p : array_like, optional
        Probabilities (see :func:`expectation`); then ``ddof`` must be 0,
        because a distribution has no sample size to correct.
    ddof : float
        Divide the scatter by ``N - ddof``; ``ddof=1`` gives the unbiased
        sample variance (proved in ``moments.sample_variance_bias``).
    axis : int, optional
        As in :func:`numpy.var`.

    Returns
    -------
    float or ndarray
        Equal to ``numpy.var(x, ddof=ddof, axis=axis)`` without ``p`` wherever
        that does not overflow; no intermediate overflows where the variance is
        a finite double (e.g. ``variance([1e308, 1e308]) == 0.0``).

    Raises
    ------
    OverflowError
        When the variance itself exceeds the largest double (:func:`std` then
        may still be finite, and is returned).

    Examples
    --------
    >>> variance([1, 2, 3, 4])
    1.25
    >>> variance([1, 2, 3, 4], ddof=1)
    1.6666666666666667
    >>> variance([0, 10], p=[0.5, 0.5])
    25.0
    """
    scatter, exponents = _variance_parts(x, p, ddof, axis)
    return _output(_scaled_back(scatter, 2 * exponents, "variance"))


def _variance_parts(x: ArrayLike, p: ArrayLike | None, ddof: float, axis: int | None) -> tuple[Any, Any]:
    """Validated arguments, then (s, e) with the variance s * 4**e (see :func:`_scatter`)."""
    values = _data(x)
    reduce = _axis(values, axis)
    if p is not None:
        if ddof != 0:
            raise ValueError("ddof applies to equally weighted samples only; with probabilities p leave ddof=0")
        return _scatter(values, _probabilities(p, values, reduce), 1.0, reduce)
    count = values.size if reduce is None else values.shape[reduce]
    return _scatter(values, None, count - _ddof(ddof, count), reduce)


def std(x: ArrayLike, p: ArrayLike | None = None, ddof: float = 0, *, axis: int | None = None) -> FloatOrArray:
    """Standard deviation: the square root of :func:`variance` (same arguments).

    Examples
    --------
    >>> std([2, 4, 4, 4, 5, 5, 7, 9])
    2.0
    """
    scatter, exponents = _variance_parts(x, p, ddof, axis)
    # sqrt(s * 4**e) = sqrt(s) * 2**e: finite wherever the standard deviation is, even if the variance is not
    return _output(_scaled_back(np.sqrt(scatter), exponents, "standard deviation"))


def _variables(x: ArrayLike, name: str) -> FloatArray:
    values = finite(x, name)
    if values.ndim > 2:
        raise ValueError(f"{name} must be 1-D (one variable) or 2-D (rows are variables), got {values.ndim}-D")
    values = np.atleast_2d(values)
    if values.shape[1] == 0 or values.shape[0] == 0:
        raise ValueError(f"{name} is empty; at least one observation is needed")
    return values


def _stacked(x: ArrayLike, y: ArrayLike | None) -> FloatArray:
    rows = _variables(x, "x")
    if y is None:
        return rows
    others = _variables(y, "y")
    if others.shape[1] != rows.shape[1]:
        raise ValueError(f"x has {rows.shape[1]} observations but y has {others.shape[1]}; they must match")
    return np.vstack([rows, others])


def _covariance_matrix(rows: FloatArray, ddof: float, *, scaled: bool = False) -> tuple[FloatArray, Any]:
    """(G, e) with the covariance matrix ``G_kl * 2**(e_k + e_l)``.

    ``e`` is 0 unless ``scaled`` or the plain product overflows; then each row is scaled by 2^-e_k,
    e_k the exponent of its largest entry (exact but for entries that become subnormal, whose share
    is below an ulp), so no product or sum can overflow or underflow needlessly. Where nothing
    over- or underflows, scaling by powers of two changes no bit of the result.
    """
    count = rows.shape[1]
    divisor = count - _ddof(ddof, count)
    exponents: Any = 0
    if not scaled:
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            matrix = _scatter_matrix(rows, divisor)
        if np.isfinite(matrix).all():
            return matrix, exponents
    exponents = _exponents(rows, 1)[:, 0]
    with np.errstate(under="ignore"):
        return _scatter_matrix(np.ldexp(rows, -exponents[:, None]), divisor), exponents


def _scatter_matrix(rows: FloatArray, divisor: float) -> FloatArray:
    centred = rows - _mean(rows, None, 1)
    # Sigma_kl = sum_i (x_ki - xbar_k)(x_li - xbar_l) / (N - ddof)   (moments.covariance_matrix)
    product = centred @ centred.T / divisor
    # Symmetric by moments.covariance_matrix; make the rounding respect it exactly.
    result: FloatArray = 0.5 * (product + product.T)
    return result


def covariance(x: ArrayLike, y: ArrayLike | None = None, ddof: float = 1) -> FloatOrArray:
    """Covariance matrix in :func:`numpy.cov`'s layout: rows are variables, columns observations.

    Parameters
    ----------
    x : array_like, shape (N,) or (k, N)
        One variable, or k variables as rows.
    y : array_like, shape (N,) or (m, N), optional
        More variables, stacked below ``x``.
    ddof : float
        ``1`` (default, unbiased, ``numpy.cov``) or ``0`` (population,
        ``numpy.cov(..., bias=True)``).

    Returns
    -------
    float or ndarray, shape (k + m, k + m)
        A float for a single variable (its variance); otherwise an exactly
        symmetric matrix.

    Examples
    --------
    >>> covariance([1, 2, 3, 4], [2, 4, 6, 9])
    array([[1.66666667, 3.83333333],
           [3.83333333, 8.91666667]])
    >>> float(covariance([1, 2, 3, 4], [2, 4, 6, 9], ddof=0)[0, 1])
    2.875
    """
    matrix, exponents = _covariance_matrix(_stacked(x, y), ddof)
    if np.ndim(exponents):
        matrix = _scaled_back(matrix, exponents[:, None] + exponents[None, :], "covariance")
    return _output(np.squeeze(matrix))


def correlation(x: ArrayLike, y: ArrayLike | None = None) -> FloatOrArray:
    """Correlation matrix ``rho_kl = Sigma_kl / (sigma_k sigma_l)``, as :func:`numpy.corrcoef`.

    Entries lie in [-1, 1] (``moments.correlation_bound``); rounding is
    clipped to that interval and the diagonal is exactly 1.

    Raises
    ------
    ValueError
        When a variable is constant (zero variance): its correlation is undefined.

    Examples
    --------
    >>> correlation([1, 2, 3, 4], [2, 4, 6, 8])
    array([[1., 1.],
           [1., 1.]])
    """
    rows = _stacked(x, y)
    if rows.shape[1] < 2:
        raise ValueError("correlation needs at least two observations")
    # rho is invariant under scaling each variable: the scaled scatter never over- or underflows needlessly
    sigma, _ = _covariance_matrix(rows, ddof=1, scaled=True)
    variances = np.diag(sigma)
    # Constant to rounding: the mean of equal values is rounded, so their computed deviations may be an ulp or
    # so instead of 0. The scatter is then at most about n eps^2 times the sum of squares of the values (both
    # of the rows scaled by the same power of two); a variable whose scatter is that small is refused.
    count = rows.shape[1]
    with np.errstate(under="ignore"):
        scaled_rows = np.ldexp(rows, -_exponents(rows, 1))
        squares = (scaled_rows**2).sum(axis=1)
    constant = variances * (count - 1) <= count * _EPS**2 * squares
    if constant.any():
        row = int(np.flatnonzero(constant)[0])
        raise ValueError(f"variable {row} (row of x, then y) is constant: its correlation is undefined")
    scale = np.sqrt(variances)
    # rho = sigma_xy / (sigma_x sigma_y), |rho| <= 1          (moments.correlation_bound)
    rho = np.clip(sigma / np.outer(scale, scale), -1.0, 1.0)
    np.fill_diagonal(rho, 1.0)
    return _output(np.squeeze(rho))
