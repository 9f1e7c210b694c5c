"""kfsym.dask: the numeric API on Dask arrays, against kfsym.numeric on the same data, and on a real cluster.

Comparisons with NumPy are bitwise (``assert_array_equal``): each Dask task runs the
NumPy function of kfsym.numeric on its block, and these functions compute each batch
element from that element's inputs alone, so a block gives the same bits as the whole
array. Two exceptions, measured and bounded below: mvn_pdf, mvn_logpdf and mahalanobis
with one covariance shared by all points (one LAPACK solve with many right-hand sides,
whose kernel depends on how many), and the n = m = 1 kf_update, whose code path
kfsym.numeric chooses from the whole array (a block chooses from its own entries).
The distributed tests start a real ``LocalCluster`` (two worker processes, one thread
each) and kill one worker's process in the middle of a computation.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from numpy.testing import assert_array_equal

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import dask  # noqa: E402

from kfsym import dask as kd  # noqa: E402
from kfsym import numeric  # noqa: E402

RNG_SEED = 20261130


def compute(*arrays: Any) -> Any:
    """Compute with the local threaded scheduler (never a Client that another test left as default)."""
    return dask.compute(*arrays, scheduler="threads")


def as_dask(value: Any, chunks: Any) -> Any:
    return da.from_array(np.asarray(value), chunks=chunks)


def assert_same(lazy: Any, expected: Any) -> None:
    """Field by field, bitwise; shapes and dtypes too."""
    if isinstance(expected, tuple):
        assert type(lazy) is type(expected)
        for lazy_field, expected_field in zip(lazy, expected, strict=True):
            assert_same(lazy_field, expected_field)
        return
    assert isinstance(lazy, da.Array)
    (value,) = compute(lazy)
    expected = np.asarray(expected)
    assert value.shape == expected.shape
    assert value.dtype == expected.dtype
    assert_array_equal(value, expected)


# ----------------------------------------------------------------------------- design guarantees
def test_import_numeric_never_imports_dask() -> None:
    code = (
        "import sys\n"
        "import kfsym.numeric as n\n"
        "n.pdf([0.0, 1.0]); n.kf_filter([[1.0]], [0.0], [[1.0]], [[1.0]], [[1.0]], [[1.0]], [[1.0]], backend='numpy')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


def test_query_planning_mode_is_refused_at_import() -> None:
    environment = {**os.environ, "DASK_ARRAY__QUERY_PLANNING": "True"}
    code = "import kfsym.dask"
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=environment, timeout=60
    )
    assert done.returncode == 1
    assert "ImportError: kfsym.dask builds classic Dask array graphs" in done.stderr


def test_same_names_as_numeric() -> None:
    for name in kd.__all__:
        assert name in numeric.__all__
    assert kd.Gaussian is numeric.Gaussian
    assert kd.FilterResult is numeric.FilterResult


def test_lazy_one_task_per_block_and_core_axes_untouched() -> None:
    x = as_dask(np.zeros((10, 3)), chunks=(4, 3))
    cov = as_dask(np.broadcast_to(np.eye(3), (10, 3, 3)), chunks=(4, 3, 3))
    result = kd.mvn_logpdf(x, np.zeros(3), cov)
    assert result.chunks == ((4, 4, 2),)
    layer = result.dask.layers[result.name]
    assert len(layer) == 3  # one task per block of the batch axis
    assert not any("rechunk" in name for name in result.dask.layers)
    # a posterior: one task per block computes both fields
    posterior = kd.mvn_multiply(x, cov, np.ones(3), np.eye(3))
    assert posterior.mean.chunks == ((4, 4, 2), (3,))
    assert posterior.cov.chunks == ((4, 4, 2), (3,), (3,))
    shared = set(posterior.mean.dask.layers) & set(posterior.cov.dask.layers)
    (kernel,) = [name for name in shared if name.startswith("kfsym-mvn_multiply")]
    assert len(posterior.mean.dask.layers[kernel]) == 3


def test_chunked_core_axes_are_rechunked_to_one_chunk() -> None:
    rng = np.random.default_rng(RNG_SEED)
    points = rng.standard_normal((6, 4))
    result = kd.mahalanobis(as_dask(points, chunks=(2, 1)), np.zeros(4), np.eye(4))
    assert result.chunks == ((2, 2, 2),)
    assert_same(result, numeric.mahalanobis(points, np.zeros(4), np.eye(4)))


def test_nothing_is_computed_at_call_time() -> None:
    calls = []

    def source() -> np.ndarray:
        calls.append(1)
        return np.zeros(4)

    x = da.from_delayed(dask.delayed(source)(), shape=(4,), dtype=float)
    density = kd.pdf(x, 0.0, 1.0)
    assert calls == []
    assert_same(density, numeric.pdf(np.zeros(4)))
    assert calls == [1]


def test_numpy_and_scalar_input_give_dask_output() -> None:
    assert_same(kd.pdf(0.5), np.asarray(numeric.pdf(0.5)))
    assert_same(kd.multiply(0.0, 2.0, 10.0, 2.0), numeric.Gaussian(np.asarray(5.0), np.asarray(1.0)))
    assert_same(kd.pdf([0.0, 1.0], 0.5, 2.0), numeric.pdf([0.0, 1.0], 0.5, 2.0))


# ----------------------------------------------------------------------------- equal to NumPy, several chunkings
# Chunkings of a (7, 5) batch: one block, even-ish, uneven, single-row blocks.
CHUNKINGS = [((7,), (5,)), (3, 2), ((1, 6), (4, 1)), (1, 5)]


def density_data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(RNG_SEED)
    x = 3.0 * rng.standard_normal((7, 5))
    x[0, 0], x[6, 4] = np.inf, -np.inf
    return {"x": x, "mean": rng.standard_normal(5), "var": rng.uniform(0.1, 4.0, (7, 1))}


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("name", ["pdf", "logpdf", "cdf"])
def test_densities_equal_numpy(name: str, chunks: Any) -> None:
    data = density_data()
    lazy = getattr(kd, name)(as_dask(data["x"], chunks), as_dask(data["mean"], 2), data["var"])
    assert lazy.chunks[0] == as_dask(data["x"], chunks).chunks[0]
    assert_same(lazy, getattr(numeric, name)(data["x"], data["mean"], data["var"]))


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("name", ["multiply", "add", "evidence", "log_evidence"])
def test_pairs_equal_numpy(name: str, chunks: Any) -> None:
    rng = np.random.default_rng(RNG_SEED)
    mean1, var1 = rng.standard_normal((7, 5)), rng.uniform(1e-3, 10.0, (7, 5))
    mean2, var2 = rng.standard_normal((1, 5)), rng.uniform(1e-3, 10.0, (7, 1))
    var1[2, 3] = 1e300  # huge variances take the rescaled paths inside the blocks
    lazy = getattr(kd, name)(as_dask(mean1, chunks), as_dask(var1, chunks), as_dask(mean2, (1, 2)), var2)
    assert_same(lazy, getattr(numeric, name)(mean1, var1, mean2, var2))


def spd(rng: np.random.Generator, batch: tuple[int, ...], size: int) -> np.ndarray:
    factor = rng.standard_normal((*batch, size, size))
    return factor @ np.swapaxes(factor, -1, -2) + size * np.eye(size)


BATCH_CHUNKS = [(12,), (5,), ((1, 4, 7),), (1,)]


@pytest.mark.parametrize("chunks", BATCH_CHUNKS)
@pytest.mark.parametrize("name", ["mvn_pdf", "mvn_logpdf", "mahalanobis"])
def test_points_equal_numpy(name: str, chunks: Any) -> None:
    rng = np.random.default_rng(RNG_SEED)
    x, mean, cov = rng.standard_normal((12, 3)), rng.standard_normal(3), spd(rng, (12,), 3)
    # a covariance per point, chunked differently from x: bit for bit
    lazy = getattr(kd, name)(as_dask(x, (*chunks, 3)), mean, as_dask(cov, (4, 3, 3)))
    assert_same(lazy, getattr(numeric, name)(x, mean, cov))


# One covariance shared by all points: kfsym.numeric whitens all points of a block with one LAPACK solve
# with many right-hand sides, and OpenBLAS picks its triangular-solve kernel by their number, so a block of
# 1 point and the whole array of 12 may round differently (measured over 200 seeded cases, n = 2..5, blocks
# of 1, 2, 3, 7 of 40 points: mvn_logpdf 4, mahalanobis 3 ulp; mvn_pdf = exp(mvn_logpdf) carries the
# absolute error of the log as a relative one). The bounds below: 8 eps, relative to max(1, |log density|).
@pytest.mark.parametrize("chunks", BATCH_CHUNKS)
def test_points_with_a_shared_covariance_within_8_eps(chunks: Any) -> None:
    eps = np.finfo(float).eps
    for seed in range(20):
        rng = np.random.default_rng(seed)
        x, mean, shared = 3.0 * rng.standard_normal((12, 3)), rng.standard_normal(3), spd(rng, (), 3)
        lazy_x = as_dask(x, (*chunks, 3))
        log_density = numeric.mvn_logpdf(x, mean, shared)
        scale = np.maximum(1.0, np.abs(log_density))
        (lazy_log,) = compute(kd.mvn_logpdf(lazy_x, mean, shared))
        assert np.all(np.abs(lazy_log - log_density) <= 8 * eps * scale)
        (density,) = compute(kd.mvn_pdf(lazy_x, mean, shared))
        expected = numeric.mvn_pdf(x, mean, shared)
        assert np.all(np.abs(density - expected) <= 8 * eps * scale * expected)
        (distance,) = compute(kd.mahalanobis(lazy_x, mean, shared))
        expected = numeric.mahalanobis(x, mean, shared)
        assert np.all(np.abs(distance - expected) <= 8 * eps * expected)
        if chunks == (12,):  # one block: the same call as NumPy's, bit for bit
            assert_array_equal(distance, expected)


@pytest.mark.parametrize("chunks", BATCH_CHUNKS)
@pytest.mark.parametrize("name", ["mvn_multiply", "mvn_add"])
def test_mvn_pairs_equal_numpy(name: str, chunks: Any) -> None:
    rng = np.random.default_rng(RNG_SEED)
    mean1, cov1 = rng.standard_normal((12, 3)), spd(rng, (12,), 3)
    mean2, cov2 = rng.standard_normal(3), spd(rng, (), 3)
    lazy = getattr(kd, name)(as_dask(mean1, (*chunks, 3)), as_dask(cov1, (*chunks, 3, 3)), mean2, cov2)
    assert_same(lazy, getattr(numeric, name)(mean1, cov1, mean2, cov2))


@pytest.mark.parametrize("chunks", BATCH_CHUNKS)
def test_kalman_steps_equal_numpy(chunks: Any) -> None:
    rng = np.random.default_rng(RNG_SEED)
    x, P = rng.standard_normal((12, 4)), spd(rng, (12,), 4)
    F, Q = np.eye(4) + 0.1 * rng.standard_normal((4, 4)), spd(rng, (), 4)
    B, u = rng.standard_normal((4, 2)), rng.standard_normal((12, 2))
    z, H, R = rng.standard_normal((12, 2)), rng.standard_normal((2, 4)), spd(rng, (), 2)
    lazy_x, lazy_P = as_dask(x, (*chunks, 4)), as_dask(P, (*chunks, 4, 4))
    assert_same(kd.kf_predict(lazy_x, lazy_P, F, Q), numeric.kf_predict(x, P, F, Q))
    assert_same(
        kd.kf_predict(lazy_x, lazy_P, F, Q, B=B, u=as_dask(u, (3, 2))), numeric.kf_predict(x, P, F, Q, B=B, u=u)
    )
    assert_same(kd.kf_update(lazy_x, lazy_P, as_dask(z, (5, 2)), H, R), numeric.kf_update(x, P, z, H, R))


def test_one_dimensional_update_path_is_chosen_per_element_so_blocks_agree_bitwise() -> None:
    """kf_update with n = m = 1 chooses between the product and the Joseph form element by element.

    A zero variance in one track (which sends that track to the Joseph form) changes no other track's
    result, so the blocks of a Dask array give NumPy's whole-array result bit for bit.
    """
    rng = np.random.default_rng(RNG_SEED)
    x, z = rng.standard_normal((40, 1)), rng.standard_normal((40, 1))
    P, R, H = rng.uniform(0.1, 5.0, (40, 1, 1)), rng.uniform(0.1, 5.0, (40, 1, 1)), rng.uniform(0.5, 2.0, (40, 1, 1))
    P[3] = 0.0
    lazy = kd.kf_update(as_dask(x, (10, 1)), as_dask(P, (10, 1, 1)), z, H, R)
    mean, cov = compute(lazy.mean, lazy.cov)
    whole = numeric.kf_update(x, P, z, H, R)
    assert_array_equal(mean, whole.mean)
    assert_array_equal(cov, whole.cov)
    alone = numeric.kf_update(x[4:5], P[4:5], z[4:5], H[4:5], R[4:5])  # a track's result is its own
    assert_array_equal(whole.mean[4:5], alone.mean)
    assert whole.cov[3, 0, 0] == 0.0  # the track with P = 0 keeps a zero variance (Joseph form)


TRACKS, STEPS = 11, 6


def tracks_data(rng: np.random.Generator) -> dict[str, Any]:
    F = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 1.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    return {
        "z": np.cumsum(rng.standard_normal((TRACKS, STEPS, 2)), axis=1),
        "x0": rng.standard_normal((TRACKS, 4)),
        "P0": np.eye(4),
        "F": F,
        "Q": 0.05 * np.eye(4),
        "H": np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]),
        "R": np.array([[0.5, 0.1], [0.1, 0.3]]),
    }


@pytest.mark.parametrize("chunks", [(TRACKS,), (4,), ((1, 7, 3),), (1,)])
def test_kf_filter_and_smoother_equal_numpy(chunks: Any) -> None:
    rng = np.random.default_rng(RNG_SEED)
    data = tracks_data(rng)
    lazy_z = as_dask(data["z"], (*chunks, 2, 2))  # time chunked by the user: rechunked to one chunk
    lazy_x0 = as_dask(data["x0"], (5, 4))  # other chunks than z: unified
    arguments = (data["P0"], data["F"], data["Q"], data["H"], data["R"])
    lazy = kd.kf_filter(lazy_z, lazy_x0, *arguments, backend="numpy")
    expected = numeric.kf_filter(data["z"], data["x0"], *arguments, backend="numpy")
    assert lazy.filtered_covariances.chunks[1:] == ((STEPS,), (4,), (4,))
    assert_same(lazy, expected)
    assert_same(kd.rts_smoother(lazy, data["F"]), numeric.rts_smoother(expected, data["F"]))


def test_kf_filter_time_varying_masked_and_controlled() -> None:
    rng = np.random.default_rng(RNG_SEED)
    data = tracks_data(rng)
    H = np.broadcast_to(data["H"], (STEPS, 2, 4)).copy()
    H[3] *= 2.0
    F = np.broadcast_to(data["F"], (STEPS - 1, 4, 4))
    B, u = rng.standard_normal((4, 1)), rng.standard_normal((TRACKS, 1))
    mask = rng.uniform(size=data["z"].shape) < 0.2
    masked = np.ma.masked_array(data["z"], mask=mask)
    lazy_z = da.ma.masked_array(as_dask(data["z"], (3, STEPS, 2)), mask=as_dask(mask, (3, STEPS, 2)))
    options = {"B": B, "u": u, "time_varying": ("H", "F"), "backend": "numpy"}
    arguments = (data["P0"], F, data["Q"], H, data["R"])
    expected = numeric.kf_filter(masked, data["x0"], *arguments, **options)
    assert_same(kd.kf_filter(lazy_z, data["x0"], *arguments, **options), expected)
    assert_same(kd.kf_filter(masked, as_dask(data["x0"], (2, 4)), *arguments, **options), expected)
    assert_same(kd.rts_smoother(expected, F, time_varying="F"), numeric.rts_smoother(expected, F, time_varying="F"))


def test_kf_filter_compiled_backend_per_block_equals_whole() -> None:
    pytest.importorskip("numba")
    data = tracks_data(np.random.default_rng(RNG_SEED))
    arguments = (data["P0"], data["F"], data["Q"], data["H"], data["R"])
    lazy = kd.kf_filter(as_dask(data["z"], (3, STEPS, 2)), data["x0"], *arguments, backend="numba")
    assert_same(lazy, numeric.kf_filter(data["z"], data["x0"], *arguments, backend="numba"))


# ----------------------------------------------------------------------------- metadata errors at call time
def _eye(n: int) -> np.ndarray:
    return np.eye(n)


ZS = np.zeros((3, 4, 2))
MODEL = (np.zeros(4), _eye(4), _eye(4), _eye(4), np.zeros((2, 4)), _eye(2))

METADATA_ERRORS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("pdf", (np.zeros(3, dtype=complex),), {}),
    ("pdf", (np.zeros(3), 0.0, np.ones(3, dtype=bool)), {}),
    ("pdf", (np.zeros(3), np.zeros(2)), {}),
    ("logpdf", (np.zeros((2, 3)), np.zeros((3, 1)), np.ones(4)), {}),
    ("cdf", (np.array(["a"]),), {}),
    ("multiply", (np.zeros(3), np.ones(3), np.zeros(2), np.ones(2)), {}),
    ("log_evidence", (np.zeros(3), np.ones((2, 1)), np.zeros(4), 1.0), {}),
    ("mvn_pdf", (0.0, np.zeros(2), _eye(2)), {}),
    ("mvn_pdf", (np.zeros((5, 0)), np.zeros(2), _eye(2)), {}),
    ("mvn_logpdf", (np.zeros((5, 2)), np.zeros(2), np.ones((2, 3))), {}),
    ("mahalanobis", (np.zeros((5, 2)), np.zeros(3), _eye(2)), {}),
    ("mahalanobis", (np.zeros((5, 2)), np.zeros((4, 2)), _eye(2)), {}),
    ("mvn_multiply", (np.zeros(2), np.zeros((2, 0, 0)), np.zeros(2), _eye(2)), {}),
    ("mvn_add", (np.zeros(2), _eye(2), np.zeros(3), _eye(3)), {}),
    ("mvn_add", (np.zeros((4, 2)), _eye(2), np.zeros((3, 2)), _eye(2)), {}),
    ("kf_predict", (np.zeros(2), _eye(2), np.ones((3, 2)), _eye(2)), {}),
    ("kf_predict", (np.zeros(2), _eye(2), _eye(2), _eye(2)), {"B": np.ones((2, 1))}),
    ("kf_predict", (np.zeros(2), _eye(2), _eye(2), _eye(2)), {"B": np.ones((3, 1)), "u": np.ones(1)}),
    ("kf_predict", (np.zeros(2), _eye(2), _eye(2), _eye(2)), {"B": np.ones((2, 1)), "u": np.ones(2)}),
    ("kf_predict", (np.zeros((3, 2)), _eye(2), np.ones(2), _eye(2)), {}),
    ("kf_update", (np.zeros(2), _eye(2), np.zeros(1), np.ones((1, 3)), _eye(1)), {}),
    ("kf_update", (np.zeros(2), _eye(2), np.zeros(2), np.ones((1, 2)), _eye(1)), {}),
    ("kf_update", (np.zeros((4, 2)), _eye(2), np.zeros((5, 1)), np.ones((1, 2)), _eye(1)), {}),
    ("kf_filter", (np.zeros(4), *MODEL), {}),
    ("kf_filter", (np.zeros((3, 0, 2)), *MODEL), {}),
    ("kf_filter", (ZS, 0.0, *MODEL[1:]), {}),
    ("kf_filter", (ZS, *MODEL), {"time_varying": "G"}),
    ("kf_filter", (ZS, *MODEL), {"time_varying": "H"}),
    ("kf_filter", (ZS, *MODEL[:4], np.zeros((5, 2, 4)), MODEL[5]), {"time_varying": "H"}),
    ("kf_filter", (ZS, *MODEL[:2], np.zeros((4, 4, 4)), *MODEL[3:]), {"time_varying": "F"}),
    ("kf_filter", (ZS, *MODEL), {"u": np.zeros(1)}),
    ("kf_filter", (ZS, *MODEL), {"time_varying": "u"}),
    ("kf_filter", (ZS, *MODEL), {"B": np.zeros((4, 1)), "u": 0.0}),
    ("kf_filter", (ZS, *MODEL), {"B": np.zeros((4, 1)), "u": np.zeros(2)}),
    ("kf_filter", (ZS, *MODEL[:5], _eye(3)), {}),
    ("kf_filter", (ZS, np.zeros(3), *MODEL[1:]), {}),
    ("kf_filter", (ZS, np.zeros((2, 4)), *MODEL[1:]), {}),
    ("kf_filter", (ZS, *MODEL), {"backend": "gpu"}),
    ("kf_filter", (ZS, *MODEL[:2], np.broadcast_to(_eye(4), (3, 4, 4)), *MODEL[3:]), {"backend": "numba"}),
]


def _lazy(value: Any) -> Any:
    return as_dask(value, 1) if isinstance(value, np.ndarray) and value.ndim else value


@pytest.mark.parametrize(("name", "args", "options"), METADATA_ERRORS)
def test_metadata_errors_at_call_time_same_as_numpy(name: str, args: tuple[Any, ...], options: dict[str, Any]) -> None:
    if name == "kf_filter" and options.get("backend") == "numba":
        pytest.importorskip("numba")
    with pytest.raises((TypeError, ValueError)) as expected:
        getattr(numeric, name)(*args, **options)
    lazy_args = [_lazy(value) for value in args]
    lazy_options = {key: _lazy(value) for key, value in options.items()}
    for call_args, call_options in ((lazy_args, lazy_options), (args, options)):  # Dask input, then NumPy input
        with pytest.raises(expected.type) as raised:
            getattr(kd, name)(*call_args, **call_options)  # raises here: nothing is computed
        message = str(expected.value)
        if "(ndarray)" in message and call_args is lazy_args:  # the dtype message names the type passed
            message = message.replace("(ndarray)", "(Array)")
        assert str(raised.value) == message


def test_smoother_metadata_errors() -> None:
    data = tracks_data(np.random.default_rng(RNG_SEED))
    result = kd.kf_filter(as_dask(data["z"], (4, STEPS, 2)), *[data[key] for key in ("x0", "P0", "F", "Q", "H", "R")])
    expected = numeric.kf_filter(data["z"], *[data[key] for key in ("x0", "P0", "F", "Q", "H", "R")])
    for F, options in ((_eye(3), {}), (data["F"], {"time_varying": "Q"}), (data["F"], {"time_varying": "F"})):
        with pytest.raises(ValueError) as numpy_error:
            numeric.rts_smoother(expected, F, **options)
        with pytest.raises(ValueError) as lazy_error:
            kd.rts_smoother(result, F, **options)  # at call time
        assert str(lazy_error.value) == str(numpy_error.value)
    with pytest.raises(TypeError, match="filtered must be the FilterResult of kf_filter, got tuple"):
        kd.rts_smoother(tuple(result), data["F"])


def test_unknown_chunk_sizes_are_refused() -> None:
    x = as_dask(np.arange(6.0), 3)
    with pytest.raises(ValueError, match=r"x has unknown chunk sizes .*compute_chunk_sizes\(\)"):
        kd.pdf(x[x > 2.0])


# ----------------------------------------------------------------------------- value errors at compute time
def _value_error_case(name: str) -> tuple[Callable[[], Any], Callable[[], Any], str]:
    """(lazy call, NumPy call on the failing block alone, the failing block's batch indices)."""
    rng = np.random.default_rng(RNG_SEED)
    if name == "pdf-var":
        var = np.ones(7)
        var[4] = -1.0
        return (
            lambda: kd.pdf(np.zeros(7), 0.0, as_dask(var, 3)),
            lambda: numeric.pdf(np.zeros(3), 0.0, var[3:6]),
            "3:6",
        )
    if name == "multiply-nan":
        mean2 = np.zeros((4, 3))
        mean2[3, 1] = np.nan
        lazy = lambda: kd.multiply(0.0, 1.0, as_dask(mean2, (2, 3)), 1.0).var  # noqa: E731
        return lazy, lambda: numeric.multiply(0.0, 1.0, mean2[2:], 1.0), "2:4, 0:3"
    if name == "mvn-indefinite":
        cov = spd(rng, (6,), 2)
        cov[5] = [[1.0, 2.0], [2.0, 1.0]]
        lazy = lambda: kd.mvn_pdf(np.zeros(2), np.zeros(2), as_dask(cov, (4, 2, 2)))  # noqa: E731
        return lazy, lambda: numeric.mvn_pdf(np.zeros(2), np.zeros(2), cov[4:]), "4:6"
    if name == "kf_update-P":
        P = spd(rng, (5,), 2)
        P[1, 0, 0] = -1.0
        lazy = lambda: kd.kf_update(np.zeros(2), as_dask(P, (1, 2, 2)), [1.0], [[1.0, 0.0]], [[1.0]]).cov  # noqa: E731
        return lazy, lambda: numeric.kf_update(np.zeros(2), P[1:2], [1.0], [[1.0, 0.0]], [[1.0]]), "1:2"
    data = tracks_data(rng)
    arguments = [data[key] for key in ("x0", "P0", "F", "Q", "H", "R")]
    z = data["z"].copy()
    z[9, 2, 1] = np.inf
    lazy = lambda: kd.kf_filter(as_dask(z, (4, STEPS, 2)), *arguments).log_likelihood  # noqa: E731
    return lazy, lambda: numeric.kf_filter(z[8:], arguments[0][8:], *arguments[1:]), "8:11"


@pytest.mark.parametrize("name", ["pdf-var", "multiply-nan", "mvn-indefinite", "kf_update-P", "kf_filter-z"])
def test_value_errors_at_compute_time_name_the_argument(name: str) -> None:
    lazy_call, block_call, where = _value_error_case(name)
    with pytest.raises(ValueError) as on_block:
        block_call()
    lazy = lazy_call()  # the call only builds the graph
    with pytest.raises(ValueError) as raised:
        compute(lazy)
    message = str(raised.value)
    assert message.startswith(str(on_block.value))
    assert f"batch indices [{where}]" in message


# ----------------------------------------------------------------------------- a real distributed cluster
@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two worker processes (one thread each) under nannies that restart a worker that dies."""
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 3}),
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=logging.CRITICAL
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as connected,
    ):
        connected.wait_for_workers(2, timeout=60)
        yield connected


def test_cluster_results_equal_numpy(client: Any) -> None:
    data = tracks_data(np.random.default_rng(RNG_SEED))
    arguments = [data[key] for key in ("P0", "F", "Q", "H", "R")]
    lazy = kd.kf_filter(as_dask(data["z"], (3, STEPS, 2)), as_dask(data["x0"], (4, 4)), *arguments, backend="numpy")
    expected = numeric.kf_filter(data["z"], data["x0"], *arguments, backend="numpy")
    (computed,) = client.compute([lazy], sync=True)
    for field, reference in zip(computed, expected, strict=True):
        assert_array_equal(field, reference)
    densities = density_data()
    lazy_pdf = kd.logpdf(as_dask(densities["x"], (3, 2)), densities["mean"], densities["var"])
    assert_array_equal(client.compute(lazy_pdf, sync=True), numeric.logpdf(**densities))


def test_cluster_value_error_reaches_the_client(client: Any) -> None:
    var = np.ones(6)
    var[5] = 0.0
    with pytest.raises(ValueError, match=r"^var must be a positive, finite variance; got 0.0 at index 2 .*\[3:6\]"):
        client.compute(kd.pdf(np.zeros(6), 0.0, as_dask(var, 3)), sync=True)


def _finished_on_workers(dask_scheduler: Any, prefix: str) -> dict[str, list[str]]:
    """On the scheduler: finished results of the filter's tasks (blocks and their fields), by worker."""
    held: dict[str, list[str]] = {}
    for key, task in dask_scheduler.tasks.items():
        if isinstance(key, tuple) and str(key[0]).startswith(prefix) and task.state == "memory":
            for worker in task.who_has:
                held.setdefault(worker.address, []).append(str(key))
    return held


def test_cluster_survives_a_killed_worker(client: Any) -> None:
    """Kill one worker's process mid-computation: its finished and running blocks are lost, rerun, nothing missing."""
    tracks, steps, per_block = 96, 150, 6  # 16 blocks of ~0.1 s (NumPy loop over 150 steps)
    rng = np.random.default_rng(RNG_SEED)
    data = tracks_data(rng)
    z = np.cumsum(rng.standard_normal((tracks, steps, 2)), axis=1)
    x0 = rng.standard_normal((tracks, 4))
    arguments = [data[key] for key in ("P0", "F", "Q", "H", "R")]
    lazy = kd.kf_filter(as_dask(z, (per_block, steps, 2)), as_dask(x0, (per_block, 4)), *arguments, backend="numpy")
    fields = [lazy.filtered_means, lazy.filtered_covariances, lazy.log_likelihood]
    pids_before = client.run(os.getpid)
    started = time.monotonic()
    futures = client.compute(fields)
    # wait until the victim holds finished results and both workers still have blocks to run
    victim, lost = sorted(pids_before)[0], []
    while time.monotonic() - started < 30 and not lost and not any(future.done() for future in futures):
        held = client.run_on_scheduler(_finished_on_workers, prefix="kfsym-kf_filter")
        processing = client.processing()
        if len(held.get(victim, [])) >= 2 and all(processing.get(address) for address in pids_before):
            lost = held[victim]
        else:
            time.sleep(0.005)
    assert lost, "never saw the victim holding finished results while both workers were busy"
    killed_at = time.monotonic() - started
    os.kill(pids_before[victim], signal.SIGKILL)
    assert not any(future.done() for future in futures)  # killed mid-computation
    results = client.gather(futures)
    finished_at = time.monotonic() - started
    expected = numeric.kf_filter(z, x0, *arguments, backend="numpy")
    assert_array_equal(results[0], expected.filtered_means)
    assert_array_equal(results[1], expected.filtered_covariances)
    assert_array_equal(results[2], expected.log_likelihood)
    client.wait_for_workers(2, timeout=60)  # the nanny brought a fresh worker process up
    pids_after = client.run(os.getpid)
    assert pids_before[victim] not in pids_after.values()
    print(
        f"\nworker killed {killed_at:.2f} s in, holding {len(lost)} finished results (of 16 blocks x 4 tasks); "
        f"complete and correct after {finished_at:.2f} s"
    )
