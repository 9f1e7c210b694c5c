"""The PDF: ``latexmk -pdf`` on the LaTeX document, what to install when LaTeX is missing, and the log's tail."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from kfsym.render.contents import DEFAULT_OUT, FIGURES_DIR, TEX_NAME, _label

__all__ = [
    "DEBIAN_PACKAGES",
    "LATEX_TIMEOUT",
    "LatexError",
    "MissingToolchainError",
    "build_pdf",
    "missing_tools",
    "pdf_page_png",
    "pdf_pages",
    "toolchain_hint",
]

#: Debian packages that provide ``latexmk`` and ``pdflatex`` with every LaTeX package the document uses.
DEBIAN_PACKAGES = ("texlive-latex-base", "texlive-latex-recommended", "latexmk")
#: Seconds ``latexmk`` may run before the build counts as failed.
LATEX_TIMEOUT = 600.0


class MissingToolchainError(RuntimeError):
    """``latexmk`` or ``pdflatex`` is not on ``PATH``; the message says what to install."""


class LatexError(RuntimeError):
    """``latexmk`` failed; the message ends with the tail of the LaTeX log."""


def missing_tools(tools: Sequence[str] = ("latexmk", "pdflatex")) -> list[str]:
    """The LaTeX programs the PDF needs that are not on ``PATH`` (empty when it can be built)."""
    return [tool for tool in tools if shutil.which(tool) is None]


def toolchain_hint(missing: Sequence[str]) -> str:
    """What to install for the PDF: the Debian/Ubuntu packages, by name.

    Examples
    --------
    >>> print(toolchain_hint(["latexmk"]))  # doctest: +NORMALIZE_WHITESPACE
    cannot build the PDF: latexmk not found on PATH. On Debian or Ubuntu install
    the LaTeX toolchain with: sudo apt-get install --no-install-recommends
    texlive-latex-base texlive-latex-recommended latexmk
    """
    return (
        f"cannot build the PDF: {' and '.join(missing)} not found on PATH. On Debian or Ubuntu install "
        f"the LaTeX toolchain with: sudo apt-get install --no-install-recommends {' '.join(DEBIAN_PACKAGES)}"
    )


def _log_tail(log: Path, output: str, lines: int = 40) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else output
    all_lines = text.splitlines()
    errors = [line for line in all_lines if line.startswith("!") or re.match(r".+:\d+: ", line)]
    tail = all_lines[-lines:]
    return "\n".join([*errors[:10], "...", *tail] if errors else tail)


def build_pdf(out: Path = DEFAULT_OUT, *, timeout: float = LATEX_TIMEOUT) -> Path:
    """Run ``latexmk -pdf`` on ``out/kfsym.tex``; returns the PDF's path.

    Raises
    ------
    MissingToolchainError
        When ``latexmk`` or ``pdflatex`` is missing (naming the Debian packages).
    LatexError
        When LaTeX fails or times out, with the log's errors and tail. No ``kfsym.pdf`` is left behind then:
        neither the pages shipped before the error nor a PDF of an earlier run (an error in the preamble
        stops pdflatex before it opens the PDF, which would keep the old one).
    """
    missing = missing_tools()
    if missing:
        raise MissingToolchainError(toolchain_hint(missing))
    pdf = out / TEX_NAME.replace(".tex", ".pdf")
    command = [
        "latexmk",
        "-pdf",
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-file-line-error",
        TEX_NAME,
    ]
    try:
        done = subprocess.run(
            command, cwd=out, capture_output=True, encoding="utf-8", errors="replace", timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as error:
        pdf.unlink(missing_ok=True)
        raise LatexError(f"latexmk timed out after {timeout:g} s in {out}") from error
    log = out / TEX_NAME.replace(".tex", ".log")
    if done.returncode != 0:
        pdf.unlink(missing_ok=True)
        raise LatexError(
            f"latexmk failed with status {done.returncode} in {out}; end of {log.name}:\n"
            + _log_tail(log, done.stdout + done.stderr)
        )
    return pdf


def pdf_pages(out: Path = DEFAULT_OUT) -> int | None:
    """Page count of the last PDF build, from the LaTeX log (None before a build)."""
    log = out / TEX_NAME.replace(".tex", ".log")
    if not log.exists():
        return None
    found = re.findall(r"Output written on \S+ \((\d+) pages?", log.read_text(encoding="utf-8", errors="replace"))
    return int(found[-1]) if found else None


def pdf_page_png(out: Path = DEFAULT_OUT, derivation: str = "gaussian.product", *, resolution: int = 80) -> Path | None:
    """The PDF page where ``derivation`` starts, as ``figures/page-<name>.png`` (needs ``pdftoppm``).

    The page number comes from the ``\\label`` in ``kfsym.aux``. Returns None
    when ``pdftoppm`` (Debian package ``poppler-utils``) is missing or the PDF
    has not been built.
    """
    aux, pdf = out / TEX_NAME.replace(".tex", ".aux"), out / TEX_NAME.replace(".tex", ".pdf")
    if shutil.which("pdftoppm") is None or not aux.exists() or not pdf.exists():
        return None
    found = re.search(
        r"\\newlabel\{" + re.escape(_label(derivation)) + r"\}\{\{[^}]*\}\{(\d+)\}", aux.read_text(encoding="utf-8")
    )
    if found is None:
        return None
    page = found.group(1)
    target = out / FIGURES_DIR / f"page-{derivation.replace('.', '-').replace('_', '-')}"
    command = ["pdftoppm", "-png", "-r", str(resolution), "-f", page, "-l", page, "-singlefile", str(pdf), str(target)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return target.with_suffix(".png")
