"""The checker: what a step claims, how it is checked, and the chain of a derivation.

This is the only code that can say "proved". A statement is accepted when

1. its inputs are exact SymPy objects (no strings, no floats: :mod:`.admit`);
2. definitions are substituted first, and each definition satisfies *every*
   assumption of the symbol it defines;
3. its two sides differ after substitution and SymPy's automatic evaluation
   (otherwise the step checks nothing and must be marked ``restatement=True``,
   which is then checked as exactly that);
4. a case split is exhaustive, each case's replacements follow from its
   condition (:mod:`.cases`), and no case, substitution or definition mentions
   a variable bound in the step;
4a. the statement passes the screen (:mod:`.screen`): no integral through a
   singularity or over a range its variable's assumptions exclude, no
   possibly reversed sum range, no shadowed or infinite sums where the method
   cannot handle them, no inverse outside the matrix methods, no foreign class;
5. the check method reduces it to zero within the time limit
   (:mod:`.checks`), once per case; and
6. the numeric falsifier (:mod:`.falsify`) finds no admissible point where
   the sides differ; if it does, the step is refused as an engine defect.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sympy as sp

from kfsym.derive.kernel.admit import admit, admit_pairs
from kfsym.derive.kernel.cases import Case, covers, implied, size_symbols_only_in_shapes
from kfsym.derive.kernel.checks import (
    EQUALITY_METHODS,
    INEQUALITY_METHODS,
    CheckTimeout,
    bound_symbols,
    is_zero,
    rebuild,
    residual,
    run_with_time_limit,
)
from kfsym.derive.kernel.errors import ProofError
from kfsym.derive.kernel.falsify import falsify, seed_for
from kfsym.derive.kernel.linalg import symmetric_matrices
from kfsym.derive.kernel.screen import screen
from kfsym.derive.kernel.timelimit import validate_timeout

__all__ = [
    "DEFAULT_TIMEOUT",
    "ProofReport",
    "Step",
    "check_statement",
    "definitions_of",
    "prove_equal",
    "prove_nonnegative",
    "verify_chain",
]

#: Seconds one check may take before it counts as a failure.
DEFAULT_TIMEOUT = 10.0
#: Seconds the numeric falsifier may spend on one step (all its size instances together).
FALSIFIER_BUDGET = 0.5
#: Methods whose statements depend on stated rules that random points cannot satisfy (not falsified).
_RULE_BASED = frozenset({"rewrite", "expectation"})


@dataclass(frozen=True)
class Step:
    """One link of a derivation: ``previous = expr``, because ``why``.

    Parameters
    ----------
    expr : sympy expression or Matrix
        The new form. For a chained step the claim is that the previous
        expression of the chain equals ``expr``.
    why : str
        One-line justification in words (shown in every rendering; never parsed).
    method : str
        How SymPy checks it (:data:`~kfsym.derive.kernel.checks.EQUALITY_METHODS`),
        or ``nonnegative`` for an inequality lemma ``lhs >= expr``.
    lhs : sympy expression, optional
        Makes the step a stand-alone statement ``lhs = expr`` (a lemma used by
        the chain) instead of a link of the chain.
    cases : sequence of Case (or of dict, for matrix sizes)
        Proof by exhaustive cases, each with its condition:
        ``(Case(a <= b, {Min(a, b): a}), Case(a >= b, {Min(a, b): b}))``. A
        plain dict ``{n: 3}`` is a matrix-size instance: the step is then
        proved for the listed sizes only.
    change : tuple of (expression, expression)
        For ``change_of_variables``: the map ``old = g(new)``; for
        ``substitute``: the replacements ``(old, new)``.
    restatement : bool
        The step only restates the previous line (the sides are equal after
        substituting definitions and SymPy's automatic evaluation); it is
        checked as exactly that and shown as such.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> Step((a + b)**2, "binomial square", method="expand", lhs=a**2 + 2*a*b + b**2).method
    'expand'
    >>> Step("a + b", "a string")
    Traceback (most recent call last):
    ...
    TypeError: Step expr: strings are never parsed (SymPy would evaluate them as code); pass a SymPy expression
    """

    expr: Any
    why: str
    method: str = "simplify"
    lhs: Any = None
    cases: tuple[Any, ...] = ()
    change: tuple[tuple[Any, Any], ...] = ()
    restatement: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.why, str):
            raise TypeError(f"Step why must be a str (the reason in words), got {type(self.why).__name__}")
        if not isinstance(self.method, str):
            raise TypeError(f"Step method must be a str, got {type(self.method).__name__}")
        if self.method not in EQUALITY_METHODS | INEQUALITY_METHODS:
            known = ", ".join(sorted(EQUALITY_METHODS | INEQUALITY_METHODS))
            raise ValueError(f"unknown check method {self.method!r}; use one of {known}")
        object.__setattr__(self, "expr", admit(self.expr, "Step expr"))
        if self.lhs is not None:
            object.__setattr__(self, "lhs", admit(self.lhs, "Step lhs"))
        if isinstance(self.cases, (str, bytes, Mapping)):
            raise TypeError("Step cases must be a sequence of Case objects (or dicts of matrix sizes)")
        cases = tuple(case if isinstance(case, Case) else Case(None, case) for case in self.cases)
        object.__setattr__(self, "cases", cases)
        object.__setattr__(self, "change", admit_pairs(self.change, "Step change"))
        if not isinstance(self.restatement, bool):
            raise TypeError("Step restatement must be True or False")

    @property
    def chained(self) -> bool:
        """True when this step continues the chain from the previous one."""
        return self.lhs is None

    @property
    def relation(self) -> str:
        """``">="`` for an inequality lemma, ``"="`` otherwise."""
        return ">=" if self.method in INEQUALITY_METHODS else "="

    @property
    def sizes(self) -> tuple[dict[Any, Any], ...]:
        """The matrix-size instances the step is proved for (empty: every size)."""
        return tuple(case.mapping for case in self.cases if case.condition is None)


@dataclass(frozen=True)
class ProofReport:
    """What was checked and how long each check took.

    Attributes
    ----------
    name : str
        The derivation.
    step_seconds : tuple of float
        Seconds per step.
    seconds : float
        Total.
    falsifier_points : tuple of int
        Per step, how many random admissible points the numeric falsifier
        evaluated (0: not applicable, e.g. a step resting on stated rules).
    methods : tuple of str
        Per step, the check method (``restatement`` for a marked restatement).
    hypotheses : tuple of (expression, expression)
        The ``given`` facts the checks relied on (stated, not proved).
    """

    name: str
    step_seconds: tuple[float, ...]
    seconds: float
    falsifier_points: tuple[int, ...] = ()
    methods: tuple[str, ...] = ()
    hypotheses: tuple[tuple[Any, Any], ...] = ()

    @property
    def steps(self) -> int:
        """Number of steps checked."""
        return len(self.step_seconds)


def _definition_symbol(lhs: Any) -> tuple[Any, Any]:
    """Turn ``sigma**2`` into ``(sigma, sqrt)``; a plain symbol into ``(s, None)``."""
    if isinstance(lhs, sp.Symbol):
        return lhs, None
    if isinstance(lhs, sp.Pow) and lhs.exp == 2 and isinstance(lhs.base, sp.Symbol) and lhs.base.is_positive:
        return lhs.base, sp.sqrt
    raise ValueError(f"a definition must name a symbol or the square of a positive symbol, got {lhs}")


def definitions_of(where: Sequence[tuple[Any, Any]]) -> dict[Any, Any]:
    """The ``where`` definitions as ``{symbol: value in base symbols}``; malformed ones raise ``ValueError``."""
    substitutions: dict[Any, Any] = {}
    for lhs, rhs in admit_pairs(where, "where"):
        symbol, transform = _definition_symbol(lhs)
        if symbol in substitutions:
            raise ValueError(f"{symbol} is defined twice")
        value = rhs.xreplace(substitutions)
        if symbol in value.free_symbols:
            raise ValueError(f"the definition of {symbol} uses {symbol} itself")
        substitutions[symbol] = transform(value) if transform is not None else value
    return substitutions


_PRIMARY = (
    "commutative",
    "real",
    "integer",
    "rational",
    "positive",
    "negative",
    "nonnegative",
    "nonpositive",
    "nonzero",
    "zero",
    "even",
    "odd",
    "prime",
    "finite",
)


def _assumption_order(item: tuple[str, bool]) -> tuple[int, str]:
    """Primary assumptions first, so an error names the one a reader declared."""
    name = item[0]
    return (_PRIMARY.index(name), name) if name in _PRIMARY else (len(_PRIMARY), name)


def check_definitions(name: str, definitions: dict[Any, Any], timeout: float = DEFAULT_TIMEOUT) -> None:
    """Each definition must satisfy every assumption of its symbol (integer, positive, real, ...)."""
    for symbol, value in definitions.items():
        for assumption, wanted in sorted(symbol.assumptions0.items(), key=_assumption_order):

            def ask(value: Any = value, assumption: str = assumption) -> Any:
                return getattr(value, f"is_{assumption}", None)

            try:
                got = run_with_time_limit(ask, timeout)
            except CheckTimeout:
                got = None
            if got != wanted:
                said = assumption if wanted else f"not {assumption}"
                raise ProofError(
                    name, None, f"definition of {symbol} is not provably {said}, as the symbol assumes", value
                )


def _normalised_weights(key: Any, value: Any) -> tuple[Any, tuple[Any, Any]] | None:
    """``(p, (lo, hi))`` for a fact ``Sum(p[i], (i, lo, hi)) = 1`` (weights that sum to one), else ``None``."""
    if value != 1 or not isinstance(key, sp.Sum) or len(key.limits) != 1 or len(key.limits[0]) != 3:
        return None
    term, (index, low, high) = key.function, key.limits[0]
    if isinstance(term, sp.Indexed) and term.indices == (index,):
        return term.base, (low, high)
    return None


def _sampleable(facts: Mapping[Any, Any]) -> tuple[bool, dict[Any, tuple[Any, Any]]]:
    """Whether random points can honour every stated fact, and the weights ``{p: (lo, hi)}`` to normalise."""
    symmetric = symmetric_matrices(dict(facts))
    found = [_normalised_weights(k, v) for k, v in facts.items()]
    weights = dict(item for item in found if item is not None)
    return len(symmetric) + len(weights) == len(facts), weights


def _check_cases(name: str, number: int, step: Step, *, lhs: Any, rhs: Any, timeout: float) -> list[dict[Any, Any]]:
    """The substitutions to check, after the case split itself is checked."""
    if not step.cases:
        return [{}]
    conditioned = [case for case in step.cases if case.condition is not None]
    if conditioned and len(conditioned) != len(step.cases):
        raise ProofError(name, number, "cases mix conditions and matrix sizes; split the step")
    if not conditioned:
        for case in step.cases:
            ok = all(isinstance(k, sp.Symbol) and v.is_Integer and v > 0 for k, v in case.substitution)
            if not ok or not size_symbols_only_in_shapes(case.mapping, lhs, rhs):
                raise ProofError(
                    name,
                    number,
                    f"case {case.mapping} has no condition; only matrix sizes (a symbol used solely as a "
                    "dimension, set to a positive integer) may be listed without one: give each case a condition",
                )
        return [case.mapping for case in step.cases]
    for case in conditioned:
        for old, new in case.substitution:
            if not implied(old, new, case.condition):
                raise ProofError(name, number, f"in case {case.condition}, {old} = {new} does not follow")

    def exhaustive() -> bool:
        return covers(case.condition for case in conditioned)

    try:
        complete = run_with_time_limit(exhaustive, timeout)
    except CheckTimeout:
        complete = False
    if not complete:
        shown = " or ".join(str(case.condition) for case in conditioned)
        raise ProofError(name, number, f"the cases are not proved exhaustive: {shown} does not cover every value")
    return [case.mapping for case in conditioned]


def _free_in(*sides: Any) -> set[Any]:
    found: set[Any] = set()
    for side in sides:
        for entry in side if isinstance(side, sp.MatrixBase) else [side]:
            found |= set(entry.free_symbols) if isinstance(entry, sp.Basic) else set()
    return found


def _bound_in(*sides: Any) -> set[Any]:
    found: set[Any] = set()
    for side in sides:
        for entry in side if isinstance(side, sp.MatrixBase) else [side]:
            found |= bound_symbols(entry)
    return found


def _refuse_captures(name: str, number: int, step: Step, bound: set[Any]) -> None:
    """Refuse case conditions, case replacements and substitutions that mention a bound variable."""
    for case in step.cases:
        # A case condition or replacement about a bound variable (x <= 1 for the x of an integral over x) is not
        # a case of the statement: it would split the integrand's domain, which a case split cannot do.
        mentioned = set(case.condition.free_symbols) if case.condition is not None else set()
        for old, new in case.substitution:
            mentioned |= set(sp.sympify(old).free_symbols) | set(sp.sympify(new).free_symbols)
        if mentioned & bound:
            raise ProofError(
                name,
                number,
                f"case {case.condition} uses {sorted(map(str, mentioned & bound))}, bound (integrated or summed "
                "over) in the step; a case split cannot split a range of integration",
            )
    if step.method == "substitute":
        mentioned = set()
        for old, new in step.change:
            mentioned |= set(sp.sympify(old).free_symbols) | set(sp.sympify(new).free_symbols)
        if mentioned & bound:
            raise ProofError(
                name, number, f"the replacements use {sorted(map(str, mentioned & bound))}, bound in the step"
            )


def _screen_step(name: str, number: int, step: Step, sides: tuple[Any, Any, Any, Any], timeout: float) -> None:
    """Refuse statements no method may see (:mod:`.screen`), stated or with definitions substituted."""
    lhs, rhs, left, right = sides

    def screened() -> str | None:
        return screen(left, right, step.method) or screen(lhs, rhs, step.method)

    try:
        refused = run_with_time_limit(screened, timeout)
    except CheckTimeout:
        refused = f"screening the statement timed out after {timeout:g} s"
    if refused is not None:
        raise ProofError(name, number, f"refused before checking: {refused} ({step.why})")


def check_statement(
    name: str,
    number: int,
    lhs: Any,
    rhs: Any,
    step: Step,
    *,
    definitions: Mapping[Any, Any],
    facts: Mapping[Any, Any],
    timeout: float,
    restatement_allowed: bool = False,
) -> int:
    """Check ``lhs (relation) rhs`` as ``step`` says, or raise :class:`ProofError`.

    Returns
    -------
    int
        Number of admissible points the numeric falsifier evaluated.
    """
    exact_facts = {k: v for k, v in facts.items() if not (isinstance(k, sp.Basic) and k.atoms(sp.Wild))}
    replaced = {*definitions, *(k for k in exact_facts if isinstance(k, sp.Symbol))}
    replaced |= {k for case in step.cases for k, _ in case.substitution if isinstance(k, sp.Symbol)}
    bound = _bound_in(lhs, rhs)
    captured = replaced & bound
    if captured:
        # Definitions, facts and cases replace free occurrences; a bound variable of the same name would be hit too.
        raise ProofError(
            name, number, f"{sorted(map(str, captured))} is defined or replaced but also bound in the step; rename it"
        )
    _refuse_captures(name, number, step, bound)
    used = _free_in(lhs, rhs)
    for symbol, value in definitions.items():
        inside = set(sp.sympify(value).free_symbols) & bound
        if symbol in used and inside:
            # Substituting the definition would put its free variables under a binder of the same name.
            raise ProofError(
                name,
                number,
                f"the definition of {symbol} uses {sorted(map(str, inside))}, bound in the step; rename the bound "
                "variable",
            )
    left = lhs.xreplace(dict(definitions)) if definitions else lhs
    right = rhs.xreplace(dict(definitions)) if definitions else rhs
    _screen_step(name, number, step, (lhs, rhs, left, right), timeout)

    def identical() -> bool:
        return bool(rebuild(left.xreplace(exact_facts)) == rebuild(right.xreplace(exact_facts)))

    try:
        same = run_with_time_limit(identical, timeout)
    except CheckTimeout:
        raise ProofError(name, number, f"comparing the two sides timed out after {timeout:g} s ({step.why})") from None
    if step.restatement:
        if not same:
            raise ProofError(name, number, f"marked as a restatement, but the two sides differ: {step.why}")
        return 0
    if same and step.relation == "=" and step.method != "substitute":
        if restatement_allowed:
            return 0
        raise ProofError(
            name,
            number,
            "the two sides are the same expression once definitions and stated facts are substituted, so this "
            f"step checks nothing; mark it restatement=True if it only restates ({step.why})",
        )
    substitutions = {**dict(definitions), **dict(facts)}
    cases = _check_cases(name, number, step, lhs=left, rhs=right, timeout=timeout)
    for case in cases:
        # `substitute` checks the replacement on the stated form; every other method on the substituted one.
        a, b = (lhs, rhs) if step.method == "substitute" else (left, right)

        def compute(case: Mapping[Any, Any] = case, a: Any = a, b: Any = b) -> Any:
            return residual(a.xreplace(case), b.xreplace(case), step.method, substitutions, step.change)

        try:
            left_over = run_with_time_limit(compute, timeout)
        except CheckTimeout:
            reason = f"check '{step.method}' timed out after {timeout:g} s ({step.why})"
            raise ProofError(name, number, reason) from None
        except Exception as error:  # any failure inside a check means "not proved", never success
            reason = f"check '{step.method}' failed with {type(error).__name__}: {error} ({step.why})"
            raise ProofError(name, number, reason) from error
        if not is_zero(left_over):
            label = f" (case {dict(case)})" if case else ""
            raise ProofError(name, number, f"does not hold{label}: {step.why}", left_over)
    instances = [c for c in cases if c] if step.sizes else [{}]
    return _falsify(name, number, step, left=left, right=right, facts=facts, instances=instances)


def _falsify(
    name: str,
    number: int,
    step: Step,
    *,
    left: Any,
    right: Any,
    facts: Mapping[Any, Any],
    instances: list[dict[Any, Any]],
) -> int:
    sampleable, weights = _sampleable(facts)
    if step.method in _RULE_BASED or not sampleable:
        return 0
    symmetric = frozenset(symmetric_matrices(dict(facts)))
    tested = 0
    deadline = time.monotonic() + FALSIFIER_BUDGET
    for instance in instances:
        remaining = deadline - time.monotonic()
        if remaining < 0.05:
            break
        a = left.xreplace(instance) if instance else left
        b = right.xreplace(instance) if instance else right
        count, counterexample = falsify(
            a,
            b,
            relation=step.relation,
            symmetric=symmetric,
            seed=seed_for(name, number, step.method, instance),
            weights=weights,
            budget=remaining,
        )
        tested += count
        if counterexample is not None:
            raise ProofError(
                name,
                number,
                f"ENGINE DEFECT: the symbolic check '{step.method}' accepted this step, but the numeric falsifier "
                f"found the sides different {counterexample}; the step is refused ({step.why})",
            )
    return tested


def verify_chain(
    name: str,
    lhs: Any,
    rhs: Any,
    steps: Sequence[Step],
    *,
    where: Sequence[tuple[Any, Any]] = (),
    given: Sequence[tuple[Any, Any]] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> ProofReport:
    """Check every step and that the chained steps lead from ``lhs`` to exactly ``rhs``.

    Raises
    ------
    ProofError
        Naming the first step that fails, with its residual, or the step whose
        check ran out of time.
    """
    validate_timeout(timeout)
    started = time.perf_counter()
    try:
        definitions = definitions_of(where)
    except ValueError as error:
        raise ProofError(name, None, str(error)) from None
    check_definitions(name, definitions, timeout)
    facts = dict(admit_pairs(given, "given"))
    for key, value in facts.items():
        if isinstance(key, sp.Basic) and key.is_number:
            # A hypothesis rewrites expressions in the symbols; rewriting a number (1 -> 2) would prove anything.
            raise ProofError(name, None, f"the stated fact {key} = {value} rewrites a number; state it about symbols")
    timings: list[float] = []
    points: list[int] = []
    current = admit(lhs, "claim lhs")
    for number, step in enumerate(steps, start=1):
        step_started = time.perf_counter()
        if step.chained and step.relation != "=":
            raise ProofError(name, number, "an inequality step cannot continue a chain of equalities; make it a lemma")
        before = current if step.chained else step.lhs
        points.append(
            check_statement(
                name, number, before, step.expr, step, definitions=definitions, facts=facts, timeout=timeout
            )
        )
        if step.chained:
            current = step.expr
        timings.append(time.perf_counter() - step_started)
    if current != admit(rhs, "claim rhs"):
        raise ProofError(name, None, "the chain of steps does not end at the claim's right side", None)
    return ProofReport(
        name,
        tuple(timings),
        time.perf_counter() - started,
        tuple(points),
        tuple("restatement" if step.restatement else step.method for step in steps),
        tuple(facts.items()),
    )


def prove_equal(
    lhs: Any, rhs: Any, *, method: str = "simplify", timeout: float = DEFAULT_TIMEOUT, change: Any = ()
) -> None:
    """Prove the *equality* ``lhs == rhs`` symbolically or raise :class:`ProofError`.

    Parameters
    ----------
    lhs, rhs : sympy expression or Matrix
        Exact SymPy objects: strings and floats are refused with ``TypeError``.
    method : str
        An equality method: ``expand``, ``cancel``, ``simplify`` (default),
        ``log_ratio``, ``integrand``, ``change_of_variables``, ``substitute``,
        ``sums``, ``expectation``, ``matrices`` or ``rewrite``. The inequality
        method ``nonnegative`` is refused here (see :func:`prove_nonnegative`).
    timeout : float
        Seconds before the attempt counts as a failure.
    change : pairs, optional
        The map of ``change_of_variables`` or the replacements of ``substitute``.

    Raises
    ------
    ProofError
        With the residual SymPy could not reduce to zero, on timeout, or when
        the numeric falsifier refutes an accepted check (an engine defect).
    TypeError
        For strings or floats in the input.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b", positive=True)
    >>> prove_equal(a*b/(a + b), 1/(1/a + 1/b), method="cancel")
    >>> prove_equal(a*b/(a + b), a + b)
    Traceback (most recent call last):
    ...
    kfsym.derive.kernel.errors.ProofError: prove_equal, step 1: does not hold: lhs == rhs
      residual that did not vanish: ...
    """
    if method in INEQUALITY_METHODS:
        raise ProofError(
            "prove_equal",
            1,
            f"'{method}' proves an inequality (lhs >= rhs), never an equality; use prove_nonnegative for that",
        )
    validate_timeout(timeout)
    left, right = admit(lhs, "prove_equal lhs"), admit(rhs, "prove_equal rhs")
    step = Step(right, "lhs == rhs", method=method, change=change)
    check_statement(
        "prove_equal", 1, left, right, step, definitions={}, facts={}, timeout=timeout, restatement_allowed=True
    )


def prove_nonnegative(lhs: Any, rhs: Any = 0, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Prove the *inequality* ``lhs >= rhs`` from the symbol assumptions or raise :class:`ProofError`.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> prove_nonnegative(x**2 + 1, 1)
    >>> prove_nonnegative(x, 0)
    Traceback (most recent call last):
    ...
    kfsym.derive.kernel.errors.ProofError: prove_nonnegative, step 1: does not hold: lhs >= rhs
      residual that did not vanish: ...
    """
    validate_timeout(timeout)
    left, right = admit(lhs, "prove_nonnegative lhs"), admit(rhs, "prove_nonnegative rhs")
    step = Step(right, "lhs >= rhs", method="nonnegative")
    check_statement("prove_nonnegative", 1, left, right, step, definitions={}, facts={}, timeout=timeout)
