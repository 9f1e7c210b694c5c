"""References computed once per process: :func:`memoised` keys a reference function by its exact inputs.

A high-precision reference (mpmath at 50 or 300 digits) is a pure function of a test's inputs, never of the code
under test, so it can be computed once and looked up afterwards. Mutation testing runs every test once in a parent
process and forks each mutant's run from it: there the references are already known, and a mutant's run only
evaluates the code under test and compares. Only references are memoised, never a result of the code under test;
the comparison of the two runs every time.

The key is exact: a float by its bits (``0.0`` and ``-0.0`` are different inputs), an array by its dtype, shape and
bytes, together with mpmath's working precision at the call (a reference that uses the ambient precision differs
between precisions). A memoised function must return immutable values (mpmath numbers, floats, tuples of them,
read-only arrays): every later caller gets the same object.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import mpmath
import numpy as np

Function = TypeVar("Function", bound=Callable[..., Any])


def key_of(value: Any) -> Any:
    """A hashable key that identifies ``value`` exactly (type, bits, shape).

    Parameters
    ----------
    value : float, int, str, None, mpmath.mpf, numpy scalar or array, or a tuple or list of these
        An argument of a memoised function.

    Returns
    -------
    tuple
        Equal keys for equal inputs of the same type, and only for those.

    Raises
    ------
    TypeError
        For a value whose identity is not known here (an object array, an mpmath matrix, ...).
    """
    if value is None or isinstance(value, bool | int | str):
        return (type(value).__name__, value)
    if isinstance(value, float):
        return (type(value).__name__, value.hex())
    if isinstance(value, mpmath.mpf):
        return ("mpf", value._mpf_)
    if isinstance(value, np.generic | np.ndarray) and value.dtype.kind in "biuf":
        array = np.asarray(value)
        return (type(value).__name__, array.dtype.str, array.shape, array.tobytes())
    if isinstance(value, tuple | list):
        return (type(value).__name__, tuple(key_of(item) for item in value))
    raise TypeError(f"no exact key for a {type(value).__name__}: {value!r}")


def check_immutable(value: Any) -> None:
    """Raise TypeError unless ``value`` is immutable (it is shared by every caller of a memoised function)."""
    if value is None or isinstance(value, bool | int | float | str | mpmath.mpf | np.generic):
        return
    if isinstance(value, np.ndarray) and not value.flags.writeable:
        return
    if isinstance(value, tuple):
        for item in value:
            check_immutable(item)
        return
    raise TypeError(f"a memoised reference must be immutable, not a {type(value).__name__}")


def memoised(function: Function) -> Function:
    """``function`` computed once per distinct input (and mpmath precision) in this process.

    Parameters
    ----------
    function : callable
        A pure function of its arguments (and of mpmath's precision) that returns an immutable value.

    Returns
    -------
    callable
        The same function, looking its results up by :func:`key_of` of the arguments; an exception is not stored
        (the next call computes again).
    """
    cache: dict[Any, Any] = {}

    @functools.wraps(function)
    def lookup(*args: Any, **kwargs: Any) -> Any:
        key = (mpmath.mp.prec, key_of(args), key_of(sorted(kwargs.items())))
        try:
            return cache[key]
        except KeyError:
            pass
        value = function(*args, **kwargs)
        check_immutable(value)
        cache[key] = value
        return value

    lookup.cache = cache  # type: ignore[attr-defined]
    return lookup  # type: ignore[return-value]
