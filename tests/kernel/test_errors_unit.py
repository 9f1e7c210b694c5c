"""The kernel's one exception (kfsym/derive/kernel/errors.py), checked directly.

A ProofError names the derivation and where it failed: ``step n`` for a step, ``claim`` for the claim itself
(``step`` None); the residual, when there is one, follows on its own line; the parts are kept as attributes.
"""

from __future__ import annotations

import sympy as sp

from kfsym.derive.kernel.errors import ProofError

x = sp.Symbol("x", real=True)


def test_a_proof_error_names_the_step_or_the_claim_and_shows_the_residual() -> None:
    """``name, step n: reason`` for a step, ``name, claim: reason`` for the claim, the residual on its own line."""
    error = ProofError("demo.name", 2, "does not hold", x - 1)
    assert str(error) == "demo.name, step 2: does not hold\n  residual that did not vanish: x - 1"
    assert (error.derivation, error.step, error.reason, error.residual) == ("demo.name", 2, "does not hold", x - 1)
    claim = ProofError("demo.name", None, "the chain does not end at the right side")
    assert str(claim) == "demo.name, claim: the chain does not end at the right side"
    assert claim.step is None and claim.residual is None
    assert isinstance(claim, AssertionError)
