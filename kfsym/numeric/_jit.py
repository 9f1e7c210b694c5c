"""Generated Numba source: written to a cache directory, imported from there, compiled on first use.

Shared by every compiled kernel of :mod:`kfsym.numeric` (the fused elementwise loops printed by
``kfsym codegen`` into ``_generated.COMPILED_SOURCE`` and the Kalman-filter loop of
:mod:`kfsym.numeric._filter_source`). The source is written to ``$KFSYM_CACHE_DIR``, else
``$XDG_CACHE_HOME/kfsym`` or ``~/.cache/kfsym``, else a directory in the system's temporary folder,
and imported from there, so Numba's own on-disk cache (``cache=True``) keeps the machine code
between processes: the first call compiles (seconds), later processes load it.

This module imports neither Numba nor anything heavy: :func:`load_source` and
:func:`elementwise_kernels` import Numba when they first run. ``KFSYM_COMPILED=0`` in the
environment makes :func:`elementwise_kernels` return None: every function then runs its NumPy
kernel (the fallback, tested that way).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from types import ModuleType

__all__ = ["MIN_SIZE", "cache_directory", "compile_seconds", "elementwise_kernels", "load_source", "numba_version"]

#: Arrays with fewer elements than this keep the NumPy kernels: the call into a compiled loop (and
#: importing Numba at all) pays only for large arrays. Tests lower it (``KFSYM_COMPILED_MIN_SIZE=1`` runs
#: a whole test file on the compiled loops wherever they apply).
MIN_SIZE = int(os.environ.get("KFSYM_COMPILED_MIN_SIZE", str(1 << 15)))

_MODULES: dict[str, ModuleType] = {}
_UNAVAILABLE: list[bool] = []  # [True] once importing Numba has failed
_ELEMENTWISE: list[ModuleType] = []  # the loaded module of COMPILED_SOURCE
#: Seconds each generated module took to import and compile its first kernel, by name.
compile_seconds: dict[str, float] = {}


def cache_directory() -> Path:
    """Where the generated sources (and Numba's cache next to them) live; created if needed."""
    import tempfile  # here, not at import: kfsym.numeric imports this module and must stay light

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
    raise OSError(f"no writable cache directory for compiled kernels among {[str(c) for c in candidates]}")


def numba_version() -> str | None:
    """Numba's version, importing it; None when it is not installed."""
    if _UNAVAILABLE:
        return None
    try:
        import numba
    except ImportError:
        _UNAVAILABLE.append(True)
        return None
    return str(numba.__version__)


def load_source(prefix: str, source: str) -> ModuleType:
    """The module ``source`` defines, imported from ``<cache>/<prefix>_<digest>.py`` (written once, atomically).

    The digest covers the source and Numba's version, so a changed kernel or a new Numba never
    loads stale machine code. Raises ImportError when Numba is not installed.
    """
    import hashlib
    import importlib.util

    version = numba_version()
    if version is None:
        raise ImportError("compiled kernels need Numba: pip install 'kfsym[fast]'")
    digest = hashlib.sha256(f"{source}\n{version}".encode()).hexdigest()[:16]
    name = f"{prefix}_{digest}"
    if name in _MODULES:
        return _MODULES[name]
    path = cache_directory() / f"{name}.py"
    if not path.exists():
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(source, encoding="utf-8")
        partial.replace(path)  # atomic: concurrent processes never import half a file
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has a loader
        raise ImportError(f"cannot import the generated source {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Numba's cache finds the module again by name
    spec.loader.exec_module(module)
    _MODULES[name] = module
    return module


def elementwise_kernels() -> ModuleType | None:
    """The compiled fused loops of ``_generated.COMPILED_SOURCE``; None when disabled or Numba is missing.

    Their first call per argument types compiles (or loads Numba's on-disk cache); see
    :func:`warm_up`, which :mod:`kfsym.bench` times.
    """
    if os.environ.get("KFSYM_COMPILED", "1") == "0":
        return None
    if not _ELEMENTWISE:  # once per process: hashing the source costs more than a small call
        if numba_version() is None:
            return None
        from kfsym.numeric import _generated

        _ELEMENTWISE.append(load_source("kfsym_elementwise", _generated.COMPILED_SOURCE))
    return _ELEMENTWISE[0]


def warm_up() -> float:
    """Seconds to import and compile (or load from the on-disk cache) every fused loop, on tiny arrays."""
    import numpy as np

    started = time.perf_counter()
    kernels = elementwise_kernels()
    if kernels is None:
        return 0.0
    kernels.warm_up(np.zeros(2), np.ones(2))
    seconds = time.perf_counter() - started
    compile_seconds["elementwise"] = seconds
    return seconds
