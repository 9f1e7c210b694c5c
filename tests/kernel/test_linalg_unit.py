"""The matrix checks' own contract (kfsym/derive/kernel/linalg.py), checked directly and fast.

``rewrite`` proves a statement over non-commuting symbols only when the difference of its sides rewrites to
exactly 0 under the stated rules; otherwise it returns the residual of the stated orientation, which is the
difference itself rewritten (never a different expression, never a proof). ``matrices`` evaluates concrete
sizes exactly and refuses what it cannot instantiate.
"""

from __future__ import annotations

import sympy as sp

from kfsym.derive.kernel.checks import is_zero
from kfsym.derive.kernel.linalg import _normal_form, _reversed, matrix_residual, rewrite_residual, symmetric_matrices

A, B, C, D, S, Si = sp.symbols("A B C D S Si", commutative=False)


def test_a_statement_true_in_the_free_algebra_needs_no_rule() -> None:
    assert rewrite_residual(A * (B + C), A * B + A * C, {}) == 0
    assert rewrite_residual((A + B) * (A - B), A * A - A * B + B * A - B * B, {}) == 0


def test_a_false_statement_returns_its_difference_as_the_residual() -> None:
    assert rewrite_residual(A * B, B * A, {}) == A * B - B * A
    assert rewrite_residual(A * (B + C), A * B + C * A, {}) == A * C - C * A
    assert rewrite_residual(A * B, B * A, {S * Si: sp.Integer(1)}) == A * B - B * A


def test_rules_are_applied_until_nothing_changes() -> None:
    inverse = {S * Si: sp.Integer(1)}
    assert rewrite_residual(S * Si * A, A, inverse) == 0
    assert rewrite_residual(S * Si * S * Si * A, A, inverse) == 0  # the second application needs a second pass
    assert rewrite_residual(A * S * Si * B, A * B, inverse) == 0
    # the residual of a false statement is the difference with the rules applied
    assert rewrite_residual(S * Si * A + A * B, A + B * A, inverse) == A * B - B * A
    chain = {A * B: C, C * D: sp.Integer(1)}
    assert rewrite_residual(A * B * D, sp.Integer(1), chain) == 0
    assert rewrite_residual(A * B * D, sp.Integer(2), chain) == -1
    # a rule that only matches after a later rule has fired: the rules are passed over again
    assert rewrite_residual(A * B * D, sp.Integer(1), {C * D: sp.Integer(1), A * B: C}) == 0
    assert rewrite_residual(A * B * D * D, D, {C * D: sp.Integer(1), A * B: C}) == 0


def test_only_non_commuting_rules_are_used() -> None:
    x = sp.Symbol("x")
    assert rewrite_residual(x * A, A, {x: sp.Integer(1)}) == x * A - A


def test_a_rule_a_b_equals_one_minus_c_b_is_also_read_backwards() -> None:
    assert _reversed(A * B, 1 - C * B) == (C * B, 1 - A * B)
    assert _reversed(A * B, 1 - 2 * C * B) == (2 * C * B, 1 - A * B)
    assert _reversed(Si * S * A, 1 - Si * B) == (Si * B, 1 - Si * S * A)
    # not of the form 1 - (a product): nothing to read backwards
    assert _reversed(A * B, C) is None
    assert _reversed(A * B, 1 + C * B) is None
    assert _reversed(A * B, 1 - C - B) is None
    x, y, z = sp.symbols("x y z")
    assert _reversed(x * y, 1 - z * y) is None  # commuting symbols: not a matrix rule
    # both orientations prove what follows from the one equation
    rule = {A * B: 1 - C * B}
    assert rewrite_residual(C * B, 1 - A * B, rule) == 0
    assert rewrite_residual(D * C * B, D - D * A * B, rule) == 0
    assert rewrite_residual(C * B, A * B, rule) != 0


def test_symmetric_matrices_are_the_ones_stated_equal_to_their_transpose() -> None:
    X = sp.MatrixSymbol("X", 2, 2)
    Y = sp.MatrixSymbol("Y", 2, 2)
    assert symmetric_matrices({X.T: X, Y: X}) == {"X"}
    assert symmetric_matrices({X.T: Y}) == set()
    assert symmetric_matrices({}) == set()


def test_matrix_residual_is_zero_exactly_for_identities_of_generic_matrices() -> None:
    X = sp.MatrixSymbol("X", 2, 2)
    Y = sp.MatrixSymbol("Y", 2, 2)
    assert is_zero(matrix_residual((X * Y).T, Y.T * X.T, {}))
    assert not is_zero(matrix_residual(X * Y, Y * X, {}))
    assert not is_zero(matrix_residual(X.T, X, {}))
    assert is_zero(matrix_residual(X.T, X, {X.T: X}))
    assert is_zero(matrix_residual(sp.MatMul(X.I, X, evaluate=False), sp.Identity(2), {}))
    assert not is_zero(matrix_residual(sp.MatMul(X.I, Y, evaluate=False), sp.Identity(2), {}))


def test_matrix_residual_refuses_what_it_cannot_instantiate() -> None:
    n = sp.Symbol("n", integer=True, positive=True)
    N = sp.MatrixSymbol("N", n, n)
    assert "no concrete-size" in str(matrix_residual(N, N, {}))
    twins = (sp.MatrixSymbol("X", 2, 2), sp.MatrixSymbol("X", 3, 3))
    assert "share a name" in str(matrix_residual(sp.Matrix([[twins[0][0, 0]]]), sp.Matrix([[twins[1][0, 0]]]), {}))
    X, Y = sp.MatrixSymbol("X", 2, 2), sp.MatrixSymbol("Y", 2, 2)
    assert "cannot evaluate" in str(matrix_residual(sp.HadamardProduct(X, Y), sp.HadamardProduct(Y, X), {}))
    H = sp.MatrixSymbol("H", 1, 2)
    assert "refused" in str(matrix_residual(sp.MatMul((H.T * H).I, H.T * H, evaluate=False), sp.Identity(2), {}))


def test_a_constant_left_by_every_orientation_is_a_residual_not_a_proof() -> None:
    """A B D = 0 under A B = C, C D = 1 rewrites to 1 in every orientation: the residual is 1, never a proof."""
    chain = {A * B: C, C * D: sp.Integer(1)}
    assert rewrite_residual(A * B * D, sp.Integer(0), chain) == 1
    assert rewrite_residual(A * B * D, sp.Integer(3), chain) == -2


def test_the_other_orientation_is_tried_when_the_stated_one_stalls_or_leaves_a_constant() -> None:
    """A proof is any orientation reaching 0, whatever the stated one leaves (an expression, or even 1)."""
    F, E = sp.symbols("F E", commutative=False)
    # C B = 1 - A B, so C B D = D - A B D = D - F: only the rule read backwards reaches A B D
    assert rewrite_residual(C * B * D, D - F, {A * B: 1 - C * B, A * B * D: F}) == 0
    assert rewrite_residual(C * B * D, D - E, {A * B: 1 - C * B, A * B * D: F}) != 0
    # stated, C B D rewrites to 1; backwards, to D - A B D = 0 (the rules contradict each other)
    contradictory = {A * B: 1 - C * B, C * B * D: sp.Integer(1), A * B * D: D}
    assert rewrite_residual(C * B * D, sp.Integer(0), contradictory) == 0


def test_normal_form_passes_over_the_rules_again_until_nothing_changes_up_to_fifty_times() -> None:
    """Each pass applies every rule once; passes repeat while anything changes, at most 50 of them."""
    assert _normal_form(A * B * D - 1, [(C * D, sp.Integer(1)), (A * B, C)]) == 0
    letters = sp.symbols("L0:52", commutative=False)
    # L_k -> L_{k-1}, listed so that one pass moves L_51 down by one step only
    steps = [(letters[k], letters[k - 1]) for k in range(1, 52)]
    assert _normal_form(letters[51], steps) == letters[1]  # 51 steps: stopped after 50, one short
    assert _normal_form(letters[3], steps[:3]) == letters[0]
