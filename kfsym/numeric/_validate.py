"""Argument checks shared by every public numeric function.

Each check converts one argument to a float64 array and raises a
:class:`TypeError` or :class:`ValueError` that names the argument and the rule
it broke, so that no NaN, complex number or NumPy traceback reaches the user.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar, Union, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "SYMMETRY_RTOL",
    "FloatArray",
    "FloatOrArray",
    "broadcast_shape",
    "broadcast_shapes",
    "covariance",
    "finite",
    "first_indefinite_index",
    "not_nan",
    "positive",
    "quiet",
    "real",
    "rectangular",
    "same_size",
    "singular_pivot_floor",
    "square_matrices",
    "to_output",
    "unit_scaled",
    "vectors",
]

_Function = TypeVar("_Function", bound=Callable[..., Any])

FloatArray = NDArray[np.float64]
FloatOrArray = Union[float, FloatArray]

_REAL_KINDS = "iuf"
_INF = float("inf")


def quiet(function: _Function) -> _Function:  # pragma: no mutate block (a decorator: runs at import only)
    """``function`` run with NumPy's floating-point reports off (``np.errstate(all="ignore")``).

    The numeric functions handle over- and underflow themselves (scaling, explicit checks that raise
    OverflowError or ValueError), so an intermediate that underflows is no news for the caller: no
    RuntimeWarning leaks, and a caller's ``np.errstate(all="raise")`` does not turn it into an error.
    """

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)

    return cast(_Function, wrapper)


def real(value: ArrayLike, name: str) -> FloatArray:
    """``value`` as a float64 array of real numbers (any shape), or a TypeError/ValueError.

    Examples
    --------
    >>> real([1, 2], "x")
    array([1., 2.])
    >>> real("3", "x")
    Traceback (most recent call last):
    ...
    TypeError: x must be real numbers, got str
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be real numbers, got {type(value).__name__}")
    value = _unmasked(value, name)
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nested sequences
        raise ValueError(f"{name} must be a rectangular array of numbers: {error}") from None
    kind = array.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must be real, got complex values")
    if kind == "b":
        raise TypeError(f"{name} must be real numbers, got booleans")
    if kind == "O" and array.size and all(_is_real_number(item) for item in array.flat):
        return _from_objects(array, name)  # Python ints beyond int64 (10**20), possibly mixed with floats
    if kind not in _REAL_KINDS:
        raise TypeError(f"{name} must be real numbers, got {array.dtype} ({type(value).__name__})")
    if kind == "f" and array.dtype.itemsize > 8:  # long double: its range exceeds the doubles'
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            converted = array.astype(np.float64)
            beyond = np.isfinite(array) & ~np.isfinite(converted)
        if beyond.any():
            flat = int(np.flatnonzero(beyond)[0])
            where = "" if array.ndim == 0 else f" at index {tuple(int(i) for i in np.unravel_index(flat, array.shape))}"
            raise ValueError(f"{name} must lie within the range of doubles (±1.8e308); got {array.flat[flat]!s}{where}")
        return converted
    return array.astype(np.float64, copy=False)


def _is_real_number(item: Any) -> bool:
    return isinstance(item, (int, float, np.integer, np.floating)) and not isinstance(item, (bool, np.bool_))


class BeyondDoublesError(ValueError, OverflowError):
    """An argument (a Python int) beyond the largest double: a ValueError like every bad argument, and an OverflowError.

    Python's own ``float(10**400)`` raises OverflowError; kfsym's argument errors are ValueErrors (a long double
    beyond the doubles is one too), so this is both, and ``except ValueError`` catches every bad argument.
    """


def _from_objects(array: Any, name: str) -> FloatArray:
    """An object array of real numbers (big Python ints) as doubles; a :class:`BeyondDoublesError` naming ``name``."""
    values = []
    for item in array.flat:
        try:
            values.append(float(item))
        except OverflowError:
            raise BeyondDoublesError(
                f"{name} holds an integer of {int(item).bit_length()} bits, beyond the largest double (1.8e308, "
                "1024 bits)"
            ) from None
    return np.array(values, dtype=np.float64).reshape(array.shape)


def _unmasked(value: Any, name: str) -> Any:
    """The data of a ``numpy.ma`` array with nothing masked; a TypeError when entries are masked.

    A masked entry has no value to compute with, and silently using the data
    under the mask would be wrong: the caller decides (``value.filled(...)``,
    ``value.compressed()``). ``numpy.ma`` is not imported here: if it was never
    imported, ``value`` cannot be a masked array.
    """
    masked_module = sys.modules.get("numpy.ma")
    if masked_module is None or not isinstance(value, masked_module.MaskedArray):
        return value
    if masked_module.getmaskarray(value).any():
        raise TypeError(
            f"{name} is a masked array with masked entries; kfsym.numeric does not guess a value for them: "
            f"pass {name}.filled(...) or drop the masked entries"
        )
    return value.data


def _first_bad(array: FloatArray, bad: NDArray[np.bool_]) -> str:
    flat = int(np.flatnonzero(bad)[0])
    value = float(array.flat[flat])
    if array.ndim == 0:
        return f"got {value!r}"
    index = tuple(int(i) for i in np.unravel_index(flat, array.shape))
    return f"got {value!r} at index {index if len(index) > 1 else index[0]}"


def not_nan(value: ArrayLike, name: str) -> FloatArray:
    """Real values, ±inf allowed (data of a density), NaN rejected."""
    if type(value) is float and value == value:  # noqa: PLR0124 - NaN test without a NumPy call
        return np.float64(value)
    array = real(value, name)
    bad = np.isnan(array)
    if bad.any():
        raise ValueError(f"{name} must not contain NaN; {_first_bad(array, bad)}")
    return array


def finite(value: ArrayLike, name: str) -> FloatArray:
    """Finite real values (parameters such as a mean).

    Examples
    --------
    >>> finite([0.0, float("inf")], "mean")
    Traceback (most recent call last):
    ...
    ValueError: mean must be finite (no NaN or inf); got inf at index 1
    """
    if type(value) is float and -_INF < value < _INF:  # plain floats skip NumPy
        return np.float64(value)
    array = real(value, name)
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{name} must be finite (no NaN or inf); {_first_bad(array, bad)}")
    return array


def positive(value: ArrayLike, name: str) -> FloatArray:
    """Finite, strictly positive values: a variance.

    Examples
    --------
    >>> positive(-1.0, "var")
    Traceback (most recent call last):
    ...
    ValueError: var must be a positive, finite variance; got -1.0
    """
    if type(value) is float and 0.0 < value < _INF:
        return np.float64(value)
    array = real(value, name)
    bad = ~(np.isfinite(array) & (array > 0))
    if bad.any():
        raise ValueError(f"{name} must be a positive, finite variance; {_first_bad(array, bad)}")
    return array


def broadcast_shape(**arrays: FloatArray) -> tuple[int, ...]:
    """The common shape of named arrays, or a ValueError naming the clashing ones.

    Examples
    --------
    >>> broadcast_shape(x=np.zeros(3), mean=np.zeros(2))
    Traceback (most recent call last):
    ...
    ValueError: x with shape (3,) and mean with shape (2,) cannot be broadcast together
    """
    return broadcast_shapes(**{name: array.shape for name, array in arrays.items()})


def broadcast_shapes(**shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The common broadcast shape of named shapes (``x=(3,), mean=(2, 1)``), naming clashes."""
    nonscalar = [current for current in shapes.values() if current]
    if len(nonscalar) <= 1:  # at most one array among scalars: its shape, nothing to check
        return nonscalar[0] if nonscalar else ()
    shape: tuple[int, ...] = ()
    seen: list[str] = []
    for name, current in shapes.items():
        try:
            shape = np.broadcast_shapes(shape, current)
        except ValueError:
            clash = next((other for other in seen if not _compatible(shapes[other], current)), None)
            if clash is None:
                others = ", ".join(f"{other} {shapes[other]}" for other in seen)
                raise ValueError(f"{name} with shape {current} cannot be broadcast with {others}") from None
            raise ValueError(
                f"{clash} with shape {shapes[clash]} and {name} with shape {current} cannot be broadcast together"
            ) from None
        seen.append(name)
    return shape


def _compatible(first: tuple[int, ...], second: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(first, second)
    except ValueError:
        return False
    return True


def to_output(value: Any, shape: tuple[int, ...]) -> FloatOrArray:
    """A Python float for a 0-d result, else a float64 array of ``shape``."""
    if shape == ():
        return float(value)
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        array = np.array(np.broadcast_to(array, shape))
    return array


# Relative tolerance for symmetry of covariance matrices and for eigenvalues of semi-definite ones.
SYMMETRY_RTOL = 1e-10


def _batch_index(shape: tuple[int, ...], flat: int) -> str:
    if not shape:
        return ""
    index = tuple(int(i) for i in np.unravel_index(flat, shape))
    return f" at batch index {index}"


def square_matrices(value: ArrayLike, name: str) -> FloatArray:
    """Finite real matrices ``(..., n, n)``."""
    array = finite(value, name)
    if array.ndim < 2 or array.shape[-1] != array.shape[-2]:
        raise ValueError(f"{name} must be a square matrix (..., n, n), got shape {array.shape}")
    if array.shape[-1] == 0:
        raise ValueError(f"{name} is an empty matrix")
    return array


def unit_scaled(matrices: FloatArray) -> tuple[FloatArray, Any]:
    """(C, k) with A = S C S, S = diag(2^k): A scaled to about unit diagonal by powers of two.

    ``2^k_i`` is within a factor sqrt(2) of sqrt(A_ii) (k_i = 0 for a zero variance), so the scaling
    is exact but for entries far below their own scale sqrt(A_ii A_jj), and C holds no subnormal or
    huge entries whatever the variances (5e-324 to 1.8e308). Every Cholesky factorisation of a
    covariance in :mod:`kfsym.numeric` factors this C: validation and computation see the same matrix.
    """
    exponents = np.frexp(np.diagonal(matrices, axis1=-2, axis2=-1))[1] // 2
    with np.errstate(under="ignore"):
        scaled = np.ldexp(matrices, -(exponents[..., :, None] + exponents[..., None, :]))
    return scaled, exponents


def covariance(value: ArrayLike, name: str, *, definite: bool, factor: list[Any] | None = None) -> FloatArray:
    """Symmetric positive-definite (``definite=True``) or semi-definite covariance matrices.

    With ``definite=True`` and a list ``factor``, the Cholesky factor the check computed is appended to it
    as ``(L, k)``, ``C = 2^-k A 2^-k = L L^T`` (:func:`unit_scaled`): a solve reuses it instead of
    factoring again.

    Every check is scale-aware per entry, so a huge variance never hides a
    bad small one, and subnormal variances are judged as any others:

    - the diagonal (the variances) must be nonnegative, whatever the other
      entries' size (positive for ``definite=True``);
    - symmetry: ``|A_ij - A_ji| <= SYMMETRY_RTOL * sqrt(A_ii A_jj)``;
    - a zero variance ``A_ii = 0`` forces its row and column to be exactly
      zero: for a semi-definite matrix ``|A_ij| <= sqrt(A_ii A_jj)``, and the
      tolerance below, relative to ``A_ii``, vanishes with it (a variance of
      1e-30 allows ``|A_ij|`` up to about ``sqrt(n SYMMETRY_RTOL 1e-30 A_jj)``,
      a variance of 0 allows nothing);
    - definiteness: a Cholesky factorisation of the matrix scaled to about unit
      diagonal by powers of two, ``C = S^-1 A S^-1`` (:func:`unit_scaled`; exact,
      and the same matrix the computations factor), either of ``C`` itself
      (definite) or of ``C + n SYMMETRY_RTOL diag(C)`` (semi-definite:
      eigenvalues of the unit-diagonal matrix down to that much below zero are
      rounding).

    Examples
    --------
    >>> covariance([[2.0, 0.9], [0.9, 0.5]], "cov", definite=True).shape
    (2, 2)
    >>> covariance([[1.0, 2.0], [2.0, 1.0]], "cov", definite=True)
    Traceback (most recent call last):
    ...
    ValueError: cov must be positive definite; it is not
    >>> covariance([[1e10, 0.0], [0.0, -1.0]], "P", definite=False)
    Traceback (most recent call last):
    ...
    ValueError: P must have a nonnegative diagonal (variances); got -1.0 at index (1, 1)
    >>> covariance([[0.0, 1e-5], [1e-5, 1.0]], "P", definite=False)
    Traceback (most recent call last):
    ...
    ValueError: P must be positive semi-definite; variance (0, 0) is 0 but its row has 1e-05 at (0, 1)
    """
    matrices = square_matrices(value, name)
    diagonal = np.diagonal(matrices, axis1=-2, axis2=-1)
    negative = diagonal < 0.0
    if negative.any():
        flat = int(np.flatnonzero(negative)[0])
        index = tuple(int(i) for i in np.unravel_index(flat, diagonal.shape))
        where = f" at batch index {index[:-1]}" if len(index) > 1 else ""
        raise ValueError(
            f"{name} must have a nonnegative diagonal (variances); got {float(diagonal.flat[flat])!r} "
            f"at index ({index[-1]}, {index[-1]}){where}"
        )
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        # For a semi-definite matrix |A_ij| <= sqrt(A_ii A_jj): that product is each entry's own scale.
        root = np.sqrt(diagonal)
        asymmetry = np.abs(matrices - np.swapaxes(matrices, -1, -2))
        bad = asymmetry > SYMMETRY_RTOL * (root[..., :, None] * root[..., None, :])
    if bad.any():
        flat = int(np.flatnonzero(bad.any(axis=(-2, -1)))[0])
        where = _batch_index(bad.shape[:-2], flat)
        worst = float(np.max(asymmetry.reshape(-1, *asymmetry.shape[-2:])[flat]))
        raise ValueError(f"{name} must be symmetric{where}; |A - A^T| reaches {worst:.3g}")
    scaled, exponents = unit_scaled(matrices)
    if definite:
        try:
            lower = np.linalg.cholesky(scaled)
        except np.linalg.LinAlgError:
            raise ValueError(f"{name} must be positive definite{_first_indefinite(scaled)}; it is not") from None
        if factor is not None:
            factor.append((lower, exponents))
        return matrices
    zero = diagonal == 0.0
    if zero.any():
        coupled = zero[..., :, None] & (matrices != 0.0)
        if coupled.any():
            index = tuple(int(i) for i in np.unravel_index(int(np.flatnonzero(coupled)[0]), coupled.shape))
            where = f" at batch index {index[:-2]}" if len(index) > 2 else ""
            row, column = index[-2], index[-1]
            raise ValueError(
                f"{name} must be positive semi-definite{where}; variance ({row}, {row}) is 0 but its row has "
                f"{float(matrices[index]):.3g} at ({row}, {column})"
            )
    # C + n rtol diag(C) must have a Cholesky factor (a zero variance: its row is zero, shifted by rtol); cheaper
    # than eigenvalues.
    size = matrices.shape[-1]
    shift = np.where(zero, 1.0, np.diagonal(scaled, axis1=-2, axis2=-1)) * (size * SYMMETRY_RTOL)
    shifted = scaled + shift[..., :, None] * np.eye(size)
    try:
        np.linalg.cholesky(shifted)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name} must be positive semi-definite{_first_indefinite(shifted)}; it is not") from None
    return matrices


def first_indefinite_index(matrices: FloatArray) -> tuple[int, ...] | None:
    """Batch index of the first matrix (row-major) with no Cholesky factor, or None (error paths only)."""
    flat = matrices.reshape(-1, *matrices.shape[-2:])
    for position, matrix in enumerate(flat):
        try:
            np.linalg.cholesky(matrix)
        except np.linalg.LinAlgError:
            return tuple(int(i) for i in np.unravel_index(position, matrices.shape[:-2]))
    return None


def _first_indefinite(matrices: FloatArray) -> str:
    """" at batch index (...)" for the first batch element whose Cholesky factorisation fails, else ""."""
    index = first_indefinite_index(matrices) if matrices.ndim > 2 else None
    return f" at batch index {index}" if index else ""


def vectors(value: ArrayLike, name: str, *, allow_inf: bool = False) -> FloatArray:
    """Real vectors ``(..., n)``: finite, or with ±inf allowed (data of a density)."""
    array = not_nan(value, name) if allow_inf else finite(value, name)
    if array.ndim < 1:
        raise ValueError(f"{name} must be a vector (..., n), got a scalar")
    if array.shape[-1] == 0:
        raise ValueError(f"{name} is an empty vector")
    return array


def same_size(**sizes: int) -> int:
    """The common size of named dimensions; a ValueError names the one that disagrees with the rest.

    The size most arguments agree on wins (ties: the first one named), so the
    odd argument out is the one blamed.

    Examples
    --------
    >>> same_size(x=2, mean=2, cov=3)
    Traceback (most recent call last):
    ...
    ValueError: cov has size 3 but x, mean have size 2; their shapes must agree
    """
    values = list(sizes.values())
    majority = max(values, key=lambda value: (values.count(value), -values.index(value)))
    for name, value in sizes.items():
        if value != majority:
            agreeing = [other for other, size in sizes.items() if size == majority]
            verb = "has" if len(agreeing) == 1 else "have"
            raise ValueError(
                f"{name} has size {value} but {', '.join(agreeing)} {verb} size {majority}; their shapes must agree"
            )
    return majority


def rectangular(value: ArrayLike, name: str) -> FloatArray:
    """Finite real matrices ``(..., rows, cols)``."""
    array = finite(value, name)
    if array.ndim < 2:
        raise ValueError(f"{name} must be a matrix (..., rows, cols), got shape {array.shape}")
    return array


def singular_pivot_floor(n: int) -> float:
    """4 n eps: a Cholesky pivot of P_t+1|t (scaled to unit diagonal) at or below this share of its diagonal entry
    is rounding noise (the pivot's own error is about n eps), so P_t+1|t is singular to working precision and the
    smoother refuses it on both backends (its gain would be noise: seen with P_t+1|t = 1e300 [[1, 1], [1, 1]],
    exactly singular in doubles though mathematically definite, where the backends returned different gains)."""
    return 4.0 * n * 2.0**-52
