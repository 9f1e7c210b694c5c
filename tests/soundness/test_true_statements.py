"""True statements still prove: soundness may not cost the power users rely on."""

from __future__ import annotations

import pytest

from tests.soundness.statements import TRUE, Thunk


def test_there_are_at_least_40_true_statements() -> None:
    assert len(TRUE) >= 40
    assert len({name for name, _ in TRUE}) == len(TRUE)


@pytest.mark.parametrize("statement", [pytest.param(thunk, id=name) for name, thunk in TRUE])
def test_true_statement_is_proved(statement: Thunk) -> None:
    statement()
