"""What may enter a statement: exact SymPy objects only.

Every public entry point (``prove_equal``, ``Step``, ``Derivation``, ``where``
and ``given``) passes what the user gave it through :func:`admit`. Two kinds of
input are refused with :class:`TypeError`:

- ``str`` (and ``bytes``): SymPy's ``sympify`` *evaluates* strings as Python
  code, and a proof tool must never run code hidden in its input;
- floating-point numbers (Python ``float``/``complex``, NumPy scalars, SymPy
  ``Float``) anywhere in an expression: ``0.1`` is not ``1/10``, and a check
  that compares doubles proves nothing. Write ``Rational(1, 10)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sympy as sp

from kfsym.derive.kernel.screen import foreign_nodes

__all__ = ["admit", "admit_pairs", "floats_in"]


def floats_in(obj: Any) -> list[Any]:
    """The ``Float`` atoms inside a SymPy expression or explicit matrix.

    Examples
    --------
    >>> import sympy as sp
    >>> floats_in(sp.Symbol("x") * sp.Float("0.5"))
    [0.500000000000000]
    """
    if isinstance(obj, sp.MatrixBase):
        return [f for entry in obj for f in floats_in(entry)]
    if isinstance(obj, sp.Basic):
        return sorted(obj.atoms(sp.Float), key=str)
    return []


def admit(obj: Any, what: str) -> Any:
    """Return ``obj`` as an exact SymPy object, or raise :class:`TypeError`.

    Parameters
    ----------
    obj : sympy expression, Matrix or int
        A side of a statement, a definition, a rule or a substitution.
    what : str
        Where it came from, for the error message (``"prove_equal lhs"``).

    Raises
    ------
    TypeError
        For strings, floats and anything SymPy cannot convert without parsing.

    Examples
    --------
    >>> admit(3, "demo")
    3
    >>> admit("1 + 1", "demo")
    Traceback (most recent call last):
    ...
    TypeError: demo: strings are never parsed (SymPy would evaluate them as code); pass a SymPy expression
    """
    if isinstance(obj, (str, bytes)):
        raise TypeError(
            f"{what}: strings are never parsed (SymPy would evaluate them as code); pass a SymPy expression"
        )
    if isinstance(obj, (float, complex)):
        raise TypeError(f"{what}: floating-point number {obj!r} is not exact; use sympy.Rational or an Integer")
    if isinstance(obj, (sp.Basic, sp.MatrixBase)):
        value = obj
    elif isinstance(obj, int):  # bool included: True -> 1 is exact
        value = sp.Integer(obj)
    else:
        try:
            value = sp.sympify(obj, strict=True)
        except (sp.SympifyError, TypeError, ValueError) as error:
            raise TypeError(f"{what}: cannot use {type(obj).__name__} in a statement ({error})") from None
    foreign = foreign_nodes(value)
    if foreign:
        raise TypeError(
            f"{what}: contains nodes of classes not from SymPy ({', '.join(foreign)}); a subclass can redefine "
            "equality, so only SymPy's own classes are admitted"
        )
    floats = floats_in(value)
    if floats:
        raise TypeError(
            f"{what}: contains the floating-point number {floats[0]}; floats are not exact "
            "(0.1 is not 1/10), write sympy.Rational"
        )
    return value


def admit_pairs(pairs: Iterable[Any], what: str) -> tuple[tuple[Any, Any], ...]:
    """Admit each ``(left, right)`` pair of a ``where``, ``given`` or substitution (a mapping or pairs)."""
    if isinstance(pairs, (str, bytes)):
        raise TypeError(f"{what}: strings are never parsed; pass (expression, expression) pairs")
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    admitted = []
    for pair in items:
        if isinstance(pair, (str, bytes)) or len(pair) != 2:
            raise TypeError(f"{what}: expected (expression, expression) pairs, got {pair!r}")
        left, right = pair
        admitted.append((admit(left, what), admit(right, what)))
    return tuple(admitted)
