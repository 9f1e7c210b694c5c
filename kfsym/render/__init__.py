"""Write the registry's derivations as documents: one LaTeX file (and its PDF), one Markdown file a topic.

``kfsym render [--out DIR] [--pdf]`` writes ``kfsym.tex``, ``<topic>.md`` and
the figures of :mod:`kfsym.plot` (``figures/<name>.png`` for Markdown,
``figures/<name>.pdf`` for LaTeX); ``--pdf`` then builds ``kfsym.pdf`` with
``latexmk -pdf``. ``kfsym render --check`` exits non-zero when the committed
``.tex``/``.md`` files differ from what the registry renders now, or a figure
is missing.

One module per job:

- :mod:`kfsym.render.markdown` — the Markdown writer (``<topic>.md``);
- :mod:`kfsym.render.latex` — the LaTeX writer (``kfsym.tex``) and its page layout;
- :mod:`kfsym.render.width` — width estimates and line breaking for that layout;
- :mod:`kfsym.render.pdf` — the LaTeX toolchain (``latexmk``), its errors and what to install;
- :mod:`kfsym.render.contents` — what goes where: topics, figures, paths, citations;
- this module — the files: :func:`documents`, :func:`write`, :func:`check`.

The terminal and Jupyter forms of one derivation live with the derivations
(:mod:`kfsym.derive.display`); prose with ``$...$`` math is turned into each
format by :mod:`kfsym.derive.mathtext`.
"""

from __future__ import annotations

import shutil  # noqa: F401 - tests replace shutil.which through here to pretend LaTeX is missing
from collections.abc import Iterable
from pathlib import Path

from kfsym.render import contents, latex, markdown, pdf, width
from kfsym.render.contents import DEFAULT_OUT, FIGURES_DIR, TEX_NAME, _figure_info, _grouped, cited
from kfsym.render.latex import latex_document
from kfsym.render.markdown import markdown_document
from kfsym.render.pdf import (
    DEBIAN_PACKAGES,
    LATEX_TIMEOUT,
    LatexError,
    MissingToolchainError,
    build_pdf,
    missing_tools,
    pdf_page_png,
    pdf_pages,
    toolchain_hint,
)

__all__ = [
    "DEBIAN_PACKAGES",
    "DEFAULT_OUT",
    "FIGURES_DIR",
    "LATEX_TIMEOUT",
    "TEX_NAME",
    "LatexError",
    "MissingToolchainError",
    "build_pdf",
    "check",
    "cited",
    "contents",
    "documents",
    "figure_paths",
    "latex",
    "latex_document",
    "markdown",
    "markdown_document",
    "missing_tools",
    "pdf",
    "pdf_page_png",
    "pdf_pages",
    "toolchain_hint",
    "width",
    "write",
    "write_figures",
]


def documents() -> dict[str, str]:
    """File name → content for every text file ``render`` writes (the ``.tex`` and the ``.md`` files)."""
    files = {TEX_NAME: latex_document()}
    for key, _title, _members in _grouped():
        files[f"{key}.md"] = markdown_document(key)
    return files


def figure_paths(out: Path = DEFAULT_OUT, suffixes: Iterable[str] = (".png", ".pdf")) -> list[Path]:
    """The figure files ``render`` writes into ``out`` (``figures/<name><suffix>``)."""
    return [out / FIGURES_DIR / f"{name}{suffix}" for name in _figure_info() for suffix in suffixes]


def write_figures(out: Path = DEFAULT_OUT) -> list[Path]:
    """Draw every figure of :data:`kfsym.plot.FIGURES` as PNG and PDF into ``out/figures``."""
    from kfsym.plot import save

    (out / FIGURES_DIR).mkdir(parents=True, exist_ok=True)
    return [save(path.stem, path) for path in figure_paths(out)]


def write(out: Path = DEFAULT_OUT, *, figures: bool = True) -> list[Path]:
    """Write :func:`documents` (and, with ``figures``, the figures) into ``out``; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in documents().items():
        path = out / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    if figures:
        written += write_figures(out)
    return written


def check(out: Path = DEFAULT_OUT) -> list[str]:
    """Names of the files in ``out`` that are missing or stale (empty when all are current).

    The ``.tex`` and ``.md`` files must equal what :func:`documents` renders
    now; the PNG figures (whose bytes depend on the matplotlib build) must exist.
    """
    stale = []
    for name, content in documents().items():
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != content:
            stale.append(name)
    stale += [str(path.relative_to(out)) for path in figure_paths(out, (".png",)) if not path.exists()]
    return stale
