"""``kfsym bench --dask``: :mod:`kfsym.dask` on a real ``dask.distributed`` cluster of this machine.

It starts a :class:`distributed.LocalCluster` of two worker processes with one thread
each (``NUMBA_NUM_THREADS=1`` in the workers, so that a task uses one core), closes it
afterwards, and measures:

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
   (every task restricted to one of them), and the scaling between them. The 1- and
   2-worker runs alternate, twice (once with ``--quick``), and the fastest of each counts.
3. **Cores used**: the CPU seconds all worker processes used during a run (``psutil``,
   read in the workers) divided by its wall time. On a shared machine this says how
   much of the two cores the workers actually got, which the scaling depends on.
4. **Overhead per task**, defined as ``(workers x wall - summed task compute time) /
   tasks``: the worker time spent on anything but running task code (scheduling,
   messages, (de)serialising, waiting for the next task), per task that ran. The task
   count and compute times come from the scheduler's task stream
   (:func:`distributed.get_task_stream`). It is reported for a graph of thousands of
   tiny tasks (one-element blocks of :func:`kfsym.dask.pdf`, where it is all there is)
   and for the track runs.

Peak worker memory is the peak resident set size of each worker process during the
run, measured by the kernel: on Linux the worker resets its ``VmHWM`` (writing 5 to
``/proc/self/clear_refs``) just before the run and reads it afterwards, inside the
workers with :meth:`distributed.Client.run` (elsewhere ``getrusage``'s ``ru_maxrss``,
the peak since the worker started). It is reported next to the workers' resident size
just before the run (``psutil``); the growth, divided by the bytes of one chunk of
points, says how many chunks a worker held at worst. The in-process NumPy peak is the
points plus the :mod:`tracemalloc` peak while :func:`kfsym.numeric.pdf` runs.

Nothing here is a pass/fail test: ``tests/test_bench_dask.py`` runs
``kfsym bench --dask --quick --json`` and checks the report's structure and sanity.
"""

from __future__ import annotations

import json
import logging
import math
import operator
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

__all__ = ["Sizes", "lines", "measure", "run", "sizes"]

SEED = 20261130
_FULL_PDF_POINTS = 10**9
_FULL_NUMPY_POINTS = 10**8
_FULL_TRACKS = 10**6
_STEPS = 100
_PDF_CHUNK = 10**7  # 80 MB of points per task
_TRACK_CHUNK = 10**4  # 16 MB of measurements, ~380 MB of filter output (all fields) per task
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


def _reset_peak_memory() -> str:
    """Reset this process's peak resident size where Linux allows it; returns how the peak will be read."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")  # 5: reset the peak RSS (VmHWM)
    except OSError:
        return "ru_maxrss (peak since the worker started)"
    return "VmHWM (peak since reset just before the run)"


def _memory() -> dict[str, int]:
    """This process's resident size now and its peak, in bytes: VmHWM on Linux, else getrusage's ru_maxrss.

    ``ru_maxrss`` survives fork and exec on Linux (a worker would inherit the peak of the
    process that started it), so Linux's per-process ``VmHWM`` is read instead.
    """
    import importlib
    import resource

    psutil = importlib.import_module("psutil")  # a dependency of distributed (untyped)
    rss = int(psutil.Process().memory_info().rss)
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("VmHWM:"):
                return {"rss": rss, "peak": int(line.split()[1]) * 1024}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"rss": rss, "peak": int(peak * (1 if sys.platform == "darwin" else 1024))}


def _cpu_seconds() -> float:
    """User plus system CPU time of this process so far."""
    import importlib

    times = importlib.import_module("psutil").Process().cpu_times()
    return float(times.user + times.system)


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


def _timed_on_cluster(
    client: Any, collection: Any, workers: list[str] | None = None
) -> tuple[Any, float, list[dict[str, Any]], float]:
    """Compute ``collection`` on the cluster (on ``workers`` only, if given).

    Returns its value, the wall time, the task stream and the CPU seconds all workers used meanwhile.
    """
    from distributed import get_task_stream

    restriction = {} if workers is None else {"workers": workers, "allow_other_workers": False}
    cpu_before = client.run(_cpu_seconds)
    with get_task_stream(client) as stream:
        started = time.perf_counter()
        value = client.compute(collection, sync=True, **restriction)
        wall = time.perf_counter() - started
    cpu_after = client.run(_cpu_seconds)
    cpu = sum(cpu_after[address] - cpu_before.get(address, 0.0) for address in cpu_after)
    return value, wall, list(stream.data), cpu


def _overhead(workers: int, wall: float, tasks: int, compute: float) -> float:
    return (workers * wall - compute) / tasks if tasks else math.nan


def _streamed_pdf(client: Any, size: Sizes) -> dict[str, Any]:
    import dask.array as da

    from kfsym import dask as kd

    methods = set(client.run(_reset_peak_memory).values())
    before = client.run(_memory)
    points = da.random.default_rng(SEED).uniform(-5.0, 5.0, size=size.pdf_points, chunks=size.pdf_chunk)
    total = kd.pdf(points, 0.0, 1.0).sum()
    value, wall, records, cpu = _timed_on_cluster(client, total)
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
        "worker_cpu_seconds": cpu,
        "cores_used": cpu / wall,
        "mean_density": float(value) / size.pdf_points,
        "expected_mean_density": math.erf(5.0 / math.sqrt(2.0)) / 10.0,  # (Φ(5) - Φ(-5)) / 10
        "worker_rss_before_bytes": max(before[address]["rss"] for address in before),
        "worker_peak_rss_bytes": peak,
        "worker_peak_growth_bytes": growth,
        "worker_peak_method": " / ".join(sorted(methods)),
        "chunk_bytes": chunk_bytes,
        "peak_growth_in_chunks": growth / chunk_bytes,
        "tasks": tasks,
        "task_compute_seconds": compute,
        "overhead_per_task_seconds": _overhead(len(after), wall, tasks, compute),
    }


def _numpy_pdf(size: Sizes, repeats: int) -> dict[str, Any]:
    import kfsym.numeric as kn

    started = time.perf_counter()
    points = np.random.default_rng(SEED).uniform(-5.0, 5.0, size.numpy_points)
    generate = time.perf_counter() - started
    times = []
    tracemalloc.start()
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            density = kn.pdf(points, 0.0, 1.0)
            times.append(time.perf_counter() - started)
            mean = float(np.mean(density))
            del density
        traced = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    seconds = min(times)
    return {
        "evaluations": size.numpy_points,
        "seconds": seconds,
        "repeats": repeats,
        "evaluations_per_second": size.numpy_points / seconds,
        "generate_seconds": generate,
        "with_generation_evaluations_per_second": size.numpy_points / (seconds + generate),
        "mean_density": mean,
        "peak_bytes": points.nbytes + traced,  # the points, plus the peak traced while pdf ran
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


def _tracks(client: Any, size: Sizes, workers: list[str]) -> dict[str, Any]:
    """One run of the track filter with every task restricted to ``workers``."""
    total, chunks = _tracks_graph(size)
    value, wall, records, cpu = _timed_on_cluster(client, total, workers)
    tasks, compute = _task_times(records)
    track_steps = size.tracks * size.steps
    return {
        "workers": len(workers),
        "tracks": size.tracks,
        "steps": size.steps,
        "chunk": size.track_chunk,
        "chunks": chunks,
        "seconds": wall,
        "track_steps_per_second": track_steps / wall,
        "worker_cpu_seconds": cpu,
        "cores_used": cpu / wall,
        "total_log_likelihood": float(value),
        "tasks": tasks,
        "task_compute_seconds": compute,
        "compute_seconds_per_chunk": compute / chunks,
        "overhead_per_task_seconds": _overhead(len(workers), wall, tasks, compute),
    }


def _tiny_tasks(client: Any, size: Sizes) -> dict[str, Any]:
    import dask.array as da

    from kfsym import dask as kd

    lazy = kd.pdf(da.zeros(size.tiny_tasks, chunks=1), 0.0, 1.0).sum()
    value, wall, records, cpu = _timed_on_cluster(client, lazy)
    tasks, compute = _task_times(records)
    workers = len(client.scheduler_info()["workers"])
    return {
        "blocks": size.tiny_tasks,
        "workers": workers,
        "seconds": wall,
        "worker_cpu_seconds": cpu,
        "cores_used": cpu / wall,
        "tasks": tasks,
        "task_compute_seconds": compute,
        "overhead_per_task_seconds": _overhead(workers, wall, tasks, compute),
        "sum": float(value),
    }


def _load() -> float | None:
    """The 1-minute load average (other processes competing for the cores), where the OS reports it."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _fastest(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest of several single-round track runs, with every round's wall time and result check."""
    best = dict(min(runs, key=operator.itemgetter("seconds")))
    best.update(
        rounds=len(runs),
        all_seconds=[run["seconds"] for run in runs],
        same_result_every_round=all(run["total_log_likelihood"] == best["total_log_likelihood"] for run in runs),
    )
    return best


def measure(size: Sizes, rounds: int = 2, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Run every measurement on a fresh two-worker LocalCluster (closed afterwards) and in this process.

    Parameters
    ----------
    size : Sizes
        From :func:`sizes`.
    rounds : int, optional
        Runs of the track filter per worker count, alternating 1 and 2 workers; the
        fastest of each counts (the 1-worker runs restrict every task to one worker).
    progress : callable, optional
        Called with a short description before each step.

    Returns
    -------
    dict
        The report: ``sizes``, ``numpy_pdf``, ``dask_pdf``, ``tiny_tasks`` and ``tracks``
        (a list: 2 workers, then 1 worker), as written by ``--json``.

    Examples
    --------
    >>> report = measure(sizes(0.002), rounds=1)  # doctest: +SKIP
    >>> report["tracks"][0]["workers"], report["dask_pdf"]["peak_growth_in_chunks"] < 10  # doctest: +SKIP
    (2, True)
    """
    from distributed import Client, LocalCluster

    report: dict[str, Any] = {"sizes": asdict(size), "load_average_before": _load()}
    progress(f"kfsym.numeric.pdf on {size.numpy_points:.3g} points in this process")
    report["numpy_pdf"] = _numpy_pdf(size, repeats=3)
    progress("starting a LocalCluster: 2 worker processes x 1 thread")
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: the scheduler always serves HTTP (8787 may be taken)
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
        addresses = sorted(client.scheduler_info()["workers"])
        runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
        for round_number in range(rounds):  # alternate, so that changes in the machine's load hit both alike
            for workers in (1, 2):
                progress(
                    f"kfsym.dask.kf_filter on {size.tracks:.3g} tracks x {size.steps} steps, "
                    f"{workers} worker(s), round {round_number + 1} of {rounds}"
                )
                runs[workers].append(_tracks(client, size, addresses[:workers]))
        report["tracks"] = [_fastest(runs[2]), _fastest(runs[1])]
    report["load_average_after"] = _load()
    two, one = report["tracks"]
    report["tracks_scaling"] = one["seconds"] / two["seconds"]
    report["tracks_same_result"] = (
        one["total_log_likelihood"] == two["total_log_likelihood"]
        and one["same_result_every_round"]
        and two["same_result_every_round"]
    )
    return report


# ----------------------------------------------------------------------------- output
def _format_load(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _mib(value: float) -> str:
    return f"{value / _MEBIBYTE:,.0f} MiB"


def _power(value: float) -> str:
    """``1e+09`` as ``10^9``, anything else in ``%.3g``."""
    exponent = round(math.log10(value)) if value > 0 else 0
    return f"10^{exponent}" if value == 10**exponent else f"{value:.3g}"


def lines(report: dict[str, Any]) -> list[str]:
    """The human-readable report, one string per line.

    Parameters
    ----------
    report : dict
        As returned by :func:`measure`, with ``machine``, ``dask`` and ``distributed`` added by :func:`run`.

    Returns
    -------
    list of str
    """
    info, numpy_pdf, dask_pdf, tiny = report["machine"], report["numpy_pdf"], report["dask_pdf"], report["tiny_tasks"]
    two, one = report["tracks"]
    out = [
        f"kfsym bench --dask — {info['cpu']}, {info['cores']} cores, Python {info['python']}, "
        f"NumPy {info['numpy']}, Dask {report['dask']}, distributed {report['distributed']}",
        "LocalCluster: 2 worker processes x 1 thread (NUMBA_NUM_THREADS=1), started for this run and closed after it",
        f"1-minute load average before and after: {_format_load(report['load_average_before'])} and "
        f"{_format_load(report['load_average_after'])} (above 0 while idle: other processes shared the cores)",
        "",
        f"pdf: {_power(dask_pdf['evaluations'])} points streamed in {dask_pdf['chunks']} chunks of "
        f"{_power(dask_pdf['chunk'])} (drawn uniform on [-5, 5] inside each task, summed per chunk)",
        f"  kfsym.dask, 2 workers          {dask_pdf['seconds']:8.2f} s  {dask_pdf['evaluations_per_second']:9.3g} "
        f"evaluations/s  {dask_pdf['cores_used']:.2f} cores used  "
        f"peak worker RSS {_mib(dask_pdf['worker_peak_rss_bytes'])} "
        f"(+{_mib(dask_pdf['worker_peak_growth_bytes'])} over idle = "
        f"{dask_pdf['peak_growth_in_chunks']:.1f} chunks of points; {dask_pdf['worker_peak_method']})",
        f"  kfsym.numeric, {_power(numpy_pdf['evaluations']):>5} in-process {numpy_pdf['seconds']:8.2f} s  "
        f"{numpy_pdf['evaluations_per_second']:9.3g} evaluations/s  peak memory "
        f"{_mib(numpy_pdf['peak_bytes'])} (points + tracemalloc peak during pdf); "
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
            f"{run['cores_used']:.2f} cores used, "
            f"{run['tasks']} tasks, {1e3 * run['compute_seconds_per_chunk']:.0f} ms of task compute per chunk, "
            f"overhead {1e3 * run['overhead_per_task_seconds']:.2f} ms/task; fastest of "
            + ", ".join(f"{seconds:.2f}" for seconds in run["all_seconds"])
            + " s"
        )
    out += [
        f"  scaling 1 -> 2 workers: {report['tracks_scaling']:.2f}x; same total log-likelihood in every run "
        f"({two['total_log_likelihood']:.6g}): {'yes' if report['tracks_same_result'] else 'NO'}",
        "",
        f"overhead per task, {tiny['tasks']} tiny tasks ({tiny['blocks']} one-element blocks of pdf, summed), "
        f"{tiny['workers']} workers: {1e3 * tiny['overhead_per_task_seconds']:.2f} ms "
        f"({tiny['seconds']:.2f} s wall)",
        "overhead per task = (workers x wall - summed task compute time) / tasks, from the scheduler's task stream",
        "cores used = CPU seconds of all worker processes during the run / wall time (below the worker count: "
        "other processes had the cores)",
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

    Examples
    --------
    >>> run(quick=True, json_path=Path("bench-dask.json"))  # doctest: +SKIP
    kfsym bench --dask — ...
    0
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
    report = measure(size, 1 if quick else 2, progress)
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
