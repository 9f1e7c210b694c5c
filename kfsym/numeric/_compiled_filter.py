"""Compile the generated Kalman-filter loop with Numba (imported only when that backend runs).

:mod:`kfsym.numeric._filter_source` prints the loop unrolled for one (n, m);
:func:`kfsym.numeric._jit.load_source` writes it to the cache directory and imports it from there,
so Numba's own on-disk cache (``cache=True``) keeps the machine code between processes: the first
call for an (n, m) compiles (seconds), later processes load it (a fraction of a second).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kfsym.numeric._filter_source import filter_source
from kfsym.numeric._jit import cache_directory, load_source

__all__ = ["BLOCK", "cache_directory", "filter_kernel"]

#: Tracks per block: one block's state stays in the core's caches while it runs through time.
BLOCK = 256

_KERNELS: dict[tuple[int, int], Callable[..., Any]] = {}


def filter_kernel(n: int, m: int) -> Callable[..., Any]:
    """``filter_tracks(z, seen, initial, F, Q, H, R, offset, out)`` for state size n and measurement size m."""
    key = (n, m)
    if key not in _KERNELS:
        module = load_source(f"kfsym_filter_n{n}_m{m}", filter_source(n, m, BLOCK))
        _KERNELS[key] = module.filter_tracks
    return _KERNELS[key]
