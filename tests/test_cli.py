"""The ``kfsym`` command line."""

from __future__ import annotations

import subprocess
import sys

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
