"""Under CI a test that needs LaTeX or Node fails when the tool is missing; Chromium only where CI asks for it.

The policy (``tests/tools.py``) is checked on its own, then by behaviour: the real tests are run in a
subprocess whose PATH holds no tool at all, with and without ``CI=true``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools import docs_required, in_ci, typesetters_required

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("value", "expected"), [("true", True), ("TRUE", True), ("1", True), ("", False), ("0", False)]
)
def test_ci_is_recognised(value: str, expected: bool) -> None:
    assert in_ci({"CI": value}) is expected
    assert typesetters_required({"CI": value}) is expected


def test_ci_requires_latex_and_node_but_not_the_docs_site() -> None:
    """CI's plain `make test` runs before `make docs`: there the browser tests skip; with KFSYM_REQUIRE_DOCS=1 not."""
    assert typesetters_required({"CI": "true"})
    assert typesetters_required({"KFSYM_REQUIRE_TYPESETTERS": "1"})
    assert not typesetters_required({})
    assert not docs_required({"CI": "true"})
    assert docs_required({"CI": "true", "KFSYM_REQUIRE_DOCS": "1"})


def _pytest_without_tools(tmp_path: Path, test: str, **env: str) -> subprocess.CompletedProcess[str]:
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    environ = {
        k: v for k, v in os.environ.items() if k not in {"CI", "KFSYM_REQUIRE_TYPESETTERS", "KFSYM_REQUIRE_DOCS"}
    }
    environ.update(PATH=str(empty), **env)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-o", "addopts=", "-rs", test]
    return subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, check=False, timeout=300)


@pytest.mark.parametrize(
    ("test", "tool"),
    [
        ("tests/test_render.py::test_a_latex_error_fails_with_the_log_tail", "latexmk/pdflatex"),
        ("tests/test_typesetting.py::test_mathjax_check_rejects_bad_formulas", "node"),
        ("tests/test_typesetting.py::test_pdflatex_check_rejects_a_bad_macro", "pdflatex"),
    ],
)
def test_a_missing_typesetter_skips_locally_and_fails_under_ci(tmp_path: Path, test: str, tool: str) -> None:
    local = _pytest_without_tools(tmp_path, test)
    assert local.returncode == 0 and "1 skipped" in local.stdout, local.stdout[-2000:]
    ci = _pytest_without_tools(tmp_path, test, CI="true")
    assert ci.returncode == 1 and ("1 failed" in ci.stdout or "1 error" in ci.stdout), ci.stdout[-2000:]
    assert f"{tool} is missing" in ci.stdout


def test_the_browser_test_skips_in_cis_make_test_and_fails_when_ci_requires_the_docs(tmp_path: Path) -> None:
    test = "tests/test_docs.py::test_every_page_renders_its_math"
    before_docs = _pytest_without_tools(tmp_path, test, CI="true")
    assert before_docs.returncode == 0 and "1 skipped" in before_docs.stdout, before_docs.stdout[-2000:]
    required = _pytest_without_tools(tmp_path, test, CI="true", KFSYM_REQUIRE_DOCS="1")
    assert required.returncode == 1 and "KFSYM_REQUIRE_DOCS=1 but" in required.stdout, required.stdout[-2000:]
