"""Scalar fast paths and in-place kernels: the stated ulp bound between paths, no mutation, every variant."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfsym.numeric import _generated, add, cdf, evidence, logpdf, multiply, pdf
from tests.paths import assert_paths_agree

exponents = st.floats(-150, 150)
variances = exponents.map(lambda e: float(10.0**e))
means = st.floats(-1e150, 1e150, allow_nan=False, allow_infinity=False)
points = st.one_of(means, st.sampled_from([math.inf, -math.inf]))


@pytest.mark.parametrize("function", [pdf, logpdf, cdf])
@given(x=points, mean=means, var=variances)
def test_density_scalar_path_agrees_with_array_path_within_the_stated_ulp_bound(
    function: Callable[..., Any], x: float, mean: float, var: float
) -> None:
    scalar = function(x, mean, var)
    array = function(np.array([x]), np.array([mean]), np.array([var]))
    point = {"x": x, "mean": mean, "var": var}
    assert type(scalar) is float
    assert not math.isnan(scalar)
    assert_paths_agree(function, float(array[0]), scalar, point)
    assert_paths_agree(function, function(np.float64(x), mean, var), scalar, point)  # validated 0-d path


@pytest.mark.parametrize("function", [pdf, logpdf])
def test_path_bound_is_not_vacuous(function: Callable[..., Any]) -> None:
    """The tolerance is a few ulp, not a loose relative error: a 1e-13 relative change breaks it."""
    point = {"x": 0.3, "mean": 0.0, "var": 1.0}
    value = function(**point)
    with pytest.raises(AssertionError):
        assert_paths_agree(function, value * (1 + 1e-13), value, point)


@pytest.mark.parametrize("function", [multiply, add])
@given(m1=means, v1=variances, m2=means, v2=variances)
def test_pair_scalar_path_equals_array_path_bit_for_bit(
    function: Callable[..., Any], m1: float, v1: float, m2: float, v2: float
) -> None:
    try:
        scalar = function(m1, v1, m2, v2)
    except OverflowError:
        with pytest.raises(OverflowError):
            function(np.array([m1]), v1, m2, v2)
        return
    array = function(np.array([m1]), np.array([v1]), np.array([m2]), np.array([v2]))
    assert type(scalar.mean) is float and type(scalar.var) is float
    assert (scalar.mean, scalar.var) == (array.mean[0], array.var[0])


@given(m1=means, v1=variances, m2=means, v2=variances)
def test_evidence_scalar_path_agrees_with_array_path(m1: float, v1: float, m2: float, v2: float) -> None:
    point = {"mean1": m1, "var1": v1, "mean2": m2, "var2": v2}
    assert_paths_agree(evidence, float(evidence(np.array([m1]), v1, m2, v2)[0]), evidence(m1, v1, m2, v2), point)


def test_integers_take_the_validated_path_to_the_same_kernel() -> None:
    assert_paths_agree(pdf, pdf(1, 0, 2), pdf(1.0, 0.0, 2.0), {"x": 1.0, "mean": 0.0, "var": 2.0})
    assert multiply(0, 2, 10, 2) == multiply(0.0, 2.0, 10.0, 2.0)


@pytest.mark.parametrize("name", ["gaussian_pdf", "gaussian_logpdf", "gaussian_cdf"])
def test_inplace_kernels_match_the_reference_expression_and_leave_inputs_alone(name: str) -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 1000)) * 4
    mean = rng.normal(size=(3, 1))
    var = rng.uniform(0.1, 9.0, size=(1, 1000))
    before = (x.copy(), mean.copy(), var.copy())
    reference = getattr(_generated, name)(x, mean, var)
    inplace = getattr(_generated, f"{name}_inplace")(x, mean, var)
    np.testing.assert_allclose(inplace, reference, rtol=2e-13, atol=0)
    assert inplace.shape == (3, 1000)
    for original, kept in zip((x, mean, var), before, strict=True):
        np.testing.assert_array_equal(original, kept)
    assert not np.shares_memory(inplace, x)


def test_public_array_calls_do_not_mutate_inputs() -> None:
    x = np.linspace(-5, 5, 101)
    kept = x.copy()
    for function in (pdf, logpdf, cdf):
        function(x, 0.5, 2.0)
    np.testing.assert_array_equal(x, kept)
