"""Shared test configuration: a fixed, derandomized Hypothesis profile.

CI (and everyone by default) uses the ``ci`` profile: derandomized, so the same
examples run every time; no example database; no deadline (SymPy is slow to
warm up). Set ``HYPOTHESIS_PROFILE=explore`` to search with fresh randomness.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
