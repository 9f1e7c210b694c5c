"""Each kernel unit test sees the kernel's caches empty.

``screen`` memoises its answers (``_MEMO``) and which node classes are genuine (``_GENUINE``); ``operators``
keeps one canonical dummy per assumption set (``_CANONICAL``). A test that asks a question an earlier test (or
an earlier process, when the test runs in a fork: mutmut) already asked would otherwise get the stored answer
and never run the code it is meant to check.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kfsym.derive.kernel import operators, screen


@pytest.fixture(autouse=True)
def empty_kernel_caches() -> Iterator[None]:
    for cache in (screen._MEMO, screen._GENUINE, operators._CANONICAL):
        cache.clear()
    yield
