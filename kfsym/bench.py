"""``kfsym bench``: kfsym side by side with SciPy, FilterPy and hand-written NumPy, in one process.

Every case times kfsym and its competitors on the same inputs with interleaved
repetitions (each round runs every implementation once, in a rotating order,
so drift in machine load hits all of them alike) and reports the median, the
interquartile range and the ratio ``kfsym / competitor`` (below 1 means kfsym
is faster). Absolute times move between machines; the ratios are the
measurement. Competitors that are not installed are skipped and listed.

Nothing here is a pass/fail test: the test suite only checks that
``kfsym bench --quick --json`` produces every case with sane numbers.
"""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np

__all__ = ["CASES", "Measurement", "machine", "run"]


@dataclass
class Measurement:
    """Timings of one implementation in one case (seconds per call)."""

    case: str
    implementation: str
    median: float
    q1: float
    q3: float
    repeats: int
    calls_per_repeat: int
    ratio: float | None = None  # kfsym median / this median

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median."""
        return (self.q3 - self.q1) / self.median if self.median > 0 else math.nan


@dataclass
class Case:
    """A benchmark case: named implementations of the same computation; ``kfsym`` is the reference."""

    name: str
    make: Callable[[int], dict[str, Callable[[], object]]]
    note: str = ""
    skipped: list[str] = field(default_factory=list)
    #: The implementation that is the hardware floor of the case (one exp pass, one streaming pass over
    #: the bytes the case must read and write, or its flop count as small matrix products); reported apart.
    floor: str = ""


def _optional(module: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        return None


# ----------------------------------------------------------------------------- the cases
def _pdf_case(size: int, log: bool) -> Callable[[int], dict[str, Callable[[], object]]]:
    def make(seed: int) -> dict[str, Callable[[], object]]:
        import kfsym.numeric as kn

        x = np.random.default_rng(seed).normal(0.3, 1.7, size)
        mean, var = 0.3, 2.89
        std = math.sqrt(var)
        kfsym = kn.logpdf if log else kn.pdf
        implementations: dict[str, Callable[[], object]] = {"kfsym": lambda: kfsym(x, mean, var)}
        if log:
            implementations["numpy (hand-written)"] = lambda: (
                -0.5 * (x - mean) ** 2 / var - 0.5 * np.log(2 * np.pi * var)
            )
            implementations[STREAM_FLOOR] = lambda: np.subtract(x, mean)
        else:
            implementations["numpy (hand-written)"] = lambda: (
                np.exp(-0.5 * (x - mean) ** 2 / var) / np.sqrt(2 * np.pi * var)
            )
            implementations["np.exp alone (lower bound)"] = lambda: np.exp(x)
        stats = _optional("scipy.stats")
        if stats is not None:
            frozen = stats.norm.logpdf if log else stats.norm.pdf
            implementations["scipy.stats.norm"] = lambda: frozen(x, mean, std)
        numba_pdf = _numba_pdf(log)
        if numba_pdf is not None:
            numba_pdf(x[:8], mean, var)  # compile outside the timing
            implementations["numba (fused loop)"] = lambda: numba_pdf(x, mean, var)
        return implementations

    return make


#: Floor names: the implementations that time the hardware limit of a case.
EXP_FLOOR = "np.exp alone (lower bound)"
STREAM_FLOOR = "floor: one streaming pass (read the inputs, write the outputs)"
FLOP_FLOOR = "floor: the case's flop count as 16 x 16 matrix products"


def _cdf_case(seed: int) -> dict[str, Callable[[], object]]:
    import kfsym.numeric as kn

    x = np.random.default_rng(seed).normal(0.3, 1.7, 10**6)
    implementations: dict[str, Callable[[], object]] = {"kfsym": lambda: kn.cdf(x, 0.3, 2.89)}
    implementations["kfsym NumPy fallback (KFSYM_COMPILED=0)"] = lambda: _without_compiled(kn.cdf, x, 0.3, 2.89)
    special, stats = _optional("scipy.special"), _optional("scipy.stats")
    if stats is not None:
        implementations["scipy.stats.norm.cdf"] = lambda: stats.norm.cdf(x, 0.3, 1.7)
    if special is not None:
        implementations["scipy.special.ndtr (standardised)"] = lambda: special.ndtr((x - 0.3) / 1.7)
    implementations[EXP_FLOOR] = lambda: np.exp(x)
    return implementations


def _without_compiled(function: Callable[..., Any], *args: Any) -> object:
    """``function(*args)`` on the NumPy kernels (the fallback without Numba)."""
    saved = os.environ.get("KFSYM_COMPILED")
    os.environ["KFSYM_COMPILED"] = "0"
    try:
        return function(*args)
    finally:
        if saved is None:
            del os.environ["KFSYM_COMPILED"]
        else:
            os.environ["KFSYM_COMPILED"] = saved


def _flop_floor(flops: float) -> Callable[[], object]:
    """Stacked 16 x 16 matrix products of about ``flops`` floating-point operations (2 * 16^3 each).

    Small products run single-threaded in the BLAS (a large one would time thread wake-ups on a loaded
    machine): the rate of dense small-matrix arithmetic, which a batch of 4 x 4 formulas cannot beat.
    """
    count = max(1, round(flops / (2 * 16**3)))
    a, b = np.ones((count, 16, 16)), np.ones((count, 16, 16))
    return lambda: a @ b


def _numba_pdf(log: bool) -> Callable[..., Any] | None:
    numba = _optional("numba")
    if numba is None:
        return None
    c = 0.5 * math.log(2 * math.pi)

    @numba.njit(fastmath=False, cache=False)  # type: ignore[untyped-decorator]
    def kernel(x: Any, mean: float, var: float) -> Any:  # pragma: no cover - optional
        out = np.empty_like(x)
        half_inverse = 0.5 / var
        shift = 0.5 * math.log(var) + c
        for i in range(x.size):
            d = x[i] - mean
            value = -(d * d) * half_inverse - shift
            out[i] = value if log else math.exp(value)
        return out

    return kernel  # type: ignore[no-any-return]


def _scalar_pdf(seed: int) -> dict[str, Callable[[], object]]:
    import kfsym.numeric as kn

    implementations: dict[str, Callable[[], object]] = {"kfsym": lambda: kn.pdf(1.2, 0.3, 2.89)}
    two_pi = 2 * math.pi
    implementations["python math (no validation)"] = lambda: (
        math.exp(-0.5 * (1.2 - 0.3) ** 2 / 2.89) / math.sqrt(two_pi * 2.89)
    )
    filterpy_stats = _optional("filterpy.stats")
    if filterpy_stats is not None:
        gaussian = filterpy_stats.gaussian
        implementations["filterpy.stats.gaussian"] = lambda: gaussian(1.2, 0.3, 2.89)
    stats = _optional("scipy.stats")
    if stats is not None:
        norm_pdf = stats.norm.pdf
        implementations["scipy.stats.norm.pdf"] = lambda: norm_pdf(1.2, 0.3, 1.7)
    return implementations


def _scalar_pair(kind: str) -> Callable[[int], dict[str, Callable[[], object]]]:
    def make(seed: int) -> dict[str, Callable[[], object]]:
        import kfsym.numeric as kn

        ours = kn.multiply if kind == "multiply" else kn.add
        implementations: dict[str, Callable[[], object]] = {"kfsym": lambda: ours(0.0, 2.0, 10.0, 2.0)}
        filterpy_stats = _optional("filterpy.stats")
        if filterpy_stats is not None:
            theirs = filterpy_stats.mul if kind == "multiply" else filterpy_stats.add
            implementations[f"filterpy.stats.{theirs.__name__}"] = lambda: theirs(0.0, 2.0, 10.0, 2.0)
        return implementations

    return make


def _array_multiply(seed: int) -> dict[str, Callable[[], object]]:
    import kfsym.numeric as kn

    rng = np.random.default_rng(seed)
    m1, m2 = rng.normal(size=10**6), rng.normal(size=10**6)
    v1, v2 = rng.uniform(0.5, 2.0, 10**6), rng.uniform(0.5, 2.0, 10**6)
    implementations: dict[str, Callable[[], object]] = {
        "kfsym": lambda: kn.multiply(m1, v1, m2, v2),
        "numpy (textbook formula)": lambda: ((m1 * v2 + m2 * v1) / (v1 + v2), v1 * v2 / (v1 + v2)),
        "kfsym NumPy fallback (KFSYM_COMPILED=0)": lambda: _without_compiled(kn.multiply, m1, v1, m2, v2),
        STREAM_FLOOR: lambda: (np.add(m1, v1), np.add(m2, v2)),
    }
    filterpy_stats = _optional("filterpy.stats")
    if filterpy_stats is not None:
        implementations["filterpy.stats.mul (arrays)"] = lambda: filterpy_stats.mul(m1, v1, m2, v2)
    return implementations


def _spd_batch(rng: np.random.Generator, count: int, size: int) -> Any:
    factor = rng.normal(size=(count, size, size))
    return factor @ np.swapaxes(factor, -1, -2) + size * np.eye(size)


def _mvn_pdf(seed: int) -> dict[str, Callable[[], object]]:
    import kfsym.numeric as kn

    rng = np.random.default_rng(seed)
    mean, cov = np.array([0.5, -0.2]), np.array([[2.0, 0.9], [0.9, 0.5]])
    points = rng.multivariate_normal(mean, cov, size=10**6)

    def hand() -> object:
        factor = np.linalg.cholesky(cov)
        white = np.linalg.solve(factor, (points - mean).T)
        squared = np.einsum("ij,ij->j", white, white)
        return np.exp(-0.5 * squared) / (2 * np.pi * np.prod(np.diag(factor)))

    implementations: dict[str, Callable[[], object]] = {"kfsym": lambda: kn.mvn_pdf(points, mean, cov), "numpy": hand}
    implementations[EXP_FLOOR] = lambda: np.exp(points[:, 0])
    stats = _optional("scipy.stats")
    if stats is not None:
        frozen = stats.multivariate_normal(mean, cov)
        implementations["scipy.stats.multivariate_normal"] = lambda: frozen.pdf(points)
    return implementations


def _mvn_multiply(seed: int) -> dict[str, Callable[[], object]]:
    import kfsym.numeric as kn

    rng = np.random.default_rng(seed)
    count, size = 10**4, 4
    m1, m2 = rng.normal(size=(count, size)), rng.normal(size=(count, size))
    s1, s2 = _spd_batch(rng, count, size), _spd_batch(rng, count, size)

    def hand() -> object:
        gain = np.swapaxes(np.linalg.solve(s1 + s2, s1), -1, -2)
        return m1 + np.einsum("...ij,...j->...i", gain, m2 - m1), gain @ s2

    implementations: dict[str, Callable[[], object]] = {
        "kfsym": lambda: kn.mvn_multiply(m1, s1, m2, s2),
        "numpy (batched solve, no checks)": hand,
        # per element: LU of cov1 + cov2 (2n^3/3), n right-hand sides (2n^3), K cov2 (2n^3), the mean (4n^2)
        FLOP_FLOOR: _flop_floor(count * (2 * size**3 / 3 + 4 * size**3 + 4 * size**2)),
    }
    filterpy_stats = _optional("filterpy.stats")
    if filterpy_stats is not None:
        multivariate_multiply = filterpy_stats.multivariate_multiply

        def loop() -> object:
            return [multivariate_multiply(m1[k], s1[k], m2[k], s2[k]) for k in range(count)]

        implementations["filterpy loop (multivariate_multiply)"] = loop
    return implementations


def _kf_update(seed: int) -> dict[str, Callable[[], object]]:
    import kfsym.numeric as kn

    rng = np.random.default_rng(seed)
    count, size = 10**4, 4
    x, P = rng.normal(size=(count, size)), _spd_batch(rng, count, size)
    z, H, R = rng.normal(size=(count, 2)), rng.normal(size=(2, size)), np.array([[1.0, 0.2], [0.2, 2.0]])

    def hand() -> object:
        S = H @ P @ H.T + R
        K = np.swapaxes(np.linalg.solve(S, H @ P), -1, -2)
        A = np.eye(size) - K @ H
        return x + np.einsum("...ij,...j->...i", K, z - x @ H.T), A @ P @ np.swapaxes(A, -1, -2) + K @ R @ np.swapaxes(
            K, -1, -2
        )

    m = 2
    implementations: dict[str, Callable[[], object]] = {
        "kfsym": lambda: kn.kf_update(x, P, z, H, R),
        "numpy (batched solve, Joseph, no checks)": hand,
        # per element: P H^T and S (2n^2 m + 2n m^2), the gain solve (2m^3/3 + 2m^2 n), I - K H (2n^2 m),
        # the Joseph form (4n^3 + 2n m^2 + 2n^2 m) and the mean (4n m)
        FLOP_FLOOR: _flop_floor(
            count * (6 * size**2 * m + 4 * size * m**2 + 2 * m**3 / 3 + 2 * m**2 * size + 4 * size**3 + 4 * size * m)
        ),
    }
    filterpy_kalman = _optional("filterpy.kalman")
    if filterpy_kalman is not None:
        update = filterpy_kalman.update

        def loop() -> object:
            return [update(x[k], P[k], z[k], R, H) for k in range(count)]

        implementations["filterpy loop (kalman.update)"] = loop
    return implementations


def _constant_velocity(rng: np.random.Generator, steps: int, tracks: tuple[int, ...]) -> dict[str, Any]:
    """A 4-D constant-velocity model with 2-D position measurements, simulated (seeded)."""
    F = np.array([[1.0, 0, 1, 0], [0, 1.0, 0, 1], [0, 0, 1.0, 0], [0, 0, 0, 1.0]])
    Q = 0.05 * np.array([[1 / 3, 0, 1 / 2, 0], [0, 1 / 3, 0, 1 / 2], [1 / 2, 0, 1, 0], [0, 1 / 2, 0, 1]])
    H, R = np.eye(2, 4), np.array([[0.5, 0.1], [0.1, 0.3]])
    x0, P0 = np.array([0.0, 0.0, 1.0, 0.5]), np.diag([1.0, 1.0, 0.5, 0.5])
    state = x0 + rng.standard_normal((*tracks, 4)) @ np.linalg.cholesky(P0).T
    measurements = []
    for _ in range(steps):
        state = state @ F.T + rng.standard_normal((*tracks, 4)) @ np.linalg.cholesky(Q).T
        measurements.append(state @ H.T + rng.standard_normal((*tracks, 2)) @ np.linalg.cholesky(R).T)
    return {"z": np.stack(measurements, axis=-2), "x0": x0, "P0": P0, "F": F, "Q": Q, "H": H, "R": R}


def _pykalman_model(pykalman: Any, model: dict[str, Any]) -> Any:
    """pykalman's KalmanFilter for the constant-velocity model."""
    return pykalman.KalmanFilter(
        transition_matrices=model["F"],
        observation_matrices=model["H"],
        transition_covariance=model["Q"],
        observation_covariance=model["R"],
        initial_state_mean=model["x0"],
        initial_state_covariance=model["P0"],
    )


def _filterpy_track(model: dict[str, Any], z: Any) -> Callable[[], object]:
    filterpy_kalman = _optional("filterpy.kalman")
    if filterpy_kalman is None:
        return lambda: None

    def loop() -> object:
        kf = filterpy_kalman.KalmanFilter(dim_x=4, dim_z=2)
        kf.x, kf.P, kf.F, kf.Q, kf.H, kf.R = (model[k].copy() for k in ("x0", "P0", "F", "Q", "H", "R"))
        means = []
        for t, measurement in enumerate(z):
            if t > 0:
                kf.predict()
            kf.update(measurement)
            means.append(kf.x)
        return means

    return loop


def _dynamax_filter(model: dict[str, Any], tracks: bool, smooth: bool = False) -> Callable[[], object] | None:
    """dynamax's ``lgssm_filter`` (``lgssm_smoother`` with ``smooth``: filter and backward pass) in float64,
    jit-compiled (under ``jax.vmap`` over the tracks when ``tracks``).

    Compiled here, outside the timing, as a user would compile once and filter many times. JAX's float64 mode
    is switched on for this process: the comparison is at kfsym's precision.
    """
    lgssm = _optional("dynamax.linear_gaussian_ssm.inference")
    if lgssm is None:
        return None
    jax, jnp = _optional("jax"), _optional("jax.numpy")
    jax.config.update("jax_enable_x64", True)

    size, count = model["F"].shape[0], model["H"].shape[0]
    params = lgssm.ParamsLGSSM(
        initial=lgssm.ParamsLGSSMInitial(mean=jnp.asarray(model["x0"]), cov=jnp.asarray(model["P0"])),
        dynamics=lgssm.ParamsLGSSMDynamics(
            weights=jnp.asarray(model["F"]),
            bias=jnp.zeros(size),
            input_weights=jnp.zeros((size, 0)),
            cov=jnp.asarray(model["Q"]),
        ),
        emissions=lgssm.ParamsLGSSMEmissions(
            weights=jnp.asarray(model["H"]),
            bias=jnp.zeros(count),
            input_weights=jnp.zeros((count, 0)),
            cov=jnp.asarray(model["R"]),
        ),
    )

    def one(z: Any) -> Any:
        return (lgssm.lgssm_smoother if smooth else lgssm.lgssm_filter)(params, z)

    compiled = jax.jit(jax.vmap(one) if tracks else one)
    z = jnp.asarray(model["z"])

    def run() -> object:
        return jax.block_until_ready(compiled(z))

    run()  # compile outside the timing
    return run


class _Scaled:
    """A competitor timed on a part of the case: its time per call is multiplied by ``scale``."""

    def __init__(self, function: Callable[[], object], scale: float) -> None:
        self.function, self.scale = function, scale

    def __call__(self) -> object:
        return self.function()


def _kf_filter_one_track(seed: int) -> dict[str, Callable[[], object]]:
    import kfsym.numeric as kn

    model = _constant_velocity(np.random.default_rng(seed), 10**4, ())
    arguments = [model[k] for k in ("z", "x0", "P0", "F", "Q", "H", "R")]
    implementations: dict[str, Callable[[], object]] = {"kfsym": lambda: kn.kf_filter(*arguments)}
    implementations["kfsym backend='numpy'"] = lambda: kn.kf_filter(*arguments, backend="numpy")
    if _optional("filterpy.kalman") is not None:
        implementations["filterpy predict/update loop"] = _filterpy_track(model, model["z"])
    pykalman = _optional("pykalman")
    if pykalman is not None:
        reference = _pykalman_model(pykalman, model)
        implementations["pykalman filter"] = lambda: reference.filter(model["z"])
    dynamax = _dynamax_filter(model, tracks=False)
    if dynamax is not None:
        implementations["dynamax lgssm_filter (jit, float64)"] = dynamax
    return implementations


def _kf_filter_tracks(seed: int) -> dict[str, Callable[[], object]]:
    import kfsym.numeric as kn

    model = _constant_velocity(np.random.default_rng(seed), 100, (10**4,))
    arguments = [model[k] for k in ("z", "x0", "P0", "F", "Q", "H", "R")]
    implementations: dict[str, Callable[[], object]] = {
        "kfsym": lambda: kn.kf_filter(*arguments),
        "kfsym backend='numpy'": lambda: kn.kf_filter(*arguments, backend="numpy"),
    }
    dynamax = _dynamax_filter(model, tracks=True)
    if dynamax is not None:
        implementations["dynamax lgssm_filter (jit + vmap, float64)"] = dynamax
    if _optional("filterpy.kalman") is not None:
        # 10^6 predict/update calls would take seconds per repeat: 100 tracks are timed, the time scaled by 100
        sample = 100
        loops = [_filterpy_track(model, z) for z in model["z"][:sample]]
        implementations[f"filterpy loop over tracks ({sample} timed, x{len(model['z']) // sample})"] = _Scaled(
            lambda: [loop() for loop in loops], len(model["z"]) / sample
        )
    return implementations


def _filterpy_smoothed_track(model: dict[str, Any], z: Any) -> Callable[[], object]:
    """FilterPy's batch_filter and rts_smoother over one track (its own two-pass API)."""
    filterpy_kalman = _optional("filterpy.kalman")

    def run() -> object:
        kf = filterpy_kalman.KalmanFilter(dim_x=4, dim_z=2)
        kf.x, kf.P, kf.F, kf.Q, kf.H, kf.R = (model[k].copy() for k in ("x0", "P0", "F", "Q", "H", "R"))
        means, covariances, _, _ = kf.batch_filter(z, update_first=True)
        return kf.rts_smoother(means, covariances)

    return run


def _smoother_case(steps: int, tracks: tuple[int, ...]) -> Callable[[int], dict[str, Callable[[], object]]]:
    """kf_filter + rts_smoother against the peers' filter-and-smooth calls on the same data."""

    def make(seed: int) -> dict[str, Callable[[], object]]:
        import kfsym.numeric as kn

        model = _constant_velocity(np.random.default_rng(seed), steps, tracks)
        arguments = [model[k] for k in ("z", "x0", "P0", "F", "Q", "H", "R")]
        # (the NumPy backends' times are in the kf_filter cases: seconds per call here, so not repeated)
        implementations: dict[str, Callable[[], object]] = {
            "kfsym": lambda: kn.rts_smoother(kn.kf_filter(*arguments), model["F"]),
        }
        dynamax = _dynamax_filter(model, tracks=bool(tracks), smooth=True)
        if dynamax is not None:
            implementations[f"dynamax lgssm_smoother (jit{' + vmap' if tracks else ''}, float64)"] = dynamax
        if _optional("filterpy.kalman") is not None:
            if tracks:
                sample = 100
                runs = [_filterpy_smoothed_track(model, z) for z in model["z"][:sample]]
                name = f"filterpy batch_filter + rts_smoother ({sample} tracks timed, x{len(model['z']) // sample})"
                implementations[name] = _Scaled(lambda: [run() for run in runs], len(model["z"]) / sample)
            else:
                implementations["filterpy batch_filter + rts_smoother"] = _filterpy_smoothed_track(model, model["z"])
        pykalman = _optional("pykalman")
        if pykalman is not None and not tracks:
            reference = _pykalman_model(pykalman, model)
            implementations["pykalman smooth"] = lambda: reference.smooth(model["z"])
        return implementations

    return make


def _fresh_interpreter(statement: str) -> Callable[[], object]:
    command = [sys.executable, "-X", "importtime", "-c", statement]

    def run() -> object:
        return subprocess.run(command, capture_output=True, check=True)

    return run


def _compile_times(seed: int) -> dict[str, Callable[[], object]]:
    """Fresh interpreters compiling every fused loop: into an empty cache directory, and from a filled one."""
    import tempfile

    statement = "import kfsym.numeric._jit as j; j.warm_up()"
    warm_directory = tempfile.mkdtemp(prefix="kfsym-bench-warm-")
    _in_cache(statement, warm_directory)()  # fill it once
    return {
        "kfsym": _in_cache(statement, None),
        "warm: Numba's on-disk cache": _in_cache(statement, warm_directory),
        "import numba alone": _fresh_interpreter("import numba"),
        "import kfsym.numeric alone": _fresh_interpreter("import kfsym.numeric"),
    }


def _in_cache(statement: str, directory: str | None) -> Callable[[], object]:
    """A fresh interpreter running ``statement`` with KFSYM_CACHE_DIR = ``directory`` (None: a new empty one)."""
    import shutil
    import tempfile

    def run() -> object:
        target = directory or tempfile.mkdtemp(prefix="kfsym-bench-cold-")
        try:
            env = {**os.environ, "KFSYM_CACHE_DIR": target}
            env.pop("KFSYM_COMPILED", None)
            return subprocess.run([sys.executable, "-c", statement], capture_output=True, check=True, env=env)
        finally:
            if directory is None:
                shutil.rmtree(target, ignore_errors=True)

    return run


def _imports(seed: int) -> dict[str, Callable[[], object]]:
    return {
        "kfsym": _fresh_interpreter("import kfsym.numeric"),
        "import numpy": _fresh_interpreter("import numpy"),
        "python -c pass": _fresh_interpreter("pass"),
    }


def _prove(seed: int) -> dict[str, Callable[[], object]]:
    command = [sys.executable, "-m", "kfsym", "prove", "--jobs", str(min(2, os.cpu_count() or 1))]
    return {"kfsym": lambda: subprocess.run(command, capture_output=True, check=True)}


CASES: tuple[Case, ...] = (
    Case("pdf, 10^3 elements", _pdf_case(10**3, log=False), floor=EXP_FLOOR),
    Case("pdf, 10^6 elements", _pdf_case(10**6, log=False), floor=EXP_FLOOR),
    Case("pdf, 10^7 elements", _pdf_case(10**7, log=False), floor=EXP_FLOOR),
    Case("logpdf, 10^3 elements", _pdf_case(10**3, log=True), floor=STREAM_FLOOR),
    Case("logpdf, 10^6 elements", _pdf_case(10**6, log=True), floor=STREAM_FLOOR),
    Case("logpdf, 10^7 elements", _pdf_case(10**7, log=True), floor=STREAM_FLOOR),
    Case("cdf, 10^6 elements", _cdf_case, floor=EXP_FLOOR, note="erfc costs several exp; the floor is one exp pass"),
    Case("pdf, scalar", _scalar_pdf),
    Case("multiply, scalar", _scalar_pair("multiply")),
    Case("add, scalar", _scalar_pair("add")),
    Case("multiply, 10^6 elements", _array_multiply, floor=STREAM_FLOOR),
    Case("mvn_pdf, 10^6 2-D points", _mvn_pdf, floor=EXP_FLOOR),
    Case("mvn_multiply, 10^4 x 4-D", _mvn_multiply, floor=FLOP_FLOOR),
    Case("kf_update, 10^4 x 4-D state, 2-D measurement", _kf_update, floor=FLOP_FLOOR),
    Case(
        "kf_filter, 1 track x 10^4 steps, 4-D state, 2-D measurement",
        _kf_filter_one_track,
        note="divide by 10^4 for time per step; the compiled step is about 400 flops",
    ),
    Case(
        "kf_filter, 10^4 tracks x 100 steps, 4-D state, 2-D measurement",
        _kf_filter_tracks,
        note="divide by 10^6 for time per track-step; a FilterPy loop would take 10^6 predict/update calls",
    ),
    Case(
        "kf_filter + rts_smoother, 1 track x 10^4 steps, 4-D state, 2-D measurement",
        _smoother_case(10**4, ()),
        note="filter and backward pass; the peers' smoothers run their filter too",
    ),
    Case(
        "kf_filter + rts_smoother, 10^4 tracks x 100 steps, 4-D state, 2-D measurement",
        _smoother_case(100, (10**4,)),
        note="filter and backward pass for every track",
    ),
    Case("import kfsym.numeric (fresh interpreter)", _imports, note="subtract 'python -c pass' for the import"),
    Case(
        "compiled kernels: first call in a fresh interpreter (cold: empty cache directory)",
        _compile_times,
        note="import numba, compile (cold) or load (warm) every fused loop; compare 'import numba alone'",
    ),
    Case("kfsym prove (all derivations)", _prove, note="wall time, one run, --jobs min(2, cores)"),
)


# ----------------------------------------------------------------------------- timing
def _calls_per_repeat(function: Callable[[], object], budget: float) -> int:
    """How many calls make one repeat last about ``budget`` seconds (at least one)."""
    started = time.perf_counter()
    function()
    once = max(time.perf_counter() - started, 1e-9)
    return max(1, min(1_000_000, int(budget / once)))


def _interleaved(
    implementations: dict[str, Callable[[], object]], repeats: int, budget: float
) -> dict[str, tuple[list[float], int]]:
    counts = {name: _calls_per_repeat(function, budget) for name, function in implementations.items()}
    samples: dict[str, list[float]] = {name: [] for name in implementations}
    names = list(implementations)
    for round_number in range(repeats):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:  # rotate the order every round
            function, count = implementations[name], counts[name]
            started = time.perf_counter()
            for _ in range(count):
                function()
            # a competitor timed on part of the case carries the factor to the whole (_Scaled)
            scale = getattr(function, "scale", 1.0)
            samples[name].append(scale * (time.perf_counter() - started) / count)
    return {name: (samples[name], counts[name]) for name in names}


def _quartiles(values: list[float]) -> tuple[float, float, float]:
    if len(values) < 2:
        return values[0], values[0], values[0]
    q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, median, q3


def _settings(case: Case, quick: bool) -> tuple[int, float]:
    if case.make in (_prove,):
        return 1, 0.0
    if case.make in (_imports, _compile_times):
        return (3, 0.0) if quick else (9, 0.0)
    heavy = "10^7" in case.name or "10^4" in case.name or "10^6" in case.name
    if quick:
        return (3, 0.02) if heavy else (5, 0.02)
    return (9, 0.2) if heavy else (15, 0.1)


def _measure(case: Case, quick: bool) -> list[Measurement]:
    repeats, budget = _settings(case, quick)
    if quick and "10^7" in case.name:
        repeats = 2
    implementations = case.make(20261125)
    results = _interleaved(implementations, repeats, budget)
    measured = []
    for name, (samples, count) in results.items():
        q1, median, q3 = _quartiles(samples)
        measured.append(Measurement(case.name, name, median, q1, q3, len(samples), count))
    reference = measured[0].median
    for item in measured:
        item.ratio = reference / item.median if item.median > 0 else None  # time of kfsym / time of this
    return measured


# ----------------------------------------------------------------------------- machine and output
def machine() -> dict[str, Any]:
    """CPU, cores, Python, NumPy and its BLAS."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    blas = "unknown"
    try:
        config: Any = np.show_config(mode="dicts")
        info = config.get("Build Dependencies", {}).get("blas", {})
        blas = f"{info.get('name', '?')} {info.get('version', '')}".strip()
    except (TypeError, AttributeError):
        pass
    simd = ""
    try:
        import importlib

        umath = importlib.import_module("numpy._core._multiarray_umath")
        features: dict[str, bool] = getattr(umath, "__cpu_features__", {})
        simd = ", ".join(name for name in ("AVX2", "AVX512F", "AVX512_SKX", "NEON") if features.get(name))
    except ImportError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas,
        "simd": simd,
        "platform": platform.platform(),
    }


def _format_seconds(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:7.3g} {unit}"
    return f"{seconds / 1e-9:7.3g} ns"


def _verdict(ratio: float | None) -> str:
    """``kfsym/this = 0.25  (kfsym 4.0x faster)`` from the time ratio kfsym / competitor."""
    if ratio is None or not math.isfinite(ratio) or ratio <= 0:
        return "kfsym/this = n/a"
    relation = f"kfsym {1 / ratio:.3g}x faster" if ratio < 1 else f"kfsym {ratio:.3g}x slower"
    return f"kfsym/this = {ratio:6.3g}  ({relation})"


def _table(measurements: list[Measurement]) -> Iterator[str]:
    width = max(len(m.implementation) for m in measurements)
    floors = {case.name: case.floor for case in CASES if case.floor}
    notes = {case.name: case.note for case in CASES if case.note}
    case = None
    for item in measurements:
        if item.case != case:
            case = item.case
            yield f"\n{case}" + (f"   [{notes[case]}]" if case in notes else "")
        ratio = "" if item.implementation == "kfsym" else _verdict(item.ratio)
        spread = f"±{100 * item.spread / 2:4.0f}%" if item.repeats > 2 else "     "
        yield f"  {item.implementation:<{width}}  {_format_seconds(item.median)}  {spread}  {ratio}"
        if floors.get(item.case) == item.implementation and item.ratio is not None:
            yield f"  {'':<{width}}  -> floor of this case: kfsym takes {item.ratio:.3g}x the floor's time"


def run(
    *, quick: bool = False, json_path: Path | None = None, cases: str | None = None, out: TextIO | None = None
) -> int:
    """Run the benchmark, print the table, optionally write JSON; returns an exit status."""
    stream = out or sys.stdout
    chosen = [case for case in CASES if cases is None or cases.lower() in case.name.lower()]
    if not chosen:
        print(f"kfsym bench: no case matches {cases!r}", file=sys.stderr)
        return 2
    info = machine()
    measurements: list[Measurement] = []
    started = time.perf_counter()
    for number, case in enumerate(chosen, start=1):
        print(f"[{number}/{len(chosen)}] {case.name} ...", file=sys.stderr, flush=True)
        measurements.extend(_measure(case, quick))
    elapsed = time.perf_counter() - started
    print(
        f"kfsym bench — {info['cpu']}, {info['cores']} cores, Python {info['python']}, NumPy {info['numpy']} "
        f"({info['blas']}; SIMD {info['simd'] or 'baseline'})",
        file=stream,
    )
    print(
        "median time per call, ±half the interquartile range; kfsym/this is the time ratio (< 1: kfsym faster)",
        file=stream,
    )
    for line in _table(measurements):
        print(line, file=stream)
    print(f"\n{len(chosen)} cases in {elapsed:.1f} s{' (quick)' if quick else ''}", file=stream)
    if json_path is not None:
        payload = {"machine": info, "quick": quick, "seconds": elapsed, "results": [asdict(m) for m in measurements]}
        json_path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        print(f"wrote {json_path}", file=stream)
    return 0
