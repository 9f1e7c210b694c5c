"""The ``kfsym`` command line."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
import sympy as sp

from kfsym.cli import main
from kfsym.derive import Derivation, Step, registry


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_list_groups_by_topic(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "list")
    assert status == 0
    assert "The one-dimensional Gaussian  [gaussian]" in out
    assert "gaussian.product_stable" in out and "→ gaussian_product" in out
    assert "derivations in" in out.splitlines()[-1]


def test_list_names_every_generated_function(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A derivation's line ends with the names of all the functions generated from it, comma-separated."""
    import kfsym.derive
    from kfsym.derive import all_derivations

    real = next(d for d in all_derivations() if d.results)
    pair = SimpleNamespace(
        name="demo.pair",
        topic=real.topic,
        title=real.title,
        results=(SimpleNamespace(name="first_fn"), SimpleNamespace(name="second_fn")),
    )
    monkeypatch.setattr(kfsym.derive, "all_derivations", lambda: [real, pair])
    _, out, _ = run(capsys, "list")
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ")}
    assert lines["demo.pair"].endswith("  → first_fn, second_fn")
    assert lines[real.name].endswith(f"  → {real.results[0].name}")


def test_show_text_and_latex(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "show", "gaussian.product")
    assert status == 0 and out.startswith("gaussian.product — ")
    status, out, _ = run(capsys, "show", "gaussian.product", "--latex")
    assert status == 0 and out.startswith("\\begin{align*}")


def test_show_unknown_name_is_a_message_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "show", "nope.nothing")
    assert status == 2
    assert "no derivation named 'nope.nothing'" in err
    assert "Traceback" not in err + out


def test_prove_selected_names(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "prove", "gaussian.product", "gaussian.sum_mgf")
    assert status == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("✓ gaussian.product") and " s " in lines[0]
    assert lines[1].startswith("✓ gaussian.sum_mgf")
    assert lines[-1].startswith("2 of 2 derivations proved") and "0 failed" in lines[-1]


def test_prove_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "prove", "gaussian.prodct")
    assert status == 2
    assert "did you mean gaussian.product" in err


def test_prove_reports_a_failure_and_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = sp.Symbol("a", real=True)
    broken = Derivation(
        name="gaussian.broken", title="wrong", lhs=(a + 1) ** 2, rhs=a**2 + 1, steps=(Step(a**2 + 1, "oops", "expand"),)
    )
    monkeypatch.setitem(registry._DERIVATIONS, broken.name, broken)
    status, out, _ = run(capsys, "prove", "gaussian.broken", "gaussian.pdf")
    assert status == 1
    assert "✗ gaussian.broken" in out and "FAILED" in out
    assert "residual that did not vanish: 2*a" in out
    assert "✓ gaussian.pdf" in out
    assert "1 of 2 derivations proved" in out and "1 failed" in out


def test_prove_timeout_option(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "prove", "gaussian.cdf", "--timeout", "0.01")
    assert status == 1
    assert "timed out after 0.01 s" in out


def test_codegen_check(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "codegen", "--check")
    assert status == 0 and "up to date" in out


def test_console_entry_point_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kfsym", "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0
    for command in ("list", "show", "prove", "codegen", "render"):
        assert command in done.stdout


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2


def test_a_closed_pipe_is_not_a_traceback() -> None:
    """Output into a pipe whose reader has gone (``kfsym list | head``) ends quietly."""
    script = (
        "import os, sys\n"
        "read, write = os.pipe()\n"
        "os.close(read)\n"
        "os.dup2(write, 1)\n"
        "from kfsym.cli import main\n"
        "sys.exit(main(['list']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from kfsym import __version__

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"kfsym {__version__}"


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["prove", "--timeout", "-1"], "--timeout: must be a number of seconds greater than 0, got -1"),
        (["prove", "--timeout", "0"], "--timeout: must be a number of seconds greater than 0, got 0"),
        (["prove", "--timeout", "inf"], "--timeout: must be a number of seconds greater than 0, got inf"),
        (["prove", "--timeout", "soon"], "--timeout: 'soon' is not a number of seconds"),
        (["prove", "--jobs", "0"], "--jobs: must be 1 or more, got 0"),
        (["prove", "--jobs", "-3"], "--jobs: must be 1 or more, got -3"),
        (["accuracy", "--samples", "0"], "--samples: must be 1 or more, got 0"),
    ],
)
def test_bad_arguments_fail_in_one_line_with_status_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], complaint: str
) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and complaint in err and "Traceback" not in err


def test_render_without_latex_says_so_once(
    capsys: pytest.CaptureFixture[str], tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kfsym import render

    monkeypatch.setattr(render.shutil, "which", lambda tool: None)
    monkeypatch.setattr(render, "write_figures", lambda out: [])
    status, out, err = run(capsys, "render", "--out", str(tmp_path))
    assert status == 0
    assert [line for line in (out + err).splitlines() if "PDF" in line] == [
        f"no PDF: kfsym render --pdf --out {tmp_path} needs LaTeX ({render.toolchain_hint(['latexmk', 'pdflatex'])})"
    ]
