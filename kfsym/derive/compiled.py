"""Print fused Numba loops from the same lowered steps as the NumPy kernels.

``kfsym codegen`` stores the module printed here as the string ``COMPILED_SOURCE`` in
``kfsym/numeric/_generated.py`` (so :mod:`kfsym.numeric` never imports Numba until a
compiled kernel is needed); :mod:`kfsym.numeric._jit` writes it to the cache directory and
compiles it there. Two kinds of loop:

``_<name>_loop`` / ``<name>_fused(x, <parameters>, out) -> int``
    a result with a ``data`` argument: the chain of :func:`kfsym.derive.lowering.chain_for`
    (the steps of ``<name>_inplace``, printed as in ``<name>_scalar``) applied per element in
    one pass, the parameters scalars computed once. A chain that ends in ``exp`` stops before
    it and ``<name>_fused`` applies NumPy's vectorised exp in place: Numba calls the C
    library's scalar exp, several times slower than NumPy's SIMD loop. Returns how many data
    elements are NaN (validation rides along the pass) and how many values (before a final
    exp) are infinite from finite data: an intermediate overflow the caller corrects.
``<name>_pairs(<parameter arrays>, <output arrays>) -> (invalid, slow)``
    a scalar result (``Result.scalar``): the assignments of ``<name>_scalar`` per element,
    over 1-D arrays of one length; counts the elements outside the proved domain (a
    non-finite mean, a variance not positive and finite) and those where ``fast_when``
    fails, which the caller recomputes or reports.

The arithmetic steps are the same IEEE operations as the NumPy kernels'; ``exp``, ``log`` and
``erfc`` are the C library's, so the paths agree within ``PATH_ULP`` (tested), not bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sympy as sp

from kfsym.derive.core import Result
from kfsym.derive.lowering import _BINARY_SCALAR, _UNARY_SCALAR, ScalarPrinter, _condition, chain_for
from kfsym.derive.printing import body_lines, docstring_text

__all__ = ["COMPILED_PRELUDE", "MVN_ROWS_SOURCE", "compiled_module", "data_loop_source", "pairs_loop_source"]

#: The head of the compiled module: Numba's options, stated once.
COMPILED_PRELUDE = '''\
"""Fused loops printed by ``kfsym codegen`` (kfsym.derive.compiled); compiled by kfsym.numeric._jit."""

import math

import numba
import numpy

# error_model="numpy": a division by zero gives inf/nan as in NumPy, with no check in the loop;
# no fastmath: every operation rounds as written (IEEE), as in the NumPy kernels.
_njit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=False)
'''


def data_loop_source(result: Result, where: Sequence[tuple[Any, Any]], origin: str) -> str:
    """``_<name>_loop`` and ``<name>_fused`` for a result with a ``data`` argument."""
    assert result.data is not None
    chain = chain_for(result, where, result.data)
    printer = ScalarPrinter().doprint
    steps = [chain.first, *chain.steps]
    tail_exp = steps[-1] == ("exp", None)
    if tail_exp:
        steps = steps[:-1]
    names = [name for name, _ in result.params]
    others = [name for name in names if name != result.data]
    arguments = ", ".join([result.data, *others, "out"])
    lines = [
        "@_njit",
        f"def _{result.name}_loop({arguments}):  # pragma: no cover - compiled",
        f'    """{docstring_text(result.summary)} ``{origin}``: the steps of ``{result.name}_inplace``, one pass."""',
    ]
    lines += [f"    {temp} = {printer(value)}" for temp, value in chain.params]
    body = []
    for index, (operation, operand) in enumerate(steps):
        if operand is not None:
            lines.append(f"    _o{index} = {printer(operand)}")
        template = _BINARY_SCALAR.get(operation) or _UNARY_SCALAR[operation]
        body.append("v = " + template.format(a="v", b=f"_o{index}"))
    lines += [
        "    nan = 0",
        "    overflow = 0",
        "    for i in range(out.size):",
        f"        d = {result.data}[i]",
        "        nan += d != d",
        "        v = d",
        *[f"        {line}" for line in body],
        "        # an infinite value from finite data: an intermediate overflowed (the caller decides)",
        "        overflow += (abs(d) < math.inf) & (abs(v) == math.inf)",
        "        out[i] = v",
        "    return nan, overflow",
        "",
        "",
        f"def {result.name}_fused({arguments}):",
        f'    """{docstring_text(result.summary)} Into ``out`` (1-D, as ``{result.data}``); (NaN, overflow) counts."""',
        f"    counts = _{result.name}_loop({arguments})",
    ]
    if tail_exp:
        lines.append("    numpy.exp(out, out=out)  # NumPy's SIMD exp: the C library's scalar one is far slower")
    lines.append("    return counts")
    return "\n".join(lines) + "\n"


def pairs_loop_source(result: Result, where: Sequence[tuple[Any, Any]], origin: str) -> str:
    """``<name>_pairs`` for a scalar result: its plain-float assignments per element, domain counted."""
    printer = ScalarPrinter()
    names = [name for name, _ in result.params]
    outputs = [name for name, _ in result.outputs]
    checks = []
    for name, stands_for in result.params:
        if getattr(stands_for, "is_positive", False) or isinstance(stands_for, sp.Pow):
            checks.append(f"0.0 < {name} < math.inf")
        else:
            checks.append(f"-math.inf < {name} < math.inf")
    fast = _condition(result) if result.fast_when is not None else "True"
    lines = [
        "@_njit",
        f"def {result.name}_pairs({', '.join(f'{n}_' for n in [*names, *outputs])}):  # pragma: no cover - compiled",
        f'    """{docstring_text(result.summary)} ``{origin}``, per element; returns (invalid, slow) counts."""',
        "    invalid = 0",
        "    slow = 0",
        f"    for i in range({outputs[0]}_.size):",
        *[f"        {name} = {name}_[i]" for name in names],
        f"        invalid += not ({' and '.join(checks)})",
        f"        slow += not ({fast})",
        *[f"        {line}" for line in body_lines(result, where, printer)],
        *[f"        {name}_[i] = {name}" for name in outputs],
        "    return invalid, slow",
    ]
    return "\n".join(lines) + "\n"


#: Many points, one mean and one covariance (``multivariate.pdf_general``), as in
#: ``kfsym.numeric.multivariate._half_squared_distance``: Sigma = S L L^T S with S = diag(2^k) and L the
#: Cholesky factor validation proved to exist; per point v = S^-1 (x - m) (exact: a power of two), L y = v by
#: forward substitution, and log N = c - sum (y_i / sqrt 2)^2 with c = -(n log 2 pi + log det Sigma)/2.
MVN_ROWS_SOURCE = '''\
@_njit
def mvn_log_density_rows(points, mean, factor, scale, constant, out):  # pragma: no cover - compiled
    """log N(x_k; mean, Sigma) for each row x_k of ``points`` (N, n); returns (NaN, non-finite x - m) counts."""
    size = mean.size
    y = numpy.empty(size)
    nan = 0
    special = 0
    half = math.sqrt(0.5)
    for k in range(out.size):
        half_squared = 0.0
        for i in range(size):
            d = points[k, i] - mean[i]
            nan += points[k, i] != points[k, i]
            special += not (abs(d) < math.inf)
            # v_i = 2^-k_i (x_i - m_i); L y = v, forward substitution
            v = d * scale[i]
            for j in range(i):
                v -= factor[i, j] * y[j]
            y[i] = v / factor[i, i]
            # (x - m)^T Sigma^-1 (x - m) / 2 = (y / sqrt 2)^T (y / sqrt 2)
            w = y[i] * half
            half_squared += w * w
        # log N = -(n log 2 pi + log det Sigma)/2 - d^2/2
        out[k] = constant - half_squared
    return nan, special
'''


def compiled_module(parts: Sequence[str], warm: Sequence[str]) -> str:
    """The whole compiled module: prelude, loops, and ``warm_up`` calling each once on tiny arrays."""
    warm_lines = [
        "def warm_up(zeros, ones):",
        '    """Compile (or load from the on-disk cache) every loop for the argument types the callers use."""',
        *[f"    {line}" for line in warm],
        "    mvn_log_density_rows(numpy.zeros((2, 2)), zeros, numpy.eye(2), ones, 0.0, zeros.copy())",
    ]
    return "\n\n".join([COMPILED_PRELUDE, *parts, MVN_ROWS_SOURCE, "\n".join(warm_lines) + "\n"])
