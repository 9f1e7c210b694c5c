"""The stated bound between two code paths of one function (scalar fast path and array kernel).

The arithmetic steps of both paths are the same IEEE operations; only the library ``exp`` and
``log`` differ (the C library's in the scalar path, NumPy's — possibly SIMD — in the array path), and cdf's
``erfc`` (the C library's, kfsym's vectorised one). :data:`kfsym.numeric.gaussian.PATH_ULP` and ``CDF_PATH_ULP``
state how far apart that may put the results; this module
turns the statement into a tolerance. Pure arithmetic results (multiply, add) must agree exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from kfsym.numeric import cdf, evidence, log_evidence, logpdf, pdf
from kfsym.numeric.gaussian import CDF_PATH_ULP, PATH_ULP

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _ulp(value: float) -> float:
    return math.ulp(abs(value)) if math.isfinite(value) else 0.0


def path_tolerance(function: Callable[..., Any], value: float, args: dict[str, float]) -> float:
    """Largest |scalar - array| the documentation allows for ``function`` at ``args`` (value: either path's)."""
    if function in (pdf, logpdf, cdf):
        var = args.get("var", 1.0)
    elif function in (evidence, log_evidence):
        var = min(args["var1"] + args["var2"], 1.7976931348623157e308)
    else:
        return 0.0
    # c = log(var)/2 + log(2 pi)/2 enters the exponent; its two evaluations may differ by PATH_ULP ulp.
    log_normaliser = 0.5 * math.log(var) + _LOG_SQRT_2PI
    if function in (pdf, evidence):
        return PATH_ULP * (_ulp(value) + _ulp(log_normaliser) * abs(value))
    if function in (logpdf, log_evidence):
        return PATH_ULP * (_ulp(value) + _ulp(log_normaliser))
    return CDF_PATH_ULP * _ulp(value)  # cdf: two erfc implementations


def assert_paths_agree(function: Callable[..., Any], got: float, want: float, args: dict[str, float]) -> None:
    """``got`` and ``want`` (two paths of ``function`` at ``args``) within the stated bound."""
    if got == want or (math.isnan(got) and math.isnan(want)):
        return
    tolerance = path_tolerance(function, want, args)
    assert abs(got - want) <= tolerance, f"{function.__name__}{args}: {got!r} vs {want!r} (bound {tolerance:.3g})"
