"""What goes where in the rendered documents: topics, figures, output paths and citations between derivations.

Shared by the LaTeX and the Markdown writers (:mod:`kfsym.render.latex`, :mod:`kfsym.render.markdown`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kfsym.derive import Derivation, all_derivations, topics

if TYPE_CHECKING:
    from kfsym.plot import FigureInfo

__all__ = ["DEFAULT_OUT", "FIGURES_DIR", "TEX_NAME", "cited"]

#: The committed output folder (``derivations/`` at the top of the repository).
DEFAULT_OUT = Path(__file__).resolve().parent.parent.parent / "derivations"
#: The LaTeX document's file name inside the output folder.
TEX_NAME = "kfsym.tex"
#: Folder of the figures, relative to the output folder.
FIGURES_DIR = "figures"

# ----------------------------------------------------------- registry views
def _grouped() -> Iterator[tuple[str, str, list[Derivation]]]:
    everything = all_derivations()
    for topic in topics():
        members = [d for d in everything if d.topic == topic.key]
        if members:
            yield topic.key, topic.title, members


def _label(name: str) -> str:
    return "der:" + name.replace("_", "-")


def _figure_info() -> dict[str, FigureInfo]:
    from kfsym.plot import FIGURE_INFO

    return dict(FIGURE_INFO)


def _figures_after(members: Sequence[Derivation], key: str) -> dict[str, list[str]]:
    """Derivation name → figures placed after it; a figure whose derivation is gone goes after the topic's last."""
    placed: dict[str, list[str]] = {}
    names = {d.name for d in members}
    for figure, info in _figure_info().items():
        if info.illustrates in names:
            placed.setdefault(info.illustrates, []).append(figure)
        elif info.illustrates.split(".", 1)[0] == key:
            placed.setdefault(members[-1].name, []).append(figure)
    return placed


# ------------------------------------------------------------ citations
_CITE_CACHE: dict[str, re.Pattern[str]] = {}


def _cite_pattern() -> re.Pattern[str]:
    """Matches a registered derivation name, optionally in parentheses: ``(gaussian.product)``."""
    names = sorted((d.name for d in all_derivations()), key=len, reverse=True)
    key = "|".join(names)
    if key not in _CITE_CACHE:
        alternatives = "|".join(re.escape(name) for name in names)
        _CITE_CACHE.clear()
        _CITE_CACHE[key] = re.compile(rf"(\()?(?<![\w.])({alternatives})(?![\w])(\))?")
    return _CITE_CACHE[key]


def cited(text: str, *, exclude: str = "") -> list[str]:
    """Registered derivation names that ``text`` mentions, in order, without repeats.

    Examples
    --------
    >>> cited("a Gaussian density integrates to 1 (gaussian.normalisation)")
    ['gaussian.normalisation']
    """
    found: list[str] = []
    for match in _cite_pattern().finditer(text):
        name = match.group(2)
        if name != exclude and name not in found:
            found.append(name)
    return found


def _citations(derivation: Derivation) -> list[str]:
    """The derivations a step's justification relies on ("Uses"), in order."""
    found: list[str] = []
    for step in derivation.steps:
        found += [name for name in cited(step.why, exclude=derivation.name) if name not in found]
    return found


def _see_also(derivation: Derivation) -> list[str]:
    """Derivations the notes mention that no step relies on (a related result, not a premise)."""
    uses = _citations(derivation)
    return [name for name in cited(derivation.notes, exclude=derivation.name) if name not in uses]


def _cited_by() -> dict[str, list[str]]:
    back: dict[str, list[str]] = {}
    for derivation in all_derivations():
        for name in _citations(derivation):
            back.setdefault(name, []).append(derivation.name)
    return back
