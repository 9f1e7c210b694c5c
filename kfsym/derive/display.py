"""Render a :class:`~kfsym.derive.core.Derivation` as LaTeX or terminal text."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sympy as sp

if TYPE_CHECKING:
    from kfsym.derive.core import Derivation

__all__ = ["assumptions", "derivation_latex", "derivation_text", "latex_text_escape"]

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def latex_text_escape(text: str) -> str:
    r"""Escape plain text for ``\text{...}``.

    Examples
    --------
    >>> latex_text_escape("1/N & 1/(N-1): 50% off_")
    '1/N \\& 1/(N-1): 50\\% off\\_'
    """
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text)


def assumptions(symbols: Iterable[Any], style: str = "text") -> str:
    """Group symbols by what they are assumed to be: ``"x, μ real; σ positive"``.

    ``style`` is ``"text"`` (Unicode) or ``"latex"`` (``$x, \\mu$ real; ...``).
    """
    groups: dict[str, list[Any]] = {}
    for symbol in symbols:
        if not symbol.is_commutative:
            kind = "matrices or vectors (non-commuting)"
        else:
            kind = "positive" if symbol.is_positive else "real" if symbol.is_real else "complex"
        groups.setdefault(kind, []).append(symbol)
    if style == "latex":
        shown = {kind: "$" + ", ".join(_latex(s) for s in members) + "$" for kind, members in groups.items()}
    elif style == "text":
        shown = {kind: ", ".join(_pretty(s) for s in members) for kind, members in groups.items()}
    else:
        raise ValueError(f"style must be 'text' or 'latex', got {style!r}")
    return "; ".join(f"{names} {kind}" for kind, names in shown.items())


def _latex(expr: Any) -> str:
    return str(sp.latex(expr))


def derivation_latex(derivation: Derivation) -> str:
    r"""An ``align*`` block: the chain, each step's reason, then the definitions."""
    rows: list[str] = []
    current, show_current = derivation.lhs, True
    for step in derivation.steps:
        reason = rf"&& \text{{{latex_text_escape(step.why)}}}"
        if not step.chained:
            relation = r"\geq" if step.method == "nonnegative" else "="
            rows.append(rf"{_latex(step.lhs)} &{relation} {_latex(step.expr)} {reason}")
            rows.extend(_case_rows_latex(step))
            show_current = True
            continue
        start = _latex(current) if show_current else ""
        rows.append(rf"{start} &= {_latex(step.expr)} {reason}")
        current, show_current = step.expr, False
        rows.extend(_case_rows_latex(step))
    for lhs, rhs in derivation.where:
        rows.append(rf"\text{{where }} {_latex(lhs)} &= {_latex(rhs)}")
    for lhs, rhs in derivation.given:
        rows.append(rf"\text{{given }} {_latex(lhs)} &= {_latex(rhs)}")
    body = " \\\\\n".join(rows)
    return f"\\begin{{align*}}\n{body}\n\\end{{align*}}"


def _case_rows_latex(step: Any) -> list[str]:
    """One row per case of a proof by cases (condition and replacements), or the matrix sizes checked."""
    cases = getattr(step, "cases", ())
    sizes = [case for case in cases if case.condition is None]
    if sizes:
        shown = "; ".join(", ".join(f"{_latex(k)} = {_latex(v)}" for k, v in case.substitution) for case in sizes)
        return [rf"&& \text{{checked for }} {shown}"]
    return [
        rf"&& \text{{case }} {_latex(case.condition)}:\ "
        + ",\\ ".join(f"{_latex(k)} = {_latex(v)}" for k, v in case.substitution)
        for case in cases
    ]


def _case_lines_text(step: Any) -> list[str]:
    """Each case as a block: its condition, then what the condition justifies."""
    cases = getattr(step, "cases", ())
    sizes = [case for case in cases if case.condition is None]
    if sizes:
        shown = "; ".join(", ".join(f"{k} = {v}" for k, v in case.substitution) for case in sizes)
        return [f"      checked for {shown} only"]
    lines = []
    for case in cases:
        lines.append("      case")
        lines.append(textwrap.indent(_pretty(case.condition), "          "))
        for old, new in case.substitution:
            lines.append(textwrap.indent(_prefix_block("⇒ ", _pretty(sp.Eq(old, new, evaluate=False))), "        "))
    return lines


def _pretty(expr: Any) -> str:
    return str(sp.pretty(expr, use_unicode=True, wrap_line=False))


def derivation_text(derivation: Derivation) -> str:
    """Terminal form: title, assumptions, claim, definitions, numbered steps."""
    lines = [f"{derivation.name} — {derivation.title}"]
    assumptions = derivation.assumptions_text()
    if assumptions:
        lines.append(f"  assuming  {assumptions}")
    lines.append("  claim")
    lines.append(textwrap.indent(_pretty(derivation.claim), "      "))
    for label, pairs in (("where", derivation.where), ("given", derivation.given)):
        if pairs:
            lines.append(f"  {label}")
            for lhs, rhs in pairs:
                lines.append(textwrap.indent(_pretty(sp.Eq(lhs, rhs, evaluate=False)), "      "))
    for number, step in enumerate(derivation.steps, start=1):
        kind = "" if step.chained else " [lemma]"
        how = "a restatement (the sides are the same expression)" if step.restatement else f"checked by {step.method}"
        lines.append(f"  ({number}) {step.why}{kind}   · {how}")
        relation = sp.GreaterThan if step.method == "nonnegative" else sp.Eq
        shown = step.expr if step.chained else relation(step.lhs, step.expr, evaluate=False)
        prefix = "= " if step.chained else ""
        block = _pretty(shown)
        lines.append(textwrap.indent(_prefix_block(prefix, block), "      "))
        lines.extend(_case_lines_text(step))
    if derivation.notes:
        lines.append("  notes")
        lines.append(textwrap.indent(textwrap.fill(derivation.notes, 76), "      "))
    if derivation.results:
        generated = ", ".join(result.name for result in derivation.results)
        lines.append(f"  generates {generated}")
    return "\n".join(lines)


def _prefix_block(prefix: str, block: str) -> str:
    """Put ``prefix`` on the baseline of a multi-line pretty-printed block."""
    if not prefix:
        return block
    block_lines = block.splitlines() or [""]
    middle = len(block_lines) // 2
    pad = " " * len(prefix)
    return "\n".join((prefix if i == middle else pad) + line for i, line in enumerate(block_lines))
