"""What may enter a statement (kfsym/derive/kernel/admit.py): exact SymPy objects only, checked directly.

Strings are never parsed, floating-point numbers are refused wherever they hide (also inside matrices), node
classes that are not SymPy's are refused, and every refusal names where the input came from.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from kfsym.derive.kernel.admit import admit, admit_pairs, floats_in

x = sp.Symbol("x")


def test_exact_objects_are_admitted_unchanged_and_ints_become_integers() -> None:
    assert admit(x + 1, "w") == x + 1
    assert admit(3, "w") == sp.Integer(3) and isinstance(admit(3, "w"), sp.Integer)
    assert admit(True, "w") == 1
    assert admit(sp.Matrix([[x, 1]]), "w") == sp.Matrix([[x, 1]])
    assert admit(sp.Rational(1, 10), "w") == sp.Rational(1, 10)
    assert admit(np.int64(4), "w") == 4


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1 + 1", r"^where: strings are never parsed \(SymPy would evaluate them as code\)"),
        (b"x", r"^where: strings are never parsed"),
        (0.5, r"^where: floating-point number 0.5 is not exact"),
        (1j, r"^where: floating-point number 1j is not exact"),
        (x * sp.Float("0.5"), r"^where: contains the floating-point number 0.5"),
        (sp.Matrix([[x, sp.Float("0.25")]]), r"^where: contains the floating-point number 0.25"),
        (np.float64(0.5), r"^where: floating-point number np.float64\(0.5\) is not exact"),
        (object(), r"^where: cannot use object in a statement"),
        ([1, 2], r"^where: cannot use list in a statement"),
    ],
)
def test_inexact_or_unparsed_inputs_are_refused_naming_where_they_came_from(value: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        admit(value, "where")


def test_node_classes_not_from_sympy_are_refused() -> None:
    class Liar(sp.Symbol):  # type: ignore[misc]
        pass

    with pytest.raises(TypeError, match=r"^where: contains nodes of classes not from SymPy \(.*Liar\)"):
        admit(Liar("l") + 1, "where")


def test_a_node_class_without_a_module_is_refused_by_name() -> None:
    """A class body run without ``__name__`` in its globals may delete ``__module__``: such a class is not
    SymPy's either, and is refused with the TypeError that names it, not an AttributeError."""
    namespace: dict[str, object] = {"sp": sp}
    exec("class Liar(sp.Symbol):\n    del __module__", namespace)
    liar = namespace["Liar"]
    assert isinstance(liar, type) and not hasattr(liar, "__module__")
    with pytest.raises(TypeError, match=r"^where: contains nodes of classes not from SymPy \(None\.Liar\)"):
        admit(liar("l") + 1, "where")


def test_floats_in_lists_every_float_of_an_expression_or_matrix_in_order() -> None:
    assert floats_in(x * sp.Float("0.5") + sp.Float("0.25")) == [sp.Float("0.25"), sp.Float("0.5")]
    assert floats_in(sp.Matrix([[sp.Float("2.5"), x], [1, sp.Float("1.5")]])) == [sp.Float("2.5"), sp.Float("1.5")]
    assert floats_in(x + 1) == [] and floats_in(3) == []


def test_pairs_from_a_mapping_or_a_sequence_are_admitted_pair_by_pair() -> None:
    y = sp.Symbol("y")
    assert admit_pairs({x: 1, y: x}, "given") == ((x, sp.Integer(1)), (y, x))
    assert admit_pairs([(x, 2)], "given") == ((x, sp.Integer(2)),)
    assert admit_pairs((), "given") == ()
    with pytest.raises(TypeError, match=r"^given: strings are never parsed; pass \(expression, expression\) pairs"):
        admit_pairs("x=1", "given")
    with pytest.raises(TypeError, match=r"^given: expected \(expression, expression\) pairs, got \(x, 1, 2\)"):
        admit_pairs([(x, 1, 2)], "given")
    with pytest.raises(TypeError, match=r"^given: expected \(expression, expression\) pairs, got 'xy'"):
        admit_pairs(["xy"], "given")
    with pytest.raises(TypeError, match=r"^given: floating-point number 0.5"):
        admit_pairs([(x, 0.5)], "given")
    with pytest.raises(TypeError, match=r"^given: strings are never parsed \(SymPy"):
        admit_pairs([("x", 1)], "given")
