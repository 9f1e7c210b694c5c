"""Sphinx configuration of kfsym's documentation site (``make docs``)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import kfsym

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "kfsym"
author = "kfsym developers"
copyright = "kfsym developers"
release = version = getattr(kfsym, "__version__", "0.1.0")

extensions = [
    "kfsym_pages",  # derivations, gallery and API lists generated from kfsym at build time
    "myst_nb",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]

exclude_patterns = ["_build", "README.md", "**.ipynb_checkpoints", "_ext", "jupyter_execute"]

# MyST: $...$ and $$...$$ math (derivations and notebooks), align environments, anchors.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# myst-nb executes every notebook on every build; an exception fails the build.
nb_execution_mode = "force"
nb_execution_timeout = 180
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = False  # keep each print next to the display it follows
# Derivations display as Markdown with $...$ math: parse outputs as MyST (dollarmath), not CommonMark.
nb_render_markdown_format = "myst"

# API reference: autosummary pages for every name in kfsym.numeric.__all__ and kfsym.derive.__all__.
templates_path = ["_templates"]
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc sections carry the types
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = "kfsym"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
# Derivation pages are wide align blocks (formula, then its justification): no section sidebar
# there (the topics are one click away in the navbar), the page's own list of derivations stays;
# single pages have no sections to navigate.
html_sidebars = {"_generated/derivations/*": [], "_generated/gallery/*": [], "getting-started": [], "api": []}
html_static_path: list[str] = ["_static"]
html_css_files = ["kfsym.css"]

# MathJax 3, the version kfsym's LaTeX is tested against (tests/test_typesetting.py). When the
# npm copy CI installs for that test is present (or KFSYM_MATHJAX names an ``es5`` directory),
# the site ships it in ``_static/mathjax`` and works offline (file:// included); otherwise the
# pages load the same version from the jsDelivr CDN.
_DOCS = Path(__file__).parent
_MATHJAX = Path(os.environ.get("KFSYM_MATHJAX", _DOCS.parent / "tests/mathjax/node_modules/mathjax-full/es5"))
if (_MATHJAX / "tex-mml-chtml.js").is_file():
    _static = _DOCS / "_generated" / "_static"
    _fonts = Path("output/chtml/fonts/woff-v2")
    shutil.rmtree(_static / "mathjax", ignore_errors=True)
    shutil.copytree(_MATHJAX / _fonts, _static / "mathjax" / _fonts)
    shutil.copy2(_MATHJAX / "tex-mml-chtml.js", _static / "mathjax" / "tex-mml-chtml.js")
    html_static_path.append(str(_static.relative_to(_DOCS)))
    mathjax_path = "mathjax/tex-mml-chtml.js"
else:
    mathjax_path = "https://cdn.jsdelivr.net/npm/mathjax@3.2.2/es5/tex-mml-chtml.js"
# maxBuffer: MathJax 3 refuses a formula that grows past 5 KiB while its macros expand ("MathJax
# internal buffer size exceeded"); a few derivations' align blocks are longer than that (the
# browser test found moments.sample_variance_small_n at 16.6 k characters), so the site allows 64 KiB.
mathjax3_config: dict[str, object] = {"tex": {"packages": {"[+]": ["ams"]}, "maxBuffer": 64 * 1024}}
html_show_sourcelink = False
