"""The batch-broadcasting functions of :mod:`kfsym.numeric` on Dask arrays: lazy, chunked, one task per block.

Design: an adapter module, not dispatch
---------------------------------------
``kfsym.dask`` has the same names and signatures as :mod:`kfsym.numeric` for every
function that broadcasts over batch axes (``pdf``, ``logpdf``, ``cdf``, ``multiply``,
``add``, ``evidence``, ``log_evidence``, ``mvn_pdf``, ``mvn_logpdf``, ``mahalanobis``,
``mvn_multiply``, ``mvn_add``, ``kf_predict``, ``kf_update``, ``kf_filter``,
``rts_smoother``). Switching a script to Dask is one import line::

    from kfsym.numeric import pdf      # NumPy in, NumPy out
    from kfsym.dask import pdf         # Dask (or NumPy) in, Dask out

Why not dispatch on the input type inside :mod:`kfsym.numeric`:

- ``import kfsym.numeric`` stays NumPy-only and its hot paths (the plain-float fast
  paths run in a few hundred nanoseconds) gain no type test; nothing in it imports
  or looks for Dask.
- The return type never depends on the argument types of one call: every function
  here returns Dask arrays, also for NumPy or scalar input (as ``dask.array``
  functions do), and every function of :mod:`kfsym.numeric` returns NumPy.
- There is exactly one implementation of the arithmetic and of the value checks:
  each Dask task calls the NumPy function of :mod:`kfsym.numeric` on its block.
  This module adds only the graph construction and the checks that metadata allows.

How a call becomes a graph
--------------------------
Every argument has *core* axes (the trailing ones a function consumes: none for the
1-D densities, ``n`` for a mean, ``(n, n)`` for a covariance, ``(T, m)`` for the
measurements of :func:`kf_filter`) and *batch* axes in front, which broadcast as in
NumPy. The batch axes keep the user's chunks (arguments chunked differently along the
same axis are unified to common chunk boundaries, as :func:`dask.array.blockwise`
does); an axis of length 1 broadcasts without being copied. Core axes are never
rechunked unless the user chunked them, in which case they are rechunked to a single
chunk (a covariance cannot be split; the time axis of a filter is a sequential loop).
Then :func:`dask.array.blockwise` builds one task per block of the broadcast batch
axes, which calls the NumPy function on that block; functions with several outputs
(:class:`Gaussian`, :class:`MultivariateGaussian`, :class:`FilterResult`,
:class:`SmootherResult`) compute all of them in that one task, and each output array
takes its field out of the task's result. Output chunks along the batch axes are the
(unified) input chunks; core axes of outputs are one chunk.

A block therefore gives the same bits as :mod:`kfsym.numeric` on the same block, and
on the whole array wherever the NumPy function computes each batch element from its own
inputs alone. Where it does not — one LAPACK solve with many right-hand sides for a
covariance shared by all points (``mvn_pdf``, ``mvn_logpdf``, ``mahalanobis``), a code
path chosen from the whole array (``kf_update`` with n = m = 1, ``mvn_multiply`` near
the ends of the double range) — blocks and the whole array agree to a few ulp.

Validation on lazy data
-----------------------
*At call time*, from metadata only (nothing is computed): dtypes (complex, boolean,
non-numeric: ``TypeError``), the number of axes and the core sizes (a vector, a
square matrix, sizes that must agree, e.g. ``n`` of ``x``, ``mean`` and ``cov``),
the time axis of time-varying model matrices, that the batch shapes broadcast, and
keyword rules (``B`` with ``u``, ``time_varying`` names, ``backend``). The messages
are those of :mod:`kfsym.numeric` (the tests compare them one by one). NumPy and
scalar arguments are converted as :mod:`kfsym.numeric` converts them, so their
dtype errors come from the very same code.

*At compute time*, inside each block, by the NumPy function itself: NaN or infinite
values, variances that are not positive, covariances that are not symmetric or not
(semi-)definite, an innovation covariance that is not positive definite, overflow.
The error is the one :mod:`kfsym.numeric` raises (same type, message naming the
argument and the rule), followed by the position of the failing block in the batch
axes of the result; indices inside the message count from the start of that block.
It surfaces from ``.compute()`` (or ``dask.compute``, ``Client.compute``) on any
scheduler, the distributed one included.

Supported Dask: ``dask[array]`` and ``distributed`` 2024.1 or later with classic array
graphs (the default); importing this module raises ``ImportError`` when Dask's
experimental array query planning (``array.query-planning``) is switched on.

Arrays of unknown chunk sizes (NaN in ``shape``, e.g. after boolean indexing) are
refused at call time: call ``.compute_chunk_sizes()`` first.

Examples
--------
>>> import dask.array as da
>>> from kfsym import dask as kd
>>> x = da.linspace(-3.0, 3.0, 7, chunks=3)
>>> density = kd.pdf(x, 0.0, 1.0)
>>> density.chunks
((3, 3, 1),)
>>> density.compute(scheduler="synchronous").round(4)
array([0.0044, 0.054 , 0.242 , 0.3989, 0.242 , 0.054 , 0.0044])
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

try:
    import dask.array as da
    from dask.core import flatten
    from dask.highlevelgraph import HighLevelGraph
    from dask.layers import ArraySliceDep
except ImportError as error:  # pragma: no cover - the dask extra is installed wherever this module is tested
    raise ImportError("kfsym.dask needs Dask: pip install 'kfsym[dask]'") from error

from kfsym import numeric
from kfsym.numeric import FilterResult, Gaussian, MultivariateGaussian, SmootherResult
from kfsym.numeric._validate import broadcast_shapes, real, same_size
from kfsym.numeric.sequence import _FILTER_MATRICES, _PER_TRANSITION, _check_backend, _varying_names

_array_expr_enabled = getattr(da, "_array_expr_enabled", None)
if callable(_array_expr_enabled) and _array_expr_enabled():
    raise ImportError(
        "kfsym.dask builds classic Dask array graphs; Dask's experimental array query planning "
        "(config 'array.query-planning') is on: set it to False before importing dask.array"
    )

__all__ = [
    "FilterResult",
    "Gaussian",
    "MultivariateGaussian",
    "SmootherResult",
    "add",
    "cdf",
    "evidence",
    "kf_filter",
    "kf_predict",
    "kf_update",
    "log_evidence",
    "logpdf",
    "mahalanobis",
    "multiply",
    "mvn_add",
    "mvn_logpdf",
    "mvn_multiply",
    "mvn_pdf",
    "pdf",
    "rts_smoother",
]

_FLOAT = np.dtype(np.float64)
_BOOL = np.dtype(np.bool_)
_REAL_KINDS = "iuf"
_SCALAR_GAUSSIAN = [("mean", (), _FLOAT), ("var", (), _FLOAT)]


# ----------------------------------------------------------------------------- metadata checks
class _Arg(NamedTuple):
    """One argument of a call: its name, the Dask array, its number of core axes, keyword or positional."""

    name: str
    array: Any
    core: int
    keyword: bool = False


def _as_dask(value: Any, name: str) -> Any:
    """``value`` as a Dask array, dtype checked with the messages of :mod:`kfsym.numeric` (nothing computed)."""
    if isinstance(value, da.Array):
        kind = value.dtype.kind
        if kind == "c":
            raise TypeError(f"{name} must be real, got complex values")
        if kind == "b":
            raise TypeError(f"{name} must be real numbers, got booleans")
        if kind not in _REAL_KINDS:
            raise TypeError(f"{name} must be real numbers, got {value.dtype} ({type(value).__name__})")
        if any(math.isnan(size) for size in value.shape):
            raise ValueError(
                f"{name} has unknown chunk sizes (shape {value.shape}); call {name}.compute_chunk_sizes() first"
            )
        return value
    # NumPy, lists and scalars: the same conversion (and dtype errors) as kfsym.numeric
    return da.asarray(real(value, name))


def _measurements_as_dask(z: Any) -> Any:
    """``z`` of :func:`kf_filter`; a NumPy masked array stays masked (missing measurements)."""
    if isinstance(z, np.ma.MaskedArray):
        data = real(np.asarray(z.data), "z")
        return da.ma.masked_array(da.asarray(data), mask=da.asarray(np.ma.getmaskarray(z)))
    return _as_dask(z, "z")


def _vector(shape: tuple[int, ...], name: str) -> None:
    if len(shape) < 1:
        raise ValueError(f"{name} must be a vector (..., n), got a scalar")
    if shape[-1] == 0:
        raise ValueError(f"{name} is an empty vector")


def _square(shape: tuple[int, ...], name: str) -> None:
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{name} must be a square matrix (..., n, n), got shape {shape}")
    if shape[-1] == 0:
        raise ValueError(f"{name} is an empty matrix")


def _rectangular(shape: tuple[int, ...], name: str) -> None:
    if len(shape) < 2:
        raise ValueError(f"{name} must be a matrix (..., rows, cols), got shape {shape}")


#: Core axes and shape check of each kind of argument.
_KINDS: dict[str, tuple[int, Callable[[tuple[int, ...], str], None] | None]] = {
    "scalar": (0, None),
    "vector": (1, _vector),
    "square": (2, _square),
    "matrix": (2, _rectangular),
}


def _args(*specs: tuple[str, Any, str], checks: Sequence[str] = (), keyword: bool = False) -> list[_Arg]:
    """Each ``(name, value, kind)`` as a Dask argument, converted in that order, then its core shape checked.

    The shapes are checked in the order of ``checks`` (default: the arguments'), which is the order in which
    :mod:`kfsym.numeric` reports them, so that both raise the same error first.
    """
    args = [_Arg(name, _as_dask(value, name), _KINDS[kind][0], keyword) for name, value, kind in specs]
    kinds = {name: kind for name, _, kind in specs}
    by_name = {arg.name: arg for arg in args}
    for name in checks or list(by_name):
        check = _KINDS[kinds[name]][1]
        if check is not None:
            check(by_name[name].array.shape, name)
    return args


def _batch(arg: _Arg) -> tuple[int, ...]:
    shape: tuple[int, ...] = arg.array.shape
    return shape[: len(shape) - arg.core]


# ----------------------------------------------------------------------------- the graph
def _block(
    where: tuple[slice, ...],
    *blocks: Any,
    function: Callable[..., Any],
    names: tuple[str, ...],
    keywords: tuple[bool, ...],
    options: dict[str, Any],
    dtypes: tuple[np.dtype[Any], ...] | None,
) -> Any:
    """One task: the NumPy function on one block; its errors name the block."""
    positional = [block for block, keyword in zip(blocks, keywords, strict=True) if not keyword]
    named = {name: block for block, name, keyword in zip(blocks, names, keywords, strict=True) if keyword}
    try:
        result = function(*positional, **named, **options)
    except (ValueError, TypeError, ArithmeticError) as error:
        try:
            located = type(error)(f"{error}{_located(where)}")
        except Exception:  # an exception class with another constructor: raise it as it is
            raise error from None
        raise located from None
    if dtypes is None:
        return np.asarray(result, dtype=_FLOAT)
    return tuple(np.asarray(field, dtype=dtype) for field, dtype in zip(result, dtypes, strict=True))


def _located(where: tuple[slice, ...]) -> str:
    if not where:
        return ""
    ranges = ", ".join(f"{part.start}:{part.stop}" for part in where)
    return f" [Dask block at batch indices [{ranges}] of the result; indices above count from the block's start]"


def _map(
    function: Callable[..., Any],
    args: Sequence[_Arg],
    outputs: Sequence[tuple[str, tuple[int, ...], np.dtype[Any]]] | None = None,
    **options: Any,
) -> Any:
    """Apply ``function`` block by block; a Dask array (``outputs`` None) or a tuple of them.

    ``outputs`` gives each output's field name, core shape and dtype; ``None`` means a
    single float64 output without core axes.
    """
    batch_ndim = max(arg.array.ndim - arg.core for arg in args)
    pairs: list[Any] = []
    label = batch_ndim
    for arg in args:
        array = arg.array
        core_axes = tuple(range(array.ndim - arg.core, array.ndim))
        if any(array.numblocks[axis] > 1 for axis in core_axes):  # a chunked core axis: one chunk
            array = array.rechunk(dict.fromkeys(core_axes, -1))
        loop = tuple(range(batch_ndim - (array.ndim - arg.core), batch_ndim))
        pairs += [array, loop + tuple(range(label, label + arg.core))]
        label += arg.core
    chunkss, arrays = da.core.unify_chunks(*pairs)
    out_index = tuple(range(batch_ndim))
    out_chunks = tuple(chunkss[index] for index in out_index)
    blockwise_args: list[Any] = [ArraySliceDep(out_chunks), out_index]
    for array, index in zip(arrays, pairs[1::2], strict=True):
        blockwise_args += [array, index]
    dtypes = None if outputs is None else tuple(dtype for _, _, dtype in outputs)
    empty = np.empty((0,) * batch_ndim)
    result = da.blockwise(
        _block,
        out_index,
        *blockwise_args,
        function=function,
        names=tuple(arg.name for arg in args),
        keywords=tuple(arg.keyword for arg in args),
        options=options,
        dtypes=dtypes,
        concatenate=True,
        align_arrays=False,
        meta=empty if outputs is None else tuple(empty.astype(dtype) for _, _, dtype in outputs),
        token=f"kfsym-{function.__name__}",
    )
    if outputs is None:
        return result
    keys = list(flatten(result.__dask_keys__()))
    fields = []
    token = result.name.rsplit("-", 1)[-1]
    for position, (field, core, dtype) in enumerate(outputs):
        name = f"kfsym-{function.__name__}-{field}-{token}"  # shown as kfsym-kf_filter-filtered_means
        graph = {(name, *key[1:], *(0,) * len(core)): (operator.getitem, key, position) for key in keys}
        fields.append(
            da.Array(
                HighLevelGraph.from_collections(name, graph, dependencies=[result]),
                name,
                chunks=result.chunks + tuple((size,) for size in core),
                meta=np.empty((0,) * (batch_ndim + len(core)), dtype=dtype),
            )
        )
    return tuple(fields)


# ----------------------------------------------------------------------------- 1-D Gaussians
def _density_call(function: Callable[..., Any], x: Any, mean: Any, var: Any) -> Any:
    args = _args(("x", x, "scalar"), ("mean", mean, "scalar"), ("var", var, "scalar"))
    broadcast_shapes(**{arg.name: arg.array.shape for arg in args})
    return _map(function, args)


def pdf(x: Any, mean: Any = 0.0, var: Any = 1.0) -> Any:
    """Gaussian density N(x; mean, var) of Dask arrays: :func:`kfsym.numeric.pdf` block by block.

    Parameters
    ----------
    x, mean, var : dask.array.Array or array_like
        As for :func:`kfsym.numeric.pdf` (``var`` is a variance); shapes broadcast.

    Returns
    -------
    dask.array.Array
        float64, the broadcast shape, chunked like the inputs.

    Raises
    ------
    TypeError, ValueError
        At call time for dtypes and shapes; at compute time for values (NaN, ``var`` <= 0, ...).

    Examples
    --------
    >>> import dask.array as da
    >>> x = da.from_array([0.0, 1.0, 2.0, 3.0], chunks=2)
    >>> pdf(x, mean=1.0, var=4.0).compute().round(6)
    array([0.176033, 0.199471, 0.176033, 0.120985])
    """
    return _density_call(numeric.pdf, x, mean, var)


def logpdf(x: Any, mean: Any = 0.0, var: Any = 1.0) -> Any:
    """Log-density of Dask arrays: :func:`kfsym.numeric.logpdf` block by block (see :func:`pdf`).

    Examples
    --------
    >>> import dask.array as da
    >>> logpdf(da.from_array([40.0], chunks=1)).compute()
    array([-800.91893853])
    """
    return _density_call(numeric.logpdf, x, mean, var)


def cdf(x: Any, mean: Any = 0.0, var: Any = 1.0) -> Any:
    """Distribution function of Dask arrays: :func:`kfsym.numeric.cdf` block by block (see :func:`pdf`).

    Examples
    --------
    >>> import dask.array as da
    >>> cdf(da.zeros(3, chunks=2)).compute()
    array([0.5, 0.5, 0.5])
    """
    return _density_call(numeric.cdf, x, mean, var)


_PAIR = ("mean1", "var1", "mean2", "var2")


def _pair_args(mean1: Any, var1: Any, mean2: Any, var2: Any) -> list[_Arg]:
    args = _args(*((name, value, "scalar") for name, value in zip(_PAIR, (mean1, var1, mean2, var2), strict=True)))
    broadcast_shapes(**{arg.name: arg.array.shape for arg in args})
    return args


def multiply(mean1: Any, var1: Any, mean2: Any, var2: Any) -> Gaussian:
    """Normalised product (Bayes update) of Dask arrays: :func:`kfsym.numeric.multiply` block by block.

    Returns
    -------
    Gaussian
        ``mean`` and ``var`` as Dask arrays of the broadcast shape; both come from one task per block.

    Examples
    --------
    >>> import dask.array as da
    >>> posterior = multiply(da.zeros(4, chunks=2), 2.0, 10.0, 2.0)
    >>> posterior.mean.compute(), posterior.var.compute()
    (array([5., 5., 5., 5.]), array([1., 1., 1., 1.]))
    """
    return Gaussian(*_map(numeric.multiply, _pair_args(mean1, var1, mean2, var2), _SCALAR_GAUSSIAN))


def add(mean1: Any, var1: Any, mean2: Any, var2: Any) -> Gaussian:
    """Sum of independent Gaussians (prediction) of Dask arrays: :func:`kfsym.numeric.add` block by block.

    Examples
    --------
    >>> import dask.array as da
    >>> add(da.ones(3, chunks=2), 1.0, 10.0, 1.0).var.compute()
    array([2., 2., 2.])
    """
    return Gaussian(*_map(numeric.add, _pair_args(mean1, var1, mean2, var2), _SCALAR_GAUSSIAN))


def evidence(mean1: Any, var1: Any, mean2: Any, var2: Any) -> Any:
    """Normaliser N(mean1; mean2, var1 + var2) of Dask arrays: :func:`kfsym.numeric.evidence` block by block.

    Examples
    --------
    >>> import dask.array as da
    >>> evidence(da.zeros(2, chunks=1), 2.0, 10.0, 2.0).compute()
    array([7.43359757e-07, 7.43359757e-07])
    """
    return _map(numeric.evidence, _pair_args(mean1, var1, mean2, var2))


def log_evidence(mean1: Any, var1: Any, mean2: Any, var2: Any) -> Any:
    """Logarithm of :func:`evidence`: :func:`kfsym.numeric.log_evidence` block by block.

    Examples
    --------
    >>> import dask.array as da
    >>> log_evidence(da.zeros(2, chunks=1), 1.0, 100.0, 1.0).compute()
    array([-2501.26551212, -2501.26551212])
    """
    return _map(numeric.log_evidence, _pair_args(mean1, var1, mean2, var2))


# ----------------------------------------------------------------------------- multivariate Gaussians
def _point_args(x: Any, mean: Any, cov: Any) -> list[_Arg]:
    args = _args(("x", x, "vector"), ("mean", mean, "vector"), ("cov", cov, "square"))
    same_size(**{arg.name: arg.array.shape[-1] for arg in args})
    broadcast_shapes(**{arg.name: _batch(arg) for arg in args})
    return args


def mvn_pdf(x: Any, mean: Any, cov: Any) -> Any:
    """Multivariate density of Dask arrays: :func:`kfsym.numeric.mvn_pdf` block by block.

    Parameters
    ----------
    x : dask.array.Array or array_like, shape (..., n)
    mean : dask.array.Array or array_like, shape (..., n)
    cov : dask.array.Array or array_like, shape (..., n, n)
        Symmetric positive definite (checked per block at compute time).

    Returns
    -------
    dask.array.Array, shape (...)
        Chunked like the batch axes of the inputs.

    Examples
    --------
    >>> import dask.array as da
    >>> points = da.zeros((4, 2), chunks=(2, 2))
    >>> mvn_pdf(points, [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]]).compute().round(6)
    array([0.159155, 0.159155, 0.159155, 0.159155])
    """
    return _map(numeric.mvn_pdf, _point_args(x, mean, cov))


def mvn_logpdf(x: Any, mean: Any, cov: Any) -> Any:
    """Multivariate log-density of Dask arrays: :func:`kfsym.numeric.mvn_logpdf` block by block.

    Examples
    --------
    >>> import dask.array as da
    >>> mvn_logpdf(da.zeros((2, 2), chunks=1), [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]]).compute().round(6)
    array([-1.837877, -1.837877])
    """
    return _map(numeric.mvn_logpdf, _point_args(x, mean, cov))


def mahalanobis(x: Any, mean: Any, cov: Any) -> Any:
    """Mahalanobis distance of Dask arrays: :func:`kfsym.numeric.mahalanobis` block by block.

    Examples
    --------
    >>> import dask.array as da
    >>> mahalanobis(da.from_array([[3.0, 4.0], [0.0, 1.0]], chunks=1), [0.0, 0.0], [[1.0, 0.0], [0.0, 1.0]]).compute()
    array([5., 1.])
    """
    return _map(numeric.mahalanobis, _point_args(x, mean, cov))


def _mvn_pair_args(mean1: Any, cov1: Any, mean2: Any, cov2: Any) -> tuple[list[_Arg], int]:
    args = _args(
        ("mean1", mean1, "vector"),
        ("cov1", cov1, "square"),
        ("mean2", mean2, "vector"),
        ("cov2", cov2, "square"),
        checks=("mean1", "mean2", "cov1", "cov2"),  # kfsym.numeric's order
    )
    size = same_size(**{arg.name: arg.array.shape[-1] for arg in args})
    broadcast_shapes(**{arg.name: _batch(arg) for arg in args})
    return args, size


def _gaussian_outputs(size: int) -> list[tuple[str, tuple[int, ...], np.dtype[Any]]]:
    return [("mean", (size,), _FLOAT), ("cov", (size, size), _FLOAT)]


def mvn_multiply(mean1: Any, cov1: Any, mean2: Any, cov2: Any) -> MultivariateGaussian:
    """Normalised product of multivariate Gaussians, Dask arrays: :func:`kfsym.numeric.mvn_multiply` per block.

    Returns
    -------
    MultivariateGaussian
        ``mean (..., n)`` and ``cov (..., n, n)`` as Dask arrays, from one task per block.

    Examples
    --------
    >>> import dask.array as da
    >>> means = da.from_array([[0.0, 0.0], [2.0, 2.0]], chunks=(1, 2))
    >>> mvn_multiply(means, 2.0 * np.eye(2), [10.0, 0.0], 2.0 * np.eye(2)).mean.compute()
    array([[5., 0.],
           [6., 1.]])
    """
    args, size = _mvn_pair_args(mean1, cov1, mean2, cov2)
    return MultivariateGaussian(*_map(numeric.mvn_multiply, args, _gaussian_outputs(size)))


def mvn_add(mean1: Any, cov1: Any, mean2: Any, cov2: Any) -> MultivariateGaussian:
    """Sum of independent Gaussian vectors, Dask arrays: :func:`kfsym.numeric.mvn_add` per block.

    Examples
    --------
    >>> import dask.array as da
    >>> mvn_add(da.ones((3, 2), chunks=(2, 2)), np.eye(2), [0.5, 0.5], np.eye(2)).cov.shape
    (3, 2, 2)
    """
    args, size = _mvn_pair_args(mean1, cov1, mean2, cov2)
    return MultivariateGaussian(*_map(numeric.mvn_add, args, _gaussian_outputs(size)))


# ----------------------------------------------------------------------------- Kalman steps
def kf_predict(x: Any, P: Any, F: Any, Q: Any, *, B: Any = None, u: Any = None) -> MultivariateGaussian:
    """Predict step on Dask arrays: :func:`kfsym.numeric.kf_predict` block by block.

    Parameters
    ----------
    x, P, F, Q, B, u : dask.array.Array or array_like
        As for :func:`kfsym.numeric.kf_predict`; batch axes broadcast and keep their chunks.

    Returns
    -------
    MultivariateGaussian
        Dask arrays ``mean (..., n)`` and ``cov (..., n, n)``.

    Examples
    --------
    >>> import dask.array as da
    >>> states = da.zeros((1000, 2), chunks=(250, 2))
    >>> F = [[1.0, 1.0], [0.0, 1.0]]
    >>> predicted = kf_predict(states + [0.0, 1.0], np.eye(2), F, 0.1 * np.eye(2))
    >>> predicted.mean.chunks, predicted.cov.chunks
    (((250, 250, 250, 250), (2,)), ((250, 250, 250, 250), (2,), (2,)))
    >>> predicted.mean[:2].compute()
    array([[1., 1.],
           [1., 1.]])
    """
    args = _args(("x", x, "vector"), ("P", P, "square"), ("F", F, "matrix"), ("Q", Q, "square"))
    shape = {arg.name: arg.array.shape for arg in args}
    size = same_size(
        x=shape["x"][-1], P=shape["P"][-1], F=shape["F"][-1], **{"F rows": shape["F"][-2]}, Q=shape["Q"][-1]
    )
    if (B is None) != (u is None):
        raise ValueError("give both B and u, or neither")
    if B is not None and u is not None:
        control, gain = _args(("u", u, "vector"), ("B", B, "matrix"), keyword=True)
        same_size(x=size, **{"B rows": gain.array.shape[-2]})
        same_size(u=control.array.shape[-1], **{"B columns": gain.array.shape[-1]})
        args += [gain, control]
    broadcast_shapes(**{arg.name: _batch(arg) for arg in args})
    return MultivariateGaussian(*_map(numeric.kf_predict, args, _gaussian_outputs(size)))


def kf_update(x: Any, P: Any, z: Any, H: Any, R: Any) -> MultivariateGaussian:
    """Update step on Dask arrays: :func:`kfsym.numeric.kf_update` block by block.

    Parameters
    ----------
    x, P, z, H, R : dask.array.Array or array_like
        As for :func:`kfsym.numeric.kf_update`; batch axes broadcast and keep their chunks.

    Returns
    -------
    MultivariateGaussian
        Dask arrays ``mean (..., n)`` and ``cov (..., n, n)``.

    Examples
    --------
    >>> import dask.array as da
    >>> z = da.from_array([[10.0], [4.0]], chunks=1)
    >>> kf_update([0.0], [[2.0]], z, [[1.0]], [[2.0]]).mean.compute()
    array([[5.],
           [2.]])
    """
    args = _args(("x", x, "vector"), ("P", P, "square"), ("z", z, "vector"), ("H", H, "matrix"), ("R", R, "square"))
    shape = {arg.name: arg.array.shape for arg in args}
    size = same_size(x=shape["x"][-1], P=shape["P"][-1], **{"H columns": shape["H"][-1]})
    same_size(z=shape["z"][-1], R=shape["R"][-1], **{"H rows": shape["H"][-2]})
    broadcast_shapes(**{arg.name: _batch(arg) for arg in args})
    return MultivariateGaussian(*_map(numeric.kf_update, args, _gaussian_outputs(size)))


# ----------------------------------------------------------------------------- sequences
def _time_axis(arg: _Arg, varying: bool, steps: int, *, vector: bool = False) -> _Arg:
    """Check the time axis of a time-varying model argument (as kfsym.numeric does); count it as core."""
    if not varying:
        return arg
    shape = arg.array.shape
    axis = -2 if vector else -3
    if len(shape) < -axis:
        raise ValueError(f"{arg.name} is time-varying, so it needs a time axis at {axis}; got shape {shape}")
    expected = steps - 1 if arg.name in _PER_TRANSITION else steps
    if shape[axis] != expected:
        what = "transitions (T - 1)" if arg.name in _PER_TRANSITION else "measurements (T)"
        raise ValueError(
            f"{arg.name} is time-varying: its axis {axis} must have one entry per {what} = {expected}, "
            f"got {shape[axis]}"
        )
    return arg._replace(core=arg.core + 1)


def kf_filter(  # noqa: PLR0917 - the textbook order z, x0, P0, F, Q, H, R
    z: Any,
    x0: Any,
    P0: Any,
    F: Any,
    Q: Any,
    H: Any,
    R: Any,
    *,
    B: Any = None,
    u: Any = None,
    time_varying: str | Iterable[str] = (),
    backend: str = "auto",
) -> FilterResult:
    """Kalman-filter many tracks held in Dask arrays: :func:`kfsym.numeric.kf_filter` per block of tracks.

    The time axis (axis -2 of ``z``, the time axes of time-varying model matrices) is a
    core axis: one chunk (rechunked to one if the user chunked it). The batch axes (the
    tracks) keep their chunks, and each block of tracks is filtered by one task.

    Parameters
    ----------
    z : dask.array.Array, array_like or numpy.ma.MaskedArray, shape (..., T, m)
        Measurements; a masked Dask array (``dask.array.ma``) or a NumPy masked array
        marks missing ones, as in :func:`kfsym.numeric.kf_filter`.
    x0, P0, F, Q, H, R, B, u, time_varying
        As for :func:`kfsym.numeric.kf_filter`.
    backend : {"auto", "numba", "numpy"}, optional
        Passed to :func:`kfsym.numeric.kf_filter` in every task.

    Returns
    -------
    FilterResult
        Every field a Dask array with the batch axes in front (``log_likelihood`` has
        shape ``(...)``, a 0-d array for a single track).

    Examples
    --------
    >>> import dask.array as da
    >>> F = [[1.0, 1.0], [0.0, 1.0]]
    >>> z = da.from_array(np.tile([[1.0], [2.1], [2.9]], (4, 1, 1)), chunks=(2, 3, 1))   # 4 tracks, T = 3
    >>> result = kf_filter(z, [0.0, 1.0], np.eye(2), F, 0.01 * np.eye(2), [[1.0, 0.0]], [[0.5]])
    >>> result.filtered_means.chunks
    ((2, 2), (3,), (2,))
    >>> result.log_likelihood.compute().round(6)
    array([-3.993157, -3.993157, -3.993157, -3.993157])
    """
    varying = _varying_names(time_varying)
    measurements = _Arg("z", _measurements_as_dask(z), 2)
    shape = measurements.array.shape
    if len(shape) < 2 or shape[-1] == 0 or shape[-2] == 0:
        raise ValueError(f"z must be measurements (..., T, m) with T, m >= 1, got shape {shape}")
    steps, count = shape[-2], shape[-1]
    prior = _Arg("x0", _as_dask(x0, "x0"), 1)
    if prior.array.ndim < 1 or prior.array.shape[-1] == 0:
        raise ValueError(f"x0 must be a state vector (..., n), got shape {prior.array.shape}")
    prior_cov = _Arg("P0", _as_dask(P0, "P0"), 2)
    _square(prior_cov.array.shape, "P0")
    terms: dict[str, _Arg] = {}
    for name, value, square in (("F", F, False), ("Q", Q, True), ("H", H, False), ("R", R, True)):
        arg = _Arg(name, _as_dask(value, name), 2)
        (_square if square else _rectangular)(arg.array.shape, name)
        terms[name] = _time_axis(arg, name in varying, steps)
    if (B is None) != (u is None):
        raise ValueError("give both B and u, or neither")
    if B is not None and u is not None:
        gain = _Arg("B", _as_dask(B, "B"), 2, True)
        _rectangular(gain.array.shape, "B")
        terms["B"] = _time_axis(gain, "B" in varying, steps)
        control = _Arg("u", _as_dask(u, "u"), 1, True)
        if control.array.ndim < 1:
            raise ValueError("u must be a vector (..., k), got a scalar")
        terms["u"] = _time_axis(control, "u" in varying, steps, vector=True)
    elif varying & {"B", "u"}:
        raise ValueError("time_varying names B or u, but neither was given")
    last = {name: arg.array.shape[-1] for name, arg in terms.items()}
    size = same_size(
        x0=prior.array.shape[-1],
        P0=prior_cov.array.shape[-1],
        F=last["F"],
        **{"F rows": terms["F"].array.shape[-2]},
        Q=last["Q"],
        **{"H columns": last["H"]},
    )
    same_size(z=count, R=last["R"], **{"H rows": terms["H"].array.shape[-2]})
    if "B" in terms:
        same_size(x0=size, **{"B rows": terms["B"].array.shape[-2]})
        same_size(u=last["u"], **{"B columns": last["B"]})
    args = [measurements, prior, prior_cov, *terms.values()]
    broadcast_shapes(**{arg.name: _batch(arg) for arg in args})
    shared = not any(_batch(arg) for arg in terms.values())
    _check_backend(backend, shared, _FILTER_MATRICES, need_numba=False)
    cores: list[tuple[tuple[int, ...], np.dtype[Any]]] = [
        ((steps, size), _FLOAT),
        ((steps, size, size), _FLOAT),
        ((steps, size), _FLOAT),
        ((steps, size, size), _FLOAT),
        ((steps, count), _FLOAT),
        ((steps, count, count), _FLOAT),
        ((steps,), _FLOAT),
        ((), _FLOAT),
        ((steps, count), _BOOL),
    ]
    outputs = [(field, core, dtype) for field, (core, dtype) in zip(FilterResult._fields, cores, strict=True)]
    fields = _map(numeric.kf_filter, args, outputs, time_varying=tuple(sorted(varying)), backend=backend)
    return FilterResult(*fields)


def _smooth(
    predicted_means: Any,
    predicted_covariances: Any,
    filtered_means: Any,
    filtered_covariances: Any,
    F: Any,
    *,
    time_varying: tuple[str, ...],
    backend: str,
) -> SmootherResult:
    """One block of :func:`rts_smoother`: the NumPy smoother reads only these four fields of the filter result."""
    unused: Any = None
    filtered = FilterResult(
        predicted_means,
        predicted_covariances,
        filtered_means,
        filtered_covariances,
        unused,
        unused,
        unused,
        unused,
        unused,
    )
    return numeric.rts_smoother(filtered, F, time_varying=time_varying, backend=backend)


def rts_smoother(
    filtered: FilterResult, F: Any, *, time_varying: str | Iterable[str] = (), backend: str = "auto"
) -> SmootherResult:
    """Rauch–Tung–Striebel smoother over a :func:`kf_filter` result of Dask arrays, per block of tracks.

    Parameters
    ----------
    filtered : FilterResult
        The output of :func:`kf_filter` (Dask or NumPy arrays); its time axis is one chunk.
    F : dask.array.Array or array_like, shape (..., n, n)
        The transition matrices the filter used (``(..., T - 1, n, n)`` if time-varying).
    time_varying : str or iterable of str, optional
        ``"F"`` when ``F`` carries a time axis.
    backend : {"auto", "numba", "numpy"}, optional
        As in :func:`kfsym.numeric.rts_smoother`, for every block.

    Returns
    -------
    SmootherResult
        Dask arrays: smoothed means ``(..., T, n)``, covariances ``(..., T, n, n)``,
        gains ``(..., T - 1, n, n)``.

    Examples
    --------
    >>> import dask.array as da
    >>> F = [[1.0, 1.0], [0.0, 1.0]]
    >>> z = da.from_array(np.tile([[1.0], [2.1], [2.9]], (4, 1, 1)), chunks=(2, 3, 1))
    >>> filtered = kf_filter(z, [0.0, 1.0], np.eye(2), F, 0.01 * np.eye(2), [[1.0, 0.0]], [[0.5]])
    >>> smoothed = rts_smoother(filtered, F)
    >>> smoothed.smoothed_means.chunks
    ((2, 2), (3,), (2,))
    >>> bool(np.allclose(smoothed.smoothed_means[:, -1].compute(), filtered.filtered_means[:, -1].compute()))
    True
    """
    if not isinstance(filtered, FilterResult):
        raise TypeError(f"filtered must be the FilterResult of kf_filter, got {type(filtered).__name__}")
    varying = _varying_names(time_varying)
    if varying - {"F"}:
        raise ValueError(f"rts_smoother takes only F; time_varying names {sorted(varying - {'F'})}")
    names = ("predicted_means", "predicted_covariances", "filtered_means", "filtered_covariances")
    args = [_Arg(name, _as_dask(getattr(filtered, name), name), 2 + name.endswith("covariances")) for name in names]
    steps, size = args[2].array.shape[-2:]
    transition = _Arg("F", _as_dask(F, "F"), 2)
    _rectangular(transition.array.shape, "F")
    transition = _time_axis(transition, "F" in varying, steps)
    same_size(state=size, F=transition.array.shape[-1], **{"F rows": transition.array.shape[-2]})
    broadcast_shapes(filtered=_batch(args[2]), F=_batch(transition))
    _check_backend(backend, not _batch(transition), "F", need_numba=False)
    outputs = [
        ("smoothed_means", (steps, size), _FLOAT),
        ("smoothed_covariances", (steps, size, size), _FLOAT),
        ("smoother_gains", (max(steps - 1, 0), size, size), _FLOAT),
    ]
    smoothed = _map(_smooth, [*args, transition], outputs, time_varying=tuple(sorted(varying)), backend=backend)
    return SmootherResult(*smoothed)
