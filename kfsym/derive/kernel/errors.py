"""The one exception the kernel raises when it cannot call a statement proved."""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["ProofError"]


class ProofError(AssertionError):
    """A statement (a step of a derivation, or a stand-alone claim) could not be proved.

    Attributes
    ----------
    derivation : str
        Name of the derivation (``"prove_equal"`` for a stand-alone check).
    step : int or None
        1-based number of the failing step; ``None`` for the claim itself.
    residual : sympy expression or None
        What was left of ``lhs - rhs`` (or of the log-ratio) after checking;
        ``None`` when the check timed out, was refused, or the derivation is
        malformed.
    reason : str
        A one-line explanation.

    Examples
    --------
    >>> str(ProofError("demo.name", 2, "does not hold"))
    'demo.name, step 2: does not hold'
    """

    def __init__(self, derivation: str, step: int | None, reason: str, residual: Any = None) -> None:
        self.derivation = derivation
        self.step = step
        self.reason = reason
        self.residual = residual
        where = f"step {step}" if step is not None else "claim"
        message = f"{derivation}, {where}: {reason}"
        if residual is not None:
            message += f"\n  residual that did not vanish: {sp.sstr(residual)}"
        super().__init__(message)
