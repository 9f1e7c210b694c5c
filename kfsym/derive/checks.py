"""Compatibility module: the check methods live in the trusted kernel, :mod:`kfsym.derive.kernel.checks`."""

from kfsym.derive.kernel.checks import (
    CHECK_METHODS,
    EQUALITY_METHODS,
    INEQUALITY_METHODS,
    change_of_variables,
    is_zero,
    residual,
)
from kfsym.derive.kernel.timelimit import CheckTimeout, run_with_time_limit

__all__ = [
    "CHECK_METHODS",
    "EQUALITY_METHODS",
    "INEQUALITY_METHODS",
    "CheckTimeout",
    "change_of_variables",
    "is_zero",
    "residual",
    "run_with_time_limit",
]
