"""Properties that the mutation study (issue 17) found unprotected: each test states the property it guards.

Every test here was seen to fail against the hand-made mutant it is named for (the mutant then reverted), so
each one can fail; but each states a property of the engine, the numerics or the CLI, not of a mutant.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

from kfsym import codegen, render
from kfsym.cli import main
from kfsym.derive import Case, Derivation, ProofError, Step, prove_equal, prove_nonnegative
from kfsym.derive.kernel import verify_chain
from kfsym.derive.kernel.checks import change_of_variables, is_zero, residual
from kfsym.derive.kernel.linalg import matrix_residual
from kfsym.derive.kernel.operators import normal_sums
from kfsym.numeric import expectation, multiply
from tests.tolerance import assert_rel
from tests.tools import missing, typesetters_required

a = sp.Symbol("a", real=True)
c = sp.Symbol("c", real=True)
p, q = sp.symbols("p q", positive=True)
t, x, y, z, w = sp.symbols("t x y z w", real=True)
i, j = sp.symbols("i j", integer=True)
m, n = sp.symbols("m n", integer=True, positive=True)


# ============================================================================ proof engine
# ---------------------------------------------------------------------------- inequalities never chain
def test_a_chained_inequality_step_is_refused_by_the_derivation() -> None:
    """a² + 1 >= a² is true, but as a link of a chain of equalities it would 'prove' a² + 1 = a²."""
    with pytest.raises(ValueError, match="inequality"):
        Derivation("t.chain", "chained inequality", a**2 + 1, a**2, (Step(a**2, "drop 1", method="nonnegative"),))


def test_a_chained_inequality_step_is_refused_by_the_kernel() -> None:
    """The kernel refuses it too, whoever builds the chain (the Derivation's check is not the only guard)."""
    with pytest.raises(ProofError, match="inequality step cannot continue a chain"):
        verify_chain("t.chain", a**2 + 1, a**2, [Step(a**2, "drop 1", method="nonnegative")])
    # the same inequality as a lemma is fine: lhs >= expr, not lhs = expr
    verify_chain(
        "t.lemma",
        (a + 1) ** 2 - 2 * a,
        a**2 + 1,
        [Step(a**2, "drop 1", method="nonnegative", lhs=a**2 + 1), Step(a**2 + 1, "multiply out", method="expand")],
    )


# ---------------------------------------------------------------------------- every case is checked
def test_every_case_of_a_case_split_is_checked() -> None:
    """Min(p, q) = p holds in the case p <= q only; the case q <= p gives q = p, which must be refused."""
    cases = (Case(p <= q, {sp.Min(p, q): p}), Case(q <= p, {sp.Min(p, q): q}))
    with pytest.raises(ProofError, match=r"does not hold \(case"):
        verify_chain("t.min", sp.Min(p, q), p, [Step(p, "the smaller one", method="cancel", cases=cases)])
    # the true statement Min(p, q) + Max(p, q) = p + q passes the same split
    both = (
        Case(p <= q, {sp.Min(p, q): p, sp.Max(p, q): q}),
        Case(q <= p, {sp.Min(p, q): q, sp.Max(p, q): p}),
    )
    verify_chain("t.minmax", sp.Min(p, q) + sp.Max(p, q), p + q, [Step(p + q, "by cases", method="cancel", cases=both)])


def test_a_case_split_that_misses_values_is_refused() -> None:
    cases = (Case(p < q, {sp.Min(p, q): p}), Case(q < p, {sp.Min(p, q): q}))  # p = q is in neither
    with pytest.raises(ProofError, match="not proved exhaustive"):
        verify_chain("t.gap", sp.Min(p, q) + sp.Max(p, q), p + q, [Step(p + q, "cases", method="cancel", cases=cases)])


# ---------------------------------------------------------------------------- integrals
def test_integrals_with_different_limits_are_not_equal() -> None:
    """∫₀¹ e⁻ᵗ dt = 1 - 1/e and ∫₀² e⁻ᵗ dt = 1 - 1/e²: the same integrand over other limits is another number."""
    one, two = sp.Integral(sp.exp(-t), (t, 0, 1)), sp.Integral(sp.exp(-t), (t, 0, 2))
    assert not is_zero(residual(one, two, "integrand", {}))
    with pytest.raises(ProofError):
        prove_equal(one, two, method="integrand")
    # same limits, integrands equal after cancelling: accepted
    prove_equal(one, sp.Integral(sp.exp(-t) * (1 + t) / (1 + t), (t, 0, 1)), method="integrand")


def _gaussian_2d(scale: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    left = sp.Integral(sp.exp(-(x**2) - y**2), (x, -sp.oo, sp.oo), (y, -sp.oo, sp.oo))
    right = sp.Abs(scale) * sp.Integral(sp.exp(-((scale * z) ** 2) - w**2), (z, -sp.oo, sp.oo), (w, -sp.oo, sp.oo))
    return left, right


def test_a_substitution_x_equals_c_z_needs_c_nonzero_proved() -> None:
    """x = c z, y = w maps the plane onto itself only for c ≠ 0 (c = 0 gives 0 on the right, π on the left)."""
    left, right = _gaussian_2d(c)  # c real, possibly 0
    assert not is_zero(change_of_variables(left, right, ((x, c * z), (y, w))))
    nonzero = sp.Symbol("c", real=True, nonzero=True)
    left, right = _gaussian_2d(nonzero)
    assert change_of_variables(left, right, ((x, nonzero * z), (y, w))) == 0


# ---------------------------------------------------------------------------- inequalities
def test_a_real_number_is_not_proved_nonnegative() -> None:
    """a >= 0 is false for a = -1: only what the assumptions imply (a², p, p + a²) is accepted."""
    with pytest.raises(ProofError):
        prove_nonnegative(a)
    with pytest.raises(ProofError):
        prove_nonnegative(a, 1)
    assert not is_zero(residual(a, 0, "nonnegative", {}))
    prove_nonnegative(a**2)
    prove_nonnegative(p + a**2, a**2)


# ---------------------------------------------------------------------------- matrices
def test_a_matrix_is_not_symmetric_unless_stated() -> None:
    """Aᵀ = A is false for a generic 2x2 A; it holds (trivially) once X^T = X is a stated fact."""
    A = sp.MatrixSymbol("A", 2, 2)
    B = sp.MatrixSymbol("B", 2, 2)
    assert not is_zero(matrix_residual(A.T, A, {}))
    assert not is_zero(matrix_residual(A.T, A, {B.T: B}))  # another matrix's symmetry does not make A symmetric
    assert is_zero(matrix_residual(A.T, A, {A.T: A}))
    assert is_zero(matrix_residual((A * B).T, B.T * A.T, {}))
    with pytest.raises(ProofError):
        prove_equal(A.T, A, method="matrices")


# ---------------------------------------------------------------------------- sums and Kronecker deltas
def test_a_delta_collapses_only_over_its_own_range() -> None:
    """Σ_{i=1}^{n} Σ_{j=1}^{m} δ_ij = min(m, n): it is n when m = n, but not n for a different upper limit m."""
    different = sp.Sum(sp.Sum(sp.KroneckerDelta(i, j), (j, 1, m)), (i, 1, n))
    assert normal_sums(different, {}) != n
    assert not is_zero(residual(different, n, "sums", {}))
    same = sp.Sum(sp.Sum(sp.KroneckerDelta(i, j), (j, 1, n)), (i, 1, n))
    assert is_zero(residual(same, n, "sums", {}))
    # concretely m = 2 < n = 3: the double sum is 2
    assert sp.Sum(sp.Sum(sp.KroneckerDelta(i, j), (j, 1, 2)), (i, 1, 3)).doit() == 2


# ============================================================================ numerics
@pytest.mark.parametrize(("m1", "v1", "m2", "v2"), [(0.0, 1e308, 1.0, 4e307), (3.0, 5e307, -7.0, 1.5e308)])
def test_multiply_overflow_fallback_mean_is_right_for_unequal_means(m1: float, v1: float, m2: float, v2: float) -> None:
    """v1 + v2 overflows; the product's mean is still (m1 v2 + m2 v1) / (v1 + v2), weighting by the *other* variance."""
    got = multiply(m1, v1, m2, v2)
    total = v1 / 4 + v2 / 4  # (v1 + v2) / 4, representable
    want_mean = m1 * (v2 / 4) / total + m2 * (v1 / 4) / total
    want_var = (v1 / 4) * (v2 / total)
    assert_rel(got.mean, want_mean, 1e-14)
    assert_rel(got.var, want_var, 1e-14)
    # the array path agrees
    arrays = multiply(np.array([m1]), np.array([v1]), np.array([m2]), np.array([v2]))
    assert_rel(arrays.mean, want_mean, 1e-14)


@pytest.mark.parametrize(
    ("m1", "v1", "m2", "v2"),
    [
        (3e-20, 1e-160, 1e300, 1e160),  # the precise mean first
        (1e300, 1e160, 3e-20, 1e-160),  # the precise mean second
        (-5e-21, 1e-171, -2.5e300, 1e150),
    ],
)
def test_multiply_mean_is_right_for_unequal_means_when_the_variance_ratio_underflows(
    m1: float, v1: float, m2: float, v2: float
) -> None:
    """min/max of the variances below 2^-1022: the mean m_lo + m_hi r still counts the other mean's share m_hi r.

    Here m_hi r is as large as m_lo (4e-20 = 3e-20 + 1e300 · 1e-320), so weighting either mean by the wrong
    variance, or dropping the share, is far outside the tolerance. Reference: mpmath at 60 digits.
    """
    with mpmath.workdps(60):
        e1, f1, e2, f2 = (mpmath.mpf(value) for value in (m1, v1, m2, v2))
        want = float((e1 * f2 + e2 * f1) / (f1 + f2))
    got = multiply(m1, v1, m2, v2)
    assert_rel(got.mean, want, 1e-13)
    assert_rel(multiply(np.array([m1, m1]), v1, m2, np.array([v2, v2])).mean, [want, want], 1e-13)


@pytest.mark.parametrize("axis", [True, False, 1.0, "0"])
def test_expectation_refuses_a_non_integer_axis(axis: object) -> None:
    """axis=True is not axis 1 (bool is an int in Python): a wrong axis is an error, not a silent reduction."""
    values = np.arange(6.0).reshape(2, 3)
    with pytest.raises(TypeError, match="axis"):
        expectation(values, axis=axis)  # type: ignore[arg-type]
    np.testing.assert_array_equal(expectation(values, axis=1), [1.0, 4.0])


# ============================================================================ CLI and rendering
def test_codegen_check_exits_non_zero_on_a_stale_file(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`kfsym codegen --check` is CI's guard against an out-of-date _generated.py: a difference is exit status 1."""
    assert main(["codegen", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out
    current = codegen.generate_source()
    # the proofs now print one more line than the committed file holds: the file is stale
    monkeypatch.setattr(codegen, "generate_source", lambda: current + "# a newly proved kernel\n")
    assert main(["codegen", "--check"]) == 1
    captured = capsys.readouterr()
    assert "stale" in captured.err and "up to date" not in captured.out
    assert codegen.GENERATED_PATH.read_text(encoding="utf-8") == current  # --check never writes


@pytest.mark.parametrize(
    ("preamble", "earlier"),
    [("", False), ("", True), ("\\undefinedkfsymmacro\n", True)],
    ids=["half-written", "error-on-page-2-after-an-earlier-run", "error-in-the-preamble-after-an-earlier-run"],
)
def test_a_failed_latex_run_leaves_no_pdf(tmp_path: Path, preamble: str, earlier: bool) -> None:
    """After a LaTeX error there is no kfsym.pdf: neither the pages shipped before the error nor an older PDF."""
    if shutil.which("latexmk") is None or shutil.which("pdflatex") is None:
        missing("latexmk/pdflatex", required=typesetters_required(), because="CI=true or KFSYM_REQUIRE_TYPESETTERS=1")
    pdf = tmp_path / render.TEX_NAME.replace(".tex", ".pdf")
    if earlier:
        pdf.write_bytes(b"%PDF-1.5 from an earlier, successful run")
    (tmp_path / render.TEX_NAME).write_text(
        "\\documentclass{article}\n"
        + preamble
        + "\\begin{document}\nA first page.\\newpage\nSecond \\undefinedkfsymmacro\n\\end{document}\n",
        encoding="utf-8",
    )
    with pytest.raises(render.LatexError, match="latexmk failed"):
        render.build_pdf(tmp_path, timeout=120)
    assert not pdf.exists()


def test_a_zero_variance_in_a_result_zeroes_its_row_and_column_and_nothing_else() -> None:
    """covariance_result: a variance rounded to <= 0 becomes 0 with its row and column; other entries stay."""
    from kfsym.numeric.multivariate import covariance_result

    computed = np.array([[-1e-17, 1e-18, 2e-18], [1e-18, 2.0, 0.5], [2e-18, 0.5, 3.0]])
    got = covariance_result(computed.copy())
    np.testing.assert_array_equal(got, [[0.0, 0.0, 0.0], [0.0, 2.0, 0.5], [0.0, 0.5, 3.0]])
    # a valid covariance is returned as it is
    valid = np.array([[2.0, 0.5], [0.5, 3.0]])
    np.testing.assert_array_equal(covariance_result(valid.copy()), valid)
