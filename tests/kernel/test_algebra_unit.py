"""The free-algebra check's own contract (kfsym/derive/kernel/algebra.py), checked directly and fast.

A transpose declaration only fixes names (``X^T``, ``X^{-T}`` for ``X^{-1}``) between non-commuting symbols;
``transpose`` applies (AB)^T = B^T A^T, (A + B)^T = A^T + B^T and (cA)^T = c A^T to declared symbols and refuses
anything else; a word's letters are positive integer powers of non-commuting symbols, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sympy as sp

from kfsym.derive.kernel import algebra
from kfsym.derive.kernel.algebra import _letters, _transpose_name, declare_transpose, transpose

X, Y, Z = sp.symbols("X Y Z", commutative=False)
XT, YT = sp.symbols("X^T Y^T", commutative=False)
Xi, XiT = sp.symbols("X^{-1} X^{-T}", commutative=False)
c = sp.Symbol("c")


@pytest.fixture(autouse=True)
def no_declared_transposes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(algebra, "_TRANSPOSES", {})
    yield


def test_the_transpose_of_a_name_is_fixed() -> None:
    """X's transpose is called X^T, and X^{-1}'s is X^{-T} (only a trailing ^{-1} counts)."""
    assert _transpose_name("X") == "X^T"
    assert _transpose_name("X^{-1}") == "X^{-T}"
    assert _transpose_name("^{-1}X") == "^{-1}X^T"
    assert _transpose_name("^{-1}X^{-1}") == "^{-1}X^{-T}"


def test_a_transpose_is_declared_only_between_non_commuting_symbols_of_the_right_names() -> None:
    """declare_transpose refuses commuting symbols, non-symbols and a wrong name, and accepts X, X^T."""
    with pytest.raises(ValueError, match="non-commuting"):
        declare_transpose(sp.Symbol("X"), sp.Symbol("X^T"))
    with pytest.raises(ValueError, match="non-commuting"):
        declare_transpose(X, sp.Symbol("X^T"))
    with pytest.raises(ValueError, match="non-commuting"):
        declare_transpose(X * Y, XT)
    with pytest.raises(ValueError, match="must be named"):
        declare_transpose(X, YT)
    with pytest.raises(ValueError, match="must be named"):
        declare_transpose(X, X)  # X^T = X cannot be smuggled in through a name
    assert algebra._TRANSPOSES == {}
    declare_transpose(X, XT)
    declare_transpose(Xi, XiT)
    assert {X: XT, XT: X, Xi: XiT, XiT: Xi} == algebra._TRANSPOSES


def test_transpose_follows_the_axioms_for_declared_symbols() -> None:
    """(AB)^T = B^T A^T, (A + B)^T = A^T + B^T, (cA)^T = c A^T, (A^T)^T = A."""
    declare_transpose(X, XT)
    declare_transpose(Y, YT)
    assert transpose(X) == XT
    assert transpose(XT) == X
    assert transpose(X * Y) == YT * XT
    assert transpose(3 * c * X * Y * Y + XT - 2) == 3 * c * YT * YT * XT + X - 2
    assert transpose(X * (Y + XT)) == YT * XT + X * XT
    assert sp.expand(transpose(transpose(X * Y * XT + c * Y)) - (X * Y * XT + c * Y)) == 0


def test_transpose_refuses_an_undeclared_symbol_or_a_non_word() -> None:
    """A factor without a declared transpose, or an inverse power, is refused rather than guessed."""
    declare_transpose(X, XT)
    with pytest.raises(ValueError, match="no declared transpose"):
        transpose(X * Z)
    with pytest.raises(ValueError, match="no declared transpose"):
        transpose(X**-1)


def test_the_letters_of_a_word_are_positive_powers_of_non_commuting_symbols() -> None:
    """X**2 Y is the word X X Y; a commuting base, an inverse, a zeroth power or a non-symbol base is not a word."""
    assert _letters([X**2, Y]) == [X, X, Y]
    assert _letters([X]) == [X]
    assert _letters([]) == []
    assert _letters([X**-1]) is None
    assert _letters([sp.Pow(X, 0, evaluate=False)]) is None
    assert _letters([c**2]) is None
    assert _letters([sp.Pow(sp.Symbol("d"), 2, evaluate=False)]) is None
    assert _letters([sp.Function("F", commutative=False)(X) ** 2]) is None
    assert _letters([X, Y**-2]) is None
