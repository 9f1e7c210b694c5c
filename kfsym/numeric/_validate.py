"""Argument checks shared by every public numeric function.

Each check converts one argument to a float64 array and raises a
:class:`TypeError` or :class:`ValueError` that names the argument and the rule
it broke, so that no NaN, complex number or NumPy traceback reaches the user.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "FloatArray",
    "FloatOrArray",
    "broadcast_shape",
    "finite",
    "not_nan",
    "positive",
    "real",
    "to_output",
]

FloatArray = NDArray[np.float64]
FloatOrArray = Union[float, FloatArray]

_REAL_KINDS = "iuf"


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
    try:
        array = np.asarray(value)
    except ValueError as error:  # ragged nested sequences
        raise ValueError(f"{name} must be a rectangular array of numbers: {error}") from None
    kind = array.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must be real, got complex values")
    if kind == "b":
        raise TypeError(f"{name} must be real numbers, got booleans")
    if kind not in _REAL_KINDS:
        raise TypeError(f"{name} must be real numbers, got {array.dtype} ({type(value).__name__})")
    return array.astype(np.float64, copy=False)


def _first_bad(array: FloatArray, bad: NDArray[np.bool_]) -> str:
    flat = int(np.flatnonzero(bad)[0])
    value = float(array.flat[flat])
    if array.ndim == 0:
        return f"got {value!r}"
    index = tuple(int(i) for i in np.unravel_index(flat, array.shape))
    return f"got {value!r} at index {index if len(index) > 1 else index[0]}"


def not_nan(value: ArrayLike, name: str) -> FloatArray:
    """Real values, ±inf allowed (data of a density), NaN rejected."""
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
    ValueError: mean must be finite; got inf at index 1
    """
    array = real(value, name)
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{name} must be finite; {_first_bad(array, bad)}")
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
    shape: tuple[int, ...] = ()
    seen: list[str] = []
    for name, array in arrays.items():
        try:
            shape = np.broadcast_shapes(shape, array.shape)
        except ValueError:
            clash = next((other for other in seen if not _compatible(arrays[other].shape, array.shape)), None)
            if clash is None:
                others = ", ".join(f"{other} {arrays[other].shape}" for other in seen)
                raise ValueError(f"{name} with shape {array.shape} cannot be broadcast with {others}") from None
            raise ValueError(
                f"{clash} with shape {arrays[clash].shape} and {name} with shape {array.shape} "
                "cannot be broadcast together"
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
