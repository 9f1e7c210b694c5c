"""Which external tools a test run must have: a missing one fails the test where it is required, else skips it.

- LaTeX (``latexmk``, ``pdflatex``) and Node (with ``tests/mathjax``'s npm packages) are required under
  ``CI=true`` or ``KFSYM_REQUIRE_TYPESETTERS=1``: CI installs them before ``make test``.
- Chromium (and the built site, Selenium, a Jupyter kernel) are required only with ``KFSYM_REQUIRE_DOCS=1``:
  CI's plain ``make test`` runs before ``make docs`` builds the site, so there those tests skip; CI then runs
  ``tests/test_docs.py`` and ``tests/test_notebooks.py`` again with ``KFSYM_REQUIRE_DOCS=1``, where a missing
  browser is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NoReturn

import pytest


def in_ci(environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``CI`` is set to a true value (``true``, ``1``, ``yes``; any case), as CI services set it."""
    return environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def typesetters_required(environ: Mapping[str, str] = os.environ) -> bool:
    """LaTeX and Node must be present: under CI, or with ``KFSYM_REQUIRE_TYPESETTERS=1``."""
    return environ.get("KFSYM_REQUIRE_TYPESETTERS") == "1" or in_ci(environ)


def docs_required(environ: Mapping[str, str] = os.environ) -> bool:
    """The built site, Selenium, Chromium and a Jupyter kernel must be present: ``KFSYM_REQUIRE_DOCS=1`` only."""
    return environ.get("KFSYM_REQUIRE_DOCS") == "1"


def missing(what: str, *, required: bool, because: str) -> NoReturn:
    """Fail (``required``) or skip the calling test for a missing tool, saying which and why it is required."""
    if required:
        pytest.fail(f"{what} is missing, and {because} makes it required")
    pytest.skip(f"{what} not available")
