"""Source of the compiled Kalman-filter loop, unrolled for one state size n and measurement size m.

The per-track arithmetic of one step is printed as straight-line scalar code (every matrix
entry a local variable, every sum written out), inside a loop over the tracks of a block.
With no calls and no branches in that loop, LLVM vectorises it across tracks: each
scalar formula becomes one SIMD instruction on 4 or 8 tracks at a time, and the whole
state of a track stays in registers for the step. Only ``+ - * /``, ``sqrt`` and
comparisons are used; the logarithms of the log-likelihood are taken afterwards by NumPy
over all steps at once.

The formulas are the NumPy backend's (:mod:`kfsym.numeric.sequence`), entry by entry:

- prediction  x' = F x + B u,  P' = F P F^T + Q                      (``kalman.predict``)
- innovation  S = H P H^T + R,  y = z - H x, masked components set apart exactly
- Cholesky    of S scaled by powers of two, C = D S D = L L^T with D = diag(2^-k_a) and
  C_aa in [1/4, 1) (exact, so no subnormal pivot and NumPy's rounding);
  K^T = S^{-1} (H P) = D L^-T L^-1 D (H P) by forward and back substitution
- update      x+ = x + K y,  P+ = (I - K H) P (I - K H)^T + K R K^T (``kalman.update_general``,
  Joseph form: ``kalman.joseph_general``)
- every covariance symmetrised as ``(A + A^T)/2`` (exactly A where symmetric) with its
  diagonal clamped at 0 and the row of a zero variance zeroed, as
  :func:`kfsym.numeric.multivariate.covariance_result` does.
- a status per track and step, in the order the NumPy backend checks: 1 where the prior
  (predicted moments, innovation, S) is not finite, else 2 where S has no Cholesky factor,
  else 3 where the posterior or the quadratic form is not finite, else 0. Finiteness is
  tested branch-free as ``sum(v * 0.0) == 0`` (inf * 0 and NaN * 0 are NaN), so the loop
  still vectorises and the caller reads one number per track-step instead of all outputs.

This module only prints text; :mod:`kfsym.numeric._compiled_filter` compiles it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["filter_source", "layout", "power_of_two_scale", "scaled_cholesky", "scaled_solve"]


def layout(n: int, m: int) -> dict[str, tuple[int, tuple[int, ...]]]:
    """Where each per-step output lives in the kernel's single output array ``out (T, fields, K)``.

    One output array (and one input array per kind) keeps the number of distinct pointers in
    the loop small, so LLVM can prove the loop free of aliasing and vectorise it across tracks.
    Returns ``{name: (first field, shape of the entry)}``.
    """
    shapes = {
        "predicted_means": (n,),
        "predicted_covs": (n, n),
        "filtered_means": (n,),
        "filtered_covs": (n, n),
        "innovations": (m,),
        "innovation_covs": (m, m),
        "factor_diagonals": (m,),
        "constant_and_quadratic": (),
        "status": (),
    }
    fields, start = {}, 0
    for name, shape in shapes.items():
        fields[name] = (start, shape)
        start += math.prod(shape)
    return fields


class _Fields:
    """Prints ``buf[field, k]`` for an entry of a named output (the block's buffer, copied to ``out`` per step)."""

    def __init__(self, n: int, m: int) -> None:
        self.fields = layout(n, m)

    def __call__(self, name: str, *index: int) -> str:
        start, shape = self.fields[name]
        offset = start + (index[0] * shape[1] + index[1] if len(index) == 2 else (index[0] if index else 0))
        return f"buf[{offset}, k]"

    @property
    def count(self) -> int:
        return sum(math.prod(shape) for _, shape in self.fields.values())


def _sum(terms: list[str]) -> str:
    return " + ".join(terms) if terms else "0.0"


class _Printer:
    """Collects the lines of a loop body with a fixed indentation."""

    def __init__(self, indent: int) -> None:
        self.lines: list[str] = []
        self.pad = " " * indent

    def __call__(self, line: str) -> None:
        self.lines.append(self.pad + line)


def _symmetrized(out: _Printer, raw: str, name: str, size: int) -> None:
    """name_ij = (raw_ij + raw_ji)/2, exactly raw_ij where symmetric; diagonal clamped at 0, and the row and
    column of a zero variance set to 0 (a semi-definite matrix has |A_ij| <= sqrt(A_ii A_jj))."""
    for i in range(size):
        out(f"{name}{i}{i} = {raw}{i}{i} if {raw}{i}{i} > 0.0 else 0.0")
    for i in range(size):
        for j in range(i + 1, size):
            a, b = f"{raw}{i}{j}", f"{raw}{j}{i}"
            out(f"{name}{i}{j} = {a} if {a} == {b} else 0.5 * {a} + 0.5 * {b}")
            out(f"{name}{i}{j} = {name}{i}{j} if min({name}{i}{i}, {name}{j}{j}) > 0.0 else 0.0")
            out(f"{name}{j}{i} = {name}{i}{j}")


def power_of_two_scale(out: _Printer, name: str, variance: str) -> None:
    """name = 2^-k, k = frexp(variance)[1] // 2 (the exponent of ``unit_scaled``), read from the variance's bits.

    Integer operations on the bits and no library call (``frexp`` would be one per element), so it vectorises;
    exact for every positive finite variance, subnormal ones included (read as variance 2^64, exactly), and
    2^-2k variance is in [1/4, 1). Exact scaling by powers of two changes no rounding, only the range. A zero
    variance gives 1; inf and NaN give 2^-512 (the checks refuse them).
    """
    small, scaled, exponent = f"{name}_small", f"{name}_t", f"{name}_e"
    out("# 2^-k, k = exponent(A) // 2 (A = m 2^exponent, 1/2 <= m < 1); a subnormal A read as A 2^64, exactly")
    out(f"{small} = {variance} < {2.0**-1022!r}")
    out(f"{scaled} = {variance} * (1.0 + {small} * {2.0**64!r})")
    out(f"{exponent} = ((np.float64({scaled}).view(np.int64) >> 52) - 1022) - 64 * {small}")
    out(f"{name} = np.int64((1023 - ({exponent} >> 1)) << 52).view(np.float64)")
    out(f"{name} = 1.0 if {variance} == 0.0 else {name}")


def scaled_cholesky(
    out: _Printer, entry: Callable[[int, int], str], scale: str, size: int, floor: float = 0.0
) -> None:
    """l{i}{j}: the Cholesky factor of C = D E D, D = diag(scale0, scale1, ...), E's entries ``entry(i, j)``;
    ok = 0.0 where a pivot is not above ``floor`` C_jj (not positive, by default; the pivot is then taken as 1
    so that the loop runs on)."""
    out("ok = 1.0")
    for j in range(size):
        diagonal = f"({entry(j, j)} * {scale}{j}) * {scale}{j}"
        pivot = diagonal + "".join(f" - l{j}{c} * l{j}{c}" for c in range(j))
        out(f"d = {pivot}")
        if floor:
            out(f"# a pivot within {floor:.2g} of its diagonal entry: singular to working precision")
            out(f"ok = ok if d > {floor!r} * ({diagonal}) else 0.0")
        else:
            out("ok = ok if d > 0.0 else 0.0")
        out("d = d if d > 0.0 else 1.0")
        out(f"l{j}{j} = math.sqrt(d)")
        for i in range(j + 1, size):
            below = f"({entry(i, j)} * {scale}{i}) * {scale}{j}" + "".join(f" - l{i}{c} * l{j}{c}" for c in range(j))
            out(f"l{i}{j} = ({below}) / l{j}{j}")


def scaled_solve(out: _Printer, rhs: Callable[[int, int], str], scale: str, size: int, columns: int) -> None:
    """g{a}{j} = (E^-1 B)_aj = (D C^-1 D B)_aj from the factor l of C = D E D (:func:`scaled_cholesky`), B's
    entries ``rhs(a, j)``: forward, then back substitution, column by column."""
    for j in range(columns):
        for a in range(size):
            forward = "".join(f" - l{a}{b} * u{b}{j}" for b in range(a))
            out(f"u{a}{j} = ({rhs(a, j)} * {scale}{a}{forward}) / l{a}{a}")
        for a in reversed(range(size)):
            out(f"g{a}{j} = (u{a}{j}" + "".join(f" - l{b}{a} * g{b}{j}" for b in range(a + 1, size)) + f") / l{a}{a}")
        for a in range(size):
            out(f"g{a}{j} = g{a}{j} * {scale}{a}")


def _all_finite(out: _Printer, flag: str, names: list[str]) -> None:
    """flag = 1.0 where every named value is finite, else 0.0 (branch-free: v * 0.0 is NaN for inf and NaN)."""
    out(f"{flag} = 1.0 if ({_sum([f'{v} * 0.0' for v in names])}) == 0.0 else 0.0")


def _predict(out: _Printer, n: int) -> None:
    """x, P from the previous filtered moments xf, Pf (loaded by the caller)."""
    # x' = F x + B u
    for i in range(n):
        out(f"x{i} = {_sum([f'f{i}{j} * xf{j}' for j in range(n)])} + c{i}")
    # P' = F P F^T + Q
    for i in range(n):
        for j in range(n):
            out(f"a{i}{j} = {_sum([f'f{i}{c} * Pf{c}{j}' for c in range(n)])}")
    for i in range(n):
        for j in range(n):
            out(f"p{i}{j} = {_sum([f'a{i}{c} * f{j}{c}' for c in range(n)])} + q{i}{j}")
    _symmetrized(out, "p", "P", n)


def _update(out: _Printer, n: int, m: int) -> None:
    """Store the prior, then update it with z_t (the caller has x*, P** and the model entries)."""
    at = _Fields(n, m)
    for i in range(n):
        out(f"{at('predicted_means', i)} = x{i}")
        for j in range(n):
            out(f"{at('predicted_covs', i, j)} = P{i}{j}")
    for a in range(m):
        out(f"w{a} = seen[t, {a}, base + k]")
    # H P, then S = H P H^T + R
    for a in range(m):
        for j in range(n):
            out(f"hp{a}{j} = {_sum([f'h{a}{c} * P{c}{j}' for c in range(n)])}")
    for a in range(m):
        for b in range(m):
            out(f"s{a}{b} = {_sum([f'hp{a}{c} * h{b}{c}' for c in range(n)])} + r{a}{b}")
    _symmetrized(out, "s", "S", m)
    _innovation(out, at, n, m)
    _factor_and_gain(out, at, n, m)
    _joseph(out, at, n, m)


def _innovation(out: _Printer, at: _Fields, n: int, m: int) -> None:
    """Store S; the innovation y; S and H P with their masked components set apart."""
    for a in range(m):
        for b in range(m):
            out(f"{at('innovation_covs', a, b)} = S{a}{b}")
    # y = z - H x, zero where masked; masked components: unit variance apart, zero row of H P. Selects, not
    # products with the mask: a masked component's H x or S may overflow, and inf * 0 would be NaN.
    for a in range(m):
        out(f"y{a} = z[t, {a}, base + k] - ({_sum([f'h{a}{c} * x{c}' for c in range(n)])})")
        out(f"y{a} = y{a} if w{a} != 0.0 else 0.0")
        out(f"{at('innovations', a)} = y{a}")
    for a in range(m):
        for b in range(m):
            apart = "1.0" if a == b else "0.0"
            out(f"e{a}{b} = S{a}{b} if w{a} * w{b} != 0.0 else {apart}")
        for j in range(n):
            out(f"hp{a}{j} = hp{a}{j} if w{a} != 0.0 else 0.0")
    square = [f"P{i}{j}" for i in range(n) for j in range(n)] + [f"S{a}{b}" for a in range(m) for b in range(m)]
    _all_finite(out, "prior", [f"x{i}" for i in range(n)] + [f"y{a}" for a in range(m)] + square)


def _factor_and_gain(out: _Printer, at: _Fields, n: int, m: int) -> None:
    """Cholesky factor of S scaled to unit diagonal, the log-likelihood pieces, the gain and the updated mean."""
    # S = D^-1 C D^-1 with D = diag(sd_a), powers of two (exact): C_aa in [1/4, 1), so no subnormal or huge
    # pivot in its factor, and the same rounding as NumPy's factor of S scaled by other powers of two
    for a in range(m):
        power_of_two_scale(out, f"sd{a}", f"e{a}{a}")
    # Cholesky C = L L^T; a non-positive pivot marks the track as failed at this step
    scaled_cholesky(out, lambda i, j: f"e{i}{j}", "sd", m)
    # y^T S^-1 y = |v|^2 with L v = D y; the diagonal of S's own factor D^-1 L is l_aa / sd_a: NumPy finishes
    # log det S = 2 sum log(l_aa / sd_a) with their logarithms
    for a in range(m):
        out(f"v{a} = (y{a} * sd{a}" + "".join(f" - l{a}{b} * v{b}" for b in range(a)) + f") / l{a}{a}")
        out(f"{at('factor_diagonals', a)} = l{a}{a} / sd{a}")
    out(f"quadratic = {_sum([f'v{a} * v{a}' for a in range(m)])}")
    # m_obs log 2 pi + |L^{-1} y|^2: the log-likelihood without log det S
    observed = _sum([f"w{a}" for a in range(m)])
    out(f"{at('constant_and_quadratic')} = ({observed}) * {math.log(2 * math.pi)!r} + quadratic")
    # K^T = S^{-1} (H P) = D C^-1 D (H P): forward, then back substitution, column by column
    scaled_solve(out, lambda a, j: f"hp{a}{j}", "sd", m, n)
    # x+ = x + K y
    for i in range(n):
        out(f"x{i} = x{i} + {_sum([f'g{a}{i} * y{a}' for a in range(m)])}")


def _joseph(out: _Printer, at: _Fields, n: int, m: int) -> None:
    """The Joseph-form covariance update and the stores of the posterior."""
    # M = I - K H (masked rows of H count as zero)
    for i in range(n):
        for j in range(n):
            identity = "1.0" if i == j else "0.0"
            out(f"mm{i}{j} = {identity} - ({_sum([f'g{a}{i} * h{a}{j} * w{a}' for a in range(m)])})")
    # P+ = M P M^T + K R K^T   (masked entries of R count as zero)
    for i in range(n):
        for j in range(n):
            out(f"a{i}{j} = {_sum([f'mm{i}{c} * P{c}{j}' for c in range(n)])}")
    _gain_times_noise(out, n, m)
    for i in range(n):
        for j in range(i, n):
            joseph = [f"a{i}{c} * mm{j}{c}" for c in range(n)]
            noise = [f"kr{i}{b} * g{b}{j}" for b in range(m)]
            out(f"p{i}{j} = {_sum(joseph)} + {_sum(noise)}")
            if i != j:
                joseph_t = [f"a{j}{c} * mm{i}{c}" for c in range(n)]
                noise_t = [f"kr{j}{b} * g{b}{i}" for b in range(m)]
                out(f"p{j}{i} = {_sum(joseph_t)} + {_sum(noise_t)}")
    _symmetrized(out, "p", "P", n)
    for i in range(n):
        out(f"{at('filtered_means', i)} = x{i}")
        for j in range(n):
            out(f"{at('filtered_covs', i, j)} = P{i}{j}")
    _status(out, at, n)


def _gain_times_noise(out: _Printer, n: int, m: int) -> None:
    """kr = K R, masked entries of R counting as zero: (K R) K^T is then the order NumPy's gain @ noise @ gain^T
    multiplies in."""
    for a in range(m):
        for b in range(m):
            out(f"rw{a}{b} = r{a}{b} * (w{a} * w{b})")
    for i in range(n):
        for b in range(m):
            out(f"kr{i}{b} = {_sum([f'g{a}{i} * rw{a}{b}' for a in range(m)])}")


def _status(out: _Printer, at: _Fields, n: int) -> None:
    """The step's status: 1 prior not finite; 2 S not positive definite; 3 posterior not finite; 0 fine."""
    square = [f"P{i}{j}" for i in range(n) for j in range(n)]
    _all_finite(out, "posterior", [f"x{i}" for i in range(n)] + square + ["quadratic"])
    out(f"{at('status')} = 1.0 if prior == 0.0 else (2.0 if ok == 0.0 else (3.0 if posterior == 0.0 else 0.0))")


def module_head(printer: str, sizes: str) -> list[str]:
    """The first lines of a generated kernel module: where it comes from, its imports, two blank lines."""
    imports = ["import math", "", "import numba", "import numpy as np", "", ""]
    return [f"# generated by {printer} for {sizes}; do not edit", *imports]


def _model_entries(out: _Printer, n: int, m: int, transition: bool) -> None:
    """Load the shared model matrices of step t into scalars (outside the loop over tracks)."""
    if transition:
        out("it = t - 1 if F.shape[0] > 1 else 0")
        out("iq = t - 1 if Q.shape[0] > 1 else 0")
        out("ic = t - 1 if offset.shape[0] > 1 else 0")
        for i in range(n):
            out(f"c{i} = offset[ic, {i}]")
            for j in range(n):
                out(f"f{i}{j} = F[it, {i}, {j}]")
                out(f"q{i}{j} = Q[iq, {i}, {j}]")
    out("ih = t if H.shape[0] > 1 else 0")
    out("ir = t if R.shape[0] > 1 else 0")
    for a in range(m):
        for j in range(n):
            out(f"h{a}{j} = H[ih, {a}, {j}]")
        for b in range(m):
            out(f"r{a}{b} = R[ir, {a}, {b}]")


def filter_source(n: int, m: int, block: int) -> str:
    """Python source of ``filter_block`` and ``filter_tracks`` for state size n, measurement size m.

    ``block`` is the most tracks one ``filter_block`` call handles. Its per-step results go to a buffer
    ``buf (fields, block)`` whose shape is a literal in the source: LLVM then knows every distance between
    the buffer's entries and vectorises the loop over tracks (with ``out`` itself, whose strides are only
    known at run time, the many stores defeat its alias analysis and the loop stays scalar). The buffer is
    copied to ``out[t]`` after each step, and keeps the filtered state from one step to the next.
    """
    body = _Printer(16)
    _update(body, n, m)
    first, later = _Printer(16), _Printer(16)
    at = _Fields(n, m)
    for i in range(n):
        first(f"x{i} = initial[{i}, base + k]")
        later(f"xf{i} = {at('filtered_means', i)}")
        for j in range(n):
            first(f"P{i}{j} = initial[{n + i * n + j}, base + k]")
            later(f"Pf{i}{j} = {at('filtered_covs', i, j)}")
    _predict(later, n)
    transition, measurement = _Printer(12), _Printer(12)
    _model_entries(transition, n, m, True)
    _model_entries(measurement, n, m, False)
    arguments = "z, seen, initial, F, Q, H, R, offset, out"
    tracks_loop = "            for k in range(width):  # unsigned indices: no wraparound checks, so LLVM vectorises"
    lines = [
        *module_head("kfsym.numeric._filter_source", f"n = {n}, m = {m}, blocks of {block}"),
        '@numba.njit(cache=True, error_model="numpy")',
        f"def filter_block(lo, hi, {arguments}):",
        f"    buf = np.empty(({at.count}, {block}))",
        "    base = numba.uint64(lo)",
        "    width = numba.uint64(hi - lo)",
        "    for t in range(z.shape[0]):",
        "        if t == 0:",
        *measurement.lines,
        tracks_loop,
        *first.lines,
        *body.lines,
        "        else:",
        *transition.lines,
        *measurement.lines,
        tracks_loop,
        *later.lines,
        *body.lines,
        f"        for f in range({at.count}):",
        "            for k in range(width):",
        "                out[t, f, base + k] = buf[f, k]",
        "",
        "",
        "@numba.njit(cache=True, parallel=True)",
        f"def filter_tracks({arguments}):",
        "    tracks = z.shape[2]",
        f"    for index in numba.prange((tracks + {block - 1}) // {block}):",
        f"        lo = index * {block}",
        f"        hi = min(tracks, lo + {block})",
        f"        filter_block(lo, hi, {arguments})",
        "",
    ]
    return "\n".join(lines)
