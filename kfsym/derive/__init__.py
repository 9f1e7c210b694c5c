"""Symbolic derivations, each step checked by SymPy.

The public way in:

>>> from kfsym.derive import get, all_derivations
>>> report = get("gaussian.product").verify()
>>> report.steps
3

Build and check your own identities with :class:`Derivation`, :class:`Step`
and :func:`prove_equal`.
"""

from kfsym.derive.core import DEFAULT_TIMEOUT, Derivation, ProofError, ProofReport, Result, Step, prove_equal
from kfsym.derive.registry import Topic, all_derivations, get, register, register_topic, topics

__all__ = [
    "DEFAULT_TIMEOUT",
    "Derivation",
    "ProofError",
    "ProofReport",
    "Result",
    "Step",
    "Topic",
    "all_derivations",
    "get",
    "prove_equal",
    "register",
    "register_topic",
    "topics",
]
