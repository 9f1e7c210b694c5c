"""Regression tests for the second attack on the kernel: code execution, the falsifier, compile, timeouts."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from kfsym.derive import Derivation, ProofError, Result, Step, prove_equal
from kfsym.derive.kernel import proof
from kfsym.derive.kernel.falsify import falsify

x = sp.Symbol("x", real=True)
a = sp.Symbol("a", real=True)
FLAG: list[str] = []


def _evil_index(code: str) -> sp.Symbol:
    return sp.Symbol(f"k in [0]) + ({code} or 0) + builtins.sum(0 for k", integer=True)


def test_falsifier_never_runs_code_in_a_bound_variable_name() -> None:
    code = "__import__('tests.soundness.test_attack_doors', fromlist=['FLAG']).FLAG.append('pwned')"
    k = _evil_index(code)
    prove_equal(sp.Integral(x * sp.Sum(1, (k, 1, 2)), (x, 0, 1)), sp.Integer(1), method="simplify", timeout=5)
    assert FLAG == []


def test_falsifier_cannot_replace_is_zero_through_a_name() -> None:
    code = (
        "__import__('kfsym.derive.kernel.proof',fromlist=['p']).__dict__.update("
        "is_zero=lambda v: True, _falsify=lambda *a, **k: 0)"
    )
    k = _evil_index(code)
    original = proof.is_zero
    lemma = Step(
        sp.Integer(1), "a true lemma", method="simplify", lhs=sp.Integral(2 * x * sp.Sum(1, (k, 1, 1)), (x, 0, 1))
    )
    d = Derivation(
        name="evil.one_is_two",
        title="1 = 2",
        lhs=sp.Integer(1),
        rhs=sp.Integer(2),
        steps=(lemma, Step(sp.Integer(2), "obviously", method="expand")),
    )
    with pytest.raises(ProofError):
        d.verify()
    assert proof.is_zero is original


def test_falsifier_skips_points_it_cannot_evaluate() -> None:
    # lambdify has no mpmath DiracDelta (NameError): the point is skipped, the check does not crash.
    tested, counterexample = falsify(sp.Integral(sp.DiracDelta(x - 2), (x, 0, 1)) + a, a)
    assert counterexample is None
    assert tested >= 0


@pytest.mark.parametrize("bad", [0, -1, math.inf, math.nan, 1e12, True, "5"])
def test_timeout_is_validated(bad: object) -> None:
    with pytest.raises(ValueError, match="timeout"):
        prove_equal((x + 1) ** 2, x**2 + 2 * x + 1, method="expand", timeout=bad)  # type: ignore[arg-type]


def square(**extra: object) -> Derivation:
    fields: dict[str, object] = {"name": "x.y", "title": "t", "lhs": (a + 1) ** 2, "rhs": a**2 + 2 * a + 1}
    fields["steps"] = (Step(a**2 + 2 * a + 1, "expand", method="expand"),)
    fields.update(extra)
    return Derivation(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name", ["x.y(): pass\nprint('PWNED')\ndef z", "x.import", "x.__init__", "x.1y", "x..y", "x.y z"]
)
def test_derivation_names_are_dotted_identifiers(name: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        square(name=name)


def test_title_and_summary_cannot_close_the_docstring(capsys: pytest.CaptureFixture[str]) -> None:
    title = 't"""\n    print("PWNED-by-title")\n    """'
    f = square(title=title).compile()
    assert f(1.0) == 4.0
    summary = 's"""\nprint(\'PWNED-by-summary\')\n"""\\'
    result = Result("g", (("a", a),), (("v", a**2 + 2 * a + 1),), summary)
    g = square(name="x.w", results=(result,)).compile()
    assert g(2.0) == 9.0
    assert "PWNED" not in capsys.readouterr().out
    assert g.__doc__ is not None and "PWNED-by-summary" in g.__doc__  # shown as text, never run


@pytest.mark.parametrize("name", ["g()", "class", "__import__", "a b"])
def test_result_and_parameter_names_are_identifiers(name: str) -> None:
    with pytest.raises(ValueError, match="identifier"):
        Result(name, (("a", a),), (("v", a),), "s")
    with pytest.raises(ValueError, match="identifier"):
        Result("g", ((name, a),), (("v", a),), "s")
    with pytest.raises(ValueError, match="identifier"):
        Result("g", (("a", a),), ((name, a),), "s")


def test_a_symbol_name_that_is_not_an_identifier_is_not_compiled() -> None:
    b = sp.Symbol("b) or print('PWNED') or (b", real=True)
    d = Derivation(
        name="x.v", title="t", lhs=(b + 1) ** 2, rhs=b**2 + 2 * b + 1, steps=(Step(b**2 + 2 * b + 1, "e", "expand"),)
    )
    with pytest.raises(ValueError, match="identifier"):
        d.compile()


def test_a_result_must_be_what_was_proved() -> None:
    result = Result("square_plus_one", (("a", a),), (("value", a**3 - 7),), "(a+1)^2, proved")
    with pytest.raises(ValueError, match="not the proved right side"):
        square(name="evil.result", results=(result,))


def test_compile_verifies_first() -> None:
    false = Derivation(
        name="x.false", title="t", lhs=(a + 1) ** 2, rhs=a**2 + 1, steps=(Step(a**2 + 1, "wrong", "expand"),)
    )
    with pytest.raises(ProofError):
        false.compile()


def test_rank_one_inverse_cancelled_by_sympy_is_only_the_identity() -> None:
    # SymPy cancels X^-1 X to I when the product is built: the kernel sees I = I (true), never the inverse.
    n = sp.Symbol("n", integer=True, positive=True)
    h = sp.MatrixSymbol("h", n, 1)
    assert (h * h.T).I * (h * h.T) == sp.Identity(n)
    with pytest.raises(ProofError, match="inverse"):
        prove_equal(sp.MatMul((h * h.T).I, h * h.T, evaluate=False), sp.Identity(n), method="rewrite")


def test_falsifier_samples_irrational_and_transcendental_symbols() -> None:
    r = sp.Symbol("r", irrational=True)
    t = sp.Symbol("t", transcendental=True, real=True)
    tested, counterexample = falsify(2 * r, r + r)
    assert tested > 0 and counterexample is None
    assert falsify(r, 1 + 0 * r)[1] is not None
    assert falsify(t, 1 + 0 * t)[1] is not None


def test_falsifier_gives_undefined_functions_random_polynomials() -> None:
    c = sp.Symbol("c", real=True)
    f = sp.Function("f")
    tested, counterexample = falsify(2 * f(c), f(c) + f(c))
    assert tested > 0 and counterexample is None
    assert falsify(f(c) * sp.Integral(x, (x, 0, 1)), sp.Integer(0) * x)[1] is not None
