"""The numeric tests again, with NumPy's SIMD kernels switched off level by level.

NumPy picks its ``exp``/``log`` loops at import time from the CPU (AVX-512, AVX2, or the
baseline); the results differ in the last bit between those loops and from the C library's.
``NPY_DISABLE_CPU_FEATURES`` makes this machine behave like an older CPU, so the stated ulp
bounds (not bit equality) are checked against every loop this machine can run, in subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

try:  # NumPy 2
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
except ImportError:  # NumPy 1.x
    from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
AVAILABLE = [feature for feature in __cpu_dispatch__ if __cpu_features__.get(feature)]
WIDE = [feature for feature in AVAILABLE if "512" in feature or feature == "X86_V4"]
CONFIGURATIONS = {
    "without-avx512": WIDE,
    "baseline-only": AVAILABLE,
}
TESTS = ["tests/test_fast_paths.py", "tests/test_numeric_api.py", "tests/test_numeric_references.py"]


@pytest.mark.parametrize("label", sorted(CONFIGURATIONS))
def test_numeric_suite_passes_with_simd_loops_disabled(label: str) -> None:
    disabled = CONFIGURATIONS[label]
    if not disabled:
        pytest.skip(f"this CPU dispatches no such NumPy loops ({label}); the default run covers it")
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(disabled), "PYTHONDONTWRITEBYTECODE": "1"}
    probe = subprocess.run(
        [sys.executable, "-c", "import numpy; print(numpy.exp(1.0))"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert probe.returncode == 0, probe.stderr
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *TESTS],
        cwd=ROOT,
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"NPY_DISABLE_CPU_FEATURES={disabled}:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"


def test_the_two_exp_implementations_agree_within_the_path_bound() -> None:
    """NumPy's exp and the C library's: not bit-identical on SIMD CPUs, but within PATH_ULP ulp."""
    import math

    from kfsym.numeric.gaussian import PATH_ULP

    x = np.random.default_rng(0).uniform(-700, 700, 100_000)
    vectorised, scalar = np.exp(x), np.array([math.exp(v) for v in x])
    print(f"np.exp != math.exp for {np.count_nonzero(vectorised != scalar)} of 100000 arguments on {AVAILABLE}")
    assert (np.abs(vectorised - scalar) / np.spacing(scalar)).max() <= PATH_ULP
