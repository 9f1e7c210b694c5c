"""Tolerances that mean what they say, and tolerance boundaries judged on both sides.

- Every ``pytest.approx`` in the tests states its absolute tolerance: ``approx(x, rel=r)`` adds ``abs=1e-12``
  silently, so ``0.0 == approx(2.8e-155, rel=1e-12)`` passes. Relative checks use ``tests/tolerance.py``.
- The covariance validation's symmetry and semi-definiteness tolerances (``SYMMETRY_RTOL``) accept a matrix
  just inside them and refuse one just outside, at several scales, through the public functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from kfsym.numeric import kf_predict, mvn_logpdf
from kfsym.numeric._validate import SYMMETRY_RTOL
from kfsym.numeric._validate import covariance as validated_covariance
from tests.tolerance import assert_close, assert_rel, rel_error

TESTS = Path(__file__).resolve().parent


def _approx_calls_without_abs(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name == "approx" and not any(keyword.arg == "abs" for keyword in node.keywords):
            lines.append(node.lineno)
    return lines


def test_every_pytest_approx_in_the_tests_states_its_absolute_tolerance() -> None:
    """approx(x, rel=r) hides abs=1e-12: a test comparing 2.8e-155 with 0.0 would pass. State abs= or use assert_rel."""
    offenders = [
        f"{path.relative_to(TESTS.parent)}:{line}"
        for path in sorted(TESTS.rglob("*.py"))
        for line in _approx_calls_without_abs(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_approx_check_sees_a_bare_approx() -> None:
    """The scan above can fail: it finds approx(...) with rel= only, and with no tolerance at all."""
    assert _approx_calls_without_abs("import pytest\nassert 0.0 == pytest.approx(2.8e-155, rel=1e-12)\n") == [2]
    assert _approx_calls_without_abs("from pytest import approx\nassert 1.0 == approx(1.0)\n") == [2]
    assert _approx_calls_without_abs("assert 1.0 == pytest.approx(1.0, rel=0, abs=0)\n") == []


# ----------------------------------------------------------------------------- the helpers themselves
def test_assert_rel_has_no_absolute_floor() -> None:
    """0.0 is not within 1e-12 of 2.8e-155 (pytest.approx(..., rel=1e-12) says it is)."""
    hidden = pytest.approx(2.8e-155, rel=1e-12, abs=1e-12)  # what approx(rel=1e-12) alone means: abs=1e-12 hidden
    assert hidden == 0.0
    with pytest.raises(AssertionError, match="relative error"):
        assert_rel(0.0, 2.8e-155, 1e-12)
    with pytest.raises(AssertionError):
        assert_rel(2.8e-155, 0.0, 1e-12)


def test_assert_rel_boundary_on_both_sides() -> None:
    assert_rel(1.0 + 0.9e-12, 1.0, 1e-12)
    with pytest.raises(AssertionError):
        assert_rel(1.0 + 1.1e-12, 1.0, 1e-12)
    assert_rel(-2.8e-155 * (1 + 0.9e-12), -2.8e-155, 1e-12)
    with pytest.raises(AssertionError):
        assert_rel(-2.8e-155 * (1 + 1.1e-12), -2.8e-155, 1e-12)
    assert_rel(0.0, 0.0, 0.0)
    assert_rel([1.0, 2.0], [1.0, 2.0 * (1 + 1e-13)], 1e-12)
    with pytest.raises(AssertionError, match=r"at \(1,\)"):
        assert_rel([1.0, 2.0], [1.0, 2.0 * (1 + 1e-11)], 1e-12)


def test_assert_rel_refuses_nan_and_a_negative_tolerance() -> None:
    assert rel_error(float("nan"), 1.0) == float("inf")
    with pytest.raises(AssertionError):
        assert_rel(float("nan"), 1.0, 1.0)
    with pytest.raises(ValueError, match="rel must be"):
        assert_rel(1.0, 1.0, -1.0)


def test_assert_close_uses_the_larger_of_the_two_stated_tolerances() -> None:
    assert_close(1e-13, 0.0, rel=0.0, abs=1e-12)
    with pytest.raises(AssertionError):
        assert_close(1e-11, 0.0, rel=0.0, abs=1e-12)
    assert_close(100.0 + 0.9e-8, 100.0, rel=1e-10, abs=0.0)
    with pytest.raises(AssertionError):
        assert_close(100.0 + 1.1e-8, 100.0, rel=1e-10, abs=0.0)


# ----------------------------------------------------------------------------- symmetry tolerance, both sides
def _with_asymmetry(variances: tuple[float, float], correlation: float, excess: float) -> np.ndarray:
    """A 2x2 covariance whose (1, 0) entry exceeds (0, 1) by ``excess`` times the stated tolerance."""
    scale = float(np.sqrt(variances[0])) * float(np.sqrt(variances[1]))  # no underflow of the product
    off = correlation * scale
    return np.array([[variances[0], off], [off + excess * SYMMETRY_RTOL * scale, variances[1]]])


@pytest.mark.parametrize("variances", [(1.0, 1.0), (4.0, 9.0), (1e-200, 1e-180), (1e150, 1e100)])
def test_symmetry_tolerance_just_inside_is_accepted_and_just_outside_refused(variances: tuple[float, float]) -> None:
    """|A_ij - A_ji| <= SYMMETRY_RTOL sqrt(A_ii A_jj) (1e-10): 0.9 times that passes, 1.1 times is an error."""
    assert SYMMETRY_RTOL == 1e-10  # the documented value; the boundary below is stated in its units
    inside, outside = _with_asymmetry(variances, 0.3, 0.9), _with_asymmetry(variances, 0.3, 1.1)
    mean = np.zeros(2)
    assert np.isfinite(mvn_logpdf(mean, mean, inside))
    with pytest.raises(ValueError, match="cov must be symmetric"):
        mvn_logpdf(mean, mean, outside)
    assert kf_predict(mean, inside, np.eye(2), np.zeros((2, 2))).cov.shape == (2, 2)
    with pytest.raises(ValueError, match="P must be symmetric"):
        kf_predict(mean, outside, np.eye(2), np.zeros((2, 2)))


def test_symmetry_tolerance_is_per_entry_scale_in_a_batch() -> None:
    """A huge variance elsewhere in the batch does not loosen the tolerance of a small one."""
    batch = np.stack([_with_asymmetry((1e300, 1e300), 0.0, 0.5), _with_asymmetry((1e-300, 1e-300), 0.0, 1.5)])
    with pytest.raises(ValueError, match=r"symmetric at batch index \(1,\)"):
        validated_covariance(batch, "cov", definite=True)


# ----------------------------------------------------------------------------- semi-definite shift, both sides
@pytest.mark.parametrize("scale", [1.0, 1e-150, 1e200])
def test_semidefinite_tolerance_just_inside_is_accepted_and_just_outside_refused(scale: float) -> None:
    """A semi-definite matrix may have eigenvalues (of its unit-diagonal form) down to -n SYMMETRY_RTOL.

    [[1, r], [r, 1]] has eigenvalues 1 ± r; with n = 2 the smallest may be -2e-10. r = 1 + 0.5e-10 (eigenvalue
    -0.5e-10) is rounding and accepted; r = 1 + 4e-10 (eigenvalue -4e-10) is indefinite and refused.
    """
    inside = scale * np.array([[1.0, 1.0 + 0.5e-10], [1.0 + 0.5e-10, 1.0]])
    outside = scale * np.array([[1.0, 1.0 + 4e-10], [1.0 + 4e-10, 1.0]])
    mean = np.zeros(2)
    kf_predict(mean, inside, np.eye(2), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="P must be positive semi-definite"):
        kf_predict(mean, outside, np.eye(2), np.zeros((2, 2)))
    # exactly singular is semi-definite, and not definite
    singular = scale * np.ones((2, 2))
    validated_covariance(singular, "P", definite=False)
    with pytest.raises(ValueError, match="P must be positive definite"):
        validated_covariance(singular, "P", definite=True)
