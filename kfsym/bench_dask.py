"""``kfsym bench --dask``: :mod:`kfsym.dask` on a real ``dask.distributed`` cluster of this machine.

It starts a :class:`distributed.LocalCluster` of two worker processes with one thread
each (``NUMBA_NUM_THREADS=1`` in the workers, so that a task uses one core), closes it
afterwards, and measures three things:

1. **Streamed densities**: ``10**9`` evaluations of :func:`kfsym.dask.pdf` (at full
   size) on points drawn inside the tasks (``dask.array.random.default_rng(seed)``,
   uniform on [-5, 5]) and summed block by block, so that no worker ever holds more
   than a few chunks; throughput in evaluations/s and the workers' peak memory, next to
   :func:`kfsym.numeric.pdf` on ``10**8`` points in this process (its time, and its
   peak memory traced with :mod:`tracemalloc`).
2. **Many tracks**: ``10**6`` independent 4-D constant-velocity tracks x 100 steps of
   :func:`kfsym.dask.kf_filter`, chunked by track, each chunk of measurements simulated
   inside its task (seeded per chunk) and reduced to the total log-likelihood, so that
   nothing big ever travels to the client; wall time with 2 workers and with 1 worker
   (the cluster scaled down), and the scaling between them.
3. **Overhead per task**, defined as ``(workers x wall - summed task compute time) /
   tasks``: the worker time spent on anything but running task code (scheduling,
   messages, (de)serialising, waiting for the next task), per task that ran. The task
   count and compute times come from the scheduler's task stream
   (:func:`distributed.get_task_stream`). It is reported for a graph of thousands of
   tiny tasks (one-element blocks of :func:`kfsym.dask.pdf`, where it is all there is)
   and for the track runs.

Peak worker memory is the peak resident set size of each worker process
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, read inside the workers with
:meth:`distributed.Client.run`; the workers are fresh processes, so it is their peak
since start), next to their resident size just before the run (``psutil``). Their
difference, divided by the bytes of one chunk of points, says how many chunks a worker
held at worst.

Nothing here is a pass/fail test: ``tests/test_bench_dask.py`` runs
``kfsym bench --dask --quick --json`` and checks the report's structure and sanity.
"""

from __future__ import annotations

import json
import logging
import math
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

__all__ = ["Sizes", "run", "sizes"]

SEED = 20261130
_FULL_PDF_POINTS = 10**9
_FULL_NUMPY_POINTS = 10**8
_FULL_TRACKS = 10**6
_STEPS = 100
_PDF_CHUNK = 10**7  # 80 MB of points per task
_TRACK_CHUNK = 10**4  # 16 MB of measurements, ~170 MB of filter output per task
_TINY_TASKS = 2000
_MEBIBYTE = 2**20


@dataclass(frozen=True)
class Sizes:
    """How much work each measurement does (``scale`` 1 is the full benchmark)."""

    pdf_points: int
    pdf_chunk: int
    numpy_points: int
    tracks: int
    track_chunk: int
    steps: int
    tiny_tasks: int


def sizes(scale: float = 1.0) -> Sizes:
    """The sizes at ``scale`` times the full benchmark (``--quick`` is ``scale=0.002``).

    Chunk sizes stay those of the full run unless that would leave fewer than ten chunks.

    Parameters
    ----------
    scale : float
        Fraction of the full sizes (10^9 densities, 10^8 in NumPy, 10^6 tracks).

    Returns
    -------
    Sizes

    Examples
    --------
    >>> sizes(1.0).pdf_points, sizes(1.0).pdf_chunk, sizes(1.0).tracks, sizes(1.0).track_chunk
    (1000000000, 10000000, 1000000, 10000)
    >>> sizes(0.002)
    Sizes(pdf_points=2000000, pdf_chunk=200000, numpy_points=200000,
          tracks=2000, track_chunk=200, steps=100, tiny_tasks=200)
    """
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    pdf_points = max(10, round(_FULL_PDF_POINTS * scale))
    tracks = max(10, round(_FULL_TRACKS * scale))
    return Sizes(
        pdf_points=pdf_points,
        pdf_chunk=min(_PDF_CHUNK, max(1, pdf_points // 10)),
        numpy_points=max(10, round(_FULL_NUMPY_POINTS * scale)),
        tracks=tracks,
        track_chunk=min(_TRACK_CHUNK, max(1, tracks // 10)),
        steps=_STEPS,
        tiny_tasks=max(100, min(_TINY_TASKS, round(_TINY_TASKS * scale * 50))),
    )


# ----------------------------------------------------------------------------- code run in the workers
def _warm_up() -> int:
    """Import kfsym.dask (and with it Dask's array code) and run pdf once, so that no measurement pays for imports."""
    import kfsym.dask  # noqa: F401 - loads Dask's array code in the worker
    import kfsym.numeric as kn

    kn.pdf(np.linspace(-1.0, 1.0, 8), 0.0, 1.0)
    return os.getpid()


def _warm_up_filter() -> int:
    """Compile (or load from Numba's cache) the filter for n = 4, m = 2 outside the timing."""
    import kfsym.numeric as kn
    from kfsym.bench import _constant_velocity

    model = _constant_velocity(np.random.default_rng(0), 3, (2,))
    kn.kf_filter(*(model[key] for key in ("z", "x0", "P0", "F", "Q", "H", "R")))
    return os.getpid()


def _memory() -> dict[str, int]:
    """This process's resident size now and its peak since it started, in bytes (Linux ru_maxrss is KiB)."""
    import importlib
    import resource

    psutil = importlib.import_module("psutil")  # a dependency of distributed (untyped)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "rss": int(psutil.Process().memory_info().rss),
        "peak": int(peak * (1 if sys.platform == "darwin" else 1024)),
    }


def _simulate_tracks(number: Any, *, counts: tuple[int, ...], steps: int, seed: int) -> Any:
    """Measurements ``(tracks, steps, 2)`` of one chunk, simulated from a generator seeded by the chunk's number."""
    from kfsym.bench import _constant_velocity

    index = int(np.asarray(number).ravel()[0])
    return _constant_velocity(np.random.default_rng([seed, index]), steps, (counts[index],))["z"]


# ----------------------------------------------------------------------------- measurements
def _task_times(records: list[dict[str, Any]]) -> tuple[int, float]:
    """Number of tasks in a task stream and their summed compute seconds."""
    count, seconds = 0, 0.0
    for record in records:
        count += 1
        seconds += sum(part["stop"] - part["start"] for part in record["startstops"] if part["action"] == "compute")
    return count, seconds


def _timed_on_cluster(client: Any, collection: Any) -> tuple[Any, float, list[dict[str, Any]]]:
    """Compute ``collection`` on the cluster: its value, the wall time and the task stream of the run."""
    from distributed import get_task_stream

    with get_task_stream(client) as stream:
        started = time.perf_counter()
        value = client.compute(collection, sync=True)
        wall = time.perf_counter() - started
    return value, wall, list(stream.data)


def _overhead(workers: int, wall: float, tasks: int, compute: float) -> float:
    return (workers * wall - compute) / tasks if tasks else math.nan


def _streamed_pdf(client: Any, size: Sizes) -> dict[str, Any]:
    import dask.array as da

    from kfsym import dask as kd

    before = client.run(_memory)
    points = da.random.default_rng(SEED).uniform(-5.0, 5.0, size=size.pdf_points, chunks=size.pdf_chunk)
    total = kd.pdf(points, 0.0, 1.0).sum()
    value, wall, records = _timed_on_cluster(client, total)
    after = client.run(_memory)
    tasks, compute = _task_times(records)
    chunk_bytes = 8 * size.pdf_chunk
    peak = max(after[address]["peak"] for address in after)
    growth = max(after[address]["peak"] - before[address]["rss"] for address in after)
    return {
        "evaluations": size.pdf_points,
        "chunk": size.pdf_chunk,
        "chunks": math.ceil(size.pdf_points / size.pdf_chunk),
        "workers": len(after),
        "seconds": wall,
        "evaluations_per_second": size.pdf_points / wall,
        "mean_density": float(value) / size.pdf_points,
        "expected_mean_density": math.erf(5.0 / math.sqrt(2.0)) / 10.0,  # (Φ(5) - Φ(-5)) / 10
        "worker_rss_before_bytes": max(before[address]["rss"] for address in before),
        "worker_peak_rss_bytes": peak,
        "worker_peak_growth_bytes": growth,
        "chunk_bytes": chunk_bytes,
        "peak_growth_in_chunks": growth / chunk_bytes,
        "tasks": tasks,
        "task_compute_seconds": compute,
        "overhead_per_task_seconds": _overhead(len(after), wall, tasks, compute),
    }


def _numpy_pdf(size: Sizes, repeats: int) -> dict[str, Any]:
    import kfsym.numeric as kn

    rng = np.random.default_rng(SEED)
    tracemalloc.start()
    try:
        started = time.perf_counter()
        points = rng.uniform(-5.0, 5.0, size.numpy_points)
        generate = time.perf_counter() - started
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            density = kn.pdf(points, 0.0, 1.0)
            times.append(time.perf_counter() - started)
            mean = float(np.mean(density))
            del density
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    seconds = statistics.median(times)
    return {
        "evaluations": size.numpy_points,
        "seconds": seconds,
        "repeats": repeats,
        "evaluations_per_second": size.numpy_points / seconds,
        "generate_seconds": generate,
        "with_generation_evaluations_per_second": size.numpy_points / (seconds + generate),
        "mean_density": mean,
        "peak_traced_bytes": peak,
    }


def _tracks_graph(size: Sizes) -> Any:
    import dask.array as da

    from kfsym import dask as kd
    from kfsym.bench import _constant_velocity

    full, rest = divmod(size.tracks, size.track_chunk)
    counts = (size.track_chunk,) * full + ((rest,) if rest else ())
    model = _constant_velocity(np.random.default_rng(SEED), 1, ())  # the model matrices; z is simulated per chunk
    ids = da.arange(len(counts), chunks=1)
    z = ids.map_blocks(
        _simulate_tracks,
        chunks=(counts, (size.steps,), (2,)),
        new_axis=[1, 2],
        dtype=np.float64,
        meta=np.empty((0, 0, 0)),
        counts=counts,
        steps=size.steps,
        seed=SEED,
    )
    result = kd.kf_filter(z, *(model[key] for key in ("x0", "P0", "F", "Q", "H", "R")))
    return result.log_likelihood.sum(), len(counts)


def _tracks(client: Any, size: Sizes, workers: int) -> dict[str, Any]:
    total, chunks = _tracks_graph(size)
    value, wall, records = _timed_on_cluster(client, total)
    tasks, compute = _task_times(records)
    track_steps = size.tracks * size.steps
    return {
        "workers": workers,
        "tracks": size.tracks,
        "steps": size.steps,
        "chunk": size.track_chunk,
        "chunks": chunks,
        "seconds": wall,
        "track_steps_per_second": track_steps / wall,
        "total_log_likelihood": float(value),
        "tasks": tasks,
        "task_compute_seconds": compute,
        "compute_seconds_per_chunk": compute / chunks,
        "overhead_per_task_seconds": _overhead(workers, wall, tasks, compute),
    }


def _tiny_tasks(client: Any, size: Sizes) -> dict[str, Any]:
    import dask.array as da

    from kfsym import dask as kd

    lazy = kd.pdf(da.zeros(size.tiny_tasks, chunks=1), 0.0, 1.0).sum()
    value, wall, records = _timed_on_cluster(client, lazy)
    tasks, compute = _task_times(records)
    workers = len(client.scheduler_info()["workers"])
    return {
        "blocks": size.tiny_tasks,
        "workers": workers,
        "seconds": wall,
        "tasks": tasks,
        "task_compute_seconds": compute,
        "overhead_per_task_seconds": _overhead(workers, wall, tasks, compute),
        "sum": float(value),
    }


def _wait_for_workers(client: Any, count: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while len(client.scheduler_info()["workers"]) != count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the cluster did not reach {count} worker(s) in {timeout} s")
        time.sleep(0.1)


def measure(size: Sizes, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Run every measurement on a fresh two-worker LocalCluster (closed afterwards) and in this process.

    Parameters
    ----------
    size : Sizes
        From :func:`sizes`.
    progress : callable, optional
        Called with a short description before each step.

    Returns
    -------
    dict
        The report: ``sizes``, ``numpy_pdf``, ``dask_pdf``, ``tiny_tasks`` and ``tracks``
        (a list: 2 workers, then 1 worker), as written by ``--json``.
    """
    from distributed import Client, LocalCluster

    report: dict[str, Any] = {"sizes": asdict(size)}
    progress(f"kfsym.numeric.pdf on {size.numpy_points:.3g} points in this process")
    report["numpy_pdf"] = _numpy_pdf(size, repeats=3)
    progress("starting a LocalCluster: 2 worker processes x 1 thread")
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
            env={"NUMBA_NUM_THREADS": "1"},
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        client.wait_for_workers(2, timeout=60)
        client.run(_warm_up)
        _streamed_pdf(client, sizes(1e-6))  # a tiny run of the same graph: every import and code path warm
        progress(f"kfsym.dask.pdf on {size.pdf_points:.3g} points, chunks of {size.pdf_chunk:.3g}, 2 workers")
        report["dask_pdf"] = _streamed_pdf(client, size)
        progress(f"{size.tiny_tasks} one-element blocks of kfsym.dask.pdf (overhead per task)")
        report["tiny_tasks"] = _tiny_tasks(client, size)
        client.run(_warm_up_filter)
        runs = []
        for workers in (2, 1):
            if workers == 1:
                cluster.scale(1)
                _wait_for_workers(client, 1)
            progress(f"kfsym.dask.kf_filter on {size.tracks:.3g} tracks x {size.steps} steps, {workers} worker(s)")
            runs.append(_tracks(client, size, workers))
        report["tracks"] = runs
    two, one = runs
    report["tracks_scaling"] = one["seconds"] / two["seconds"]
    report["tracks_same_result"] = one["total_log_likelihood"] == two["total_log_likelihood"]
    return report


# ----------------------------------------------------------------------------- output
def _mib(value: float) -> str:
    return f"{value / _MEBIBYTE:,.0f} MiB"


def _power(value: float) -> str:
    """``1e+09`` as ``10^9``, anything else in ``%.3g``."""
    exponent = round(math.log10(value)) if value > 0 else 0
    return f"10^{exponent}" if value == 10**exponent else f"{value:.3g}"


def lines(report: dict[str, Any]) -> list[str]:
    """The human-readable report, one string per line."""
    info, numpy_pdf, dask_pdf, tiny = report["machine"], report["numpy_pdf"], report["dask_pdf"], report["tiny_tasks"]
    two, one = report["tracks"]
    out = [
        f"kfsym bench --dask — {info['cpu']}, {info['cores']} cores, Python {info['python']}, "
        f"NumPy {info['numpy']}, Dask {report['dask']}, distributed {report['distributed']}",
        "LocalCluster: 2 worker processes x 1 thread (NUMBA_NUM_THREADS=1), started for this run and closed after it",
        "",
        f"pdf: {_power(dask_pdf['evaluations'])} points streamed in {dask_pdf['chunks']} chunks of "
        f"{_power(dask_pdf['chunk'])} (drawn uniform on [-5, 5] inside each task, summed per chunk)",
        f"  kfsym.dask, 2 workers          {dask_pdf['seconds']:8.2f} s  {dask_pdf['evaluations_per_second']:9.3g} "
        f"evaluations/s  peak worker RSS {_mib(dask_pdf['worker_peak_rss_bytes'])} "
        f"(+{_mib(dask_pdf['worker_peak_growth_bytes'])} over idle = "
        f"{dask_pdf['peak_growth_in_chunks']:.1f} chunks of points)",
        f"  kfsym.numeric, {_power(numpy_pdf['evaluations']):>5} in-process {numpy_pdf['seconds']:8.2f} s  "
        f"{numpy_pdf['evaluations_per_second']:9.3g} evaluations/s  peak traced memory "
        f"{_mib(numpy_pdf['peak_traced_bytes'])} (points + densities); "
        f"with drawing the points {numpy_pdf['with_generation_evaluations_per_second']:.3g}/s",
        f"  mean density {dask_pdf['mean_density']:.7f} (dask), {numpy_pdf['mean_density']:.7f} (numpy); "
        f"exact {dask_pdf['expected_mean_density']:.7f}",
        "",
        f"kf_filter: {_power(two['tracks'])} tracks x {two['steps']} steps, 4-D state, 2-D measurement, "
        f"{two['chunks']} chunks of {_power(two['chunk'])} tracks (simulated in each task; total log-likelihood)",
    ]
    for run in (one, two):
        label = f"{run['workers']} worker{'s' if run['workers'] > 1 else ''}"
        out.append(
            f"  {label:<9}  {run['seconds']:8.2f} s  {run['track_steps_per_second']:9.3g} track-steps/s  "
            f"{run['tasks']} tasks, {1e3 * run['compute_seconds_per_chunk']:.0f} ms of task compute per chunk, "
            f"overhead {1e3 * run['overhead_per_task_seconds']:.2f} ms/task"
        )
    out += [
        f"  scaling 1 -> 2 workers: {report['tracks_scaling']:.2f}x; same total log-likelihood "
        f"({two['total_log_likelihood']:.6g}): {'yes' if report['tracks_same_result'] else 'NO'}",
        "",
        f"overhead per task, {tiny['tasks']} tiny tasks ({tiny['blocks']} one-element blocks of pdf, summed), "
        f"{tiny['workers']} workers: {1e3 * tiny['overhead_per_task_seconds']:.2f} ms "
        f"({tiny['seconds']:.2f} s wall)",
        "overhead per task = (workers x wall - summed task compute time) / tasks, from the scheduler's task stream",
    ]
    return out


def run(
    *, quick: bool = False, scale: float | None = None, json_path: Path | None = None, out: TextIO | None = None
) -> int:
    """Run ``kfsym bench --dask``: print the report, optionally write JSON; returns an exit status.

    Parameters
    ----------
    quick : bool
        Small sizes (``scale=0.002``: 2·10^6 densities, 2000 tracks), for tests.
    scale : float, optional
        Fraction of the full sizes; overrides ``quick``.
    json_path : pathlib.Path, optional
        Where to write the report as JSON.
    out : text stream, optional
        Where to print (standard output by default); progress goes to standard error.

    Returns
    -------
    int
        0, or 2 when Dask is not installed or ``scale`` is not positive.
    """
    stream = out or sys.stdout
    try:
        import dask
        import distributed
    except ImportError:
        print("kfsym bench --dask needs Dask: pip install 'kfsym[dask]'", file=sys.stderr)
        return 2
    chosen = scale if scale is not None else (0.002 if quick else 1.0)
    try:
        size = sizes(chosen)
    except ValueError as error:
        print(f"kfsym bench: {error}", file=sys.stderr)
        return 2
    from kfsym.bench import machine

    def progress(text: str) -> None:
        print(f"[dask] {text} ...", file=sys.stderr, flush=True)

    started = time.perf_counter()
    report = measure(size, progress)
    report.update(
        machine=machine(),
        dask=dask.__version__,
        distributed=distributed.__version__,
        quick=quick,
        scale=chosen,
        seconds=time.perf_counter() - started,
    )
    for line in lines(report):
        print(line, file=stream)
    print(f"\nkfsym bench --dask in {report['seconds']:.1f} s (scale {chosen:g})", file=stream)
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
        print(f"wrote {json_path}", file=stream)
    return 0
