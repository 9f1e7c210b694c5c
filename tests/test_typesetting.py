"""Every formula kfsym shows must typeset: MathJax 3 (as JupyterLab and plain MathJax load it) and pdflatex.

The MathJax check runs ``tests/mathjax/typeset.mjs`` under Node with the npm
package ``mathjax-full`` (``npm ci`` in ``tests/mathjax``, done by ``.ci/run``).
Locally the checks are skipped when Node, the npm packages or pdflatex are
missing; under ``CI=true`` or with ``KFSYM_REQUIRE_TYPESETTERS=1`` (both set by CI) a missing tool fails
(``tests/tools.py``).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from kfsym import render
from kfsym.derive import all_derivations
from kfsym.derive.mathtext import problems, segments
from tests.tools import missing, typesetters_required

MATHJAX_DIR = Path(__file__).resolve().parent / "mathjax"
REQUIRED = typesetters_required()  # CI=true or KFSYM_REQUIRE_TYPESETTERS=1

# Formulas that must fail: the escapes of the old justifications, an unknown macro, a text-mode macro in math.
BAD = {
    "escaped-text": r"\text{sqrt(sigma\_i\textasciicircum{}2) = sigma\_i}",
    "unknown-macro": r"\sigma \undefinedmacro x",
    "text-special": r"\text{x_i^2}",
}


def _missing(tool: str) -> None:
    missing(tool, required=REQUIRED, because="CI=true or KFSYM_REQUIRE_TYPESETTERS=1")


def _markdown_math(text: str) -> list[tuple[str, bool]]:
    """The ``$$`` blocks (display) and the inline ``$...$`` of Markdown, outside code spans."""
    found: list[tuple[str, bool]] = []
    for block in re.findall(r"^\$\$\n(.*?)\n\$\$$", text, flags=re.DOTALL | re.MULTILINE):
        found.append((block, True))
    prose = re.sub(r"^\$\$\n.*?\n\$\$$", "", text, flags=re.DOTALL | re.MULTILINE)
    prose = re.sub(r"`[^`]*`", "", prose)
    for line in prose.splitlines():
        found += [(part, False) for is_math, part in segments(line) if is_math]
    return found


def _formulas() -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    for derivation in all_derivations():
        latex = derivation._repr_latex_()
        assert latex.startswith("$$\n") and latex.endswith("\n$$"), derivation.name
        items.append({"id": f"{derivation.name} _repr_latex_", "tex": latex[3:-3], "display": True})
        for number, (tex, display) in enumerate(_markdown_math(derivation._repr_markdown_())):
            items.append({"id": f"{derivation.name} _repr_markdown_ #{number}", "tex": tex, "display": display})
    for name, content in render.documents().items():
        if name.endswith(".md"):
            for number, (tex, display) in enumerate(_markdown_math(content)):
                items.append({"id": f"{name} math #{number}", "tex": tex, "display": display})
    return items


def _mathjax(items: list[dict[str, object]]) -> list[dict[str, str]]:
    if shutil.which("node") is None:
        _missing("node")
    if not (MATHJAX_DIR / "node_modules" / "mathjax-full").is_dir():
        _missing("the npm package mathjax-full (npm ci in tests/mathjax)")
    done = subprocess.run(
        ["node", str(MATHJAX_DIR / "typeset.mjs")],
        input=json.dumps(items),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    found: list[dict[str, str]] = json.loads(done.stdout)
    return found


def test_every_title_reason_and_note_is_prose_with_known_math() -> None:
    found = {}
    for derivation in all_derivations():
        texts = {"title": derivation.title, "notes": derivation.notes}
        texts |= {f"step {number}": step.why for number, step in enumerate(derivation.steps, start=1)}
        texts |= {f"condition {number}": text for number, text in enumerate(derivation.conditions, start=1)}
        for where, text in texts.items():
            if problems(text):
                found[f"{derivation.name} {where}"] = problems(text)
    assert not found, "\n".join(f"{key}: {value}" for key, value in found.items())


def test_mathjax_typesets_every_formula() -> None:
    items = _formulas()
    assert len(items) > 2 * len(all_derivations())
    found = _mathjax(items)
    assert not found, "\n".join(f"{p['id']} [{p['config']}]: {p['problem']}" for p in found[:40])


def test_mathjax_check_rejects_bad_formulas() -> None:
    """Negative control: the old escaped justifications and unknown macros are reported in both configurations."""
    found = _mathjax([{"id": key, "tex": tex, "display": True} for key, tex in BAD.items()])
    reported = {(p["id"], p["config"]) for p in found}
    assert ("escaped-text", "jupyterlab") in reported and ("escaped-text", "plain") in reported
    assert ("unknown-macro", "jupyterlab") in reported and ("unknown-macro", "plain") in reported
    assert ("text-special", "jupyterlab") in reported


def _pdflatex(body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("pdflatex") is None:
        _missing("pdflatex")
    preamble = "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
    source = preamble + body + "\n\\end{document}\n"
    (tmp_path / "check.tex").write_text(source, encoding="utf-8")
    return subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "check.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_pdflatex_typesets_every_formula(tmp_path: Path) -> None:
    blocks = []
    for item in _formulas():
        tex = str(item["tex"]).strip()
        if tex.startswith("\\begin{align*}"):
            blocks.append(tex)  # an environment of its own, as in the PDF
        else:
            blocks.append(f"\\[{tex}\\]" if item["display"] else f"${tex}$")
    done = _pdflatex("\n\n".join(blocks), tmp_path)
    errors = [line for line in done.stdout.splitlines() if line.startswith("!")]
    assert done.returncode == 0, "\n".join(errors or done.stdout.splitlines()[-30:])
    log = (tmp_path / "check.log").read_text(encoding="utf-8", errors="replace")
    assert "Undefined control sequence" not in log


def test_pdflatex_check_rejects_a_bad_macro(tmp_path: Path) -> None:
    done = _pdflatex(f"\\[{BAD['unknown-macro']}\\]", tmp_path)
    assert done.returncode != 0
