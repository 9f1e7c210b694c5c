"""``kfsym bench --dask --quick --json`` end to end on a real LocalCluster: every line, sane numbers, no timings."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dask.array")
pytest.importorskip("distributed")

from kfsym import bench_dask


def positive(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def test_quick_dask_benchmark_reports_every_line(tmp_path: Path) -> None:
    target = tmp_path / "bench-dask.json"
    done = subprocess.run(
        [sys.executable, "-m", "kfsym", "bench", "--dask", "--quick", "--json", str(target)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(target.read_text(encoding="utf-8"))
    size = bench_dask.sizes(0.002)
    assert report["quick"] is True and report["scale"] == 0.002
    assert report["sizes"]["pdf_points"] == size.pdf_points and report["sizes"]["tracks"] == size.tracks
    assert report["machine"]["cores"] >= 1 and report["dask"] and report["distributed"]

    numpy_pdf, dask_pdf = report["numpy_pdf"], report["dask_pdf"]
    assert numpy_pdf["evaluations"] == size.numpy_points and dask_pdf["evaluations"] == size.pdf_points
    for key in ("seconds", "evaluations_per_second", "with_generation_evaluations_per_second", "peak_bytes"):
        assert positive(numpy_pdf[key]), key
    assert numpy_pdf["peak_bytes"] >= 2 * 8 * size.numpy_points  # the points and the densities
    for key in ("seconds", "evaluations_per_second", "cores_used", "worker_peak_rss_bytes", "chunk_bytes", "tasks"):
        assert positive(dask_pdf[key]), key
    assert dask_pdf["workers"] == 2 and dask_pdf["chunks"] == 10
    assert dask_pdf["tasks"] >= dask_pdf["chunks"]
    assert dask_pdf["worker_peak_rss_bytes"] >= dask_pdf["worker_rss_before_bytes"] > 0
    if sys.platform == "linux":
        assert dask_pdf["worker_peak_method"].startswith("VmHWM")
    # uniform points on [-5, 5]: the mean density is (Phi(5) - Phi(-5)) / 10, to Monte Carlo accuracy
    for mean in (dask_pdf["mean_density"], numpy_pdf["mean_density"]):
        assert abs(mean - dask_pdf["expected_mean_density"]) < 0.003

    two, one = report["tracks"]
    assert (two["workers"], one["workers"]) == (2, 1)
    for run in (one, two):
        assert run["tracks"] == size.tracks and run["steps"] == 100 and run["chunks"] == 10
        assert run["rounds"] == 1 and run["all_seconds"] == [run["seconds"]] and run["same_result_every_round"]
        for key in ("seconds", "track_steps_per_second", "cores_used", "tasks", "compute_seconds_per_chunk"):
            assert positive(run[key]), (run["workers"], key)
        assert math.isfinite(run["overhead_per_task_seconds"])
        assert math.isfinite(run["total_log_likelihood"]) and run["total_log_likelihood"] < 0
    assert report["tracks_same_result"] is True  # the same chunks and the same reduction on 1 and 2 workers
    assert positive(report["tracks_scaling"])

    tiny = report["tiny_tasks"]
    assert tiny["tasks"] >= tiny["blocks"] == size.tiny_tasks and tiny["workers"] == 2
    assert positive(tiny["seconds"]) and math.isfinite(tiny["overhead_per_task_seconds"])
    assert math.isclose(tiny["sum"], size.tiny_tasks / math.sqrt(2 * math.pi))

    text = done.stdout
    for line in (
        "kfsym bench --dask",
        "LocalCluster: 2 worker processes x 1 thread",
        "1-minute load average before and after: ",
        "kfsym.dask, 2 workers",
        "kfsym.numeric, ",
        "evaluations/s",
        "peak worker RSS",
        "peak memory",
        "  1 worker ",
        "  2 workers ",
        "track-steps/s",
        "cores used",
        "scaling 1 -> 2 workers",
        "overhead per task, ",
        f"wrote {target}",
    ):
        assert line in text, line
    assert "same total log-likelihood" in text and ": yes" in text
    assert "[dask] starting a LocalCluster" in done.stderr


def test_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    from kfsym import cli

    assert cli.main(["bench", "--dask", "--case", "pdf"]) == 2
    assert "--case does not apply" in capsys.readouterr().err
    assert bench_dask.run(scale=0.0) == 2
    assert "scale must be a positive number" in capsys.readouterr().err
