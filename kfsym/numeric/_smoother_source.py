"""Source of the compiled Rauch–Tung–Striebel backward pass, unrolled for one state size n.

Printed in the style of :mod:`kfsym.numeric._filter_source` (whose printers it uses): per
block of tracks, straight-line scalar code for one step inside a loop over the tracks, so
LLVM vectorises it across tracks. The formulas are the NumPy backend's
(:func:`kfsym.numeric.sequence.rts_smoother`, proved in ``sequence.rts_gain_general`` and
``sequence.rts_step_general``), entry by entry:

- gain        G^T = P_{t+1|t}^{-1} (F P_{t|t}): P_{t+1|t} scaled by powers of two,
  C = D P D with D = diag(2^-k_i) and C_ii in [1/4, 1), factored C = L L^T, then
  G^T = D L^-T L^-1 D (F P_{t|t}) by forward and back substitution
- means       x_{t|T} = x_{t|t} + G (x_{t+1|T} - x_{t+1|t})
- covariance  P_{t|T} = P_{t|t} + (G (P_{t+1|T} - P_{t+1|t})) G^T, symmetrised with its
  diagonal clamped at 0 and the row of a zero variance zeroed (``covariance_result``)

The same pass first checks its inputs as :func:`kfsym.numeric._validate.covariance`
(``definite=False``) does — finite entries, nonnegative variances, symmetry to
``SYMMETRY_RTOL`` of sqrt(A_ii A_jj), the row of a zero variance exactly zero, and a
Cholesky factor of ``C + (n SYMMETRY_RTOL / 2) diag(C)`` (half the validator's shift, so it is
never more lenient) — and finite means, every step's (step 0's predicted moments included). Its status per
track and step: 4 where an input fails those checks (the caller then lets the NumPy
validator decide and word the error), 2 where P_{t+1|t} has no Cholesky factor (singular or
indefinite: no unique gain that is a covariance's), 3 where a gain or a smoothed moment is
not finite, else 0.
"""

from __future__ import annotations

import math

from kfsym.numeric._filter_source import (
    _all_finite,
    _Printer,
    _sum,
    _symmetrized,
    module_head,
    power_of_two_scale,
    scaled_cholesky,
    scaled_solve,
)
from kfsym.numeric._validate import SYMMETRY_RTOL, singular_pivot_floor

__all__ = ["smoother_fields", "smoother_source"]



def smoother_fields(n: int) -> dict[str, tuple[int, tuple[int, ...]]]:
    """Where each output lives in the kernel's output ``out (T, fields, K)``: ``{name: (first field, shape)}``."""
    shapes = {"smoothed_means": (n,), "smoothed_covs": (n, n), "gains": (n, n), "status": ()}
    fields, start = {}, 0
    for name, shape in shapes.items():
        fields[name] = (start, shape)
        start += math.prod(shape)
    return fields


def _at(fields: dict[str, tuple[int, tuple[int, ...]]], name: str, *index: int) -> str:
    start, shape = fields[name]
    offset = start + (index[0] * shape[1] + index[1] if len(index) == 2 else (index[0] if index else 0))
    return f"buf[{offset}, k]"


def _load(out: _Printer, n: int) -> None:
    """The filtered moments of step t and the predicted ones of step t + 1 of track base + k."""
    for i in range(n):
        out(f"xf{i} = fm[t, fm0 + {i}, base + k]")
        out(f"xp{i} = pm[t + 1, pm0 + {i}, base + k]")
        for j in range(n):
            out(f"Pf{i}{j} = fc[t, fc0 + {i * n + j}, base + k]")
            out(f"Pp{i}{j} = pc[t + 1, pc0 + {i * n + j}, base + k]")


def _valid(out: _Printer, flag: str, mean: str, cov: str, n: int) -> None:
    """flag = 1.0 where the mean is finite and the covariance passes ``covariance(definite=False)``'s checks."""
    entries = [f"{mean}{i}" for i in range(n)] + [f"{cov}{i}{j}" for i in range(n) for j in range(n)]
    _all_finite(out, flag, entries)
    for i in range(n):
        # variances nonnegative; D = diag(1/sqrt(A_ii)), 1 for a zero variance
        out(f"{flag} = {flag} if {cov}{i}{i} >= 0.0 else 0.0")
        out(f"rt{i} = math.sqrt({cov}{i}{i}) if {cov}{i}{i} > 0.0 else 0.0")
        out(f"dd{i} = 1.0 / rt{i} if {cov}{i}{i} > 0.0 else 1.0")
    for i in range(n):
        for j in range(n):
            if i != j:
                # |A_ij - A_ji| <= rtol sqrt(A_ii) sqrt(A_jj); a zero variance's row exactly zero
                bound = f"{SYMMETRY_RTOL!r} * (rt{i} * rt{j})"
                out(f"{flag} = {flag} if abs({cov}{i}{j} - {cov}{j}{i}) <= {bound} else 0.0")
                out(f"{flag} = {flag} if ({cov}{i}{i} > 0.0) | ({cov}{i}{j} == 0.0) else 0.0")
    # C + (n rtol / 2) diag(C) has a Cholesky factor, C = D A D (C_ii = 1, or 0 for a zero variance). Half the
    # validator's shift: this check is never more lenient than covariance()'s, whose D are powers of two (the
    # rounding of either is far below the margin n rtol / 2); inputs between the two go to the validator.
    shift = n * SYMMETRY_RTOL / 2
    for j in range(n):
        pivot = f"({cov}{j}{j} * dd{j}) * dd{j} + {shift!r}" + "".join(f" - vc{j}{c} * vc{j}{c}" for c in range(j))
        out(f"d = {pivot}")
        out(f"{flag} = {flag} if d > 0.0 else 0.0")
        out(f"vc{j}{j} = math.sqrt(d) if d > 0.0 else 1.0")
        for i in range(j + 1, n):
            entry = f"({cov}{i}{j} * dd{i}) * dd{j}" + "".join(f" - vc{i}{c} * vc{j}{c}" for c in range(j))
            out(f"vc{i}{j} = ({entry}) / vc{j}{j}")


def _step(out: _Printer, fields: dict[str, tuple[int, tuple[int, ...]]], n: int) -> None:
    """One backward step from the smoothed moments xs, Ps of step t + 1 (held in the block's buffer)."""
    for i in range(n):
        out(f"xs{i} = {_at(fields, 'smoothed_means', i)}")
        for j in range(n):
            out(f"Ps{i}{j} = {_at(fields, 'smoothed_covs', i, j)}")
    _gain(out, n)
    _moments(out, fields, n)


def _gain(out: _Printer, n: int) -> None:
    """g{a}{j} = (G^T)_aj from the filtered covariance Pf and the predicted one Pp of step t + 1; ok = 0 where
    Pp has no Cholesky factor."""
    # D = diag(2^-k_i), powers of two bringing P_t+1|t ii near 1 (exact, as NumPy's unit_scaled); a zero variance
    # makes P_t+1|t singular: its pivot stays 0
    for i in range(n):
        power_of_two_scale(out, f"sp{i}", f"Pp{i}{i}")
    for i in range(n):
        for j in range(n):
            out(f"fp{i}{j} = {_sum([f'f{i}{c} * Pf{c}{j}' for c in range(n)])}")
    # C = D P_t+1|t D = L L^T; a pivot not above singular_pivot_floor(n) C_jj: the gain is not unique
    scaled_cholesky(out, lambda i, j: f"Pp{i}{j}", "sp", n, singular_pivot_floor(n))
    # G^T = D C^-1 D (F P_t|t); g{a}{j} = (G^T)_aj = G_ja
    scaled_solve(out, lambda a, j: f"fp{a}{j}", "sp", n, n)


def _moments(out: _Printer, fields: dict[str, tuple[int, tuple[int, ...]]], n: int) -> None:
    """The smoothed moments of step t from the gain g (g{a}{j} = G_ja), their stores and the status."""
    # x_t|T = x_t|t + G (x_t+1|T - x_t+1|t)
    for c in range(n):
        out(f"dx{c} = xs{c} - xp{c}")
    for i in range(n):
        out(f"xs{i} = xf{i} + {_sum([f'g{c}{i} * dx{c}' for c in range(n)])}")
    # P_t|T = P_t|t + (G (P_t+1|T - P_t+1|t)) G^T
    for i in range(n):
        for j in range(n):
            out(f"gd{i}{j} = {_sum([f'g{c}{i} * (Ps{c}{j} - Pp{c}{j})' for c in range(n)])}")
    for i in range(n):
        for j in range(n):
            out(f"p{i}{j} = Pf{i}{j} + ({_sum([f'gd{i}{c} * g{c}{j}' for c in range(n)])})")
    _symmetrized(out, "p", "Ps", n)
    _store(out, fields, n)
    for i in range(n):
        for j in range(n):
            out(f"{_at(fields, 'gains', i, j)} = g{j}{i}")
    gains = [f"g{i}{j}" for i in range(n) for j in range(n)]
    moments = [f"xs{i}" for i in range(n)] + [f"Ps{i}{j}" for i in range(n) for j in range(n)]
    _all_finite(out, "finite", gains + moments)
    out(
        f"{_at(fields, 'status')} = 4.0 if valid == 0.0 else (2.0 if ok == 0.0 else (3.0 if finite == 0.0 else 0.0))"
    )


def _store(out: _Printer, fields: dict[str, tuple[int, tuple[int, ...]]], n: int) -> None:
    for i in range(n):
        out(f"{_at(fields, 'smoothed_means', i)} = xs{i}")
        for j in range(n):
            out(f"{_at(fields, 'smoothed_covs', i, j)} = Ps{i}{j}")


def smoother_source(n: int, block: int) -> str:
    """Python source of ``smooth_block`` and ``smooth_tracks`` for state size n (``block`` tracks per block).

    ``smooth_tracks(fm, fm0, fc, fc0, pm, pm0, pc, pc0, F, out)`` reads the filtered and predicted means
    (n entries from field ``fm0`` of ``fm (T, fields, K)``, and so on) and covariances (n*n entries, row-major)
    with the tracks last — the four may be one array, the compiled filter's output, at four offsets — the
    transitions ``F (1 or T - 1, n, n)``, and writes ``out (T, fields, K)`` laid out as
    :func:`smoother_fields` says.
    """
    fields = smoother_fields(n)
    count = sum(math.prod(shape) for _, shape in fields.values())
    last, body = _Printer(12), _Printer(12)
    # the last step: the smoothed moments are the filtered ones (checked like every other input)
    for i in range(n):
        last(f"xs{i} = fm[t, fm0 + {i}, base + k]")
        for j in range(n):
            last(f"Ps{i}{j} = fc[t, fc0 + {i * n + j}, base + k]")
    _valid(last, "valid_f", "xs", "Ps", n)
    # the predicted moments of step 0 are never used, but they are an input: checked as every other
    for i in range(n):
        last(f"xp{i} = pm[0, pm0 + {i}, base + k]")
        for j in range(n):
            last(f"Pp{i}{j} = pc[0, pc0 + {i * n + j}, base + k]")
    _valid(last, "valid_p", "xp", "Pp", n)
    last("valid = valid_f * valid_p")
    _store(last, fields, n)
    for i in range(n):
        for j in range(n):
            last(f"{_at(fields, 'gains', i, j)} = 0.0")
    last(f"{_at(fields, 'status')} = 4.0 if valid == 0.0 else 0.0")
    _load(body, n)
    _valid(body, "valid_f", "xf", "Pf", n)
    _valid(body, "valid_p", "xp", "Pp", n)
    body("valid = valid_f * valid_p")
    _step(body, fields, n)
    model = [f"            f{i}{j} = F[it, {i}, {j}]" for i in range(n) for j in range(n)]
    tracks_loop = "        for k in range(width):  # unsigned indices: no wraparound checks, so LLVM vectorises"
    lines = [
        *module_head("kfsym.numeric._smoother_source", f"n = {n}, blocks of {block}"),
        '@numba.njit(cache=True, error_model="numpy")',
        "def smooth_block(lo, hi, fm, fm0, fc, fc0, pm, pm0, pc, pc0, F, out):",
        f"    buf = np.empty(({count}, {block}))",
        "    base = numba.uint64(lo)",
        "    width = numba.uint64(hi - lo)",
        "    steps = fm.shape[0]",
        "    for step in range(steps):",
        "        t = steps - 1 - step",
        "        if step == 0:",
        "    " + tracks_loop,
        *["    " + line for line in last.lines],
        "        else:",
        "            it = t if F.shape[0] > 1 else 0",
        *model,
        "    " + tracks_loop,
        *["    " + line for line in body.lines],
        f"        for f in range({count}):",
        "            for k in range(width):",
        "                out[t, f, base + k] = buf[f, k]",
        "",
        "",
        "@numba.njit(cache=True, parallel=True)",
        "def smooth_tracks(fm, fm0, fc, fc0, pm, pm0, pc, pc0, F, out):",
        "    tracks = fm.shape[2]",
        f"    for index in numba.prange((tracks + {block - 1}) // {block}):",
        f"        lo = index * {block}",
        f"        hi = min(tracks, lo + {block})",
        "        smooth_block(lo, hi, fm, fm0, fc, fc0, pm, pm0, pc, pc0, F, out)",
        "",
    ]
    return "\n".join(lines)
