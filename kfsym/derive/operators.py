"""Compatibility module: ``E[...]`` and its rules live in the trusted kernel, :mod:`kfsym.derive.kernel.operators`."""

from kfsym.derive.kernel.operators import Expectation, apply_facts, expectation_residual, normal_sums

__all__ = ["Expectation", "apply_facts", "expectation_residual", "normal_sums"]
