"""How wide a formula will be on the page, and where a long one may break: the LaTeX layout's heuristics.

:func:`_width` estimates the printed width of LaTeX math in about-one-letter units;
:func:`_lines` breaks a long sum at its terms (or inside its widest bracketed sum)
so that the pieces, joined, read exactly as the printed expression.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sympy as sp

from kfsym.derive.display import TextbookLatexPrinter
from kfsym.derive.display import latex as _print_latex

# Width of the text block in the units of :func:`_width` (4.8 pt each on average, up to 6 pt, at 11 pt;
# a4paper with 2 cm margins gives 483 pt) and how much of it one displayed line should use.
_LINE = 80.0
_BUDGET = 72.0
# ------------------------------------------------------- width estimates
_TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|[{}^_&]|\s+|.", re.DOTALL)
_ZERO = {"\\left", "\\right", "\\limits", "\\displaystyle", "\\!", "\\nolimits", "\\big", "\\Big", "\\bigg", "\\Bigg"}
_WRAPPERS = {
    "\\mathbb",
    "\\mathrm",
    "\\mathbf",
    "\\boldsymbol",
    "\\operatorname",
    "\\mathit",
    "\\mathcal",
    "\\hat",
    "\\overline",
}
_WIDE = {
    "\\sum": 2.8,
    "\\int": 2.0,
    "\\prod": 2.8,
    "\\quad": 2.0,
    "\\qquad": 4.0,
    "\\cdot": 1.6,
    "\\,": 0.3,
    "\\to": 2.4,
    "\\infty": 2.0,
    "\\lim": 3.0,
    "\\log": 3.0,
    "\\exp": 3.0,
    "\\sinh": 4.0,
    "\\cosh": 4.0,
    "\\det": 3.0,
    "\\operatorname": 0.0,
}
_OPERATORS = {"+": 2.4, "-": 2.4, "=": 2.6, "<": 2.6, ">": 2.6, ",": 0.8, "(": 0.8, ")": 0.8, "[": 0.6, "]": 0.6}


def _tokens(latex: str) -> list[str]:
    return [token for token in _TOKEN.findall(latex) if not token.isspace()]


def _group(tokens: list[str], start: int) -> tuple[list[str], int]:
    """The tokens of the argument at ``start`` (a braced group or one token) and the index after it."""
    if start >= len(tokens):
        return [], start
    if tokens[start] != "{":
        return [tokens[start]], start + 1
    depth, index = 0, start
    while index < len(tokens):
        if tokens[index] == "{":
            depth += 1
        elif tokens[index] == "}":
            depth -= 1
            if depth == 0:
                return tokens[start + 1 : index], index + 1
        index += 1
    return tokens[start + 1 :], len(tokens)


def _matrix_width(tokens: list[str]) -> float:
    rows: list[list[list[str]]] = [[[]]]
    depth = 0
    for token in tokens:
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        if depth == 0 and token == "\\\\":
            rows.append([[]])
        elif depth == 0 and token == "&":
            rows[-1].append([])
        else:
            rows[-1][-1].append(token)
    columns = max(len(row) for row in rows)
    widths = [max((_measure(row[c]) if c < len(row) else 0.0) for row in rows) for c in range(columns)]
    return sum(widths) + 2.0 * (columns - 1)


def _environment(tokens: list[str], index: int) -> tuple[float, int]:
    """Width of ``\\begin{name} ... \\end{name}`` starting after ``\\begin``, and the index after it."""
    environment, index = _group(tokens, index)
    depth, body_start = 1, index
    while index < len(tokens) and depth:
        if tokens[index] in ("\\begin", "\\end"):
            depth += 1 if tokens[index] == "\\begin" else -1
        index += 1
    body = tokens[body_start : index - 1]
    _, index = _group(tokens, index)  # the \end's {name}
    return (_matrix_width(body) if "".join(environment).endswith("matrix") else _measure(body)), index


def _command(token: str, tokens: list[str], index: int) -> tuple[float, int]:
    """Width of a command with its arguments, and the index after them."""
    if token == "\\begin":
        return _environment(tokens, index)
    if token in ("\\frac", "\\dfrac", "\\tfrac", "\\binom"):
        numerator, index = _group(tokens, index)
        denominator, index = _group(tokens, index)
        return max(_measure(numerator), _measure(denominator)) + 0.6, index
    if token == "\\sqrt":
        argument, index = _group(tokens, index)
        return _measure(argument) + 1.6, index
    if token == "\\text":
        argument, index = _group(tokens, index)
        return float(len("".join(argument))), index
    if token in _WRAPPERS:
        argument, index = _group(tokens, index)
        return _measure(argument), index
    if token in ("\\left", "\\right"):
        invisible = index < len(tokens) and tokens[index] == "."
        return (0.0 if invisible else 1.2), index + 1
    if token in _ZERO:
        return 0.0, index
    return _WIDE.get(token, 1.05), index


def _measure(tokens: list[str]) -> float:
    """Estimated width of a token list (about the width of one math letter per unit)."""
    width, index = 0.0, 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if token in ("^", "_"):
            argument, index = _group(tokens, index)
            width += 0.72 * _measure(argument)
        elif token == "{":
            argument, index = _group(tokens, index - 1)
            width += _measure(argument)
        elif token.startswith("\\"):
            extra, index = _command(token, tokens, index)
            width += extra
        elif token in _OPERATORS:
            width += _OPERATORS[token]
        elif token not in ("}", "&"):
            width += 1.5 if token.isupper() else 1.05
    return width


def _width(latex: str) -> float:
    """Estimated display width of ``latex`` in about-one-math-letter units (~5.4 pt at 11 pt).

    Examples
    --------
    >>> _width(r"\\frac{a + b}{2}") < _width(r"a + b + 2")
    True
    """
    return _measure(_tokens(latex))


# --------------------------------------------------------- line breaking
_PRINTER = TextbookLatexPrinter()


_LATEX_CACHE: dict[Any, str] = {}


def _latex(expr: Any) -> str:
    """``sp.latex(expr)``, remembered: the layout asks for the same expressions many times."""
    key = expr.as_immutable() if isinstance(expr, sp.MatrixBase) else expr
    if key not in _LATEX_CACHE:
        _LATEX_CACHE[key] = _print_latex(expr)
    return _LATEX_CACHE[key]


def _add_terms(expr: Any) -> list[tuple[str, Any]] | None:
    """``expr`` (an Add) as (sign, term) pairs that print exactly as SymPy prints the sum, or None."""
    if not isinstance(expr, sp.Add):
        return None
    pairs: list[tuple[str, Any]] = []
    for index, term in enumerate(_PRINTER._as_ordered_terms(expr)):
        if index == 0:
            pairs.append(("", term))
        elif term.could_extract_minus_sign():
            pairs.append(("-", -term))
        else:
            pairs.append(("+", term))
    if any(_PRINTER._needs_add_brackets(term) for _, term in pairs):
        return None
    rebuilt = "".join(f" {sign} {_latex(term)}" if sign else _latex(term) for sign, term in pairs)
    return pairs if rebuilt == _latex(expr) else None


_OPEN = {r"\left(": r"\Biggl(", r"\left[": r"\Biggl["}
_CLOSE = {r"\right)": r"\Biggr)", r"\right]": r"\Biggr]"}


def _balanced(prefix: str) -> bool:
    """True when ``prefix`` closes every brace group and ``\\left`` it opens (a line may end there)."""
    tokens = _tokens(prefix)
    return tokens.count("{") == tokens.count("}") and tokens.count("\\left") == tokens.count("\\right")


def _bracketed_sum(expr: Any, latex: str) -> tuple[str, Any, str] | None:
    """The widest sum printed inside ``\\left( \\right)`` or ``\\left[ \\right]`` in ``latex``, once.

    Returns ``(prefix, sum, suffix)`` with the brackets turned into fixed-size ones
    (a line break may not separate ``\\left`` from ``\\right``), or None.
    """
    candidates = sorted(
        {sub for sub in sp.preorder_traversal(expr) if isinstance(sub, sp.Add) and sub is not expr},
        key=lambda sub: (-len(_latex(sub)), _latex(sub)),  # widest first; ties by text, not by hash order
    )
    for candidate in candidates:
        inner = _latex(candidate)
        if len(inner) < len(latex) // 2:
            return None
        for opening, closing in zip(_OPEN, _CLOSE, strict=True):
            wrapped = f"{opening}{inner}{closing}"
            if latex.count(wrapped) == 1 and _add_terms(candidate) is not None:
                prefix, suffix = latex.split(wrapped)
                if _balanced(prefix):
                    return prefix + _OPEN[opening], candidate, _CLOSE[closing] + suffix
    return None


def _lines(expr: Any, budget: float = _BUDGET) -> list[str]:
    """``expr`` printed as one or more lines, each about ``budget`` wide; joined they read as ``sp.latex(expr)``.

    Continuation lines start with their operator (``+ ...``); a line that cannot
    be broken stays long (``\\kffit`` scales it).
    """
    latex = _latex(expr)
    if _width(latex) <= budget:
        return [latex]
    pairs = _add_terms(expr)
    if pairs is not None:
        return _pack(pairs, budget)
    found = _bracketed_sum(expr, latex)
    if found is None:
        return [latex]
    prefix, inner, suffix = found
    lines = _pack(_add_terms(inner) or [], budget - 2.0, first_prefix=prefix)
    lines[-1] += suffix
    return lines


def _pack(pairs: Sequence[tuple[str, Any]], budget: float, *, first_prefix: str = "") -> list[str]:
    """Greedily fill lines with the signed terms; a term wider than a line is broken on its own."""
    lines: list[str] = []
    current = first_prefix
    for sign, term in pairs:
        for number, piece in enumerate(_lines(term, budget - 3.0)):
            if number > 0:  # a broken term continues on a line of its own
                lines.append(current)
                current = piece
                continue
            text = f"{sign} {piece}" if sign else piece
            if current in ("", first_prefix) or _width(f"{current} {text}") <= budget:
                current = f"{current} {text}" if current else text
            else:
                lines.append(current)
                current = text
    lines.append(current)
    return lines
