"""Symbolic derivations, each step checked by SymPy.

The public way in:

>>> from kfsym.derive import get, all_derivations
>>> report = get("gaussian.product").verify()
>>> report.steps
3

Build and check your own identities with :class:`Derivation`, :class:`Step`
(:class:`Case` for a proof by cases) and :func:`prove_equal`; an inequality
is proved with :func:`prove_nonnegative`, never reported as an equality. The
code that decides what counts as proved is the trusted kernel,
:mod:`kfsym.derive.kernel`.
"""

from kfsym.derive.core import (
    DEFAULT_TIMEOUT,
    Case,
    Derivation,
    ProofError,
    ProofReport,
    Result,
    Step,
    prove_equal,
    prove_nonnegative,
)
from kfsym.derive.registry import Topic, all_derivations, get, register, register_topic, topics

__all__ = [
    "DEFAULT_TIMEOUT",
    "Case",
    "Derivation",
    "ProofError",
    "ProofReport",
    "Result",
    "Step",
    "Topic",
    "all_derivations",
    "get",
    "prove_equal",
    "prove_nonnegative",
    "register",
    "register_topic",
    "topics",
]
