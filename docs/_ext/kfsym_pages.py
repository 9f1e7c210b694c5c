"""Generate the site's derivation pages, figure gallery and API lists from kfsym at build time.

Nothing here is copied into the repository: every ``sphinx-build`` asks the registry
(:func:`kfsym.derive.all_derivations`), :data:`kfsym.plot.FIGURES` and the ``__all__`` lists
of :mod:`kfsym.numeric` and :mod:`kfsym.derive`, and writes ``docs/_generated/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

GENERATED = "_generated"


def _write(path: Path, text: str) -> None:
    """Write ``text`` unless the file already holds it (keeps Sphinx's incremental build honest)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def label(name: str) -> str:
    """MyST target of a derivation: ``gaussian.product`` -> ``derivation-gaussian-product``."""
    return "derivation-" + name.replace(".", "-").replace("_", "-")


def derivation_pages(out: Path) -> None:
    from kfsym.derive import all_derivations, topics

    by_topic: dict[str, list[Any]] = {}
    for derivation in all_derivations():
        by_topic.setdefault(derivation.name.split(".", 1)[0], []).append(derivation)
    index = [
        "# Derivations",
        "",
        "Every derivation in kfsym's registry, rendered at build time from",
        "`kfsym.derive.all_derivations()` with each derivation's `_repr_markdown_` (the same",
        "object a Jupyter notebook displays). `kfsym prove` and the test suite check every one of",
        "them; `kfsym show NAME` prints one in the terminal.",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        "",
    ]
    for topic in topics():
        members = by_topic.pop(topic.key, [])
        if not members:
            continue
        index.append(topic.key)
        lines = [f"# {topic.title}", "", f"Topic `{topic.key}`: {len(members)} derivations.", ""]
        for derivation in members:
            lines += [f"({label(derivation.name)})=", f"## `{derivation.name}`", "", derivation._repr_markdown_(), ""]
        _write(out / f"{topic.key}.md", "\n".join(lines))
    if by_topic:  # a derivation whose topic is not registered would silently vanish
        raise RuntimeError(f"derivations without a registered topic: {sorted(by_topic)}")
    index += ["```", ""]
    _write(out / "index.md", "\n".join(index))


def gallery(out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kfsym import plot

    lines = [
        "# Figure gallery",
        "",
        "The figures of `kfsym.plot`, drawn at build time from `kfsym.plot.FIGURES` (`kfsym plot NAME`",
        "writes one to a file). Each is drawn from kfsym's own numeric functions, whose parameters",
        "are variances.",
        "",
    ]
    for name, draw in plot.FIGURES.items():
        info = plot.FIGURE_INFO[name]
        ax = draw()
        path = out / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        ax.figure.savefig(path, dpi=100)
        plt.close(ax.figure)
        lines += [
            f"## `{name}`",
            "",
            f"```{{figure}} {name}.png",
            f":alt: {name}",
            "",
            info.caption,
            "```",
            "",
            f"Illustrates [`{info.illustrates}`](#{label(info.illustrates)}); draw it with",
            f"`kfsym.plot.{draw.__name__}()` or `kfsym plot {name}`.",
            "",
        ]
    _write(out / "index.md", "\n".join(lines))


def api_pages(out: Path) -> None:
    import kfsym.derive
    import kfsym.numeric

    for module in (kfsym.numeric, kfsym.derive):
        title = f"``{module.__name__}``"
        lines = [
            title,
            "=" * len(title),
            "",
            f".. automodule:: {module.__name__}",
            "   :no-members:",
            "",
            f".. currentmodule:: {module.__name__}",
            "",
            ".. autosummary::",
            "   :toctree: generated",
            "",
        ]
        lines += [f"   {name}" for name in sorted(module.__all__)]
        _write(out / f"{module.__name__}.rst", "\n".join(lines) + "\n")


def generate(app: Any, config: Any) -> None:
    """Write ``_generated/`` before Sphinx looks for source files (so autosummary sees the API pages)."""
    root = Path(app.srcdir) / GENERATED
    derivation_pages(root / "derivations")
    gallery(root / "gallery")
    api_pages(root / "api")


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", generate)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
