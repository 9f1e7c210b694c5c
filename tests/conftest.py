"""Shared test configuration: a fixed, derandomized Hypothesis profile.

CI (and everyone by default) uses the ``ci`` profile: derandomized, so the same
examples run every time; no example database; no deadline (SymPy is slow to
warm up). Set ``HYPOTHESIS_PROFILE=explore`` to search with fresh randomness, or
``HYPOTHESIS_PROFILE=thorough`` for a long derandomized run (2000 examples per
property; e.g. ``HYPOTHESIS_PROFILE=thorough pytest tests/test_numeric_properties.py``).
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
settings.register_profile(
    "thorough",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=2000,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
