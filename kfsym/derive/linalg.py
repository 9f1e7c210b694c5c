"""Compatibility module: matrix checks live in the trusted kernel, :mod:`kfsym.derive.kernel.linalg`."""

from kfsym.derive.kernel.linalg import matrix_residual, rewrite_residual, symmetric_matrices

__all__ = ["matrix_residual", "rewrite_residual", "symmetric_matrices"]
