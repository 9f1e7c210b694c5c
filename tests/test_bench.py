"""``kfsym bench --quick --json`` runs and reports every case with sane numbers (no timing asserts)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from kfsym import bench


def test_quick_benchmark_reports_every_case(tmp_path: Path) -> None:
    target = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "kfsym", "bench", "--quick", "--json", str(target)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(target.read_text(encoding="utf-8"))
    assert report["quick"] is True
    assert report["machine"]["cores"] >= 1 and report["machine"]["numpy"]
    cases = {entry["case"] for entry in report["results"]}
    assert cases == {case.name for case in bench.CASES}
    for entry in report["results"]:
        assert math.isfinite(entry["median"]) and entry["median"] > 0, entry
        assert entry["q1"] <= entry["median"] <= entry["q3"], entry
        assert entry["ratio"] is not None and math.isfinite(entry["ratio"]) and entry["ratio"] > 0, entry
    by_case: dict[str, list[str]] = {}
    for entry in report["results"]:
        by_case.setdefault(entry["case"], []).append(entry["implementation"])
    for case, implementations in by_case.items():
        assert implementations[0] == "kfsym", case
        if "prove" not in case:
            assert len(implementations) >= 2, f"{case}: kfsym has no competitor"
    assert "scipy.stats.norm" in by_case["pdf, 10^6 elements"]
    assert "np.exp alone (lower bound)" in by_case["pdf, 10^6 elements"]
    assert "filterpy.stats.gaussian" in by_case["pdf, scalar"]
    assert "filterpy loop (multivariate_multiply)" in by_case["mvn_multiply, 10^4 x 4-D"]
    one_track = by_case["kf_filter, 1 track x 10^4 steps, 4-D state, 2-D measurement"]
    assert {"filterpy predict/update loop", "pykalman filter", "kfsym backend='numpy'"} <= set(one_track)
    # the table and the progress lines
    assert "kfsym/this" in done.stdout and "cores" in done.stdout
    assert "[1/" in done.stderr


def test_case_filter_and_unknown_case(capsys: object) -> None:
    assert bench.run(quick=True, cases="no such case") == 2
