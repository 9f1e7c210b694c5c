"""The one registry of derivations: ``list``, ``prove``, codegen, render and the tests read it.

Topic modules in :mod:`kfsym.derive` call :func:`register_topic` once and
:func:`register` for each derivation. Every module of the package is imported
on first use, so adding a derivation (or a whole topic module) needs no list
to be edited anywhere else.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from dataclasses import dataclass

from kfsym.derive.core import Derivation

__all__ = ["Topic", "all_derivations", "get", "register", "register_topic", "topics"]


@dataclass(frozen=True)
class Topic:
    """A group of derivations: ``key`` is the name prefix, ``order`` sorts topics."""

    key: str
    title: str
    order: int


_DERIVATIONS: dict[str, Derivation] = {}
_TOPICS: dict[str, Topic] = {}
_INFRASTRUCTURE = {"checks", "core", "display", "kernel", "linalg", "lowering", "operators", "printing", "registry"}
_STATE = {"loaded": False}


def register_topic(key: str, title: str, order: int) -> Topic:
    """Declare a topic once per module; returns it."""
    topic = Topic(key, title, order)
    if _TOPICS.get(key, topic) != topic:
        raise ValueError(f"topic {key!r} is already registered differently")
    _TOPICS[key] = topic
    return topic


def register(derivation: Derivation) -> Derivation:
    """Add ``derivation`` to the registry (its name must be new) and return it."""
    if derivation.name in _DERIVATIONS:
        raise ValueError(f"a derivation named {derivation.name!r} is already registered")
    if derivation.topic not in _TOPICS:
        raise ValueError(f"derivation {derivation.name!r}: unknown topic {derivation.topic!r}; call register_topic")
    _DERIVATIONS[derivation.name] = derivation
    return derivation


def _load_all() -> None:
    if _STATE["loaded"]:
        return
    import kfsym.derive as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in _INFRASTRUCTURE:
            importlib.import_module(f"{package.__name__}.{module.name}")
    _STATE["loaded"] = True


def topics() -> tuple[Topic, ...]:
    """All topics in reading order."""
    _load_all()
    return tuple(sorted(_TOPICS.values(), key=lambda topic: topic.order))


def all_derivations() -> tuple[Derivation, ...]:
    """Every registered derivation, grouped by topic in reading order.

    Examples
    --------
    >>> names = [d.name for d in all_derivations()]
    >>> "gaussian.product" in names
    True
    """
    _load_all()
    order = {topic.key: topic.order for topic in _TOPICS.values()}
    return tuple(sorted(_DERIVATIONS.values(), key=lambda d: order[d.topic]))


def get(name: str) -> Derivation:
    """The derivation called ``name``.

    Raises
    ------
    KeyError
        For an unknown name, suggesting the closest registered names.

    Examples
    --------
    >>> get("gaussian.product").title
    'Product of two Gaussian densities (the Bayes measurement update)'
    """
    _load_all()
    try:
        return _DERIVATIONS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_DERIVATIONS), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `kfsym list` shows them all"
        raise KeyError(f"no derivation named {name!r}{hint}") from None
