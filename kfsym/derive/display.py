"""Render a :class:`~kfsym.derive.core.Derivation` as LaTeX or terminal text."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm, stringPict

if TYPE_CHECKING:
    from kfsym.derive.core import Derivation

from kfsym.derive.mathtext import math_to_unicode, to_latex_in_math, to_unicode, words_in_math

__all__ = [
    "TextbookLatexPrinter",
    "assumptions",
    "derivation_latex",
    "derivation_markdown",
    "derivation_repr_latex",
    "derivation_text",
    "latex",
    "latex_text_escape",
    "pretty",
]

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


def assumptions(symbols: Iterable[Any], style: str = "text", matrices: Iterable[Any] = ()) -> str:
    """Group symbols by what they are assumed to be: ``"x, μ real; σ positive"``.

    ``style`` is ``"text"`` (Unicode) or ``"latex"`` (``$x, \\mu$ real; ...``).
    Non-commuting symbols stand for matrices and vectors; their transposes and
    inverses (``S__T``, ``S__{-1}``) are listed under the name of the matrix.
    Matrix symbols are listed with their shapes.
    """
    if style not in ("text", "latex"):
        raise ValueError(f"style must be 'text' or 'latex', got {style!r}")
    groups: dict[str, list[str]] = {}
    matrices = tuple(matrices)
    matrix_names = {matrix.name for matrix in matrices}
    for symbol in symbols:
        if isinstance(symbol, (sp.Wild, sp.Dummy)):
            continue  # a pattern variable of a stated rule ("for all k, l"), not a quantity
        if not symbol.is_commutative:
            base = _TRANSPOSED.sub("", symbol.name)
            if base in matrix_names:
                continue  # listed with its shape below
            shown_symbol = sp.Symbol(base, commutative=False)
        else:
            shown_symbol = symbol
        shown = _latex(shown_symbol)
        members = groups.setdefault(_kind(shown_symbol), [])
        if shown not in members:
            members.append(shown)
    for matrix in matrices:
        rows, columns = matrix.shape
        size = f"{_latex(rows)} \\times {_latex(columns)}"
        groups.setdefault(f"${size}$ matrices", []).append(_latex(matrix))
    text = "; ".join(f"${', '.join(sorted(members, key=_sort_key))}$ {kind}" for kind, members in groups.items())
    return to_unicode(text) if style == "text" else text


# How the free algebra names a transpose or an inverse: S__T, S^T, Sigma_1^{-1}, P^{-T}.
_TRANSPOSED = re.compile(r"(\^|__)(\{-1\}|\{-T\}|\{T\}|T|-1)")


def _sort_key(latex_name: str) -> tuple[str, str]:
    return (latex_name.lstrip("\\").lower(), latex_name)


#: The identity matrix as the free algebra of the any-n proofs writes it (its unit, 1), shown as I.
IDENTITY = sp.Symbol("I", commutative=False)


def _identity_shown(expr: Any) -> Any:
    """A sum of matrices (non-commuting) with its unit term ``1`` shown as the identity ``I``."""
    if expr.is_commutative or sp.S.One not in expr.args:
        return expr
    return sp.Add(*(IDENTITY if term == 1 else term for term in expr.args), evaluate=False)


def shown_side(expr: Any, other: Any) -> Any:
    """One side of a relation: the free algebra's unit ``1`` opposite a matrix expression is the identity ``I``."""
    if expr == 1 and not getattr(other, "is_commutative", True):
        return IDENTITY
    return expr


def _textbook_order(terms: Iterable[Any]) -> list[Any]:
    """SymPy's order of the terms of a sum, with the terms that carry a minus sign moved after the others."""
    return sorted(terms, key=lambda term: bool(term.could_extract_minus_sign()))


class TextbookLatexPrinter(LatexPrinter):  # type: ignore[misc]
    """SymPy's LaTeX printer with sums in textbook order: ``(x - \\mu)^2`` and ``1 - K``, not ``(-\\mu + x)^2``."""

    def _as_ordered_terms(self, expr: Any, order: str | None = None) -> list[Any]:
        return _textbook_order(super()._as_ordered_terms(expr, order=order))

    def _print_Add(self, expr: Any, order: str | None = None) -> str:  # noqa: N802 - SymPy's dispatch name
        return str(super()._print_Add(_identity_shown(expr), order=order))

    def _print_Identity(self, expr: Any) -> str:  # noqa: N802 - SymPy's dispatch name
        return "I"

    def _print_Mul(self, expr: Any) -> str:  # noqa: N802 - SymPy's printer dispatch name
        # An unevaluated product that keeps a number after a factor (mu * 1) reads mu \cdot 1, not "mu 1".
        if isinstance(expr, sp.Mul) and any(arg.is_Number for arg in expr.args[1:]):
            return r" \cdot ".join(self.parenthesize(arg, PRECEDENCE["Mul"]) for arg in expr.args)
        return str(super()._print_Mul(expr))


class TextbookPrettyPrinter(PrettyPrinter):  # type: ignore[misc]
    """SymPy's Unicode printer with the same textbook order of terms."""

    def _as_ordered_terms(self, expr: Any, order: str | None = None) -> list[Any]:
        return _textbook_order(super()._as_ordered_terms(expr, order=order))

    def _print_Add(self, expr: Any, order: str | None = None) -> Any:  # noqa: N802 - SymPy's dispatch name
        return super()._print_Add(_identity_shown(expr), order=order)

    def _print_Identity(self, expr: Any) -> Any:  # noqa: N802 - SymPy's dispatch name
        return self._print(sp.Symbol("I"))

    def _print_MatAdd(self, expr: Any) -> Any:  # noqa: N802 - SymPy's dispatch name
        # I - K H, not -K H + I: the terms with a minus sign last, each after " - "
        def negative(term: Any) -> bool:
            return bool(sp.S(term.as_coeff_mmul()[0]).could_extract_minus_sign())

        shown = None
        for term in sorted(expr.args, key=negative):
            if shown is None:
                shown = self._print(term)
                continue
            sign = " - " if negative(term) else " + "
            shown = prettyForm(*stringPict.next(shown, sign))
            shown = prettyForm(*stringPict.next(shown, self._print(-term if sign == " - " else term)))
        return shown

    def _print_Symbol(self, expr: Any, bold_name: bool = False) -> Any:  # noqa: N802 - SymPy's dispatch name
        # Names such as x__T, P__{-1} or \det\Sigma read as their LaTeX: xᵀ, P⁻¹, det Σ.
        if "__" in expr.name or "^" in expr.name or expr.name.startswith("\\"):
            return prettyForm(math_to_unicode(latex(expr)))
        return super()._print_Symbol(expr, bold_name)


_LATEX_PRINTER = TextbookLatexPrinter()


def latex(expr: Any) -> str:
    r"""``expr`` as LaTeX, terms in textbook order.

    Examples
    --------
    >>> x, mu = sp.symbols("x mu", real=True)
    >>> latex((x - mu)**2)
    '\\left(x - \\mu\\right)^{2}'
    """
    return str(_LATEX_PRINTER.doprint(expr))


def pretty(expr: Any) -> str:
    """``expr`` as Unicode art for the terminal, terms in textbook order."""
    return str(TextbookPrettyPrinter({"use_unicode": True, "wrap_line": False}).doprint(expr))


_latex = latex


def _kind(symbol: Any) -> str:
    """What ``symbol`` is assumed to be, in words: exactly the SymPy assumptions the checks see."""
    if not symbol.is_commutative:
        return "matrices or vectors (non-commuting)"
    if symbol.is_integer:
        if symbol.is_positive:
            return "positive integers"
        return "nonnegative integers" if symbol.is_nonnegative else "integers"
    if symbol.is_positive:
        return "positive"
    if symbol.is_nonnegative:
        return "nonnegative"
    return "real" if symbol.is_real else "complex"


def derivation_latex(derivation: Derivation) -> str:
    r"""An ``align*`` block: the chain, each step's reason, then the definitions and hypotheses.

    A reason stands in a column beside its step; when a step is too wide for
    that, every reason goes on a line of its own above its step, numbered,
    so that none is pushed off the right edge.
    """
    steps: list[tuple[str, list[str]]] = []  # (reason, the rows of the step)
    current, show_current = derivation.lhs, True
    for step in derivation.steps:
        reason = _reason_latex(step)
        if not step.chained:
            relation = r"\geq" if step.method == "nonnegative" else "="
            rows = [rf"{_latex(step.lhs)} &{relation} {_latex(shown_side(step.expr, step.lhs))}"]
            show_current = True
        else:
            start = _latex(current) if show_current else ""
            rows = (_entry_rows(current, step.expr) if show_current else None) or [rf"{start} &= {_latex(step.expr)}"]
            current, show_current = step.expr, False
        steps.append((reason, rows + _case_rows_latex(step)))
    stacked = any(len(row) > _WIDE_ROW for _, rows in steps for row in rows)
    lines: list[str] = []
    for number, (reason, rows) in enumerate(steps, start=1):
        if stacked:
            lines.append(rf"&\text{{({number})}}\quad {reason}")
            lines += rows
        else:
            lines.append(f"{rows[0]} && {reason}")
            lines += rows[1:]
    for lhs, rhs in derivation.where:
        lines.append(rf"\text{{where }} {_latex(lhs)} &= {_latex(rhs)}")
    for lhs, rhs in derivation.given:
        lines.append(rf"\text{{given }} {_latex(lhs)} &= {_latex(shown_side(rhs, lhs))}")
    body = " \\\\\n".join(lines)
    return f"\\begin{{align*}}\n{body}\n\\end{{align*}}"


# A step printed in more characters of LaTeX than this leaves no room for its reason beside it.
_WIDE_ROW = 180


# A column of this many characters of LaTeX is shown one entry a row (moments.sample_variance_small_n).
_LONG_COLUMN = 2000


def _entry_rows(left: Any, right: Any) -> list[str] | None:
    """A long column-vector relation as one row per entry, or None when it is short or not a column."""
    if not (isinstance(left, sp.MatrixBase) and isinstance(right, sp.MatrixBase)):
        return None
    if left.shape != right.shape or left.shape[1] != 1 or left.shape[0] < 2 or len(_latex(left)) < _LONG_COLUMN:
        return None
    return [
        rf"\text{{entry {index + 1}: }} {_latex(left[index])} &= {_latex(right[index])}"
        for index in range(left.shape[0])
    ]


def _reason_latex(step: Any) -> str:
    """The step's justification inside the formula, marked when it only restates the line before."""
    reason = to_latex_in_math(step.why)
    if step.restatement:
        reason += r"\quad \text{(restated)}"
    return reason


def _wrapped(text: str, width: int = 90) -> list[str]:
    """``text`` in lines of about ``width`` characters, broken only at spaces outside ``$...$``."""
    words: list[str] = []
    for index, part in enumerate(text.split("$")):
        if index % 2:
            words[-1:] = [(words[-1] if words else "") + f"${part}$"]
            continue
        pieces = part.split(" ")
        if words and pieces:
            words[-1] += pieces[0]
            pieces = pieces[1:]
        words += pieces
    lines: list[str] = []
    for word in (w for w in words if w):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def derivation_repr_latex(derivation: Derivation) -> str:
    r"""One display formula with everything: title, assumptions, hypotheses, the chain with reasons, notes.

    For Jupyter's ``text/latex`` output: a single ``$$ ... $$`` block that
    MathJax 3 (JupyterLab's configuration or the default one) and LaTeX both set.
    """
    rows = [rf"\textbf{{{words_in_math(derivation.name)}}}\quad {to_latex_in_math(derivation.title)}"]
    shown = derivation.assumptions_text("latex")
    if shown:
        rows.append(to_latex_in_math(f"assuming {shown}"))
    chain = derivation_latex(derivation)
    chain = chain.replace(r"\begin{align*}", r"\begin{aligned}").replace(r"\end{align*}", r"\end{aligned}")
    rows.append(chain)
    if derivation.notes:
        rows += [to_latex_in_math(line) for line in _wrapped(derivation.notes)]
    if derivation.results:
        generated = ", ".join(result.name for result in derivation.results)
        rows.append(rf"\text{{generates {words_in_math(generated)}}}")
    body = " \\\\\n".join(rows)
    return f"$$\n\\begin{{array}}{{l}}\n{body}\n\\end{{array}}\n$$"


def derivation_markdown(derivation: Derivation) -> str:
    """Markdown for Jupyter: a heading, the assumptions and hypotheses, the formula block, the notes."""
    lines = [f"**`{derivation.name}`** — {derivation.title}", ""]
    shown = derivation.assumptions_text("latex")
    if shown:
        lines += [f"Assuming {shown}.", ""]
    lines += ["$$", derivation_latex(derivation), "$$", ""]
    if derivation.notes:
        lines += [derivation.notes, ""]
    if derivation.results:
        lines += ["Generates " + ", ".join(f"`{result.name}`" for result in derivation.results) + ".", ""]
    return "\n".join(lines)


def _case_rows_latex(step: Any) -> list[str]:
    """One row per case of a proof by cases (condition and replacements), or the matrix sizes checked."""
    cases = getattr(step, "cases", ())
    sizes = [case for case in cases if case.condition is None]
    if sizes:
        shown = "; ".join(", ".join(f"{_latex(k)} = {_latex(v)}" for k, v in case.substitution) for case in sizes)
        return [rf"&& \text{{checked for }} {shown}"]
    return [
        rf"&& \text{{case }} {_latex(case.condition)}:\quad "
        + r",\quad ".join(f"{_latex(k)} = {_latex(v)}" for k, v in case.substitution)
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


_pretty = pretty


def derivation_text(derivation: Derivation) -> str:
    """Terminal form: title, assumptions, claim, definitions, numbered steps."""
    lines = [f"{derivation.name} — {to_unicode(derivation.title)}"]
    assumptions = derivation.assumptions_text()
    if assumptions:
        lines.append(f"  assuming  {assumptions}")
    lines.append("  claim")
    lines.append(textwrap.indent(_pretty(derivation.claim), "      "))
    for label, pairs in (("where", derivation.where), ("given", derivation.given)):
        if pairs:
            lines.append(f"  {label}")
            for lhs, rhs in pairs:
                lines.append(textwrap.indent(_pretty(sp.Eq(lhs, shown_side(rhs, lhs), evaluate=False)), "      "))
    for number, step in enumerate(derivation.steps, start=1):
        kind = "" if step.chained else " [lemma]"
        how = "a restatement (the sides are the same expression)" if step.restatement else f"checked by {step.method}"
        lines.append(f"  ({number}) {to_unicode(step.why)}{kind}   · {how}")
        relation = sp.GreaterThan if step.method == "nonnegative" else sp.Eq
        shown = step.expr if step.chained else relation(step.lhs, shown_side(step.expr, step.lhs), evaluate=False)
        prefix = "= " if step.chained else ""
        block = _pretty(shown)
        lines.append(textwrap.indent(_prefix_block(prefix, block), "      "))
        lines.extend(_case_lines_text(step))
    if derivation.notes:
        lines.append("  notes")
        lines.append(textwrap.indent(textwrap.fill(to_unicode(derivation.notes), 76), "      "))
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
