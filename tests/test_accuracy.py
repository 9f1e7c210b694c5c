"""``kfsym accuracy``: its table has every row, its numbers are sane, and kfsym is within every stated bound."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kfsym import accuracy

SAMPLES = 150  # a few seconds; the README's table is from the default (2000)
ONE_D = ["pdf", "logpdf", "cdf", "evidence", "log_evidence", "multiply (mean)", "multiply (var)"]
BUCKETS = [f"1e{decades}, {scales}" for scales in ("1e-3..1e3", "5e-324..9e307") for decades in (0, 4, 8, 12)]
N_D = [(name, bucket) for bucket in BUCKETS for name in ("mvn_logpdf", "mahalanobis")]
NO_SCIPY = {"multiply (mean)", "multiply (var)"}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of the command line, as a user types it: (exit status, stdout, the JSON report)."""
    target = tmp_path_factory.mktemp("accuracy") / "accuracy.json"
    done = subprocess.run(
        [sys.executable, "-m", "kfsym", "accuracy", "--samples", str(SAMPLES), "--seed", "3", "--json", str(target)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    return {"done": done, "json": json.loads(target.read_text(encoding="utf-8"))}


def rows_by_key(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["function"], row["bucket"]): row for row in report["json"]["rows"]}


def test_the_report_has_every_row_with_sane_numbers(report: dict[str, Any]) -> None:
    assert report["json"]["samples"] == SAMPLES and report["json"]["seed"] == 3 and report["json"]["digits"] == 50
    rows = rows_by_key(report)
    assert list(rows) == [(name, "") for name in ONE_D] + N_D
    for (name, bucket), row in rows.items():
        assert row["compared"] >= (SAMPLES // 2 if not bucket else 10), (name, bucket)
        assert math.isfinite(row["kfsym"]) and row["kfsym"] >= 0, (name, bucket)
        assert row["bound"] > 0
        if name in NO_SCIPY:
            assert row["scipy"] is None and row["scipy_failures"] == 0
        else:
            assert row["scipy"] is None or row["scipy"] >= 0
            assert 0 <= row["scipy_failures"] <= row["compared"]
            assert row["scipy"] is not None or row["scipy_failures"] == row["compared"]
        if bucket:  # n-D: 64 n cond eps, at the bucket's largest condition number (>= 1)
            assert row["bound"] >= 64 * 3 * sys.float_info.epsilon and row["k"] is not None
        else:
            assert row["bound"] == 1e-12 and row["k"] is None


def test_the_markdown_table(report: dict[str, Any]) -> None:
    done = report["done"]
    lines = done.stdout.splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert table[0].startswith("| function | cond, variances | error measure | compared | kfsym max error | bound |")
    assert set(table[1]) <= set("|-:")
    assert len(table) == 2 + len(ONE_D) + len(N_D)
    for line in table:
        assert len(re.split(r"(?<!\\)\|", line)) == 10, line  # eight cells between unescaped bars
    assert "abs / max(1, \\|exact\\|)" in done.stdout
    assert "against mpmath at 50 digits" in done.stdout


def test_exit_status_says_whether_kfsym_is_within_every_bound(report: dict[str, Any]) -> None:
    outside = [row for row in report["json"]["rows"] if not accuracy.Row(**row).within_bound]
    assert report["done"].returncode == (1 if outside else 0)
    for row in outside:
        assert f"kfsym: {row['function']}" in report["done"].stderr


def _within(report: dict[str, Any], name: str, bucket: str) -> None:
    row = rows_by_key(report)[(name, bucket)]
    assert row["kfsym"] <= row["bound"], row
    if row["k"] is not None:
        assert row["k"] <= 64, row


@pytest.mark.parametrize("name", ONE_D)
def test_kfsym_within_its_bound_1d(report: dict[str, Any], name: str) -> None:
    _within(report, name, "")


@pytest.mark.parametrize(("name", "bucket"), N_D)
def test_kfsym_within_its_bound_nd(report: dict[str, Any], name: str, bucket: str) -> None:
    _within(report, name, bucket)


def test_same_seed_same_numbers() -> None:
    first, second = accuracy.measure(samples=20, seed=5), accuracy.measure(samples=20, seed=5)
    assert first == second


def test_missing_extras_give_a_clear_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "mpmath", None)  # import mpmath now raises ImportError
    assert accuracy.run(samples=5) == 2
    assert "pip install 'kfsym[test]'" in capsys.readouterr().err


def test_bad_sample_count(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert accuracy.run(samples=0, json_path=tmp_path / "unused.json") == 2
    assert "--samples" in capsys.readouterr().err
    assert not (tmp_path / "unused.json").exists()
