"""The CLI's exit paths and what it reports on them (issue 17's mutation run found these unchecked).

`kfsym prove`'s tally is tested with a stand-in for the proof of one derivation, so that passing and failing
derivations can be combined at will and the test takes milliseconds.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kfsym import cli, render
from kfsym.cli import main
from kfsym.derive import all_derivations, topics
from tests.test_cli import run


def test_list_shows_each_derivation_under_its_own_topic(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "list")
    assert status == 0
    by_name = {d.name: d for d in all_derivations()}
    titles = {f"{t.title}  [{t.key}]": t.key for t in topics()}
    topic = None
    seen = set()
    for line in out.splitlines():
        if line in titles:
            topic = titles[line]
            continue
        match = re.match(r"  (\S+)\s", line)
        if match is None:
            continue
        name = match.group(1)
        derivation = by_name[name]
        assert derivation.topic == topic, f"{name} listed under {topic}"
        # the generated kernels are named after an arrow, only for derivations that have any
        if derivation.results:
            assert line.endswith("  → " + ", ".join(r.name for r in derivation.results)), line
        else:
            assert "  → " not in line, line  # (a title may contain an arrow itself: "→ 0")
        seen.add(name)
    assert seen == set(by_name)
    assert out.rstrip().endswith(f"{len(by_name)} derivations in {len(topics())} topics")


def _fake_verify(outcomes: dict[str, tuple[bool, int]]) -> object:
    def verify(name: str, timeout: float | None) -> tuple[str, bool, float, int, str]:
        proved, steps = outcomes[name]
        return name, proved, 0.01, steps if proved else 0, "" if proved else f"{name}, step 1: does not hold"

    return verify


def test_prove_tallies_proved_steps_and_every_failure(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two failures are two, the steps of the proved derivations add up, and any failure is exit status 1."""
    outcomes = {"gaussian.mean": (True, 3), "gaussian.variance": (True, 4), "gaussian.pdf": (False, 0)}
    outcomes["gaussian.cdf"] = (False, 0)
    monkeypatch.setattr(cli, "_verify", _fake_verify(outcomes))
    status, out, _ = run(capsys, "prove", "--jobs", "1", *outcomes)
    assert status == 1
    assert "2 of 4 derivations proved (7 steps checked), 2 failed" in out
    assert float(re.findall(r"failed, in ([0-9.]+) s", out)[-1]) < 60.0  # the elapsed time, not a clock reading
    assert "gaussian.pdf, step 1: does not hold" in out
    monkeypatch.setattr(cli, "_verify", _fake_verify({"gaussian.mean": (True, 3), "gaussian.variance": (True, 4)}))
    status, out, _ = run(capsys, "prove", "--jobs", "1", "gaussian.mean", "gaussian.variance")
    assert status == 0
    assert "2 of 2 derivations proved (7 steps checked), 0 failed" in out


def test_a_failed_proof_reports_no_steps_checked(capsys: pytest.CaptureFixture[str]) -> None:
    """_verify's outcome for a proof that fails: not proved, 0 steps, the error text, a non-negative duration."""
    name, proved, seconds, steps, message = cli._verify("gaussian.cdf", 0.01)
    assert (name, proved, steps) == ("gaussian.cdf", False, 0)
    assert 0.0 <= seconds < 60.0 and "timed out" in message


def test_prove_jobs_must_be_a_whole_number_from_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli._at_least_one("1") == 1
    assert cli._at_least_one("2") == 2
    with pytest.raises(SystemExit) as exited:
        main(["prove", "--jobs", "0", "gaussian.mean"])
    assert exited.value.code == 2


def test_timeout_must_be_finite_and_positive() -> None:
    assert cli._positive_seconds("0.5") == 0.5
    for bad in ("0", "-1", "inf", "nan", "x"):
        with pytest.raises(Exception, match="seconds"):
            cli._positive_seconds(bad)


def test_prove_uses_at_most_two_workers_by_default() -> None:
    args = cli._parser().parse_args(["prove"])
    assert args.jobs == min(2, os.cpu_count() or 1)
    assert args.timeout is None


def test_every_subcommand_dispatches_to_its_own_handler() -> None:
    parser = cli._parser()
    for argv in (["list"], ["show", "x"], ["prove"], ["codegen"], ["render"], ["plot"], ["bench"], ["accuracy"]):
        handler = parser.parse_args(argv).run
        assert handler is getattr(cli, f"_cmd_{argv[0]}"), argv
    assert parser.parse_args(["accuracy"]).samples == 2000  # the documented default


def test_render_check_looks_where_it_is_told(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --out: the default folder (derivations/) is checked; --out DIR: DIR is, and only DIR."""
    default, chosen = tmp_path / "default", tmp_path / "chosen"
    default.mkdir()
    chosen.mkdir()
    monkeypatch.setattr(render, "DEFAULT_OUT", default)
    status, _, err = run(capsys, "render", "--check")
    assert status == 1 and f"stale or missing in {default}:" in err
    status, _, err = run(capsys, "render", "--check", "--out", str(chosen))
    assert status == 1 and f"stale or missing in {chosen}:" in err


def test_plot_and_bench_run_their_commands(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "plot", "--list")
    assert status == 0 and out.strip()
    assert main(["bench", "--quick", "--case", "no such case"]) == 2


def test_list_shows_each_derivations_generated_functions_and_nothing_for_the_others(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from kfsym.derive.mathtext import to_unicode

    status, out, _ = run(capsys, "list")
    assert status == 0
    lines = {match.group(1): line for line in out.splitlines() if (match := re.match(r"  (\S+)\s", line))}
    with_results = [d for d in all_derivations() if d.results]
    without = [d for d in all_derivations() if not d.results]
    assert with_results and without
    for derivation in with_results:
        assert lines[derivation.name].endswith("  → " + ", ".join(r.name for r in derivation.results))
    for derivation in without:  # the line ends with the title
        assert lines[derivation.name].endswith("  " + to_unicode(derivation.title))


def test_plot_list_gives_each_figure_its_one_line_summary(capsys: pytest.CaptureFixture[str]) -> None:
    from kfsym import plot

    status, out, _ = run(capsys, "plot", "--list")
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == len(plot.FIGURES)
    for line, (name, draw) in zip(lines, plot.FIGURES.items(), strict=True):
        summary = (draw.__doc__ or "").strip().splitlines()[0]
        assert line.split()[0] == name and line.endswith("  " + summary)


def test_plot_list_works_without_docstrings_as_under_python_OO(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -OO` strips docstrings: each figure is still listed, with the derivation it illustrates."""
    from kfsym import plot

    for draw in plot.FIGURES.values():
        monkeypatch.setattr(draw, "__doc__", None)
    status, out, _ = run(capsys, "plot", "--list")
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == len(plot.FIGURES)
    for line, name in zip(lines, plot.FIGURES, strict=True):
        assert line.split()[0] == name and line.endswith(f"  (illustrates {plot.FIGURE_INFO[name].illustrates})")


def test_bench_hands_its_options_to_the_benchmark_it_names(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from kfsym import bench, bench_dask

    calls: list[tuple[str, dict[str, object]]] = []

    def stand_in(kind: str, status: int) -> object:
        def run(**options: object) -> int:
            calls.append((kind, options))
            return status

        return run

    monkeypatch.setattr(bench, "run", stand_in("bench", 7))
    monkeypatch.setattr(bench_dask, "run", stand_in("dask", 5))
    target = tmp_path / "out.json"
    assert main(["bench", "--quick", "--json", str(target), "--case", "filter"]) == 7
    assert calls.pop() == ("bench", {"quick": True, "json_path": target, "cases": "filter"})
    assert main(["bench"]) == 7
    assert calls.pop() == ("bench", {"quick": False, "json_path": None, "cases": None})
    assert main(["bench", "--dask", "--json", str(target)]) == 5
    assert calls.pop() == ("dask", {"quick": False, "scale": None, "json_path": target})
    assert main(["bench", "--dask-scale", "3", "--quick"]) == 5
    assert calls.pop() == ("dask", {"quick": True, "scale": 3, "json_path": None})
    assert calls == []
    status, _, err = run(capsys, "bench", "--dask", "--case", "filter")
    assert status == 2 and "--case does not apply to --dask" in err and calls == []
