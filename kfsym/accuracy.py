"""``kfsym accuracy``: the measured error of kfsym and of SciPy against mpmath at 50 digits, whole double range.

Seeded random samples over the domain the property tests cover (``tests/test_numeric_properties.py``):
means and points anywhere in ±1.8e308 (log-uniform exponents), variances log-uniform from the smallest
subnormal 5e-324 to the largest double, points half the time a moderate z-score from the mean (so the
values are informative), half the time anywhere. Each function is compared with the textbook formula
evaluated by mpmath at 50 significant digits from the float inputs converted exactly.

Error measures (the project's standard, ``DESIGN.md``): relative error where the exact value is a normal
double; for ``logpdf``-like values the absolute error over max(1, |exact|); for the product mean the mixed
measure |error| / (|w1 m1| + |w2 m2|); for the n-D functions the same, bucketed by the condition number of
the covariance scaled to unit diagonal, with the bound 64·n·cond·eps. kfsym is measured on both its paths
(plain floats and arrays) and the larger error is reported. A comparison SciPy cannot make (it returned
NaN, ±inf or 0, or raised, where the exact value is a finite normal double) is counted as a failure.

SciPy and mpmath are test extras (``pip install 'kfsym[test]'``); they are imported only here, when the
command runs. Exit status 1 if a kfsym error exceeds its stated bound.
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

__all__ = ["DEFAULT_SAMPLES", "Row", "markdown", "measure", "run"]

#: Samples per 1-D function (n-D: a tenth of it per condition bucket); about 10 s on one core.
DEFAULT_SAMPLES = 2000
_EPS = sys.float_info.epsilon
_MAX = sys.float_info.max
_TINY = sys.float_info.min  # smallest normal double
_DPS = 50
_ND_SIZE = 3
_COND_DECADES = (0, 4, 8, 12)
_K_ND = 64.0


@dataclass
class Row:
    """The largest error of kfsym and SciPy for one function (and, for n-D, one condition bucket).

    Examples
    --------
    >>> row = Row("pdf", "relative", compared=10, kfsym=2e-13, bound=1e-12, scipy=3e-13, scipy_failures=0)
    >>> row.within_bound
    True
    """

    function: str
    measure: str
    compared: int
    kfsym: float
    bound: float
    scipy: float | None
    scipy_failures: int
    bucket: str = ""
    k: float | None = None  # n-D: the largest error / (n cond eps) over the samples; the bound is 64 of those

    @property
    def within_bound(self) -> bool:
        """Whether kfsym's largest error is within the stated bound (n-D: sample by sample, k <= 64)."""
        return self.kfsym <= self.bound and (self.k is None or self.k <= _K_ND)


class _Errors:
    """Running maxima of kfsym's and SciPy's error for one row."""

    def __init__(self) -> None:
        self.compared = 0
        self.kfsym = 0.0
        self.scipy: float | None = None
        self.scipy_failures = 0
        self.cond = 1.0  # n-D: the largest condition number met
        self.k = 0.0  # n-D: the largest error / (n cond eps)

    def add(self, kfsym: float, scipy: float | None, cond: float | None = None) -> None:
        self.compared += 1
        self.kfsym = max(self.kfsym, kfsym)
        if cond is not None:
            self.cond = max(self.cond, cond)
            self.k = max(self.k, kfsym / (_ND_SIZE * cond * _EPS))
        if scipy is None:
            return
        if math.isfinite(scipy):
            self.scipy = max(self.scipy or 0.0, scipy)
        else:
            self.scipy_failures += 1


def _log_uniform(rng: np.random.Generator, size: int, *, signed: bool) -> Any:
    """Doubles with exponents uniform over the whole range, subnormals included (never 0 or inf)."""
    values = np.ldexp(rng.uniform(1.0, 2.0, size), rng.integers(-1074, 1024, size))
    return values * rng.choice([-1.0, 1.0], size) if signed else values


@contextmanager
def _quiet() -> Iterator[None]:
    """SciPy (and the textbook formulas) warn about overflow on this domain; the errors are the measurement."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


def _relative(mp: Any, got: float, exact: Any) -> float:
    """|got - exact| / |exact|; inf for NaN, an infinity or a wrong zero."""
    if not math.isfinite(got) or got == 0.0:
        return math.inf
    return float(abs(mp.mpf(got) - exact) / abs(exact))


def _log_error(mp: Any, got: float, exact: Any) -> float:
    """|got - exact| / max(1, |exact|) (log-densities)."""
    if not math.isfinite(got):
        return math.inf
    return float(abs(mp.mpf(got) - exact) / max(1, abs(exact)))


def _normal(value: Any) -> bool:
    return bool(_TINY <= abs(value) <= _MAX)


def _both_paths(function: Callable[..., Any], arrays: tuple[Any, ...], index: int) -> tuple[float, float]:
    """kfsym's value at one sample on the array path (precomputed) and on the plain-float path."""
    return float(arrays[0][index]), float(function(*(float(a[index]) for a in arrays[1:])))


def _one_dimensional(rng: np.random.Generator, samples: int, mp: Any, stats: Any) -> list[Row]:
    import kfsym.numeric as kn

    mean = _log_uniform(rng, samples, signed=True)
    var = _log_uniform(rng, samples, signed=False)
    with _quiet():
        near = mean + rng.uniform(-40.0, 40.0, samples) * np.sqrt(var)
    x = np.where((rng.random(samples) < 0.5) & np.isfinite(near), near, _log_uniform(rng, samples, signed=True))
    rows: dict[str, _Errors] = {name: _Errors() for name in ("pdf", "logpdf", "cdf")}
    with _quiet():
        scale = np.sqrt(var)
        ours = {"pdf": kn.pdf(x, mean, var), "logpdf": kn.logpdf(x, mean, var), "cdf": kn.cdf(x, mean, var)}
        theirs = {
            "pdf": stats.norm.pdf(x, loc=mean, scale=scale),
            "logpdf": stats.norm.logpdf(x, loc=mean, scale=scale),
            "cdf": stats.norm.cdf(x, loc=mean, scale=scale),
        }
    functions = {"pdf": kn.pdf, "logpdf": kn.logpdf, "cdf": kn.cdf}
    for i in range(samples):
        xi, mi, vi = mp.mpf(float(x[i])), mp.mpf(float(mean[i])), mp.mpf(float(var[i]))
        exact_log = -((xi - mi) ** 2) / (2 * vi) - mp.log(2 * mp.pi * vi) / 2
        w = (mi - xi) / mp.sqrt(2 * vi)
        exact = {
            "logpdf": exact_log,
            "pdf": mp.exp(exact_log) if exact_log > -800 else mp.mpf(0),
            "cdf": mp.erfc(w) / 2 if abs(w) <= 30 else mp.mpf(0 if w > 0 else 1),
        }
        for name, errors in rows.items():
            value = exact[name]
            if name == "logpdf":
                if abs(value) > _MAX:
                    continue
                error = _log_error
            else:
                if not _normal(value):
                    continue
                error = _relative
            array_value, scalar_value = _both_paths(functions[name], (ours[name], x, mean, var), i)
            errors.add(
                max(error(mp, array_value, value), error(mp, scalar_value, value)),
                error(mp, float(theirs[name][i]), value),
            )
    measures = {"pdf": "relative", "logpdf": "abs / max(1, |exact|)", "cdf": "relative"}
    return [_row(name, measures[name], rows[name], 1e-12) for name in ("pdf", "logpdf", "cdf")]


def _pairs(rng: np.random.Generator, samples: int) -> tuple[Any, Any, Any, Any]:
    mean1 = _log_uniform(rng, samples, signed=True)
    var1 = _log_uniform(rng, samples, signed=False)
    var2 = _log_uniform(rng, samples, signed=False)
    with _quiet():
        near = mean1 + rng.uniform(-40.0, 40.0, samples) * np.sqrt(var1 + var2)
    mean2 = np.where((rng.random(samples) < 0.5) & np.isfinite(near), near, _log_uniform(rng, samples, signed=True))
    return mean1, var1, mean2, var2


def _products(rng: np.random.Generator, samples: int, mp: Any, stats: Any) -> list[Row]:
    import kfsym.numeric as kn

    m1, v1, m2, v2 = _pairs(rng, samples)
    evidence, log_evidence, mean_errors, var_errors = _Errors(), _Errors(), _Errors(), _Errors()
    with _quiet():
        ours_evidence = np.asarray(kn.evidence(m1, v1, m2, v2))
        ours_log = np.asarray(kn.log_evidence(m1, v1, m2, v2))
        product_mean, product_var = (np.asarray(field) for field in kn.multiply(m1, v1, m2, v2))
        # what a SciPy user writes for the normaliser N(m1; m2, v1 + v2)
        total_scale = np.sqrt(v1 + v2)
        theirs_evidence = np.asarray(stats.norm.pdf(m1, loc=m2, scale=total_scale))
        theirs_log = np.asarray(stats.norm.logpdf(m1, loc=m2, scale=total_scale))
    for i in range(samples):
        a, s, b, t = (mp.mpf(float(value[i])) for value in (m1, v1, m2, v2))
        exact_log = -((a - b) ** 2) / (2 * (s + t)) - mp.log(2 * mp.pi * (s + t)) / 2
        arrays = (m1, v1, m2, v2)
        if abs(exact_log) <= _MAX:
            got = _both_paths(kn.log_evidence, (ours_log, *arrays), i)
            log_evidence.add(max(_log_error(mp, v, exact_log) for v in got), _log_error(mp, theirs_log[i], exact_log))
        exact = mp.exp(exact_log) if exact_log > -800 else mp.mpf(0)
        if _normal(exact):
            got = _both_paths(kn.evidence, (ours_evidence, *arrays), i)
            evidence.add(max(_relative(mp, v, exact) for v in got), _relative(mp, theirs_evidence[i], exact))
        scalar = kn.multiply(*(float(value[i]) for value in arrays))
        w1, w2 = t / (s + t), s / (s + t)
        scale = abs(w1 * a) + abs(w2 * b)
        if scale >= _TINY:  # the mixed measure, where its scale is a normal double
            exact_mean = w1 * a + w2 * b
            worst = max(abs(mp.mpf(float(product_mean[i])) - exact_mean), abs(mp.mpf(float(scalar.mean)) - exact_mean))
            mean_errors.add(float(worst / scale), None)
        exact_var = s * t / (s + t)
        if _normal(exact_var):
            var_errors.add(
                max(_relative(mp, float(product_var[i]), exact_var), _relative(mp, float(scalar.var), exact_var)), None
            )
    return [
        _row("evidence", "relative", evidence, 1e-12),
        _row("log_evidence", "abs / max(1, |exact|)", log_evidence, 1e-12),
        _row("multiply (mean)", "abs / (|w1 m1| + |w2 m2|)", mean_errors, 1e-12),
        _row("multiply (var)", "relative", var_errors, 1e-12),
    ]


def _row(name: str, measure: str, errors: _Errors, bound: float, *, bucket: str = "", k: float | None = None) -> Row:
    return Row(
        function=name,
        measure=measure,
        compared=errors.compared,
        kfsym=errors.kfsym,
        bound=bound,
        scipy=errors.scipy,
        scipy_failures=errors.scipy_failures,
        bucket=bucket,
        k=k,
    )


def _spd(rng: np.random.Generator, decades: int, whole_range: bool) -> Any:
    """S = D C D: C a correlation matrix of condition about 10^decades, D = diag(2^k).

    The variances lie anywhere in 5e-324..9e307 (``whole_range``) or in 1e-3..1e3.
    """
    orthogonal, _ = np.linalg.qr(rng.standard_normal((_ND_SIZE, _ND_SIZE)))
    correlated = orthogonal @ np.diag(np.logspace(0.0, -decades, _ND_SIZE)) @ orthogonal.T
    root = np.sqrt(np.diagonal(correlated))
    correlated = correlated / root[:, None] / root[None, :]
    correlated = 0.5 * (correlated + correlated.T)
    np.fill_diagonal(correlated, 1.0)
    exponents = rng.integers(-537, 512, _ND_SIZE) if whole_range else rng.integers(-5, 6, _ND_SIZE)
    scale = np.ldexp(1.0, exponents)
    with _quiet():
        matrix = correlated * scale[:, None] * scale[None, :]
    return 0.5 * (matrix + matrix.T)


def _scaled_condition(matrix: Any) -> float:
    root = np.sqrt(np.diagonal(matrix))
    return float(np.linalg.cond(matrix / root[:, None] / root[None, :]))


def _mp_scaled(mp: Any, matrix: Any) -> tuple[Any, list[Any]]:
    """(R A R, diag R) with R = diag(A_ii)^-1/2, in mpmath (its pivot tolerances are absolute: scale first)."""
    size = matrix.shape[0]
    root = [1 / mp.sqrt(mp.mpf(float(matrix[i, i]))) for i in range(size)]
    scaled = mp.matrix(size, size)
    for i in range(size):
        for j in range(size):
            scaled[i, j] = root[i] * mp.mpf(float(matrix[i, j])) * root[j]
    return scaled, root


def _scipy_or_nan(call: Callable[..., Any], *args: Any) -> float:
    try:
        return float(call(*args))
    except (ValueError, np.linalg.LinAlgError):
        return math.nan


def _multivariate(rng: np.random.Generator, samples: int, mp: Any, stats: Any, distance: Any) -> list[Row]:
    import kfsym.numeric as kn

    rows: list[Row] = []
    for whole_range in (False, True):
        for decades in _COND_DECADES:
            logpdf_errors, mahalanobis_errors = _Errors(), _Errors()
            for _ in range(samples):
                cov = _spd(rng, decades, whole_range)
                try:
                    factor = np.linalg.cholesky(cov)
                except np.linalg.LinAlgError:
                    continue  # rounding the scaled entries left a matrix that is not positive definite: no case
                cond = _scaled_condition(cov)
                mean = rng.uniform(-1e3, 1e3, _ND_SIZE) * np.sqrt(np.diagonal(cov))
                with _quiet():
                    x = mean + factor @ rng.standard_normal(_ND_SIZE) * rng.uniform(0.0, 10.0)
                if not np.isfinite(x).all():
                    continue
                scaled, root = _mp_scaled(mp, cov)
                deviation = mp.matrix(
                    [root[i] * (mp.mpf(float(x[i])) - mp.mpf(float(mean[i]))) for i in range(_ND_SIZE)]
                )
                solved = mp.lu_solve(scaled, deviation)
                squared = sum(deviation[i] * solved[i] for i in range(_ND_SIZE))
                log_det = mp.log(mp.det(scaled)) - 2 * sum(mp.log(r) for r in root)
                exact_log = -(_ND_SIZE * mp.log(2 * mp.pi) + log_det + squared) / 2
                exact_distance = mp.sqrt(squared)
                with _quiet():
                    ours_log = float(kn.mvn_logpdf(x, mean, cov))
                    ours_distance = float(kn.mahalanobis(x, mean, cov))
                    theirs_log = _scipy_or_nan(stats.multivariate_normal.logpdf, x, mean, cov)
                    theirs_distance = _scipy_or_nan(
                        lambda *a: distance.mahalanobis(*a[:2], np.linalg.inv(a[2])), x, mean, cov
                    )
                if abs(exact_log) <= _MAX:
                    logpdf_errors.add(_log_error(mp, ours_log, exact_log), _log_error(mp, theirs_log, exact_log), cond)
                if _normal(exact_distance):
                    mahalanobis_errors.add(
                        _relative(mp, ours_distance, exact_distance),
                        _relative(mp, theirs_distance, exact_distance),
                        cond,
                    )
            bucket = f"1e{decades}, {'5e-324..9e307' if whole_range else '1e-3..1e3'}"
            for name, measure, errors in (
                ("mvn_logpdf", "abs / max(1, |exact|)", logpdf_errors),
                ("mahalanobis", "relative", mahalanobis_errors),
            ):
                bound = _K_ND * _ND_SIZE * errors.cond * _EPS
                rows.append(_row(name, measure, errors, bound, bucket=bucket, k=errors.k))
    return rows


def measure(samples: int = DEFAULT_SAMPLES, seed: int = 0) -> list[Row]:
    """Measure every row of the table (imports SciPy and mpmath; ImportError when they are missing).

    Parameters
    ----------
    samples : int
        Random samples per 1-D function; each n-D condition bucket gets ``max(10, samples // 10)``.
    seed : int
        Seed of :func:`numpy.random.default_rng`: the same seed, the same samples.

    Returns
    -------
    list of Row

    Examples
    --------
    >>> rows = measure(samples=20, seed=1)
    >>> all(row.within_bound for row in rows)
    True
    """
    import mpmath
    from scipy import stats
    from scipy.spatial import distance

    rng = np.random.default_rng(seed)
    with mpmath.workdps(_DPS):
        rows = _one_dimensional(rng, samples, mpmath, stats)
        rows += _products(rng, samples, mpmath, stats)
        rows += _multivariate(rng, max(10, samples // 10), mpmath, stats, distance)
    return rows


def _format(value: float | None) -> str:
    if value is None:
        return "—"
    return "0" if value == 0 else f"{value:.1e}"


def markdown(rows: list[Row]) -> str:
    """The rows as a Markdown table (bars inside a cell escaped).

    Parameters
    ----------
    rows : list of Row

    Returns
    -------
    str

    Examples
    --------
    >>> print(markdown([Row("pdf", "relative", 10, 2e-13, 1e-12, None, 0)]).splitlines()[-1])
    | pdf | — | relative | 10 | 2.0e-13 | 1.0e-12 | — | — |
    """
    lines = [
        "| function | cond, variances | error measure | compared | kfsym max error | bound | SciPy max error "
        "| SciPy failures |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        failures = "—" if row.scipy is None and not row.scipy_failures else str(row.scipy_failures)
        measure = row.measure.replace("|", "\\|")  # a bar inside a cell is escaped in Markdown
        lines.append(
            f"| {row.function} | {row.bucket or '—'} | {measure} | {row.compared} | {_format(row.kfsym)} | "
            f"{_format(row.bound)} | {_format(row.scipy)} | {failures} |"
        )
    return "\n".join(lines)


def run(
    samples: int = DEFAULT_SAMPLES, seed: int = 0, json_path: Path | None = None, stream: TextIO | None = None
) -> int:
    """Measure, print the Markdown table (and write JSON): the ``kfsym accuracy`` command.

    Parameters
    ----------
    samples, seed : int
        As for :func:`measure`.
    json_path : Path, optional
        Also write the rows, the sample count and the seed there as JSON.
    stream : text file, optional
        Where the table goes (standard output by default); problems go to standard error.

    Returns
    -------
    int
        0 if kfsym is within every stated bound, 1 if not, 2 when SciPy or mpmath is missing or
        ``samples < 1``.

    Examples
    --------
    >>> import io
    >>> table = io.StringIO()
    >>> run(samples=10, seed=2, stream=table) in (0, 1)
    True
    >>> table.getvalue().startswith("| function |")
    True
    """
    out = sys.stdout if stream is None else stream
    if samples < 1:
        print("kfsym: --samples must be at least 1", file=sys.stderr)
        return 2
    try:
        started = time.perf_counter()
        rows = measure(samples, seed)
    except ImportError as error:
        print(
            f"kfsym: `kfsym accuracy` needs mpmath and SciPy ({error}); install them with pip install 'kfsym[test]'",
            file=sys.stderr,
        )
        return 2
    seconds = time.perf_counter() - started
    print(markdown(rows), file=out)
    print(
        f"\n{samples} samples per 1-D function, {max(10, samples // 10)} per n-D bucket (n = {_ND_SIZE}), "
        f"seed {seed}, against mpmath at {_DPS} digits; {seconds:.1f} s. n-D bound: 64 n cond eps, cond of the "
        "covariance scaled to unit diagonal. SciPy failures: NaN, inf or 0 returned, or an exception raised, where "
        "the exact value is a finite normal double. SciPy has no product of Gaussians (—).",
        file=out,
    )
    if json_path is not None:
        report = {"samples": samples, "seed": seed, "digits": _DPS, "rows": [asdict(row) for row in rows]}
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    outside = [row for row in rows if not row.within_bound]
    for row in outside:
        print(
            f"kfsym: {row.function}{f' ({row.bucket})' if row.bucket else ''}: error {row.kfsym:.3g} exceeds its "
            f"bound {row.bound:.3g}",
            file=sys.stderr,
        )
    return 1 if outside else 0
