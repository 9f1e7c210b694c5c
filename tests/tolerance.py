"""Tolerance assertions that mean what they say.

``pytest.approx(want, rel=r)`` silently adds ``abs=1e-12``, so
``0.0 == pytest.approx(2.8e-155, rel=1e-12)`` passes. The helpers here use
exactly the tolerance they are given and nothing else; ``tests/test_tolerances.py``
keeps every ``pytest.approx`` in the tests explicit about its absolute tolerance.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def rel_error(got: float, want: float) -> float:
    """|got - want| / |want|, with 0 for an exact match (including want = 0 = got) and inf otherwise when want = 0.

    Parameters
    ----------
    got, want : float
        The computed and the reference value.

    Returns
    -------
    float
        The relative error of ``got``; NaN anywhere gives inf.
    """
    got, want = float(got), float(want)
    if got == want:
        return 0.0
    if math.isnan(got) or math.isnan(want) or want == 0.0:
        return math.inf
    return abs(got - want) / abs(want)


def assert_rel(got: Any, want: Any, rel: float) -> None:
    """Assert |got - want| <= rel |want| elementwise, with no absolute floor.

    Parameters
    ----------
    got, want : float or array_like
        The computed and the reference values (broadcast against each other).
    rel : float
        The largest relative error accepted; 0 demands equality.

    Raises
    ------
    AssertionError
        When any element's relative error exceeds ``rel``, naming the worst one.
    """
    if not rel >= 0.0:
        raise ValueError(f"rel must be >= 0, got {rel!r}")
    g, w = np.broadcast_arrays(np.asarray(got, dtype=float), np.asarray(want, dtype=float))
    worst, where = 0.0, None
    for index in np.ndindex(g.shape):
        err = rel_error(float(g[index]), float(w[index]))
        if err > worst:
            worst, where = err, index
    if worst > rel:
        raise AssertionError(
            f"relative error {worst:.3g} > {rel:.3g} at {where}: got {float(g[where])!r}, want {float(w[where])!r}"
        )


def assert_close(got: Any, want: Any, *, rel: float, abs: float) -> None:
    """Assert |got - want| <= max(rel |want|, abs) elementwise: both tolerances stated by the caller.

    Parameters
    ----------
    got, want : float or array_like
        The computed and the reference values.
    rel, abs : float
        The relative and the absolute tolerance; neither has a default.

    Raises
    ------
    AssertionError
        When an element is outside both tolerances, or one is NaN and the other is not.
    """
    g, w = np.broadcast_arrays(np.asarray(got, dtype=float), np.asarray(want, dtype=float))
    bound = np.maximum(rel * np.abs(w), abs)
    ok = (g == w) | (np.abs(g - w) <= bound)
    if not ok.all():
        bad = tuple(int(i) for i in np.argwhere(~ok)[0])
        raise AssertionError(
            f"|got - want| = {float(np.abs(g[bad] - w[bad])):.3g} > max(rel·|want|, abs) = {float(bound[bad]):.3g}"
            f" at {bad}: got {float(g[bad])!r}, want {float(w[bad])!r}"
        )
