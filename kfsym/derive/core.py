"""The proof engine: :class:`Step`, :class:`Derivation`, :class:`ProofError`.

A derivation states a *claim* ``lhs = rhs`` and a chain of steps
``lhs = e1 = e2 = ... = rhs``; each step says why it holds and how SymPy checks
it (see :mod:`kfsym.derive.checks`). Named quantities (the posterior mean
``mu``, the gain ``K``, ...) are introduced with ``where`` definitions that the
checks substitute, so the text stays readable and the proof stays complete.

Verifying a derivation hands it to the trusted kernel
(:mod:`kfsym.derive.kernel`), which checks every step symbolically, each under
a time limit, runs the numeric falsifier, and checks that the chain really
ends at the claim. A step that does not hold raises :class:`ProofError` naming
the derivation, the step and the residual that did not vanish. This module
only holds the data; printing lives in :mod:`kfsym.derive.display`.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from kfsym.derive.kernel import (
    DEFAULT_TIMEOUT,
    Case,
    ProofError,
    ProofReport,
    Step,
    definitions_of,
    prove_equal,
    prove_nonnegative,
    verify_chain,
)
from kfsym.derive.kernel.admit import admit, admit_pairs

__all__ = [
    "DEFAULT_TIMEOUT",
    "Case",
    "Derivation",
    "ProofError",
    "ProofReport",
    "Result",
    "Step",
    "prove_equal",
    "prove_nonnegative",
]


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
    fast_when : sympy relational, optional
        A condition on the derivation's symbols under which the printed
        formula is accurate in floating point; the scalar fast path tests it
        and otherwise defers to the validated path, which handles the rest
        (e.g. a ratio of variances below the normal range).
    """

    name: str
    params: tuple[tuple[str, Any], ...]
    outputs: tuple[tuple[str, Any], ...]
    summary: str
    data: str | None = None
    scalar: bool = False
    between: tuple[tuple[str, str, str], ...] = ()
    fast_when: Any = None

    def __post_init__(self) -> None:
        # Every name below is printed into Python source that compile() executes: only plain identifiers.
        _identifier(self.name, "result name")
        if not isinstance(self.summary, str):
            raise TypeError(f"result {self.name}: summary must be a str")
        for label, group in (("parameter", self.params), ("output", self.outputs)):
            for pair in group:
                if not isinstance(pair, tuple) or len(pair) != 2:
                    raise TypeError(f"result {self.name}: each {label} is a (name, expression) pair")
                _identifier(pair[0], f"result {self.name} {label} name")
        names = [name for name, _ in self.params] + [name for name, _ in self.outputs]
        if len(set(names)) != len(names):
            raise ValueError(f"result {self.name}: parameter and output names must be distinct")
        if self.data is not None:
            _identifier(self.data, f"result {self.name} data argument")
        for triple in self.between:
            for name in triple:
                _identifier(name, f"result {self.name} between")


def _identifier(name: Any, what: str) -> None:
    """Refuse anything but a plain Python identifier (never a keyword, never dunder)."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name) or name.startswith("__"):
        raise ValueError(f"{what} {name!r} must be a Python identifier (letters, digits, underscores; not a keyword)")


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
        may use earlier ones (never themselves). Definitions are substituted
        before anything is evaluated, and each must satisfy *every* assumption
        of the symbol it defines (real, positive, integer, ...), which
        :meth:`verify` checks. Strings and floats are refused (``TypeError``).
    given : tuple of (expression, expression)
        Facts of the setting, stated and used as rewrite rules in every check:
        ``(Sum(p[i], (i, 1, n)), 1)`` (probabilities sum to one), or the moment
        rule ``(E(x[i]*x[j]), mu**2 + sigma**2*KroneckerDelta(i, j))``. They are
        hypotheses, shown with the derivation, not things it proves. A
        symmetry ``(X.T, X)`` of a matrix symbol is also used by the
        ``matrices`` method and by the numeric falsifier.
    results : tuple of Result
        Formulas for code generation.
    notes : str
        Prose shown with the derivation: scope, what was checked, references.
    conditions : tuple of str
        Conditions on the symbols that the statement needs beyond their SymPy
        assumptions (``"$a < b$"`` where ``b - a`` is divided by), as prose
        with ``$...$`` math; listed on the "assuming" line. The checks treat
        rational functions as identities where they are defined, which is
        exactly where these conditions hold.
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
    conditions: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    _substitutions: dict[Any, Any] = field(init=False, repr=False, compare=False)
    _rules: dict[Any, Any] = field(init=False, repr=False, compare=False)
    _verified: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or "." not in self.name:
            raise ValueError(f"derivation name {self.name!r} must look like 'topic.name'")
        for part in self.name.split("."):
            _identifier(part, f"derivation name {self.name!r}: part")
        if not isinstance(self.title, str) or not isinstance(self.notes, str):
            raise TypeError(f"derivation {self.name!r}: title and notes are text (str)")
        object.__setattr__(self, "lhs", admit(self.lhs, f"{self.name} lhs"))
        object.__setattr__(self, "rhs", admit(self.rhs, f"{self.name} rhs"))
        object.__setattr__(self, "where", admit_pairs(self.where, f"{self.name} where"))
        object.__setattr__(self, "given", admit_pairs(self.given, f"{self.name} given"))
        if any(not isinstance(step, Step) for step in self.steps):
            raise TypeError(f"derivation {self.name!r}: steps must be Step objects")
        if not any(step.chained for step in self.steps):
            raise ValueError(f"derivation {self.name!r} needs at least one chained step")
        if any(step.chained and step.relation != "=" for step in self.steps):
            raise ValueError(f"derivation {self.name!r}: an inequality ('nonnegative') step must be a lemma (lhs=...)")
        substitutions = definitions_of(self.where)
        object.__setattr__(self, "_substitutions", substitutions)
        object.__setattr__(self, "_rules", {**substitutions, **dict(self.given)})
        object.__setattr__(self, "_verified", False)
        if any(not isinstance(result, Result) for result in self.results):
            raise TypeError(f"derivation {self.name!r}: results must be Result objects")
        for result in self.results:
            self._check_result(result)

    def _check_result(self, result: Result) -> None:
        """A result prints only what is proved: the right side, a part of it, or a ``where`` definition."""
        substitutions = self._substitutions
        rhs = self.rhs.xreplace(substitutions)
        proved: set[Any] = set()
        for entry in rhs if isinstance(rhs, sp.MatrixBase) else [rhs]:
            proved |= set(sp.preorder_traversal(entry))
        defined = set(substitutions) | set(substitutions.values()) | {value for _, value in self.where}
        for name, stated in result.outputs:
            formula = admit(stated, f"{self.name} result {result.name} output {name}")
            if formula in defined or formula.xreplace(substitutions) in proved:
                continue
            raise ValueError(
                f"derivation {self.name!r}: result {result.name} output {name} = {formula} is not the proved right "
                "side, a part of it, or a where definition"
            )

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
        for expr in self._shown():
            found |= {s for s in sp.sympify(expr).free_symbols if isinstance(s, sp.Symbol)}
        found = {s for s in found if not isinstance(s, (sp.Wild, sp.Dummy))}
        found -= set(self._substitutions)
        return tuple(sorted(found, key=lambda s: s.name))

    @property
    def matrices(self) -> tuple[Any, ...]:
        """The matrix symbols (``MatrixSymbol``) shown anywhere in the derivation, sorted by name."""
        found: set[Any] = set()
        for expr in self._shown():
            found |= set(sp.sympify(expr).atoms(sp.MatrixSymbol))
        return tuple(sorted(found, key=lambda s: s.name))

    def _shown(self) -> list[Any]:
        """Every expression the derivation shows: claim, steps, definitions and hypotheses."""
        shown = [self.lhs, self.rhs, *(rhs for _, rhs in self.where)]
        shown += [side for pair in self.given for side in pair]
        shown += [expr for step in self.steps for expr in (step.expr, step.lhs) if expr is not None]
        return shown

    def assumptions_text(self, style: str = "text") -> str:
        """``"x, μ real; σ positive"`` from the symbol assumptions (``style="latex"`` for LaTeX)."""
        from kfsym.derive.display import assumptions
        from kfsym.derive.mathtext import to_unicode

        text = "; ".join(filter(None, [assumptions(self.symbols, style, self.matrices), *self.conditions]))
        return to_unicode(text) if style == "text" else text

    # ------------------------------------------------------------- checking
    def verify(self) -> ProofReport:
        """Check every step symbolically and that the chain ends at the claim.

        Returns
        -------
        ProofReport
            Per-step timings, methods and falsifier points.

        Raises
        ------
        ProofError
            Naming the first step that fails, with its residual, or the step
            whose check ran out of time.
        """
        report = verify_chain(
            self.name, self.lhs, self.rhs, self.steps, where=self.where, given=self.given, timeout=self.timeout
        )
        object.__setattr__(self, "_verified", True)
        return report

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
        """Jupyter (``text/latex``): title, assumptions, hypotheses, steps with reasons and notes in one formula."""
        from kfsym.derive.display import derivation_repr_latex

        return derivation_repr_latex(self)

    def _repr_markdown_(self) -> str:
        """Jupyter (``text/markdown``, preferred by JupyterLab): the same as prose around a formula block."""
        from kfsym.derive.display import derivation_markdown

        return derivation_markdown(self)

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

        chosen = self._pick_result(result)  # a bad name fails before the (slower) verification
        if not self._verified:
            self.verify()  # only proved formulas are compiled (ProofError otherwise)
        return compile_result(chosen, self.where, self.name)

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
