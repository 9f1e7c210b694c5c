"""Every registered derivation verifies, and every one rejects its mutants."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kfsym.derive import Derivation, ProofError, all_derivations
from tests.mutant_catalogue import MUTANTS

REGISTERED = {derivation.name: derivation for derivation in all_derivations()}


@pytest.mark.parametrize("name", sorted(REGISTERED))
def test_derivation_verifies(name: str) -> None:
    report = REGISTERED[name].verify()
    assert report.steps == len(REGISTERED[name].steps)
    assert report.steps >= 1


@pytest.mark.parametrize("name", sorted(REGISTERED))
def test_every_derivation_has_a_mutant(name: str) -> None:
    assert MUTANTS.get(name), f"{name} has no mutant in tests/mutant_catalogue.py"


MUTANT_CASES = [
    pytest.param(name, factory, step, id=f"{name}: {what}")
    for name, entries in MUTANTS.items()
    for what, factory, step in entries
]


@pytest.mark.parametrize(("name", "factory", "step"), MUTANT_CASES)
def test_mutant_is_rejected(name: str, factory: Callable[[], Derivation], step: int | None) -> None:
    mutant = factory()
    assert mutant.name == name
    with pytest.raises(ProofError) as caught:
        mutant.verify()
    error = caught.value
    assert error.derivation == name
    assert error.step == step, str(error)
    assert name in str(error)


def test_catalogue_names_only_registered_derivations() -> None:
    assert set(MUTANTS) <= set(REGISTERED)


def test_factories_rebuild_the_registered_derivation() -> None:
    # The unmutated factory output must equal what is registered, or the mutants test something else.
    from kfsym.derive import clt, expectation, gaussian, kalman, multivariate

    factories: tuple[Callable[[], Derivation], ...] = (
        gaussian.product,
        gaussian.pdf,
        gaussian.sum_mgf,
        gaussian.product_stable,
        multivariate.pdf_general,
        multivariate.mgf_general,
        multivariate.product_general,
        multivariate.linear_transform,
        multivariate.sum_independent,
        kalman.predict,
        kalman.joseph_general,
        kalman.update_general,
        kalman.update_concrete,
        clt.cumulant_limit,
        expectation.correlation_bound,
    )
    for factory in factories:
        rebuilt = factory()
        assert rebuilt == REGISTERED[rebuilt.name]
