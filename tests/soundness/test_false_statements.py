"""Every false statement is refused: ProofError (not proved) or TypeError (not admitted)."""

from __future__ import annotations

import pytest

from kfsym.derive import ProofError
from tests.soundness.statements import FALSE, Thunk


def test_there_are_at_least_100_false_statements() -> None:
    assert len(FALSE) >= 100
    assert len({name for name, _ in FALSE}) == len(FALSE)


@pytest.mark.parametrize("statement", [pytest.param(thunk, id=name) for name, thunk in FALSE])
def test_false_statement_is_refused(statement: Thunk) -> None:
    with pytest.raises((ProofError, TypeError)):
        statement()
