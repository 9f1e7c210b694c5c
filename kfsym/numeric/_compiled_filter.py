"""Compile the generated Kalman-filter, RTS-smoother and batched-product loops with Numba (imported only when used).

:mod:`kfsym.numeric._filter_source`, :mod:`kfsym.numeric._smoother_source` and
:mod:`kfsym.numeric._product_source` print the loops unrolled for one state size (and measurement size);
:func:`kfsym.numeric._jit.load_source` writes them to the cache directory and imports them from there, so
Numba's own on-disk cache (``cache=True``) keeps the machine code between processes: the first call for a
size compiles (seconds), later processes load it (a fraction of a second).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kfsym.numeric._filter_source import filter_source
from kfsym.numeric._jit import cache_directory, load_source
from kfsym.numeric._product_source import product_source
from kfsym.numeric._smoother_source import smoother_source

__all__ = ["BLOCK", "cache_directory", "filter_kernel", "product_kernel", "smoother_kernel"]

#: Tracks per block: one block's state stays in the core's caches while it runs through time.
BLOCK = 256

_KERNELS: dict[tuple[str | int, ...], Callable[..., Any]] = {}


def filter_kernel(n: int, m: int) -> Callable[..., Any]:
    """``filter_tracks(z, seen, initial, F, Q, H, R, offset, out)`` for state size n and measurement size m."""
    key = ("filter", n, m)
    if key not in _KERNELS:
        module = load_source(f"kfsym_filter_n{n}_m{m}", filter_source(n, m, BLOCK))
        _KERNELS[key] = module.filter_tracks
    return _KERNELS[key]


def smoother_kernel(n: int) -> Callable[..., Any]:
    """``smooth_tracks(fm, fm0, fc, fc0, pm, pm0, pc, pc0, F, out)`` for state size n (see
    :mod:`kfsym.numeric._smoother_source`)."""
    key = ("smoother", n)
    if key not in _KERNELS:
        module = load_source(f"kfsym_smoother_n{n}", smoother_source(n, BLOCK))
        _KERNELS[key] = module.smooth_tracks
    return _KERNELS[key]


def product_kernel(n: int) -> Callable[..., Any]:
    """``product_batch(m1, s1, m2, s2, rtol, tiny, huge, mean_out, cov_out, flags)`` for size n, 2 <= n <=
    ``_product_source.MAX_SIZE`` (see :mod:`kfsym.numeric._product_source`)."""
    key = ("product", n)
    if key not in _KERNELS:
        module = load_source(f"kfsym_product_n{n}", product_source(n, BLOCK))
        _KERNELS[key] = module.product_batch
    return _KERNELS[key]
