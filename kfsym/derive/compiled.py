"""Print fused Numba loops from the same lowered steps as the NumPy kernels.

``kfsym codegen`` stores the module printed here as the string ``COMPILED_SOURCE`` in
``kfsym/numeric/_generated.py`` (so :mod:`kfsym.numeric` never imports Numba until a
compiled kernel is needed); :mod:`kfsym.numeric._jit` writes it to the cache directory and
compiles it there. Two kinds of loop:

``_<name>_loop`` / ``<name>_fused(x, <parameters>, out) -> int``
    a result with a ``data`` argument: the chain of :func:`kfsym.derive.lowering.chain_for`
    (the steps of ``<name>_inplace``, printed as in ``<name>_scalar``) applied per element in
    one pass, the parameters scalars computed once. A final ``exp`` is ``_exp``, exp in plain
    arithmetic that vectorises (Numba's ``math.exp`` calls the C library's scalar exp, several
    times slower than NumPy's SIMD loop), within an ulp like NumPy's. Returns how many data
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

import itertools
import math
from collections.abc import Sequence
from typing import Any

import mpmath
import sympy as sp

from kfsym.derive.core import Result
from kfsym.derive.lowering import _BINARY_SCALAR, _UNARY_SCALAR, ScalarPrinter, _condition, chain_for
from kfsym.derive.printing import body_lines, docstring_text

__all__ = [
    "COMPILED_PRELUDE",
    "KF_UPDATE_SOURCE",
    "MVN_PRODUCT_SOURCE",
    "MVN_ROWS_SOURCE",
    "compiled_module",
    "data_loop_source",
    "pairs_loop_source",
]

def _exp_polynomial(degree: int = 9, half_width: float = 0.35) -> list[float]:
    """q(r) ~= (e^r - 1 - r)/r^2 on [-half_width, half_width], coefficients highest power first (mpmath fit)."""

    def q(r: mpmath.mpf) -> mpmath.mpf:
        return (mpmath.expm1(r) - r) / r**2 if r else mpmath.mpf(1) / 2

    with mpmath.workdps(40):
        fitted = mpmath.chebyfit(q, [-half_width, half_width], degree + 1)
    return [float(c) for c in fitted]


def _exp_source() -> str:
    """``_exp(v)``: exp in straight-line arithmetic that vectorises (Numba's math.exp is a scalar libm call).

    exp(v) = 2^k exp(r), k = round(v / log 2), r = v - k log 2 with log 2 split in two (Cody-Waite: the high
    part has 32 significant bits, so k log2_hi is exact), exp(r) = 1 + r + r^2 q(r) with q of degree 9 fitted
    by mpmath (near-minimax Chebyshev fit of (e^r - 1 - r)/r^2 on |r| <= 0.35, just wider than log(2)/2: error
    below 0.01 ulp of exp(r); the Taylor polynomial needs degree 11 for as much), and 2^k applied in two exact
    halves so that a subnormal result is rounded once. The constants are computed here, at codegen time.
    """
    ln2 = sp.log(2).evalf(40)
    ln2_hi = math.ldexp(math.floor(math.ldexp(float(ln2), 32)), -32)
    ln2_lo = float(ln2 - sp.Float(ln2_hi, 40))
    coefficients = _exp_polynomial()  # highest power first
    horner = "".join(f"    q = q * r + {c!r}\n" for c in coefficients[1:])
    return f"""\
# exp in arithmetic that vectorises, inlined into its caller (Numba's IR: a call would not be inlined once the
# caller is cached), which compiles it with fastmath={{"contract"}}: the polynomial's multiply-adds fuse (one
# rounding for two: as accurate or better; twice as fast).
@numba.njit(inline="always", nogil=True, error_model="numpy")
def _exp(v):  # pragma: no cover - compiled
    \"\"\"exp(v) within an ulp: 2^k (1 + r + r^2 q(r)), r = v - k log 2, |r| <= log(2)/2.\"\"\"
    v = min(max(v, -746.0), 710.0)  # beyond: 0 and inf, as exp rounds them
    # k = round(v / log 2), by the 1.5 2^52 shift (round to nearest, no conversion)
    k = (v * {1 / math.log(2)!r} + 6755399441055744.0) - 6755399441055744.0
    # r = v - k log 2: k log2_hi exact, log2_lo the rest
    r = (v - k * {ln2_hi!r}) - k * {ln2_lo!r}
    q = {coefficients[0]!r}
{horner}    # exp(r) = 1 + r + r^2 (1/2 + r/6 + ...)
    p = 1.0 + (r + (r * r) * q)
    # 2^k in two halves, each a normal power of two: p 2^half is exact, the second product rounds once
    n = numpy.int64(k)
    half = n >> 1
    first = numpy.int64((half + 1023) << 52).view(numpy.float64)
    second = numpy.int64((n - half + 1023) << 52).view(numpy.float64)
    return (p * first) * second
"""


#: The head of the compiled module: Numba's options, stated once.
COMPILED_PRELUDE = (
    '''\
"""Fused loops printed by ``kfsym codegen`` (kfsym.derive.compiled); compiled by kfsym.numeric._jit."""

import itertools
import math

import numba
import numpy

# error_model="numpy": a division by zero gives inf/nan as in NumPy, with no check in the loop;
# no fastmath: every operation rounds as written (IEEE), as in the NumPy kernels.
_njit = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=False)
# For loops that end in _exp: "contract" only, and only where codegen found no product feeding a sum among
# the chain's own steps but products by a power of two (exact), so it fuses nothing but _exp's polynomial.
_njit_contract = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})


'''
    + _exp_source()
)


def data_loop_source(result: Result, where: Sequence[tuple[Any, Any]], origin: str) -> str:
    """``_<name>_loop`` and ``<name>_fused`` for a result with a ``data`` argument."""
    assert result.data is not None
    chain = chain_for(result, where, result.data)
    printer = ScalarPrinter().doprint
    steps = [chain.first, *chain.steps]
    tail_exp = steps[-1] == ("exp", None)
    if tail_exp:
        steps = steps[:-1]  # the final exp is _exp, after the overflow count
    if tail_exp:
        _check_contractible(result.name, steps)
    names = [name for name, _ in result.params]
    others = [name for name in names if name != result.data]
    arguments = ", ".join([result.data, *others, "out"])
    lines = [
        "@_njit_contract" if tail_exp else "@_njit",
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
    if tail_exp and _overflow_gives_zero(steps):
        count = [
            "        # an overflowed intermediate makes v = -inf where the exact v < -4e307: exp gives 0 for both",
            "        # (the correctly rounded density), so no element needs recomputing and none is counted",
        ]
    else:
        count = [
            "        # an infinite value from finite data: an intermediate overflowed (the caller decides)",
            "        overflow += (abs(d) < math.inf) & (abs(v) == math.inf)",
        ]
    lines += [
        "    nan = 0",
        "    overflow = 0",
        "    for i in range(out.size):",
        f"        d = {result.data}[i]",
        "        nan += d != d",
        "        v = d",
        *[f"        {line}" for line in body],
        *count,
        "        out[i] = _exp(v)" if tail_exp else "        out[i] = v",
        "    return nan, overflow",
        "",
        "",
        f"def {result.name}_fused({arguments}):",
        f'    """{docstring_text(result.summary)} Into ``out`` (1-D, as ``{result.data}``); (NaN, overflow) counts."""',
        f"    counts = _{result.name}_loop({arguments})",
    ]
    lines.append("    return counts")
    return "\n".join(lines) + "\n"


def _overflow_gives_zero(steps: Sequence[tuple[str, Any]]) -> bool:
    """True for the density's chain ``-c - ((d - mean) / sqrt(var))^2 * (1/2)``, whose overflow exp rounds to 0.

    In that chain an intermediate that overflows makes v = -inf, and the exact v is then below -1e307: if
    d - mean overflows, |d - mean| >= 2^1024 - 2^970 and sqrt(var) < 2^512, so z^2 > 2^1023; if z^2 overflows
    it is >= 2^1024; half of either exceeds 4e307, against |c| < 400 (c = log(var)/2 + log(2 pi)/2 of a
    double). exp of the exact v rounds to 0, exactly what exp(-inf) gives: no element needs recomputing, so the
    loop counts none. Any other chain keeps the count (the caller decides).
    """
    operations = [operation for operation, _ in steps]
    if operations != ["subtract", "divide", "square", "multiply", "rsubtract"]:
        return False
    divisor, factor = steps[1][1], steps[3][1]
    root_of_a_parameter = isinstance(divisor, sp.Pow) and divisor.exp == sp.Rational(1, 2) and divisor.base.is_Symbol
    return bool(root_of_a_parameter and sp.sympify(factor).is_Number and float(factor) == 0.5)


_PRODUCTS = ("multiply", "square")
_SUMS = ("add", "subtract", "rsubtract")


def _check_contractible(name: str, steps: Sequence[tuple[str, Any]]) -> None:
    """Raise unless fusing a product into the sum that follows it could not change a rounding in ``steps``.

    The loops ending in ``_exp`` compile with fastmath "contract" (for the polynomial of exp); a product
    that feeds a sum would be fused too and round once instead of twice, unlike the NumPy kernel. A
    product by a power of two is exact (but for underflow into the subnormals, far below any sum it feeds).
    """
    for (operation, operand), (following, _) in itertools.pairwise(steps):
        if operation in _PRODUCTS and following in _SUMS:
            exact = operation == "multiply" and operand is not None and _power_of_two(operand)
            if not exact:
                raise ValueError(f"result {name}: step {operation} feeds {following}; it cannot run contracted")


def _power_of_two(value: Any) -> bool:
    number = sp.nsimplify(value)
    if not number.is_Rational or number <= 0:
        return False
    return bool(sp.log(number, 2).is_integer)


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
    """log N(x_k; mean, Sigma) for each row x_k of ``points`` (N, n); returns the counts of NaN in x and of rows
    the NumPy path must redo (a non-finite x - m, or a substitution that overflowed into inf - inf)."""
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
        # an overflowing y_i can meet another in the substitution (inf - inf): NaN, the NumPy path redoes it
        special += half_squared != half_squared
        # log N = -(n log 2 pi + log det Sigma)/2 - d^2/2
        out[k] = constant - half_squared
    return nan, special
'''


#: The batched product of ``multivariate.product_general`` as in ``kfsym.numeric.multivariate._scaled_product``,
#: per batch element, with the covariance checks of ``kfsym.numeric._validate.covariance(definite=True)`` first
#: (finite, symmetric, a Cholesky factor of the unit-scaled matrix). ``flags[k]``: 0 done, 1 an argument is
#: invalid (the NumPy path raises the error), 2 outside the common case (a z-score that may over- or underflow,
#: both covariances diagonal, a result to repair): the NumPy path recomputes that element. Used for n above
#: ``kfsym.numeric._product_source.MAX_SIZE``; smaller n take that module's loop, unrolled and vectorised.
MVN_PRODUCT_SOURCE = '''\
@_njit
def _spd_unit_cholesky_fails(matrices, e, rtol, factor, root, power):  # pragma: no cover - compiled
    """True unless A = matrices[e] is finite, symmetric within rtol sqrt(A_ii A_jj), and 2^-k A 2^-k has a factor.

    Leaves sqrt(A_ii) in ``root`` and 2^-k_i in ``power`` (k_i = exponent(A_ii) // 2, as ``unit_scaled``).
    """
    size = matrices.shape[1]
    fail = False
    for i in range(size):
        for j in range(size):
            fail |= not abs(matrices[e, i, j]) < math.inf
        fail |= not matrices[e, i, i] > 0.0
        root[i] = math.sqrt(matrices[e, i, i])
        power[i] = math.ldexp(1.0, -(math.frexp(matrices[e, i, i])[1] // 2))
    for i in range(size):
        for j in range(i):
            # |A_ij - A_ji| <= rtol sqrt(A_ii) sqrt(A_jj)
            fail |= abs(matrices[e, i, j] - matrices[e, j, i]) > rtol * (root[i] * root[j])
    for j in range(size):
        # C = 2^-k A 2^-k (exact but for subnormal entries):
        # C_jj - sum_k L_jk^2 > 0, L_ij = (C_ij - sum_k L_ik L_jk) / L_jj
        pivot = matrices[e, j, j] * power[j] * power[j]
        for k in range(j):
            pivot -= factor[j, k] * factor[j, k]
        fail |= not pivot > 0.0
        factor[j, j] = math.sqrt(pivot)
        for i in range(j + 1, size):
            value = matrices[e, i, j] * power[i] * power[j]
            for k in range(j):
                value -= factor[i, k] * factor[j, k]
            factor[i, j] = value / factor[j, j]
    return fail


@_njit
def mvn_product_batch(m1, s1, m2, s2, rtol, tiny, huge, mean_out, cov_out, flags):  # pragma: no cover - compiled
    """Posterior mean and covariance of N(m1, S1) N(m2, S2) per batch element; returns the flagged count."""
    count, size = m1.shape
    flagged = 0
    # work arrays, allocated once
    factor = numpy.empty((size, size))
    power = numpy.empty(size)
    std1 = numpy.empty(size)
    std2 = numpy.empty(size)
    r = numpy.empty(size)
    d = numpy.empty(size)
    deviation = numpy.empty(size)
    total = numpy.empty((size, size))
    a = numpy.empty((size, size))
    b = numpy.empty((size, size))
    right = numpy.empty((size, size + 1))
    for e in range(count):
        flags[e] = 0
        bad = _spd_unit_cholesky_fails(s1, e, rtol, factor, std1, power)
        bad |= _spd_unit_cholesky_fails(s2, e, rtol, factor, std2, power)
        for i in range(size):
            bad = bad or not (abs(m1[e, i]) < math.inf and abs(m2[e, i]) < math.inf)
        if bad:
            flags[e] = 1
            flagged += 1
            continue
        independent = True
        for i in range(size):
            for j in range(size):
                if i != j and (s1[e, i, j] != 0.0 or s2[e, i, j] != 0.0):
                    independent = False
        # tiny means scaled up by 2^shift (exact), the mean scaled back once
        largest = 0.0
        for i in range(size):
            largest = max(largest, abs(m1[e, i]), abs(m2[e, i]))
        shift = max(-math.frexp(largest)[1], 0) if largest > 0.0 else 0
        for i in range(size):
            # std1, std2: the square roots of the variances, left by the checks
            r[i] = 1.0 / math.hypot(std1[i], std2[i])
            # d: the smaller standard deviation, at least 2^-1020 times the larger
            d[i] = max(min(std1[i], std2[i]), math.ldexp(max(std1[i], std2[i]), -1020))
        for i in range(size):
            u1 = std1[i] * r[i]
            u2 = std2[i] * r[i]
            for j in range(size):
                rho1 = s1[e, i, j] / std1[i] / std1[j]
                rho2 = s2[e, i, j] / std2[i] / std2[j]
                # T~ = R S1 R + R S2 R
                total[i, j] = rho1 * (u1 * (std1[j] * r[j])) + rho2 * (u2 * (std2[j] * r[j]))
                # A = R S1 D^-1,  B = R S2 D^-1
                a[i, j] = rho1 * (u1 * (std1[j] / d[j]))
                b[i, j] = rho2 * (u2 * (std2[j] / d[j]))
                right[i, j] = b[i, j]
            # z = R (m2 - m1), without forming m2 - m1
            if shift:
                deviation[i] = r[i] * math.ldexp(m2[e, i], shift) - r[i] * math.ldexp(m1[e, i], shift)
            else:
                deviation[i] = r[i] * m2[e, i] - r[i] * m1[e, i]
            right[i, size] = deviation[i]
        # T~ X = [B | z]: LU with partial pivoting
        for j in range(size):
            pivot = j
            for i in range(j + 1, size):
                if abs(total[i, j]) > abs(total[pivot, j]):
                    pivot = i
            if total[pivot, j] == 0.0:
                independent = False
                bad = True
                break
            if pivot != j:
                for c in range(size):
                    total[j, c], total[pivot, c] = total[pivot, c], total[j, c]
                for c in range(size + 1):
                    right[j, c], right[pivot, c] = right[pivot, c], right[j, c]
            for i in range(j + 1, size):
                multiplier = total[i, j] / total[j, j]
                for c in range(j + 1, size):
                    total[i, c] -= multiplier * total[j, c]
                for c in range(size + 1):
                    right[i, c] -= multiplier * right[j, c]
        if not bad:
            for j in range(size - 1, -1, -1):
                for c in range(size + 1):
                    value = right[j, c]
                    for k in range(j + 1, size):
                        value -= total[j, k] * right[k, c]
                    right[j, c] = value / total[j, j]
        special = bad or independent
        for i in range(size):
            # S = D (A^T T~^-1 B) D
            for j in range(size):
                value = 0.0
                for k in range(size):
                    value += a[k, i] * right[k, j]
                cov_out[e, i, j] = d[i] * value * d[j]
            # W2 (m2 - m1) = D A^T T~^-1 z,  W1 (m2 - m1) = D B^T T~^-1 z
            second = 0.0
            first = 0.0
            for k in range(size):
                second += a[k, i] * right[k, size]
                first += b[k, i] * right[k, size]
            second *= d[i]
            first *= d[i]
            z = abs(deviation[i])
            differ = m1[e, i] != m2[e, i]
            if not (z <= huge) or ((z < tiny or min(abs(second), abs(first)) < tiny) and differ):
                special = True
            if not (abs(second) < math.inf and abs(first) < math.inf):
                special = True
            # m = m1 + W2 (m2 - m1) = m2 - W1 (m2 - m1): the form with the smaller rounding error
            low = math.ldexp(m1[e, i], shift) if shift else m1[e, i]
            high = math.ldexp(m2[e, i], shift) if shift else m2[e, i]
            first_error = 0.5 * abs(low) + 0.5 * abs(second)
            second_error = 0.5 * abs(high) + 0.5 * abs(first)
            if abs(first_error) < math.inf and not first_error > second_error:
                value = low + second
            else:
                value = high - first
            if shift:
                value = math.ldexp(value, -shift)
            special = special or not abs(value) < math.inf
            mean_out[e, i] = value
        # exactly symmetric: A/2 + A^T/2 where A != A^T; a variance <= 0 is repaired by the NumPy path
        for i in range(size):
            special = special or not cov_out[e, i, i] > 0.0
            for j in range(i):
                if cov_out[e, i, j] != cov_out[e, j, i]:
                    value = 0.5 * cov_out[e, i, j] + 0.5 * cov_out[e, j, i]
                    cov_out[e, i, j] = value
                    cov_out[e, j, i] = value
        if special:
            flags[e] = 2
            flagged += 1
    return flagged
'''


#: The Kalman update of ``kalman.update_general`` in Joseph form (``kalman.joseph_general``), as in
#: ``kfsym.numeric.kalman._joseph_update``, per batch element, with the checks of
#: ``kfsym.numeric._validate.covariance(definite=False)`` on P and R first. The Cholesky factor of the unit-scaled
#: innovation covariance that proves it positive definite is the one the gain is solved with. ``flags`` as for
#: ``mvn_product_batch``; H and R have one entry, or one per element.
KF_UPDATE_SOURCE = '''\
@_njit
def _semidefinite_fails(matrices, e, rtol, factor):  # pragma: no cover - compiled
    """True unless A = matrices[e] passes covariance(definite=False): finite, nonnegative diagonal, symmetric,
    zero rows for zero variances, and a Cholesky factor of C + n rtol diag(C) (zero variances: shift n rtol)."""
    size = matrices.shape[1]
    fail = False
    for i in range(size):
        for j in range(size):
            fail |= not abs(matrices[e, i, j]) < math.inf
        fail |= not matrices[e, i, i] >= 0.0
    if fail:
        return True
    for i in range(size):
        for j in range(size):
            # |A_ij - A_ji| <= rtol sqrt(A_ii) sqrt(A_jj); a zero variance: its row exactly zero
            root = math.sqrt(matrices[e, i, i]) * math.sqrt(matrices[e, j, j])
            fail |= abs(matrices[e, i, j] - matrices[e, j, i]) > rtol * root
            fail |= matrices[e, i, i] == 0.0 and matrices[e, i, j] != 0.0
    for j in range(size):
        ej = math.frexp(matrices[e, j, j])[1] // 2
        # C = 2^-k A 2^-k; C + n rtol diag(C) (1 for a zero variance) must have a Cholesky factor
        diagonal = math.ldexp(matrices[e, j, j], -2 * ej)
        pivot = diagonal + (1.0 if diagonal == 0.0 else diagonal) * (size * rtol)
        for k in range(j):
            pivot -= factor[j, k] * factor[j, k]
        if not pivot > 0.0:
            return True
        factor[j, j] = math.sqrt(pivot)
        for i in range(j + 1, size):
            ei = math.frexp(matrices[e, i, i])[1] // 2
            value = math.ldexp(matrices[e, i, j], -(ei + ej))
            for k in range(j):
                value -= factor[i, k] * factor[j, k]
            factor[i, j] = value / factor[j, j]
    return fail


@_njit
def kf_update_batch(x, P, z, H, R, rtol, mean_out, cov_out, flags):  # pragma: no cover - compiled
    """x+ and P+ per batch element (H, R: one entry or one per element); returns the flagged count."""
    count, n = x.shape
    m = z.shape[1]
    flagged = 0
    factor_n = numpy.empty((n, n))
    factor_m = numpy.empty((m, m))
    ph = numpy.empty((n, m))
    s = numpy.empty((m, m))
    power = numpy.empty(m)
    y = numpy.empty((m, n))
    gain = numpy.empty((n, m))
    innovation = numpy.empty(m)
    reduce = numpy.empty((n, n))
    left = numpy.empty((n, n))
    kr = numpy.empty((n, m))
    for e in range(count):
        flags[e] = 0
        h = e if H.shape[0] > 1 else 0
        r = e if R.shape[0] > 1 else 0
        bad = _semidefinite_fails(P, e, rtol, factor_n) or _semidefinite_fails(R, r, rtol, factor_m)
        for i in range(n):
            bad = bad or not abs(x[e, i]) < math.inf
            for k in range(m):
                bad = bad or not abs(H[h, k, i]) < math.inf
        for k in range(m):
            bad = bad or not abs(z[e, k]) < math.inf
        if bad:
            flags[e] = 1
            flagged += 1
            continue
        special = False
        # P H^T
        for i in range(n):
            for k in range(m):
                value = 0.0
                for j in range(n):
                    value += P[e, i, j] * H[h, k, j]
                ph[i, k] = value
        # S = H P H^T + R, exactly symmetric
        for k in range(m):
            for l in range(m):
                value = 0.0
                for i in range(n):
                    value += H[h, k, i] * ph[i, l]
                s[k, l] = value + R[r, k, l]
        for k in range(m):
            for l in range(k):
                if s[k, l] != s[l, k]:
                    value = 0.5 * s[k, l] + 0.5 * s[l, k]
                    s[k, l] = value
                    s[l, k] = value
            special = special or not abs(s[k, k]) < math.inf
        # S = D C D, D = diag(2^k): the Cholesky factor of C proves S positive definite and solves for the gain
        for k in range(m):
            power[k] = math.ldexp(1.0, -(math.frexp(s[k, k])[1] // 2)) if s[k, k] > 0.0 else 1.0
        for j in range(m):
            pivot = s[j, j] * power[j] * power[j]
            for k in range(j):
                pivot -= factor_m[j, k] * factor_m[j, k]
            if not pivot > 0.0:
                special = True
                pivot = 1.0
            factor_m[j, j] = math.sqrt(pivot)
            for i in range(j + 1, m):
                value = s[i, j] * power[i] * power[j]
                for k in range(j):
                    value -= factor_m[i, k] * factor_m[j, k]
                factor_m[i, j] = value / factor_m[j, j]
        # K^T = S^-1 H P = D^-1 C^-1 (D^-1 H P): L L^T Y = D^-1 (P H^T)^T, forward then back substitution
        for c in range(n):
            for k in range(m):
                value = ph[c, k] * power[k]
                for j in range(k):
                    value -= factor_m[k, j] * y[j, c]
                y[k, c] = value / factor_m[k, k]
            for k in range(m - 1, -1, -1):
                value = y[k, c]
                for j in range(k + 1, m):
                    value -= factor_m[j, k] * y[j, c]
                y[k, c] = value / factor_m[k, k]
            for k in range(m):
                gain[c, k] = y[k, c] * power[k]
        # x+ = x + K (z - H x)
        for k in range(m):
            value = 0.0
            for i in range(n):
                value += H[h, k, i] * x[e, i]
            innovation[k] = z[e, k] - value
        for i in range(n):
            value = 0.0
            for k in range(m):
                value += gain[i, k] * innovation[k]
            mean_out[e, i] = x[e, i] + value
            special = special or not abs(mean_out[e, i]) < math.inf
        # P+ = (I - K H) P (I - K H)^T + K R K^T   (Joseph form)
        for i in range(n):
            for j in range(n):
                value = 0.0
                for k in range(m):
                    value += gain[i, k] * H[h, k, j]
                reduce[i, j] = (1.0 if i == j else 0.0) - value
        for i in range(n):
            for j in range(n):
                value = 0.0
                for k in range(n):
                    value += reduce[i, k] * P[e, k, j]
                left[i, j] = value
            for l in range(m):
                value = 0.0
                for k in range(m):
                    value += gain[i, k] * R[r, k, l]
                kr[i, l] = value
        for i in range(n):
            for j in range(n):
                first = 0.0
                for k in range(n):
                    first += left[i, k] * reduce[j, k]
                second = 0.0
                for k in range(m):
                    second += kr[i, k] * gain[j, k]
                cov_out[e, i, j] = first + second
        # exactly symmetric: A/2 + A^T/2 where A != A^T; a variance <= 0 is repaired by the NumPy path
        for i in range(n):
            special = special or not (cov_out[e, i, i] > 0.0 and cov_out[e, i, i] < math.inf)
            for j in range(i):
                if cov_out[e, i, j] != cov_out[e, j, i]:
                    value = 0.5 * cov_out[e, i, j] + 0.5 * cov_out[e, j, i]
                    cov_out[e, i, j] = value
                    cov_out[e, j, i] = value
                special = special or not abs(cov_out[e, i, j]) < math.inf
        if special:
            flags[e] = 2
            flagged += 1
    return flagged
'''


def compiled_module(parts: Sequence[str], warm: Sequence[str]) -> str:
    """The whole compiled module: prelude, loops, and ``warm_up`` calling each once on tiny arrays."""
    warm_lines = [
        "def warm_up(zeros, ones):",
        '    """Compile (or load from the on-disk cache) every loop for the argument types the callers use."""',
        *[f"    {line}" for line in warm],
        "    mvn_log_density_rows(numpy.zeros((2, 2)), zeros, numpy.eye(2), ones, 0.0, zeros.copy())",
        "    eyes = numpy.stack([numpy.eye(2), numpy.eye(2)])",
        "    mvn_product_batch(",
        "        numpy.zeros((2, 2)), eyes, numpy.ones((2, 2)), eyes, 1e-10, 1.0, 1.0,",
        "        numpy.empty((2, 2)), numpy.empty((2, 2, 2)), numpy.empty(2, dtype=numpy.int8),",
        "    )",
        "    for shared in (eyes[:1], eyes):  # H and R shared by the batch, or one per element",
        "        kf_update_batch(",
        "            numpy.zeros((2, 2)), eyes, numpy.ones((2, 2)), shared, shared, 1e-10,",
        "            numpy.empty((2, 2)), numpy.empty((2, 2, 2)), numpy.empty(2, dtype=numpy.int8),",
        "        )",
    ]
    sources = [COMPILED_PRELUDE, *parts, MVN_ROWS_SOURCE, MVN_PRODUCT_SOURCE, KF_UPDATE_SOURCE]
    return "\n\n".join([*sources, "\n".join(warm_lines) + "\n"])
