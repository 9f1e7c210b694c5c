"""The proof engine: :class:`Step`, :class:`Derivation`, :class:`ProofError`.

A derivation states a *claim* ``lhs = rhs`` and a chain of steps
``lhs = e1 = e2 = ... = rhs``; each step says why it holds and how SymPy checks
it (see :mod:`kfsym.derive.checks`). Named quantities (the posterior mean
``mu``, the gain ``K``, ...) are introduced with ``where`` definitions that the
checks substitute, so the text stays readable and the proof stays complete.

Verifying a derivation checks every step symbolically, each under a time
limit, and checks that the chain really ends at the claim. A step that does not
hold raises :class:`ProofError` naming the derivation, the step and the
residual that did not vanish.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from kfsym.derive.checks import CheckTimeout, is_zero, residual, run_with_time_limit

__all__ = [
    "DEFAULT_TIMEOUT",
    "Derivation",
    "ProofError",
    "ProofReport",
    "Result",
    "Step",
    "prove_equal",
]

#: Seconds one check may take before it counts as a failure.
DEFAULT_TIMEOUT = 10.0


class ProofError(AssertionError):
    """A step of a derivation could not be proved.

    Attributes
    ----------
    derivation : str
        Name of the derivation (``"prove_equal"`` for a stand-alone check).
    step : int or None
        1-based number of the failing step; ``None`` for the claim itself.
    residual : sympy expression or None
        What was left of ``lhs - rhs`` (or of the log-ratio) after checking;
        ``None`` when the check timed out or the derivation is malformed.
    reason : str
        A one-line explanation.
    """

    def __init__(self, derivation: str, step: int | None, reason: str, residual: Any = None) -> None:
        self.derivation = derivation
        self.step = step
        self.reason = reason
        self.residual = residual
        where = f"step {step}" if step is not None else "claim"
        message = f"{derivation}, {where}: {reason}"
        if residual is not None:
            message += f"\n  residual that did not vanish: {sp.sstr(residual)}"
        super().__init__(message)


@dataclass(frozen=True)
class Step:
    """One link of a derivation: ``previous = expr``, because ``why``.

    Parameters
    ----------
    expr : sympy expression or Matrix
        The new form. For a chained step the claim is that the previous
        expression of the chain equals ``expr``.
    why : str
        One-line justification in words (shown in every rendering).
    method : str
        How SymPy checks it: ``expand``, ``cancel``, ``simplify`` or
        ``log_ratio`` (see :mod:`kfsym.derive.checks`).
    lhs : sympy expression, optional
        Makes the step a stand-alone equality ``lhs = expr`` (a lemma used by
        the chain) instead of a link of the chain.
    cases : sequence of dict, optional
        Proof by exhaustive cases: the step is checked once per substitution,
        e.g. ``({Min(a, b): a, Max(a, b): b}, {Min(a, b): b, Max(a, b): a})``,
        or once per matrix size (``({n: 2}, {n: 3}, {n: 4})``).
    change : tuple of (symbol, expression), optional
        For ``method="change_of_variables"``: the affine map ``old = f(new)``.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> Step((a + b)**2, "binomial square", method="expand", lhs=a**2 + 2*a*b + b**2).method
    'expand'
    """

    expr: Any
    why: str
    method: str = "simplify"
    lhs: Any = None
    cases: tuple[Mapping[Any, Any], ...] = ()
    change: tuple[tuple[Any, Any], ...] = ()

    @property
    def chained(self) -> bool:
        """True when this step continues the chain from the previous one."""
        return self.lhs is None


@dataclass(frozen=True)
class Result:
    """A proved formula that code generation turns into a NumPy kernel.

    Parameters
    ----------
    name : str
        Name of the generated Python function (``gaussian_pdf``).
    params : tuple of (str, expression)
        Argument names and what they stand for: a symbol, or ``sigma**2`` for
        a variance argument when the derivation is written in terms of a
        positive standard deviation ``sigma`` (codegen substitutes
        ``sigma = sqrt(var)``).
    outputs : tuple of (str, expression)
        Returned values, in order; ``where`` definitions are substituted.
    summary : str
        One line for the generated docstring.
    data : str, optional
        The argument that carries large arrays (``"x"`` of a density): codegen
        also prints an allocation-free ``<name>_inplace`` kernel lowered to a
        chain of ufunc steps on it, and a ``<name>_scalar`` twin for floats.
    scalar : bool
        Also print a ``<name>_scalar`` kernel on Python floats (``math``), for
        the scalar fast path of the public function.
    between : tuple of (str, str, str)
        ``(output, low, high)``: the output is a convex combination of the
        arguments ``low`` and ``high`` (its weights, stated in the derivation,
        lie in [0, 1] and sum to 1), so the kernels clip the rounded value to
        the closed interval between them. Rounding can otherwise leave it an
        ulp outside (``mean1 == mean2`` must give exactly that mean).
    """

    name: str
    params: tuple[tuple[str, Any], ...]
    outputs: tuple[tuple[str, Any], ...]
    summary: str
    data: str | None = None
    scalar: bool = False
    between: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class ProofReport:
    """What :meth:`Derivation.verify` checked and how long each check took."""

    name: str
    step_seconds: tuple[float, ...]
    seconds: float

    @property
    def steps(self) -> int:
        """Number of steps checked."""
        return len(self.step_seconds)


def _definition_symbol(lhs: Any) -> tuple[Any, Any]:
    """Turn ``sigma**2`` into ``(sigma, sqrt)``; a plain symbol into ``(s, identity)``."""
    if isinstance(lhs, sp.Symbol):
        return lhs, None
    if isinstance(lhs, sp.Pow) and lhs.exp == 2 and isinstance(lhs.base, sp.Symbol) and lhs.base.is_positive:
        return lhs.base, sp.sqrt
    raise ValueError(f"a definition must name a symbol or the square of a positive symbol, got {lhs}")


def _check_step(
    name: str, number: int, lhs: Any, rhs: Any, step: Step, *, substitutions: dict[Any, Any], timeout: float
) -> None:
    """Check ``lhs == rhs`` as ``step`` says (once per case) or raise :class:`ProofError`."""
    cases: Sequence[Mapping[Any, Any]] = step.cases or ({},)
    for case in cases:

        def compute(case: Mapping[Any, Any] = case) -> Any:
            return residual(lhs.xreplace(case), rhs.xreplace(case), step.method, substitutions, step.change)

        try:
            left_over = run_with_time_limit(compute, timeout)
        except CheckTimeout:
            reason = f"check '{step.method}' timed out after {timeout:g} s ({step.why})"
            raise ProofError(name, number, reason) from None
        if not is_zero(left_over):
            label = f" (case {dict(case)})" if case else ""
            raise ProofError(name, number, f"does not hold{label}: {step.why}", left_over)


@dataclass(frozen=True)
class Derivation:
    """A claim with a chain of symbolically checked steps.

    Parameters
    ----------
    name : str
        Registry key, ``topic.short_name`` (``gaussian.product``).
    title : str
        One line saying what is proved.
    lhs, rhs : sympy expression or Matrix
        The claim ``lhs = rhs``.
    steps : tuple of Step
        Chained steps lead from ``lhs`` to exactly ``rhs``; stand-alone steps
        (with ``lhs`` set) are lemmas checked on their own.
    where : tuple of (expression, expression)
        Definitions ``(mu, (mu1*s2**2 + mu2*s1**2)/(s1**2 + s2**2))``; the left
        side is a symbol or the square of a positive symbol. Later definitions
        may use earlier ones. The definition must satisfy the assumptions of
        the symbol it defines (real, positive), which :meth:`verify` checks.
    given : tuple of (expression, expression)
        Facts of the setting, stated and used as rewrite rules in every check:
        ``(Sum(p[i], (i, 1, n)), 1)`` (probabilities sum to one), or the moment
        rule ``(E(x[i]*x[j]), mu**2 + sigma**2*KroneckerDelta(i, j))``. They are
        hypotheses, shown with the derivation, not things it proves.
    results : tuple of Result
        Formulas for code generation.
    notes : str
        Prose shown with the derivation: scope, what was checked, references.
    timeout : float
        Seconds allowed for each check.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b", real=True)
    >>> d = Derivation(
    ...     name="example.square",
    ...     title="square of a sum",
    ...     lhs=(a + b)**2,
    ...     rhs=a**2 + 2*a*b + b**2,
    ...     steps=(Step(a**2 + 2*a*b + b**2, "multiply out", method="expand"),),
    ... )
    >>> d.verify().steps
    1
    >>> d.compile()(a=1.0, b=2.0)
    9.0
    """

    name: str
    title: str
    lhs: Any
    rhs: Any
    steps: tuple[Step, ...]
    where: tuple[tuple[Any, Any], ...] = ()
    given: tuple[tuple[Any, Any], ...] = ()
    results: tuple[Result, ...] = ()
    notes: str = ""
    timeout: float = DEFAULT_TIMEOUT
    _substitutions: dict[Any, Any] = field(init=False, repr=False, compare=False)
    _rules: dict[Any, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if "." not in self.name:
            raise ValueError(f"derivation name {self.name!r} must look like 'topic.name'")
        if not any(step.chained for step in self.steps):
            raise ValueError(f"derivation {self.name!r} needs at least one chained step")
        if any(step.chained and step.method == "nonnegative" for step in self.steps):
            raise ValueError(f"derivation {self.name!r}: an inequality ('nonnegative') step must be a lemma (lhs=...)")
        substitutions: dict[Any, Any] = {}
        for lhs, rhs in self.where:
            symbol, transform = _definition_symbol(lhs)
            value = sp.sympify(rhs).xreplace(substitutions)
            substitutions[symbol] = transform(value) if transform is not None else value
        object.__setattr__(self, "_substitutions", substitutions)
        object.__setattr__(self, "_rules", {**substitutions, **dict(self.given)})

    # ------------------------------------------------------------------ facts
    @property
    def topic(self) -> str:
        """The part of the name before the first dot."""
        return self.name.split(".", 1)[0]

    @property
    def claim(self) -> Any:
        """The claim as an unevaluated ``Eq``."""
        return sp.Eq(self.lhs, self.rhs, evaluate=False)

    @property
    def substitutions(self) -> dict[Any, Any]:
        """The ``where`` definitions, each fully expanded in the base symbols."""
        return dict(self._substitutions)

    @property
    def symbols(self) -> tuple[Any, ...]:
        """The free symbols of the claim and the definitions, sorted by name."""
        found: set[Any] = set()
        for expr in (self.lhs, self.rhs, *(rhs for _, rhs in self.where)):
            found |= {s for s in sp.sympify(expr).free_symbols if isinstance(s, sp.Symbol)}
        found -= set(self._substitutions)
        return tuple(sorted(found, key=lambda s: s.name))

    def assumptions_text(self, style: str = "text") -> str:
        """``"x, μ real; σ positive"`` from the symbol assumptions (``style="latex"`` for LaTeX)."""
        from kfsym.derive.display import assumptions

        return assumptions(self.symbols, style)

    # ------------------------------------------------------------- checking
    def _check_definitions(self) -> None:
        for lhs, _ in self.where:
            symbol, _transform = _definition_symbol(lhs)
            value = self._substitutions[symbol]
            for assumption in ("real", "positive"):
                if getattr(symbol, f"is_{assumption}") and getattr(value, f"is_{assumption}") is not True:
                    raise ProofError(
                        self.name,
                        None,
                        f"definition of {symbol} is not provably {assumption}, as the symbol assumes",
                        value,
                    )

    def verify(self) -> ProofReport:
        """Check every step symbolically and that the chain ends at the claim.

        Returns
        -------
        ProofReport
            Per-step timings.

        Raises
        ------
        ProofError
            Naming the first step that fails, with its residual, or the step
            whose check ran out of time.
        """
        started = time.perf_counter()
        self._check_definitions()
        timings: list[float] = []
        current = self.lhs
        for number, step in enumerate(self.steps, start=1):
            step_started = time.perf_counter()
            before = current if step.chained else step.lhs
            _check_step(
                self.name,
                number,
                sp.sympify(before),
                sp.sympify(step.expr),
                step,
                substitutions=self._rules,
                timeout=self.timeout,
            )
            if step.chained:
                current = step.expr
            timings.append(time.perf_counter() - step_started)
        if current != self.rhs:
            raise ProofError(self.name, None, "the chain of steps does not end at the claim's right side", None)
        return ProofReport(self.name, tuple(timings), time.perf_counter() - started)

    # -------------------------------------------------------------- output
    def latex(self) -> str:
        r"""The derivation as an ``align*`` block with ``\text{...}`` reasons.

        Examples
        --------
        >>> from kfsym.derive import get
        >>> print(get("gaussian.sum_mgf").latex().splitlines()[0])
        \begin{align*}
        """
        from kfsym.derive.display import derivation_latex

        return derivation_latex(self)

    def _repr_latex_(self) -> str:
        return self.latex()

    def __str__(self) -> str:
        from kfsym.derive.display import derivation_text

        return derivation_text(self)

    # ---------------------------------------------------------- numerics
    def compile(self, result: str | None = None) -> Callable[..., Any]:
        """A NumPy function of a result, printed exactly as codegen prints it.

        Parameters
        ----------
        result : str, optional
            Name of one of :attr:`results`. Without results, the claim's right
            side is compiled as a function of its free symbols (by name, sorted,
            passed as keywords or positionally).

        Returns
        -------
        callable
            Broadcasting NumPy function; a tuple of arrays when the result has
            several outputs.
        """
        from kfsym.derive.printing import compile_result

        return compile_result(self._pick_result(result), self.where, self.name)

    def _pick_result(self, name: str | None) -> Result:
        if name is None and not self.results:
            free = sorted(sp.sympify(self.rhs).xreplace(self._substitutions).free_symbols, key=lambda s: s.name)
            params = tuple((symbol.name, symbol) for symbol in free)
            return Result(self.name.replace(".", "_"), params, (("value", self.rhs),), self.title)
        if name is None:
            if len(self.results) > 1:
                names = ", ".join(r.name for r in self.results)
                raise ValueError(f"{self.name} has several results; choose one of {names}")
            return self.results[0]
        for candidate in self.results:
            if candidate.name == name:
                return candidate
        names = ", ".join(r.name for r in self.results) or "none"
        raise ValueError(f"{self.name} has no result {name!r}; it has: {names}")


def prove_equal(lhs: Any, rhs: Any, *, method: str = "simplify", timeout: float = DEFAULT_TIMEOUT) -> None:
    """Prove ``lhs == rhs`` symbolically or raise :class:`ProofError`.

    Parameters
    ----------
    lhs, rhs : sympy expression or Matrix
    method : str
        ``expand``, ``cancel``, ``simplify`` (default) or ``log_ratio``.
    timeout : float
        Seconds before the attempt counts as a failure.

    Raises
    ------
    ProofError
        With the residual SymPy could not reduce to zero, or on timeout.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b", positive=True)
    >>> prove_equal(a*b/(a + b), 1/(1/a + 1/b), method="cancel")
    >>> prove_equal(a*b/(a + b), a + b)
    Traceback (most recent call last):
    ...
    kfsym.derive.core.ProofError: prove_equal, step 1: does not hold: lhs == rhs
      residual that did not vanish: ...
    """
    step = Step(rhs, "lhs == rhs", method=method)
    _check_step("prove_equal", 1, sp.sympify(lhs), sp.sympify(rhs), step, substitutions={}, timeout=timeout)
