"""How the registry's derivations read: over every derivation, each property the rendered text must have.

- every step changes something visible (a restated lemma is marked as such);
- the "assuming" line lists exactly the symbols shown, each with the assumptions SymPy holds for it;
- every "where" definition is used;
- every cited derivation exists, every Markdown link resolves, and "uses" has no cycles;
- no rendered line is unreadably long.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy as sp

from kfsym import render
from kfsym.derive import all_derivations, topics
from kfsym.derive.display import latex, shown_side

NAMES = [d.name for d in all_derivations()]


def _derivation(name: str):  # type: ignore[no-untyped-def]
    return next(d for d in all_derivations() if d.name == name)


@pytest.mark.parametrize("name", NAMES)
def test_every_step_changes_something_visible(name: str) -> None:
    derivation = _derivation(name)
    current = derivation.lhs
    for number, step in enumerate(derivation.steps, start=1):
        if step.lhs is not None:
            if not step.restatement:  # a restated lemma (checked as identical sides) is shown marked as restated
                assert latex(step.lhs) != latex(shown_side(step.expr, step.lhs)), f"{name} step {number}"
            continue
        assert latex(step.expr) != latex(current), f"{name} step {number} repeats the line before it"
        current = step.expr


def _expected_kind(symbol: sp.Symbol) -> str:
    if not symbol.is_commutative:
        return "matrices or vectors (non-commuting)"
    if symbol.is_integer and symbol.is_positive:
        return "positive integers"
    if symbol.is_positive:
        return "positive"
    if symbol.is_nonnegative:
        return "nonnegative"
    return "real" if symbol.is_real else "complex"


# How the free algebra names a transpose or an inverse of a matrix symbol (S__T, Sigma_1^{-1}, L^{-T}).
_TRANSPOSED = re.compile(r"(\^|__)(\{-1\}|\{-T\}|\{T\}|T|-1)")


@pytest.mark.parametrize("name", NAMES)
def test_assuming_line_is_exactly_the_assumptions_of_the_symbols_shown(name: str) -> None:
    derivation = _derivation(name)
    shown_exprs = [derivation.lhs, derivation.rhs, *(rhs for _, rhs in derivation.where)]
    shown_exprs += [side for pair in derivation.given for side in pair]
    shown_exprs += [e for step in derivation.steps for e in (step.expr, step.lhs) if e is not None]
    defined = {lhs.base if isinstance(lhs, sp.Pow) else lhs for lhs, _ in derivation.where}
    matrices: set[sp.MatrixSymbol] = set()
    symbols: set[sp.Symbol] = set()
    for shown in map(sp.sympify, shown_exprs):
        matrices |= shown.atoms(sp.MatrixSymbol)
        symbols |= {s for s in shown.free_symbols if isinstance(s, sp.Symbol) and not isinstance(s, sp.Wild)}
    expected: dict[str, set[str]] = {}
    for symbol in symbols - defined:
        listed_as = symbol
        if not symbol.is_commutative:
            base = _TRANSPOSED.sub("", symbol.name)
            if base in {m.name for m in matrices}:
                continue
            listed_as = sp.Symbol(base, commutative=False)
        expected.setdefault(_expected_kind(listed_as), set()).add(latex(listed_as))
    for matrix in matrices:
        kind = f"${latex(matrix.shape[0])} \\times {latex(matrix.shape[1])}$ matrices"
        expected.setdefault(kind, set()).add(latex(matrix))
    text = derivation.assumptions_text("latex")
    listed: dict[str, set[str]] = {}
    groups = text.split("; ")
    symbol_groups = groups[: len(groups) - len(derivation.conditions)]
    assert groups[len(symbol_groups) :] == list(derivation.conditions)  # the stated conditions come last
    for group in filter(None, symbol_groups):
        names, kind = re.fullmatch(r"\$([^$]*)\$ (.*)", group).groups()  # type: ignore[union-attr]
        listed[kind] = set(names.split(", "))
    assert listed == expected, f"{name}: {text!r}"


def test_no_empty_assuming_sentence() -> None:
    for content in render.documents().values():
        assert "assuming ." not in content.lower() and "assuming $$" not in content.lower()


@pytest.mark.parametrize("name", NAMES)
def test_every_where_definition_is_used(name: str) -> None:
    derivation = _derivation(name)
    used: set[sp.Basic] = set()
    shown = [derivation.lhs, derivation.rhs, *(e for s in derivation.steps for e in (s.expr, s.lhs) if e is not None)]
    for expr in shown:
        used |= sp.sympify(expr).free_symbols
    for lhs, rhs in reversed(derivation.where):  # a definition may be used by a later, used one
        symbol = lhs.base if isinstance(lhs, sp.Pow) else lhs
        assert symbol in used, f"{name}: 'where {lhs}' is defined but never used"
        used |= sp.sympify(rhs).free_symbols


def test_every_cited_name_is_registered() -> None:
    keys = "|".join(re.escape(t.key) for t in topics())
    pattern = re.compile(rf"(?<![\w.])(?:{keys})\.[a-z_0-9]+")
    for derivation in all_derivations():
        for text in [derivation.title, derivation.notes, *(s.why for s in derivation.steps)]:
            for found in pattern.findall(text):
                assert found in NAMES, f"{derivation.name} cites {found}, which is not a registered derivation"


def test_markdown_links_resolve() -> None:
    documents = render.documents()
    anchors = {name: set(re.findall(r'<a id="([^"]+)"></a>', content)) for name, content in documents.items()}
    for name, content in documents.items():
        for target, anchor in re.findall(r"\]\(([\w.-]+\.md)#([\w.-]+)\)", content):
            assert target in documents, f"{name} links to {target}, which render does not write"
            assert anchor in anchors[target], f"{name} links to {target}#{anchor}, which has no such anchor"
        for path in re.findall(r"\]\(((?!http)[\w./-]+\.(?:png|pdf|md|py|txt))\)", content):
            assert (render.DEFAULT_OUT / path).exists() or path in documents, f"{name} links to missing {path}"


def test_uses_has_no_cycles() -> None:
    graph = {d.name: render.contents._citations(d) for d in all_derivations()}

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, "circular 'uses': " + " -> ".join((*path, name))
        for used in graph.get(name, []):
            visit(used, (*path, name))

    for name in graph:
        visit(name, ())


def test_rendered_lines_stay_readable() -> None:
    for name, content in render.documents().items():
        longest = max(len(line) for line in content.splitlines())
        assert longest < 4000, f"{name} has a line of {longest} characters"


def test_committed_markdown_has_no_dangling_file_references() -> None:
    root = Path(render.DEFAULT_OUT).parent
    for path in Path(render.DEFAULT_OUT).glob("*.md"):
        for target in re.findall(r"\]\(((?!http|#)[^)#\s]+)", path.read_text(encoding="utf-8")):
            assert (path.parent / target).exists() or (root / target).exists(), f"{path.name} cites missing {target}"


def test_titles_read_as_sentences_in_one_notation() -> None:
    """Capitalised titles; the transpose written ^T and the identity I, as the printed formulas write them."""
    for derivation in all_derivations():
        assert derivation.title[0].isupper() or derivation.title[0] in "$0123456789", derivation.title
        for text in [derivation.title, derivation.notes, *(step.why for step in derivation.steps)]:
            assert "\\top" not in text, f"{derivation.name}: write the transpose ^T, as the formulas print it"
    for name, content in render.documents().items():
        assert "\\mathbb{I}" not in content, f"{name}: the identity is I everywhere"


def test_files_named_in_the_texts_exist() -> None:
    root = Path(render.DEFAULT_OUT).parent
    for derivation in all_derivations():
        for text in [derivation.title, derivation.notes, *(step.why for step in derivation.steps)]:
            for path in re.findall(r"[\w./-]+\.(?:md|py|txt|ipynb|pdf|tex)\b", text):
                assert (root / path).exists() or (root / "derivations" / path).exists(), f"{derivation.name}: {path}"
