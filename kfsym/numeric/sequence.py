"""Whole time series: the Kalman filter, the Rauch–Tung–Striebel smoother and the log-likelihood.

Shapes and axes
---------------
``z`` is ``(..., T, m)``: its second-to-last axis is **time** (T measurements of size m),
and every axis before it is a **batch** axis (independent tracks). ``x0 (..., n)`` and
``P0 (..., n, n)`` are the prior of the state at the first measurement time. The model
matrices ``F (n, n)``, ``Q (n, n)``, ``H (m, n)``, ``R (m, m)`` (and ``B (n, k)``, ``u (k,)``)
are constant in time and may carry leading batch axes that broadcast with the others.

A matrix that varies with time is named in ``time_varying``; its axis -3 (axis -2 for
``u``) is then the time axis:

- ``H``, ``R``: one per measurement, ``(..., T, m, n)`` and ``(..., T, m, m)``;
- ``F``, ``Q``, ``B``, ``u``: one per *transition* between measurements t and t+1,
  ``(..., T - 1, n, n)`` etc. (the pykalman and dynamax convention: the first
  measurement updates the prior ``x0, P0`` directly, without a prediction).

Nothing is inferred from the number of dimensions, so a batch axis can never be taken for
a time axis.

Missing measurements
--------------------
Pass ``z`` as a :class:`numpy.ma.MaskedArray`. A step whose measurement is fully masked is
a pure prediction; a partly masked step is updated with its observed components only.
Both are exact: a masked component gets a zero row in ``H``, a unit variance uncorrelated
with the rest in the innovation covariance and a zero innovation, so its gain column is
zero, and the log-likelihood counts only observed components.

The formulas are the proved ones: prediction ``x' = F x + B u``, ``P' = F P F^T + Q``
(``kalman.predict``); update with the gain from a linear solve with
``S = H P H^T + R`` and the Joseph form (``kalman.update_general``,
``kalman.joseph_general``); the log-likelihood as the sum of the innovation terms
``log N(z_t; H x_t|t-1, S_t)`` (``sequence.loglikelihood_factorisation``, T = 2 and
``sequence.loglikelihood_factorisation_t3``, T = 3; the chain rule beyond is stated there
in prose); the RTS backward pass with gain ``G_t = P_t|t F_t^T P_t+1|t^{-1}`` from a solve,
never an inverse (``sequence.rts_gain_general`` and ``sequence.rts_step_general`` for any n,
``sequence.rts_scalar`` against exact conditioning for T = 2).
"""

from __future__ import annotations

import math
import sys
import weakref
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from kfsym.numeric._validate import (
    FloatArray,
    broadcast_shapes,
    covariance,
    finite,
    first_indefinite_index,
    real,
    rectangular,
    same_size,
    singular_pivot_floor,
    unit_scaled,
)
from kfsym.numeric.multivariate import covariance_result

__all__ = ["FilterResult", "SmootherResult", "kf_filter", "rts_smoother"]

_LOG_2PI = math.log(2.0 * math.pi)
_LOG_2 = math.log(2.0)
_PER_TRANSITION = ("F", "Q", "B", "u")
_PER_MEASUREMENT = ("H", "R")
_FILTER_MATRICES = "F, Q, H, R, B, u"  # the model matrices the compiled filter shares among tracks


class FilterResult(NamedTuple):
    """Output of :func:`kf_filter`; ``...`` are the batch axes, ``T`` the time axis.

    Attributes
    ----------
    predicted_means : ndarray, shape (..., T, n)
        x_t|t-1, the prior at each measurement time (``x0`` at t = 0).
    predicted_covariances : ndarray, shape (..., T, n, n)
    filtered_means : ndarray, shape (..., T, n)
        x_t|t, after the update with z_t.
    filtered_covariances : ndarray, shape (..., T, n, n)
    innovations : ndarray, shape (..., T, m)
        z_t - H x_t|t-1 for observed components, 0 for masked ones.
    innovation_covariances : ndarray, shape (..., T, m, m)
        S_t = H P_t|t-1 H^T + R, the predictive covariance of z_t (all components).
    log_likelihoods : ndarray, shape (..., T)
        log N(z_t; H x_t|t-1, S_t) over the observed components (0 for a missing step).
    log_likelihood : float or ndarray, shape (...)
        The total, log p(z_0, ..., z_T-1) = the sum of ``log_likelihoods``.
    observed : ndarray of bool, shape (..., T, m)
        Which measurement components were used.
    """

    predicted_means: FloatArray
    predicted_covariances: FloatArray
    filtered_means: FloatArray
    filtered_covariances: FloatArray
    innovations: FloatArray
    innovation_covariances: FloatArray
    log_likelihoods: FloatArray
    log_likelihood: Any
    observed: Any


class SmootherResult(NamedTuple):
    """Output of :func:`rts_smoother`.

    Attributes
    ----------
    smoothed_means : ndarray, shape (..., T, n)
        E[x_t | z_0, ..., z_T-1].
    smoothed_covariances : ndarray, shape (..., T, n, n)
    smoother_gains : ndarray, shape (..., T - 1, n, n)
        G_t = P_t|t F_t^T P_t+1|t^{-1}.
    """

    smoothed_means: FloatArray
    smoothed_covariances: FloatArray
    smoother_gains: FloatArray


class _Term(NamedTuple):
    """One model argument: its array and whether axis -3 (-2 for vectors) is time."""

    value: FloatArray
    varying: bool

    def at(self, t: int, vector: bool = False) -> FloatArray:
        if not self.varying:
            return self.value
        return self.value[..., t, :] if vector else self.value[..., t, :, :]

    def batch(self, vector: bool = False) -> tuple[int, ...]:
        core = (1 if vector else 2) + self.varying
        return self.value.shape[: self.value.ndim - core]


class _Model(NamedTuple):
    z: FloatArray  # (..., T, m), masked components set to 0
    observed: Any  # (..., T, m) bool
    x0: FloatArray
    P0: FloatArray
    F: _Term
    Q: _Term
    H: _Term
    R: _Term
    B: _Term | None
    u: _Term | None
    batch: tuple[int, ...]
    steps: int
    size: int
    measurement_size: int


def _varying_names(time_varying: str | Iterable[str]) -> set[str]:
    if isinstance(time_varying, str):
        names = {time_varying}
    else:
        try:
            names = set(time_varying)
        except TypeError:
            raise TypeError(
                f"time_varying must be a name or an iterable of names, got {type(time_varying).__name__}"
            ) from None
        if not all(isinstance(name, str) for name in names):
            raise TypeError(f"time_varying must hold names (str), got {sorted(map(repr, names))}")
    unknown = names - set(_PER_TRANSITION + _PER_MEASUREMENT)
    if unknown:
        raise ValueError(f"time_varying names model arguments among F, Q, B, u, H, R; got {sorted(unknown)}")
    return names


def _measurements(z: ArrayLike) -> tuple[FloatArray, Any]:
    """(values with masked entries set to 0, observed mask) of ``z (..., T, m)``."""
    masked_module = sys.modules.get("numpy.ma")  # not imported: z cannot be a masked array
    if masked_module is not None and isinstance(z, masked_module.MaskedArray):
        observed = ~masked_module.getmaskarray(z)
        values = finite(np.where(observed, z.filled(0.0), 0.0), "z")
    else:
        values = finite(z, "z")
        observed = np.ones(values.shape, dtype=bool)
    if values.ndim < 2 or values.shape[-1] == 0 or values.shape[-2] == 0:
        raise ValueError(f"z must be measurements (..., T, m) with T, m >= 1, got shape {values.shape}")
    return values, observed


def _term(value: ArrayLike, name: str, varying: bool, steps: int, *, kind: str) -> _Term:
    """Validate one model argument (``kind``: 'covariance', 'matrix' or 'vector') and its time axis."""
    if kind == "covariance":
        array = covariance(value, name, definite=False)
    elif kind == "matrix":
        array = rectangular(value, name)
    else:
        array = finite(value, name)
        if array.ndim < 1:
            raise ValueError(f"{name} must be a vector (..., k), got a scalar")
    if varying:
        axis = -2 if kind == "vector" else -3
        if array.ndim < -axis:
            raise ValueError(f"{name} is time-varying, so it needs a time axis at {axis}; got shape {array.shape}")
        expected = steps - 1 if name in _PER_TRANSITION else steps
        if array.shape[axis] != expected:
            what = "transitions (T - 1)" if name in _PER_TRANSITION else "measurements (T)"
            raise ValueError(
                f"{name} is time-varying: its axis {axis} must have one entry per {what} = {expected}, "
                f"got {array.shape[axis]}"
            )
    return _Term(array, varying)


def _model(
    *,
    z: ArrayLike,
    x0: ArrayLike,
    P0: ArrayLike,
    F: ArrayLike,
    Q: ArrayLike,
    H: ArrayLike,
    R: ArrayLike,
    B: ArrayLike | None,
    u: ArrayLike | None,
    time_varying: str | Iterable[str],
) -> _Model:
    """Validate every argument once, for the whole sequence."""
    varying = _varying_names(time_varying)
    values, observed = _measurements(z)
    steps, count = values.shape[-2], values.shape[-1]
    mean = finite(x0, "x0")
    if mean.ndim < 1 or mean.shape[-1] == 0:
        raise ValueError(f"x0 must be a state vector (..., n), got shape {mean.shape}")
    cov = covariance(P0, "P0", definite=False)
    terms = {
        "F": _term(F, "F", "F" in varying, steps, kind="matrix"),
        "Q": _term(Q, "Q", "Q" in varying, steps, kind="covariance"),
        "H": _term(H, "H", "H" in varying, steps, kind="matrix"),
        "R": _term(R, "R", "R" in varying, steps, kind="covariance"),
    }
    if (B is None) != (u is None):
        raise ValueError("give both B and u, or neither")
    if B is not None and u is not None:
        terms["B"] = _term(B, "B", "B" in varying, steps, kind="matrix")
        terms["u"] = _term(u, "u", "u" in varying, steps, kind="vector")
    elif varying & {"B", "u"}:
        raise ValueError("time_varying names B or u, but neither was given")
    size = same_size(
        x0=mean.shape[-1],
        P0=cov.shape[-1],
        F=terms["F"].value.shape[-1],
        **{"F rows": terms["F"].value.shape[-2]},
        Q=terms["Q"].value.shape[-1],
        **{"H columns": terms["H"].value.shape[-1]},
    )
    same_size(z=count, R=terms["R"].value.shape[-1], **{"H rows": terms["H"].value.shape[-2]})
    shapes = {"z": values.shape[:-2], "x0": mean.shape[:-1], "P0": cov.shape[:-2]}
    if "B" in terms:
        same_size(x0=size, **{"B rows": terms["B"].value.shape[-2]})
        same_size(u=terms["u"].value.shape[-1], **{"B columns": terms["B"].value.shape[-1]})
    for name, term in terms.items():
        shapes[name] = term.batch(vector=name == "u")
    batch = broadcast_shapes(**shapes)
    return _Model(
        values,
        observed,
        mean,
        cov,
        terms["F"],
        terms["Q"],
        terms["H"],
        terms["R"],
        terms.get("B"),
        terms.get("u"),
        batch,
        steps,
        size,
        count,
    )


def _apply(matrix: FloatArray, vector: FloatArray) -> FloatArray:
    result: FloatArray = np.einsum("...ij,...j->...i", matrix, vector)
    return result


def _transpose(matrix: FloatArray) -> FloatArray:
    return np.swapaxes(matrix, -1, -2)


def _broadcast_batch(array: FloatArray, batch: tuple[int, ...], core: int) -> FloatArray:
    return np.broadcast_to(array, (*batch, *array.shape[array.ndim - core :]))


def _cholesky_solve(factor: Any, right: Any) -> Any:
    """C^-1 right from C = L L^T: forward, then back substitution (L has a positive diagonal: it does not fail)."""
    return np.linalg.solve(_transpose(factor), np.linalg.solve(factor, right))


def _track(bad: Any, batch: tuple[int, ...]) -> str:
    """`` for track (i, j)``: the first track flagged in ``bad`` (batch shape), or "" without batch axes."""
    if not batch:
        return ""
    flags = np.broadcast_to(bad, batch)
    return f" for track {tuple(int(i) for i in np.argwhere(flags)[0])}"


def _overflow(step: int, bad: Any, batch: tuple[int, ...], what: str) -> OverflowError:
    return OverflowError(f"the filter overflows at step {step}{_track(bad, batch)}: {what} exceed the largest double")


def _total(log_likelihoods: Any, batch: tuple[int, ...]) -> Any:
    """The sum over steps of each track's log-likelihood terms; OverflowError where it leaves the doubles
    (every term finite, the sum below -1.8e308)."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = log_likelihoods.sum(axis=-1)
    bad = ~np.isfinite(total)
    if bad.any():
        raise OverflowError(
            f"the total log-likelihood of the filter exceeds the largest double{_track(bad, batch)}: every step's "
            "term is finite, their sum is not"
        )
    return total


def _nonfinite(array: Any, core: int) -> Any:
    """Per batch element (the last ``core`` axes reduced): True where an entry is inf or NaN."""
    axes = tuple(range(-core, 0))
    return ~np.isfinite(array).all(axis=axes) if core else ~np.isfinite(array)


_PRIOR = "the predicted moments, the innovation or its covariance H P H^T + R"
_SINGULAR_PREDICTION = (
    "the predicted covariance P_t+1|t at step {step} is singular (to working precision: a Cholesky pivot at most "
    "4 n eps of its diagonal entry) or indefinite: the smoother gain is not unique"
)
_POSTERIOR = "the filtered moments or the log-likelihood"


def kf_filter(  # noqa: PLR0917 - the textbook order z, x0, P0, F, Q, H, R
    z: ArrayLike,
    x0: ArrayLike,
    P0: ArrayLike,
    F: ArrayLike,
    Q: ArrayLike,
    H: ArrayLike,
    R: ArrayLike,
    *,
    B: ArrayLike | None = None,
    u: ArrayLike | None = None,
    time_varying: str | Iterable[str] = (),
    backend: str = "auto",
) -> FilterResult:
    """Kalman-filter a whole sequence of measurements, for one track or a batch of tracks.

    Every argument is validated once for the whole sequence; the loop over time then runs
    on all tracks at once (one batched NumPy operation per step and formula).

    Parameters
    ----------
    z : array_like or numpy.ma.MaskedArray, shape (..., T, m)
        Measurements; axis -2 is time, earlier axes are batch axes. Masked components
        are missing (see the module docstring).
    x0 : array_like, shape (..., n)
        Prior mean of the state at the first measurement time.
    P0 : array_like, shape (..., n, n)
        Prior covariance, symmetric positive semi-definite.
    F, Q : array_like, shape (..., n, n)
        Transition matrix and process-noise covariance (per transition if time-varying:
        ``(..., T - 1, n, n)``).
    H : array_like, shape (..., m, n)
        Measurement matrix (``(..., T, m, n)`` if time-varying).
    R : array_like, shape (..., m, m)
        Measurement-noise covariance, symmetric positive semi-definite.
    B, u : array_like, optional (keywords)
        Control matrix ``(..., n, k)`` and input ``(..., k)``; give both or neither.
    time_varying : str or iterable of str, optional
        The names among F, Q, B, u, H, R that carry a time axis.
    backend : {"auto", "numba", "numpy"}, optional
        ``"numba"``: a compiled loop over time with the tracks innermost (SIMD) and blocks
        of tracks in parallel; needs the ``fast`` extra (Numba) and model matrices shared
        by all tracks (no batch axes on F, Q, H, R, B, u; x0, P0 and z may have them).
        The first call compiles it (a few seconds, then cached on disk). ``"numpy"``: one
        batched NumPy operation per formula and step; any shapes. ``"auto"`` (default)
        takes the compiled loop when Numba is installed and the model allows it. The two
        agree to rounding (the sums run in another order; both factor S scaled by powers
        of two, which changes no rounding), except where S
        is singular to working precision: then whether its Cholesky factor exists is
        decided by rounding, and the backends may differ (one raises, the other not).

    Returns
    -------
    FilterResult
        Predicted and filtered moments, innovations and their covariances, and the
        log-likelihood, all with the batch shape in front.

    Raises
    ------
    ValueError
        A bad argument (named), or an innovation covariance that is not positive
        definite (the step and the track are named).
    OverflowError
        A returned quantity (predicted or filtered moments, an innovation or its
        covariance, also a masked component's, or a log-likelihood term) exceeds
        the largest double: the earliest such step and its first track are named; or a
        track's total log-likelihood does (every term finite). Both backends raise the
        same error; nothing infinite is returned.

    Notes
    -----
    The covariance update is the Joseph form ``(I - K H) P (I - K H)^T + K R K^T``: it
    keeps covariances symmetric and semi-definite, but where a measurement is far more
    precise than the prior (``P H^2 / R`` beyond about 1e16 in one dimension) ``I - K H``
    is mostly rounding residue and the relative error of the updated covariance grows as
    ``eps^2 P H^2 / R`` (measured in one dimension: 1e-13 at 1e16, 1e-9 at 1e20, 1e-6
    at 1e24). A square-root (Cholesky-factor) filter would avoid it; kfsym has none yet.

    Examples
    --------
    >>> import numpy as np
    >>> F = [[1.0, 1.0], [0.0, 1.0]]
    >>> result = kf_filter([[1.0], [2.1], [2.9]], [0.0, 1.0], np.eye(2), F, 0.01 * np.eye(2), [[1.0, 0.0]], [[0.5]])
    >>> result.filtered_means.shape, result.filtered_covariances.shape
    ((3, 2), (3, 2, 2))
    >>> round(float(result.log_likelihood), 6)
    -3.993157
    """
    model = _model(z=z, x0=x0, P0=P0, F=F, Q=Q, H=H, R=R, B=B, u=u, time_varying=time_varying)
    compiled = _use_compiled(model, backend)
    # every result is checked for overflow explicitly: no floating-point warning leaks, whatever np.errstate says
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        return _filter_compiled(model) if compiled else _filter_numpy(model)


def _shared(model: _Model) -> bool:
    """True when no model matrix has batch axes (the compiled loop shares them among tracks)."""
    terms = [model.F, model.Q, model.H, model.R]
    vectors = [] if model.u is None else [model.u]
    if model.B is not None:
        terms.append(model.B)
    return all(term.batch() == () for term in terms) and all(term.batch(vector=True) == () for term in vectors)


def _numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def _check_backend(backend: str, shared: bool, matrices: str, *, need_numba: bool = True) -> None:
    """The ``backend`` argument of kf_filter and rts_smoother (also of their kfsym.dask versions): a ValueError
    for an unknown one, and for ``"numba"`` when the model matrices named in ``matrices`` have batch axes; an
    ImportError for ``"numba"`` without Numba when ``need_numba`` (kfsym.dask leaves that to its workers)."""
    if backend not in ("auto", "numba", "numpy"):
        raise ValueError(f"backend must be 'auto', 'numba' or 'numpy', got {backend!r}")
    if backend == "numba":
        if need_numba and not _numba_available():
            raise ImportError("backend='numba' needs Numba: pip install 'kfsym[fast]'")
        if not shared:
            raise ValueError(f"backend='numba' needs {matrices} shared by all tracks (no batch axes)")


def _use_compiled(model: _Model, backend: str) -> bool:
    shared = _shared(model)
    _check_backend(backend, shared, _FILTER_MATRICES)
    return backend != "numpy" and shared and _numba_available()


def _time_axis(term: _Term) -> FloatArray:
    """The term with a leading time axis (length 1 when constant), C-contiguous."""
    value = term.value if term.varying else term.value[None]
    return np.ascontiguousarray(value, dtype=np.float64)


# The compiled filter's output array behind each moment view it returned: id(view) -> (weak reference to the
# view, output (T, fields, K), first field). The compiled smoother reads those moments from there in place
# (no copies into its layout: it is that layout), including any change made to them through the views.
_COMPILED_VIEWS: dict[int, tuple[Any, Any, int]] = {}


def _remember(view: Any, out: Any, first: int) -> Any:
    """Register ``view`` as fields ``first, ...`` of the compiled filter's ``out``; returns the view."""
    key = id(view)
    _COMPILED_VIEWS[key] = (weakref.ref(view), out, first)
    weakref.finalize(view, _COMPILED_VIEWS.pop, key, None)
    return view


def _compiled_origin(array: Any) -> tuple[Any, int] | None:
    """(out, first field) when ``array`` is a moment view the compiled filter returned, else None."""
    entry = _COMPILED_VIEWS.get(id(array))
    if entry is None or entry[0]() is not array:
        return None
    return entry[1], entry[2]


def _tracks_last(array: Any, batch: tuple[int, ...], core: tuple[int, ...]) -> Any:
    """A fresh C-ordered float64 copy of ``array`` broadcast to ``(*batch, *core)``, the tracks flattened into
    the last axis: ``(*core, K)``, the layout the compiled loops read (tracks innermost)."""
    tracks = math.prod(batch)
    flat = np.broadcast_to(array, (*batch, *core)).reshape(tracks, *core)
    return np.array(np.moveaxis(flat, 0, -1), dtype=np.float64, order="C")


def _batch_first(out: Any, first: int, shape: tuple[int, ...], count: int, batch: tuple[int, ...]) -> Any:
    """``(*batch, count, *shape)`` view of the fields ``first, first + 1, ...`` of a compiled loop's output
    ``out (T, fields, K)`` over its first ``count`` steps (no copy)."""
    tracks = out.shape[-1]
    rows = out[:count, first : first + math.prod(shape), :].reshape(count, *shape, tracks)
    return np.moveaxis(rows, -1, 0).reshape(*batch, count, *shape)


def _filter_compiled(model: _Model) -> FilterResult:
    """The generated Numba loop: tracks flattened into the last axis, outputs viewed back as (..., T, ...)."""
    from kfsym.numeric._compiled_filter import filter_kernel
    from kfsym.numeric._filter_source import layout

    batch, steps, size, count = model.batch, model.steps, model.size, model.measurement_size
    tracks = math.prod(batch)

    def tracks_last(array: Any, core: tuple[int, ...]) -> Any:
        return _tracks_last(array, batch, core)

    if model.B is not None and model.u is not None:
        # B u per transition, shared by all tracks: (TC, n)
        offset = np.einsum("...ij,...j->...i", _time_axis(model.B), _time_axis(model.u))
    else:
        offset = np.zeros((1, size))
    initial = np.concatenate(
        [tracks_last(model.x0, (size,)), tracks_last(model.P0, (size, size)).reshape(size * size, tracks)]
    )
    fields = layout(size, count)
    out = np.empty((steps, sum(math.prod(shape) for _, shape in fields.values()), tracks))
    filter_kernel(size, count)(
        tracks_last(model.z, (steps, count)),
        tracks_last(model.observed, (steps, count)),
        initial,
        _time_axis(model.F),
        _time_axis(model.Q),
        _time_axis(model.H),
        _time_axis(model.R),
        np.ascontiguousarray(offset, dtype=np.float64),
        out,
    )

    def rows(name: str) -> Any:
        """The contiguous (T, entries, K) block of one output."""
        start, shape = fields[name]
        return out[:, start : start + math.prod(shape), :]

    def field(name: str) -> Any:
        """(..., T, *shape) view of one output."""
        return _batch_first(out, *fields[name], steps, batch)

    observed = _broadcast_batch(model.observed, (*batch, steps), 1)
    # log N(y; 0, S) = -(m_obs log 2 pi + |L^{-1} y|^2 + log det S) / 2,  log det S = 2 sum log L_aa
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        terms = rows("constant_and_quadratic")[:, 0, :] + 2.0 * np.log(rows("factor_diagonals")).sum(axis=1)
    # tracks first, C order: the total below then sums each track's steps in the NumPy backend's order
    log_likelihoods = -0.5 * np.ascontiguousarray(terms.T).reshape(*batch, steps)
    # The earliest step where a track fails, as the NumPy backend would stop there. The kernel's status per
    # track and step (T, K) ranks the checks as that backend makes them: 1 prior overflow, 2 indefinite S,
    # 3 posterior overflow, 0 fine.
    status = rows("status")[:, 0, :]
    if status.any():
        step = int(np.argwhere(status)[0][0])  # the earliest step
        code = status[step][status[step] > 0].min()
        flags = status[step] == code
        bad = flags.reshape(batch) if batch else flags[0]
        if code == 2.0:
            raise ValueError(
                f"the innovation covariance H P H^T + R is not positive definite at step {step}{_track(bad, batch)}"
            )
        raise _overflow(step, bad, batch, _PRIOR if code == 1.0 else _POSTERIOR)
    moments = {
        name: _remember(field(name), out, fields[name][0])
        for name in ("predicted_means", "predicted_covs", "filtered_means", "filtered_covs")
    }
    total = _total(log_likelihoods, batch)
    return FilterResult(
        moments["predicted_means"],
        moments["predicted_covs"],
        moments["filtered_means"],
        moments["filtered_covs"],
        field("innovations"),
        field("innovation_covs"),
        log_likelihoods,
        float(total) if np.ndim(total) == 0 else total,
        np.array(observed),  # a fresh array, writeable as every other output
    )


class _Update(NamedTuple):
    mean: FloatArray
    cov: FloatArray
    innovation: FloatArray
    innovation_cov: FloatArray
    log_likelihood: FloatArray


def _predict(model: _Model, t: int, mean: FloatArray, cov: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Prior at step t + 1 from the posterior at step t."""
    transition = model.F.at(t)
    with np.errstate(over="ignore", invalid="ignore"):
        # x' = F x + B u
        mean = _apply(transition, mean)
        if model.B is not None and model.u is not None:
            mean = mean + _apply(model.B.at(t), model.u.at(t, vector=True))
        # P' = F P F^T + Q
        cov = covariance_result(transition @ cov @ _transpose(transition) + model.Q.at(t))
    return mean, cov


def _update(model: _Model, t: int, mean: FloatArray, cov: FloatArray, seen: Any) -> _Update:
    """Posterior at step t, the innovation, its covariance and the log-likelihood term."""
    size, count = model.size, model.measurement_size
    z = model.z[..., t, :]
    # S = H P H^T + R, the predictive covariance of z_t
    measure, noise = model.H.at(t), model.R.at(t)
    with np.errstate(over="ignore", invalid="ignore"):
        ph_t = cov @ _transpose(measure)
        full = covariance_result(measure @ ph_t + noise)
        residual = z - _apply(measure, mean)
    # masked components: zero row of H, unit variance uncorrelated with the rest, zero innovation
    both = seen[..., :, None] & seen[..., None, :]
    effective = np.where(both, full, np.eye(count))
    residual = np.where(seen, residual, 0.0)
    # every returned quantity finite (a masked component's S too: it is returned), else OverflowError at this step
    prior_bad = _nonfinite(mean, 1) | _nonfinite(cov, 2) | _nonfinite(full, 2) | _nonfinite(residual, 1)
    if prior_bad.any():
        raise _overflow(t, prior_bad, model.batch, _PRIOR)
    # S = D C D, D = diag(2^k), C about unit diagonal (exact): no subnormal or huge pivot in the factorisation
    scaled, exponents = unit_scaled(effective)
    try:
        factor = np.linalg.cholesky(scaled)
    except np.linalg.LinAlgError:
        track = first_indefinite_index(np.broadcast_to(scaled, (*model.batch, count, count)))
        where = f" for track {track}" if track else ""
        raise ValueError(f"the innovation covariance H P H^T + R is not positive definite at step {t}{where}") from None
    hp = np.where(seen[..., :, None], _transpose(ph_t), 0.0)
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        try:
            # K^T = S^{-1} H P = D^-1 C^-1 (D^-1 H P)
            gain = _transpose(
                np.ldexp(_cholesky_solve(factor, np.ldexp(hp, -exponents[..., :, None])), -exponents[..., :, None])
            )
            # y^T S^{-1} y = |v|^2, L v = D^-1 y: apart from the gain, so that an overflow of one (a legitimate
            # log-likelihood below the doubles) does not poison the other
            whitened = np.linalg.solve(factor, np.ldexp(residual, -exponents)[..., None])[..., 0]
        except np.linalg.LinAlgError:  # Cholesky passed, but LU met an exactly zero pivot
            raise ValueError(
                f"the innovation covariance H P H^T + R is singular to working precision at step {t}"
            ) from None
        # log N(y; 0, S) = -(m_obs log 2 pi + log det S + y^T S^{-1} y) / 2,  log det S = 2 sum log L_aa + 2 log 2 sum k
        log_det = 2.0 * (np.log(np.diagonal(factor, axis1=-2, axis2=-1)).sum(axis=-1) + _LOG_2 * exponents.sum(axis=-1))
        quadratic = np.einsum("...i,...i->...", whitened, whitened)
        log_likelihood = -0.5 * (seen.sum(axis=-1) * _LOG_2PI + log_det + quadratic)
    with np.errstate(over="ignore", invalid="ignore"):
        # x+ = x + K y
        mean = mean + _apply(gain, residual)
        # P+ = (I - K H) P (I - K H)^T + K R K^T   (Joseph form; K's masked columns are zero)
        reduce = np.eye(size) - gain @ np.where(seen[..., :, None], measure, 0.0)
        noise_seen = np.where(both, noise, 0.0)
        cov = covariance_result(reduce @ cov @ _transpose(reduce) + gain @ noise_seen @ _transpose(gain))
    return _Update(mean, cov, residual, full, log_likelihood)


def _filter_numpy(model: _Model) -> FilterResult:
    """The filter loop over time, batched over tracks (no validation here)."""
    batch, steps, size, count = model.batch, model.steps, model.size, model.measurement_size
    observed = _broadcast_batch(model.observed, (*batch, steps), 1)
    predicted_means = np.empty((*batch, steps, size))
    predicted_covs = np.empty((*batch, steps, size, size))
    filtered_means = np.empty((*batch, steps, size))
    filtered_covs = np.empty((*batch, steps, size, size))
    innovations = np.empty((*batch, steps, count))
    innovation_covs = np.empty((*batch, steps, count, count))
    log_likelihoods = np.empty((*batch, steps))
    mean, cov = model.x0, model.P0
    for t in range(steps):
        if t > 0:
            mean, cov = _predict(model, t - 1, mean, cov)
        mean, cov = _broadcast_batch(mean, batch, 1), _broadcast_batch(cov, batch, 2)
        predicted_means[..., t, :], predicted_covs[..., t, :, :] = mean, cov
        step = _update(model, t, mean, cov, observed[..., t, :])
        mean, cov = step.mean, step.cov
        filtered_means[..., t, :], filtered_covs[..., t, :, :] = mean, cov
        innovations[..., t, :], innovation_covs[..., t, :, :] = step.innovation, step.innovation_cov
        log_likelihoods[..., t] = step.log_likelihood
        posterior_bad = _nonfinite(mean, 1) | _nonfinite(cov, 2) | _nonfinite(step.log_likelihood, 0)
        if posterior_bad.any():
            raise _overflow(t, posterior_bad, batch, _POSTERIOR)
    total = _total(log_likelihoods, batch)
    return FilterResult(
        predicted_means,
        predicted_covs,
        filtered_means,
        filtered_covs,
        innovations,
        innovation_covs,
        log_likelihoods,
        float(total) if np.ndim(total) == 0 else total,
        np.array(observed),  # a fresh array, writeable as every other output
    )


def _checked_result(filtered: FilterResult, *, values: bool = True) -> FilterResult:
    """The moments of a FilterResult the smoother reads as float64 arrays of matching shapes; with ``values``
    also validated: finite means, semi-definite covariances (the compiled pass checks values itself)."""
    if values:
        means = finite(filtered.filtered_means, "filtered.filtered_means")
        predicted = finite(filtered.predicted_means, "filtered.predicted_means")
        covs = covariance(filtered.filtered_covariances, "filtered.filtered_covariances", definite=False)
        predicted_covs = covariance(filtered.predicted_covariances, "filtered.predicted_covariances", definite=False)
    else:
        means, predicted, covs, predicted_covs = (
            real(getattr(filtered, name), f"filtered.{name}")
            for name in ("filtered_means", "predicted_means", "filtered_covariances", "predicted_covariances")
        )
    if means.ndim < 2 or means.shape[-1] == 0:
        raise ValueError(f"filtered.filtered_means must have shape (..., T, n), got {means.shape}")
    for name, array, shape in (
        ("predicted_means", predicted, means.shape),
        ("filtered_covariances", covs, (*means.shape, means.shape[-1])),
        ("predicted_covariances", predicted_covs, (*means.shape, means.shape[-1])),
    ):
        if array.shape != shape:
            raise ValueError(
                f"filtered.{name} has shape {array.shape} but filtered.filtered_means {means.shape} needs {shape}"
            )
    return filtered._replace(
        filtered_means=means, predicted_means=predicted, filtered_covariances=covs, predicted_covariances=predicted_covs
    )


def _smooth_compiled(
    arrays: FilterResult, transition: _Term, batch: tuple[int, ...]
) -> SmootherResult | None:
    """The generated Numba backward pass; None when it finds an input the NumPy validator must judge (which
    raises the error, or accepts, and then the NumPy pass runs)."""
    from kfsym.numeric._compiled_filter import smoother_kernel
    from kfsym.numeric._smoother_source import smoother_fields

    steps, size = arrays.filtered_means.shape[-2:]
    tracks = math.prod(batch)

    def tracks_last(array: Any, core: tuple[int, ...]) -> Any:
        return _tracks_last(array, batch, core)

    names = ("filtered_means", "filtered_covariances", "predicted_means", "predicted_covariances")
    origins = [origin for name in names if (origin := _compiled_origin(getattr(arrays, name))) is not None]
    sources: list[Any]
    if len(origins) == len(names) and all(origin[0] is origins[0][0] for origin in origins):
        # the four moments of one compiled filter run: read in place from its output (T, fields, K)
        sources = [item for origin in origins for item in origin]
    else:
        sources = [
            tracks_last(arrays.filtered_means, (steps, size)),
            0,
            tracks_last(arrays.filtered_covariances, (steps, size, size)).reshape(steps, size * size, tracks),
            0,
            tracks_last(arrays.predicted_means, (steps, size)),
            0,
            tracks_last(arrays.predicted_covariances, (steps, size, size)).reshape(steps, size * size, tracks),
            0,
        ]
    fields = smoother_fields(size)
    out = np.empty((steps, sum(math.prod(shape) for _, shape in fields.values()), tracks))
    smoother_kernel(size)(*sources, _time_axis(transition), out)
    start = fields["status"][0]
    status = out[:, start, :]  # (T, K): 4 bad input, 2 singular P_t+1|t, 3 overflow, 0 fine
    if status.any():
        if (status == 4.0).any():
            return None
        # the NumPy pass runs backwards and stops at the first failing step: the latest one here
        step = int(np.argwhere(status.any(axis=1))[-1][0])
        if (status[step] == 2.0).any():
            raise ValueError(_SINGULAR_PREDICTION.format(step=step + 1))
        bad = status[step] == 3.0
        raise OverflowError(
            f"the smoother overflows at step {step}{_track(bad.reshape(batch) if batch else bad[0], batch)}: the gain "
            "or the smoothed moments exceed the largest double"
        )

    return SmootherResult(
        _batch_first(out, *fields["smoothed_means"], steps, batch),
        _batch_first(out, *fields["smoothed_covs"], steps, batch),
        _batch_first(out, *fields["gains"], max(steps - 1, 0), batch),
    )


def rts_smoother(
    filtered: FilterResult,
    F: ArrayLike,
    *,
    time_varying: str | Iterable[str] = (),
    backend: str = "auto",
) -> SmootherResult:
    """Rauch–Tung–Striebel smoother: the backward pass over a :func:`kf_filter` result.

    .. math::
        G_t = P_{t|t} F_t^T P_{t+1|t}^{-1},\\quad
        \\hat x_{t|T} = \\hat x_{t|t} + G_t (\\hat x_{t+1|T} - \\hat x_{t+1|t}),\\quad
        P_{t|T} = P_{t|t} + G_t (P_{t+1|T} - P_{t+1|t}) G_t^T

    Parameters
    ----------
    filtered : FilterResult
        The output of :func:`kf_filter` for the same model.
    F : array_like, shape (..., n, n)
        The transition matrices the filter used (``(..., T - 1, n, n)`` if time-varying).
    time_varying : str or iterable of str, optional
        ``"F"`` when ``F`` carries a time axis.
    backend : {"auto", "numba", "numpy"}, optional
        ``"numba"``: a compiled backward loop with the tracks innermost, generated for the
        state size at hand and cached on disk like :func:`kf_filter`'s; it needs ``F``
        shared by all tracks (no batch axes) and checks its inputs in the same pass.
        ``"numpy"``: one batched NumPy call per formula and step. ``"auto"`` (default)
        takes the compiled loop when Numba is installed and ``F`` allows it. Both give the
        same errors; the NumPy validator decides (and words the error) whenever the
        compiled pass finds an input it would refuse. Both factor ``P_t+1|t`` scaled by
        powers of two and agree to rounding, but may disagree on whether a numerically
        singular ``P_t+1|t`` (relative pivot near 1e-16) has a Cholesky factor.

    Returns
    -------
    SmootherResult
        Smoothed means ``(..., T, n)``, covariances ``(..., T, n, n)`` and the gains
        ``(..., T - 1, n, n)``.

    Raises
    ------
    ValueError
        When a predicted covariance P_t+1|t has no Cholesky factor (singular, or
        indefinite within the validator's tolerance), so the gain is not unique
        (the step is named), or ``filtered`` holds non-finite means or covariances
        that are not symmetric positive semi-definite (the field is named).
    OverflowError
        When a gain or a smoothed moment exceeds the largest double (the step and
        the track are named).

    Examples
    --------
    >>> import numpy as np
    >>> F = [[1.0, 1.0], [0.0, 1.0]]
    >>> filtered = kf_filter([[1.0], [2.1], [2.9]], [0.0, 1.0], np.eye(2), F, 0.01 * np.eye(2), [[1.0, 0.0]], [[0.5]])
    >>> smoothed = rts_smoother(filtered, F)
    >>> smoothed.smoothed_means.shape, smoothed.smoother_gains.shape
    ((3, 2), (2, 2, 2))
    >>> bool(np.allclose(smoothed.smoothed_means[-1], filtered.filtered_means[-1]))
    True
    """
    if not isinstance(filtered, FilterResult):
        raise TypeError(f"filtered must be the FilterResult of kf_filter, got {type(filtered).__name__}")
    varying = _varying_names(time_varying)
    if varying - {"F"}:
        raise ValueError(f"rts_smoother takes only F; time_varying names {sorted(varying - {'F'})}")
    arrays = _checked_result(filtered, values=False)
    steps, size = arrays.filtered_means.shape[-2:]
    transition = _term(F, "F", "F" in varying, steps, kind="matrix")
    same_size(state=size, F=transition.value.shape[-1], **{"F rows": transition.value.shape[-2]})
    batch = broadcast_shapes(filtered=arrays.filtered_means.shape[:-2], F=transition.batch())
    shared = transition.batch() == ()
    _check_backend(backend, shared, "F")
    if backend != "numpy" and shared and _numba_available():
        smoothed = _smooth_compiled(arrays, transition, batch)
        if smoothed is not None:
            return smoothed
    filtered = _checked_result(filtered)
    return _smooth_numpy(filtered, transition, batch)


def _smooth_numpy(filtered: FilterResult, transition: _Term, batch: tuple[int, ...]) -> SmootherResult:
    """The backward pass with one batched NumPy call per formula and step (inputs validated)."""
    steps, size = filtered.filtered_means.shape[-2:]
    means = np.array(np.broadcast_to(filtered.filtered_means, (*batch, steps, size)))
    covs = np.array(np.broadcast_to(filtered.filtered_covariances, (*batch, steps, size, size)))
    gains = np.zeros((*batch, max(steps - 1, 0), size, size))
    predicted_means = np.broadcast_to(filtered.predicted_means, (*batch, steps, size))
    predicted_covs = np.broadcast_to(filtered.predicted_covariances, (*batch, steps, size, size))
    # every step is checked for overflow explicitly: no floating-point warning leaks, whatever np.errstate says
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        for t in range(steps - 2, -1, -1):
            # G^T = P_t+1|t^{-1} F P_t|t   (both covariances symmetric): one solve, no inverse, with
            # P_t+1|t = D C D scaled to unit diagonal by powers of two: G^T = D^-1 C^-1 (D^-1 F P_t|t)
            f_p = transition.at(t) @ covs[..., t, :, :]
            scaled, exponents = unit_scaled(np.asarray(predicted_covs[..., t + 1, :, :]))
            try:
                # the Cholesky factor of C, as the compiled pass: a singular or (within the validator's tolerance)
                # indefinite P_t+1|t has none, and no gain
                factor = np.linalg.cholesky(scaled)
            except np.linalg.LinAlgError:
                raise ValueError(_SINGULAR_PREDICTION.format(step=t + 1)) from None
            # pivots L_jj^2 at or below 4 n eps C_jj: singular to working precision (as the compiled pass)
            pivots = np.diagonal(factor, axis1=-2, axis2=-1) ** 2
            if (pivots <= singular_pivot_floor(size) * np.diagonal(scaled, axis1=-2, axis2=-1)).any():
                raise ValueError(_SINGULAR_PREDICTION.format(step=t + 1))
            solved = _cholesky_solve(factor, np.ldexp(f_p, -exponents[..., :, None]))
            gain = _transpose(np.asarray(np.ldexp(solved, -exponents[..., :, None]), dtype=np.float64))
            gains[..., t, :, :] = gain
            # x_t|T = x_t|t + G (x_t+1|T - x_t+1|t)
            means[..., t, :] = means[..., t, :] + _apply(gain, means[..., t + 1, :] - predicted_means[..., t + 1, :])
            # P_t|T = P_t|t + G (P_t+1|T - P_t+1|t) G^T
            difference = covs[..., t + 1, :, :] - predicted_covs[..., t + 1, :, :]
            covs[..., t, :, :] = covariance_result(covs[..., t, :, :] + gain @ difference @ _transpose(gain))
            bad = _nonfinite(gain, 2) | _nonfinite(means[..., t, :], 1) | _nonfinite(covs[..., t, :, :], 2)
            if bad.any():
                raise OverflowError(
                    f"the smoother overflows at step {t}{_track(bad, batch)}: the gain or the smoothed moments "
                    "exceed the largest double"
                )
    return SmootherResult(means, covs, gains)
