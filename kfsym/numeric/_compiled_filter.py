"""Compile the generated Kalman-filter and RTS-smoother loops with Numba (imported only when that backend runs).

:mod:`kfsym.numeric._filter_source` prints the loop unrolled for one (n, m). The source is
written to a cache directory and imported from there, so Numba's own on-disk cache
(``cache=True``) keeps the machine code between processes: the first call for an (n, m)
compiles (seconds), later processes load it (a fraction of a second). The directory is
``$KFSYM_CACHE_DIR``, else ``$XDG_CACHE_HOME/kfsym`` or ``~/.cache/kfsym``, else a
directory in the system's temporary folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numba

from kfsym.numeric._filter_source import filter_source
from kfsym.numeric._smoother_source import smoother_source

__all__ = ["BLOCK", "cache_directory", "compiled", "filter_kernel", "smoother_kernel"]

#: Tracks per block: one block's state stays in the core's caches while it runs through time.
BLOCK = 256

_KERNELS: dict[tuple[str | int, ...], Callable[..., Any]] = {}


def cache_directory() -> Path:
    """Where the generated sources (and Numba's cache next to them) live; created if needed."""
    candidates = []
    if os.environ.get("KFSYM_CACHE_DIR"):
        candidates.append(Path(os.environ["KFSYM_CACHE_DIR"]))
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    candidates += [Path(base) / "kfsym", Path(tempfile.gettempdir()) / f"kfsym-{os.getuid()}"]
    for directory in candidates:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(directory, os.W_OK):
            return directory
    raise OSError(f"no writable cache directory for the compiled filter among {[str(c) for c in candidates]}")


def compiled(name: str, source: str, function: str) -> Callable[..., Any]:
    """``function`` of the generated ``source``, written to the cache directory once and imported from there.

    The file name carries a digest of the source and Numba's version, so a changed generator or a new Numba
    never loads stale machine code; concurrent processes never import half a file.
    """
    digest = hashlib.sha256(f"{source}\n{numba.__version__}".encode()).hexdigest()[:16]
    module_name = f"{name}_{digest}"
    path = cache_directory() / f"{module_name}.py"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(source, encoding="utf-8")
        partial.replace(path)  # atomic
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has a loader
        raise ImportError(f"cannot import the generated kernel {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # Numba's cache finds the module again by name
    spec.loader.exec_module(module)
    kernel: Callable[..., Any] = getattr(module, function)
    return kernel


def filter_kernel(n: int, m: int) -> Callable[..., Any]:
    """``filter_tracks(z, seen, initial, F, Q, H, R, offset, out)`` for state size n and measurement size m."""
    key = ("filter", n, m)
    if key not in _KERNELS:
        _KERNELS[key] = compiled(f"kfsym_filter_n{n}_m{m}", filter_source(n, m, BLOCK), "filter_tracks")
    return _KERNELS[key]


def smoother_kernel(n: int) -> Callable[..., Any]:
    """``smooth_tracks(fm, fc, pm, pc, F, out)`` for state size n (see :mod:`kfsym.numeric._smoother_source`)."""
    key = ("smoother", n)
    if key not in _KERNELS:
        _KERNELS[key] = compiled(f"kfsym_smoother_n{n}", smoother_source(n, BLOCK), "smooth_tracks")
    return _KERNELS[key]
