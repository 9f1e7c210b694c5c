"""Source of the compiled batched product of two Gaussians, unrolled for one size n, vectorised across the batch.

``mvn_multiply`` by the formulas of :func:`kfsym.numeric.multivariate._scaled_product` (the proved
``multivariate.product_general``), with the checks of ``covariance(definite=True)`` on both covariances,
as straight-line scalar code per element inside a loop over the elements of a block (``BLOCK`` at a
time, elements innermost), as the compiled Kalman filter does (:mod:`kfsym.numeric._filter_source`,
whose printers of the scaled Cholesky factorisation check the covariances here). No calls and no branches
in that loop: LLVM vectorises it across elements (each formula one SIMD instruction on 4 or 8 elements).

Per element, a status (``flags``), as the per-element loop ``mvn_product_batch`` it replaces:

- 1: an argument is invalid (a non-finite entry, a covariance not symmetric within
  ``SYMMETRY_RTOL sqrt(A_ii A_jj)``, or without a Cholesky factor of its unit-scaled matrix
  ``2^-k A 2^-k``, k_i = frexp(A_ii) // 2): the caller's NumPy path raises the error naming it;
- 2: outside the common case, recomputed by the NumPy path: both covariances diagonal, every mean
  subnormal, a z-score that may over- or underflow, a non-positive pivot of T~, a non-finite result, a
  variance to repair or above min(S1_ii, S2_ii) (1 + 64 n eps), per-axis ratios s1_i/s2_i spread over more
  than 2^SCALE_SPREAD (the gain form's covariance cancels there; the NumPy path computes it by the
  square-root information form);
- 0: done.

T~ = R S1 R + R S2 R (entry by entry as in NumPy, so unsymmetric where a covariance is symmetric only
within the tolerance) is, up to that tolerance, symmetric positive definite when both covariances pass,
so Gaussian elimination needs no pivoting (no exchange, no branch; a pivot <= 0 marks the element) where
the NumPy path's LU pivots partially: the same elimination but for the rare exchange. A Cholesky solve,
tried first, is as backward stable but lost up to 10 times more accuracy where D (A^T T~^-1 B) D cancels
(axes whose scales differ between cov1 and cov2: errors in T~^-1 B are amplified by the ratios s/d in A);
the elimination gives the errors of the per-element loop it replaces (measured on 9000 random cases).

1/hypot(s1, s2), a library call per axis in NumPy (40% of the loop's time when called from it), is
2^-k / sqrt(2^-2k (A1_ii + A2_ii)) here, 2^-k the unit scale of the larger variance: the same r within
an ulp or two, vectorised.

This module only prints text; :mod:`kfsym.numeric._compiled_filter` compiles it.
"""

from __future__ import annotations

from kfsym.numeric._filter_source import _Printer, _sum, module_head, power_of_two_scale, scaled_cholesky

__all__ = ["MAX_SIZE", "product_source"]

#: The largest n the product is unrolled for (larger n: the per-element loop of ``COMPILED_SOURCE``). The code
#: grows as n^3 and its first compilation with it (one machine, under load: n = 2: 2 s, 4: 3.4 s, 6: 9.5 s,
#: 7: 14 s, 8: 20 s; Numba's disk cache keeps it afterwards) while it stays 4 to 7 times faster than the
#: per-element loop (n = 8: 4x): the limit trades a first call's wait against speed.
MAX_SIZE = 6

_SMALLEST_NORMAL = 2.0**-1022
#: kfsym.numeric.multivariate.SCALE_SPREAD (not imported: this module prints text only)
SCALE_SPREAD = 10


def _checks(out: _Printer, cov: str, std: str, power: str, n: int) -> None:
    """The checks of ``covariance(definite=True)`` on one covariance (entries ``{cov}{i}{j}``), into the flag
    ``invalid`` (they fail); leaves the standard deviations ``{std}{i}``."""
    for i in range(n):
        out(f"{std}{i} = math.sqrt({cov}{i}{i})")
    for i in range(n):
        for j in range(i):
            a, b = f"{cov}{i}{j}", f"{cov}{j}{i}"
            out("# |A_ij - A_ji| <= rtol sqrt(A_ii) sqrt(A_jj)")
            out(f"invalid = invalid | (abs({a} - {b}) > rtol * ({std}{i} * {std}{j}))")
    for i in range(n):
        power_of_two_scale(out, f"{power}{i}", f"{cov}{i}{i}")
    out("# C = 2^-k A 2^-k = L L^T (the unit-scaled matrix of covariance(definite=True)): every pivot positive")
    scaled_cholesky(out, lambda i, j: f"{cov}{max(i, j)}{min(i, j)}", power, n)
    out("invalid = invalid | (ok == 0.0)")


def _spread(out: _Printer, n: int) -> None:
    """special where the ratios s1_i/s2_i spread over more than 2^SCALE_SPREAD (from the exponents k of the unit scales,
    left by the checks as ``ka{i}_e``, ``kb{i}_e``: variance exponents, k = e // 2): the gain form's covariance
    cancels there, the NumPy path computes it by the square-root information form."""
    for i in range(n):
        out(f"gap{i} = (ka{i}_e >> 1) - (kb{i}_e >> 1)")
    high, low = f"gap{n - 1}", f"gap{n - 1}"
    for i in reversed(range(n - 1)):
        high, low = f"max(gap{i}, {high})", f"min(gap{i}, {low})"
    out("# max_i (k1_i - k2_i) - min_i (k1_i - k2_i) > SCALE_SPREAD: log2 of the spread of s1_i/s2_i, within 1")
    out(f"special = special | ({high} - {low} > {SCALE_SPREAD})")


def _mean_scale(out: _Printer, n: int) -> None:
    """up = 2^shift, down = 2^-shift, shift = max(-exponent(largest |m|), 0): tiny means scaled up exactly, the
    mean scaled back with one rounding; special where every mean is subnormal (2^-shift would be too)."""
    largest = "0.0"
    for i in range(n):
        largest = f"max({largest}, abs(xa{i}), abs(xb{i}))"
    out(f"largest = {largest}")
    out("# shift = max(-exponent(largest), 0), 0 for largest = 0; every mean subnormal: the NumPy path")
    out("shift = max(1022 - (np.float64(largest).view(np.int64) >> 52), 0) * (largest != 0.0)")
    out(f"special = special | ((largest < {_SMALLEST_NORMAL!r}) & (largest != 0.0))")
    out("up = np.int64((1023 + shift) << 52).view(np.float64)")
    out("down = np.int64((1023 - shift) << 52).view(np.float64)")
    for i in range(n):
        out(f"ya{i} = xa{i} * up")
        out(f"yb{i} = xb{i} * up")


def _scaled_terms(out: _Printer, n: int) -> None:
    """r, d, the correlations, T~, A, B and z of ``_scaled_product`` for one element."""
    out("# r = 1/sqrt(s1^2 + s2^2) = 2^-k / sqrt(2^-2k A1_ii + 2^-2k A2_ii), 2^-k the unit scale of the larger")
    out("# variance (exact scaling: no overflow; NumPy's 1/hypot(s1, s2) is a library call, this vectorises; both")
    out("# within an ulp or two); d the smaller standard deviation, at least 2^-1020 times the larger; u = s r; s/d")
    for i in range(n):
        out(f"pp = min(ka{i}, kb{i})")
        out(f"rr{i} = pp / math.sqrt((pa{i}{i} * pp) * pp + (pb{i}{i} * pp) * pp)")
        out(f"dd{i} = max(min(sa{i}, sb{i}), max(sa{i}, sb{i}) * {2.0**-1020!r})")
        out(f"wa{i} = sa{i} * rr{i}")
        out(f"wb{i} = sb{i} * rr{i}")
        out(f"qa{i} = sa{i} / dd{i}")
        out(f"qb{i} = sb{i} / dd{i}")
    out("# rho = S_ij / s_i / s_j;  T~ = R S1 R + R S2 R;  A = R S1 D^-1,  B = R S2 D^-1 (each entry from its own")
    out("# S_ij: a covariance symmetric within the tolerance gives NumPy's unsymmetric T~, A and B, as there)")
    for i in range(n):
        for j in range(n):
            out(f"ca = pa{i}{j} / sa{i} / sa{j}")
            out(f"cb = pb{i}{j} / sb{i} / sb{j}")
            out(f"tt{i}{j} = ca * (wa{i} * wa{j}) + cb * (wb{i} * wb{j})")
            out(f"aa{i}{j} = ca * (wa{i} * qa{j})")
            out(f"bb{i}{j} = cb * (wb{i} * qb{j})")
    out("# z = R (m2 - m1), without forming m2 - m1 (it may overflow); an overflowed z: the NumPy path")
    for i in range(n):
        out(f"zz{i} = rr{i} * yb{i} - rr{i} * ya{i}")
        out(f"special = special | (not abs(zz{i}) <= huge)")


def _solve(out: _Printer, n: int) -> None:
    """g{a}{j} = (T~^-1 [B | z])_aj by Gaussian elimination without pivoting (T~ is symmetric positive definite,
    so its pivots are positive and elimination is stable without exchanges; a pivot <= 0 marks the element)."""
    out("# [B | z]: the right-hand sides")
    for i in range(n):
        for j in range(n + 1):
            out(f"rh{i}{j} = {f'bb{i}{j}' if j < n else f'zz{i}'}")
    for j in range(n):
        out(f"# elimination below pivot {j}: row_i -= (T_i{j} / T_{j}{j}) row_{j}; a pivot <= 0: the NumPy path")
        out(f"special = special | (not tt{j}{j} > 0.0)")
        for i in range(j + 1, n):
            out(f"lm = tt{i}{j} / tt{j}{j}")
            for c in range(j + 1, n):
                out(f"tt{i}{c} = tt{i}{c} - lm * tt{j}{c}")
            for c in range(n + 1):
                out(f"rh{i}{c} = rh{i}{c} - lm * rh{j}{c}")
    out("# G = U^-1 (L^-1 [B | z]): back substitution, column by column")
    for c in range(n + 1):
        for a in reversed(range(n)):
            terms = "".join(f" - tt{a}{b} * g{b}{c}" for b in range(a + 1, n))
            out(f"g{a}{c} = (rh{a}{c}{terms}) / tt{a}{a}")


def _mean(out: _Printer, n: int) -> None:
    """mu{i}: the posterior mean, the form with the smaller rounding error per component, scaled back."""
    for i in range(n):
        out("# W2 (m2 - m1) = D A^T T~^-1 z,  W1 (m2 - m1) = D B^T T~^-1 z")
        out(f"second = dd{i} * ({_sum([f'aa{k}{i} * g{k}{n}' for k in range(n)])})")
        out(f"first = dd{i} * ({_sum([f'bb{k}{i} * g{k}{n}' for k in range(n)])})")
        out("# a z-score or a correction that may have lost bits to underflow (the means differ): the NumPy path")
        out(f"small = (abs(zz{i}) < tiny) | (min(abs(second), abs(first)) < tiny)")
        out(f"special = special | (small & (xa{i} != xb{i}))")
        out("special = special | (not (abs(second) < math.inf) & (abs(first) < math.inf))")
        out("# m = m1 + W2 (m2 - m1) = m2 - W1 (m2 - m1): the form with the smaller rounding error, compared in halves")
        out(f"first_error = 0.5 * abs(ya{i}) + 0.5 * abs(second)")
        out(f"second_error = 0.5 * abs(yb{i}) + 0.5 * abs(first)")
        out("from_first = (first_error < math.inf) & (not first_error > second_error)")
        out(f"value = ya{i} + second if from_first else yb{i} - first")
        out("# m 2^-shift: one rounding")
        out(f"mu{i} = value * down")
        out(f"special = special | (not abs(mu{i}) < math.inf)")


def _covariance(out: _Printer, n: int) -> None:
    """cv{i}{j}: the posterior covariance, exactly symmetric; special where it is to be repaired."""
    out("# S = D (A^T T~^-1 B) D")
    for i in range(n):
        for j in range(n):
            out(f"cv{i}{j} = (dd{i} * ({_sum([f'aa{k}{i} * g{k}{j}' for k in range(n)])})) * dd{j}")
    out("# exactly symmetric: S/2 + S^T/2 where S != S^T; a variance <= 0 is repaired by the NumPy path")
    for i in range(n):
        out(f"special = special | (not cv{i}{i} > 0.0)")
        out("# S_ii <= min(S1_ii, S2_ii) (1 + 64 n eps) (exactly S <= S1, S <= S2): else the NumPy path's robust form")
        out(f"special = special | (cv{i}{i} > min(pa{i}{i}, pb{i}{i}) * {1.0 + 64 * n * 2.0**-52!r})")
        for j in range(i):
            a, b = f"cv{i}{j}", f"cv{j}{i}"
            out(f"{a} = {a} if {a} == {b} else 0.5 * {a} + 0.5 * {b}")
            out(f"{b} = {a}")
    entries = [f"cv{i}{j} * 0.0" for i in range(n) for j in range(n)]
    out("# every entry finite (inf * 0 and NaN * 0 are NaN)")
    out(f"special = special | (({_sum(entries)}) != 0.0)")


def product_source(n: int, block: int) -> str:
    """Python source of ``product_block`` and ``product_batch`` for size n (2 <= n <= MAX_SIZE).

    ``product_batch(m1, s1, m2, s2, rtol, tiny, huge, mean_out, cov_out, flags) -> flagged`` takes the means
    ``(count, n)`` and covariances ``(count, n * n)`` (C-ordered), writes ``mean_out (count, n)``,
    ``cov_out (count, n * n)`` and ``flags (count,)`` (int8) and returns how many elements are flagged.
    Each block of ``block`` elements is copied into a buffer with the elements innermost (its shape a literal,
    so LLVM knows every distance in it), computed there, and copied out.
    """
    if not 2 <= n <= MAX_SIZE:
        raise ValueError(f"the unrolled product is printed for 2 <= n <= {MAX_SIZE}; got n = {n}")
    square = n * n
    # input fields: m1, m2, S1, S2; output fields: mean, cov, status
    fields_in = 2 * n + 2 * square
    fields_out = n + square + 1
    body = _Printer(8)
    loads: list[tuple[str, int]] = []
    for i in range(n):
        loads += [(f"xa{i}", i), (f"xb{i}", n + i)]
    for i in range(n):
        for j in range(n):
            loads += [(f"pa{i}{j}", 2 * n + i * n + j), (f"pb{i}{j}", 2 * n + square + i * n + j)]
    for name, field in loads:
        body(f"{name} = buf[{field}, k]")
    body("# finite arguments, both covariances symmetric with a Cholesky factor of the unit-scaled matrix")
    body(f"invalid = ({_sum([f'{name} * 0.0' for name, _ in loads])}) != 0.0")
    _checks(body, "pa", "sa", "ka", n)
    _checks(body, "pb", "sb", "kb", n)
    body("special = False")
    off = [f"abs(pa{i}{j}) + abs(pb{i}{j})" for i in range(n) for j in range(n) if i != j]
    body("# both covariances diagonal: the 1-D product per axis, by the NumPy path")
    body(f"special = special | (({_sum(off)}) == 0.0)")
    _spread(body, n)
    _mean_scale(body, n)
    _scaled_terms(body, n)
    _solve(body, n)
    _covariance(body, n)
    _mean(body, n)
    for i in range(n):
        body(f"buf[{fields_in + i}, k] = mu{i}")
        for j in range(n):
            body(f"buf[{fields_in + n + i * n + j}, k] = cv{i}{j}")
    body("# status: 1 invalid, else 2 special, else 0 (special > invalid: special and not invalid)")
    body(f"buf[{fields_in + fields_out - 1}, k] = 1.0 * invalid + 2.0 * (special > invalid)")
    lines = [
        *module_head("kfsym.numeric._product_source", f"n = {n}, blocks of {block}"),
        '@numba.njit(cache=True, nogil=True, error_model="numpy")',
        "def product_block(lo, hi, m1, s1, m2, s2, rtol, tiny, huge, mean_out, cov_out, flags):",
        "    # one buffer, inputs then outputs, the elements innermost: one base pointer and literal distances, so",
        "    # LLVM proves the loop free of aliasing (no runtime checks, no scalar copy of the loop); rows 8 longer",
        "    # than the block, so that they do not all fall in the same few cache sets",
        f"    buf = np.empty(({fields_in + fields_out}, {block + 8}))",
        "    base = numba.uint64(lo)",
        "    width = numba.uint64(hi - lo)",
        "    for k in range(width):",
        f"        for f in range({n}):",
        "            buf[f, k] = m1[base + k, f]",
        f"            buf[{n} + f, k] = m2[base + k, f]",
        f"        for f in range({square}):",
        f"            buf[{2 * n} + f, k] = s1[base + k, f]",
        f"            buf[{2 * n + square} + f, k] = s2[base + k, f]",
        "    # a partial block: the rest of its inputs zero (invalid elements, computed and discarded), so that every",
        "    # block runs the whole loop: its trip count a literal multiple of the vector width, no remainder loop",
        f"    for f in range({fields_in}):",
        f"        for k in range(width, {block}):",
        "            buf[f, k] = 0.0",
        f"    for k in range({block}):",
        *body.lines,
        "    flagged = 0",
        "    for k in range(width):",
        f"        for f in range({n}):",
        f"            mean_out[base + k, f] = buf[{fields_in} + f, k]",
        f"        for f in range({square}):",
        f"            cov_out[base + k, f] = buf[{fields_in + n} + f, k]",
        f"        status = np.int8(buf[{fields_in + fields_out - 1}, k])",
        "        flags[base + k] = status",
        "        flagged += status != 0",
        "    return flagged",
        "",
        "",
        '@numba.njit(cache=True, nogil=True, error_model="numpy")',
        "def product_batch(m1, s1, m2, s2, rtol, tiny, huge, mean_out, cov_out, flags):",
        "    count = m1.shape[0]",
        "    flagged = 0",
        f"    for lo in range(0, count, {block}):",
        f"        hi = min(count, lo + {block})",
        "        flagged += product_block(lo, hi, m1, s1, m2, s2, rtol, tiny, huge, mean_out, cov_out, flags)",
        "    return flagged",
        "",
    ]
    return "\n".join(lines)
