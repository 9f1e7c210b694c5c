"""Matrix identities for every size: equality in the free algebra modulo stated relations.

Matrices of unspecified size are non-commuting symbols. A product of them is a
*word*; a linear combination of words with commuting (scalar) coefficients is
a non-commutative polynomial. The axioms of matrix algebra that this uses
without stating them per derivation are exactly the axioms of that algebra:
associativity and distributivity of the product, and scalars commuting with
matrices (the identity I is the empty word, ``1``).

Everything else is a *relation* the derivation states in ``given``: an
equation ``l = r`` between such polynomials (an instance of A^{-1} A = I for an
invertible A, a definition such as ``S = H P H^T + R``, a hypothesis such as
``P^T = P``). The claim ``a = b`` is proved when ``a - b`` lies in the two-sided
ideal the relations generate, i.e. ``a - b = sum_k c_k u_k (l_k - r_k) v_k``.

The method (non-commutative Buchberger completion, Mora 1985):

1. every relation becomes a rule ``w -> t``: ``w`` is its largest word in the
   degree-lexicographic order (longer words are larger; equal lengths compare
   letter by letter, letters by name), ``t`` the rest;
2. overlaps of two rules (a word that both rewrite, in different ways) yield
   new relations, which are reduced and added as rules, until no overlap gives
   anything new (the rule set is then complete, and reduction decides ideal
   membership) or a size bound is hit;
3. ``a - b`` is reduced by the rules. A zero remainder is a proof, complete or
   not, because every rule is a combination ``sum c u (l - r) v`` of the stated
   relations. A non-zero remainder is a disproof only when the completion
   finished; otherwise the check says it could not decide.

Every new rule comes with its certificate, and a proof is re-checked at the
end by expanding ``a - b - sum_k c_k u_k (l_k - r_k) v_k`` with SymPy's own
non-commutative arithmetic, independently of the rewriting code.

The transpose: when ``declare_transpose(X, X^T)`` has been called for every
symbol of a relation, the relation's transpose (by (AB)^T = B^T A^T,
(A + B)^T = A^T + B^T, (A^T)^T = A, (cA)^T = c A^T) is added as a relation too.
The declaration only fixes names (``X^T``, ``X^{-T}`` for ``X^{-1}``); it states
nothing about ``X``.

Typing: the free algebra ignores shapes. The argument is sound for matrices
when every stated relation and both sides of the claim are well-typed
products (each relation's sides of one shape, ``1`` the identity of the size
the context needs): completion only joins words along a shared subword and
replaces a subword by an expression of the same type, so every term of a
certificate is a well-typed product too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sympy as sp

__all__ = ["DerivedRule", "algebra_residual", "declare_transpose", "derived_rules", "transpose"]

Word = tuple[Any, ...]
Poly = dict[Word, Any]
# A certificate: terms (coefficient, left word, relation index, right word) meaning c * u * (l - r) * v.
Certificate = list[tuple[Any, Word, int, Word]]

_TRANSPOSES: dict[Any, Any] = {}

#: Bounds on the completion: number of rules and longest rule word.
MAX_RULES = 400
MAX_WORD = 10


def _transpose_name(name: str) -> str:
    """The one name the transpose of a symbol called ``name`` may have: ``X^T``, or ``X^{-T}`` for ``X^{-1}``."""
    if name.endswith("^{-1}"):
        return name.removesuffix("^{-1}") + "^{-T}"
    return name + "^T"


def declare_transpose(symbol: Any, transposed: Any) -> None:
    """Record that the non-commuting symbol ``transposed`` stands for ``symbol^T`` (and back).

    The declaration is a naming convention, not a hypothesis: the transpose of
    ``X`` must be called ``X^T`` (of ``X^{-1}``: ``X^{-T}``), so no fact such as
    ``X^T = X`` can be smuggled in through it; symmetry is stated in ``given``.
    """
    for atom in (symbol, transposed):
        if atom.is_commutative or not isinstance(atom, sp.Symbol):
            raise ValueError(f"transposes are declared between non-commuting symbols, got {atom!r}")
    if transposed.name != _transpose_name(symbol.name):
        raise ValueError(f"the transpose of {symbol.name} must be named {_transpose_name(symbol.name)}")
    _TRANSPOSES[symbol] = transposed
    _TRANSPOSES[transposed] = symbol


def transpose(expr: Any) -> Any:
    """``expr^T`` by the transpose axioms, for expressions whose symbols have declared transposes."""
    expr = sp.expand(sp.sympify(expr))
    terms = []
    for term in sp.Add.make_args(expr):
        scalar, factors = term.args_cnc()
        letters = _letters(factors)
        if letters is None or any(letter not in _TRANSPOSES for letter in letters):
            raise ValueError(f"no declared transpose for a factor of {term}")
        terms.append(sp.Mul(*scalar) * sp.Mul(*[_TRANSPOSES[letter] for letter in reversed(letters)]))
    return sp.Add(*terms)


def _letters(factors: Iterable[Any]) -> list[Any] | None:
    letters: list[Any] = []
    for factor in factors:
        base, exponent = factor.as_base_exp()
        if isinstance(base, sp.Symbol) and not base.is_commutative and exponent.is_Integer and exponent > 0:
            letters.extend([base] * int(exponent))
        else:
            return None
    return letters


def _poly(expr: Any) -> Poly | None:
    """``expr`` as {word: coefficient}; ``None`` when a factor is not a non-commuting symbol (e.g. X**-1)."""
    result: Poly = {}
    for term in sp.Add.make_args(sp.expand(sp.sympify(expr))):
        if term == 0:
            continue
        scalar, factors = term.args_cnc()
        letters = _letters(factors)
        if letters is None:
            return None
        word = tuple(letters)
        result[word] = result.get(word, 0) + sp.Mul(*scalar)
    return {w: c for w, c in result.items() if not _is_zero(c)}


def _is_zero(value: Any) -> bool:
    return value == 0 or (not value.is_Number and sp.cancel(value) == 0)


def _key(word: Word) -> tuple[int, tuple[str, ...]]:
    return len(word), tuple(letter.name for letter in word)


def _add(target: Poly, word: Word, coefficient: Any) -> None:
    value = target.get(word, 0) + coefficient
    if _is_zero(value):
        target.pop(word, None)
    else:
        target[word] = value


def _find(word: Word, pattern: Word) -> int:
    size = len(pattern)
    for start in range(len(word) - size + 1):
        if word[start : start + size] == pattern:
            return start
    return -1


class _InconsistentError(Exception):
    """The stated relations imply 1 = 0."""


class _Rule:
    """``lead -> tail``, with the certificate of ``lead - tail`` over the stated relations."""

    def __init__(self, lead: Word, tail: Poly, certificate: Certificate) -> None:
        self.lead = lead
        self.tail = tail
        self.certificate = certificate


class _System:
    def __init__(self, relations: list[Poly]) -> None:
        self.relations = relations
        self.rules: list[_Rule] = []
        self.complete = True

    # ---------------------------------------------------------------- reduction
    def reduce(self, poly: Poly, subtracted: Certificate) -> Poly:
        """The remainder of ``poly``; ``poly = remainder + sum(subtracted)`` afterwards."""
        poly = dict(poly)
        done: Poly = {}
        while poly:
            word = max(poly, key=_key)
            coefficient = poly.pop(word)
            for rule in self.rules:
                start = _find(word, rule.lead)
                if start < 0:
                    continue
                left, right = word[:start], word[start + len(rule.lead) :]
                # word = left (lead - tail) right + left tail right
                for tail_word, tail_coefficient in rule.tail.items():
                    _add(poly, left + tail_word + right, coefficient * tail_coefficient)
                for c, u, index, v in rule.certificate:
                    subtracted.append((coefficient * c, left + u, index, v + right))
                break
            else:
                done[word] = coefficient
        return done

    # ---------------------------------------------------------------- completion
    def _add_rule(self, poly: Poly, certificate: Certificate) -> _Rule | None:
        """The rule of ``poly`` (whose certificate is given) after reduction; ``None`` if it reduces to 0."""
        subtracted: Certificate = []
        poly = self.reduce(poly, subtracted)
        if not poly:
            return None
        lead = max(poly, key=_key)
        if sp.sympify(poly[lead]).is_zero is not False:
            # Dividing by a coefficient that may vanish (a scalar symbol c in c A = B) is not an
            # equivalence: the relation is not used, and the completion is no longer a decision.
            self.complete = False
            return None
        if lead == ():
            raise _InconsistentError
        scale = 1 / poly[lead]
        tail = {w: -c * scale for w, c in poly.items() if w != lead}
        remainder = certificate + [(-c, u, i, v) for c, u, i, v in subtracted]
        return _Rule(lead, tail, [(c * scale, u, i, v) for c, u, i, v in remainder])

    def _overlaps(self, new: _Rule) -> list[tuple[Poly, Certificate]]:
        pairs: list[tuple[Poly, Certificate]] = []
        for old in [*self.rules, new]:  # the new rule overlaps itself too (e.g. B A B with B A B in B A B A B)
            for first, second in ((new, old), (old, new)) if old is not new else ((new, new),):
                a, b = first.lead, second.lead
                # suffix of a == prefix of b: the word a + b[k:] rewrites two ways
                for k in range(1, min(len(a), len(b))):
                    if a[-k:] == b[:k]:
                        if len(a) + len(b) - k > MAX_WORD + 2:
                            self.complete = False
                            continue
                        pairs.append(self._critical(first, ((), b[k:]), second, (a[:-k], ())))
                # b inside a (b shorter), a = u b v
                if first is not second and len(b) < len(a):
                    start = _find(a, b)
                    if start >= 0:
                        pairs.append(self._critical(first, ((), ()), second, (a[:start], a[start + len(b) :])))
        return pairs

    @staticmethod
    def _critical(
        first: _Rule, around1: tuple[Word, Word], second: _Rule, around2: tuple[Word, Word]
    ) -> tuple[Poly, Certificate]:
        """``u1 (lead1 - tail1) v1 - u2 (lead2 - tail2) v2``: the two rewrites of one word, subtracted."""
        (u1, v1), (u2, v2) = around1, around2
        poly: Poly = {}
        for word, c in first.tail.items():
            _add(poly, u1 + word + v1, -c)
        for word, c in second.tail.items():
            _add(poly, u2 + word + v2, c)
        # the lead words cancel: u1 lead1 v1 == u2 lead2 v2
        certificate: Certificate = [(c, u1 + u, i, v + v1) for c, u, i, v in first.certificate]
        certificate += [(-c, u2 + u, i, v + v2) for c, u, i, v in second.certificate]
        return poly, certificate

    def complete_rules(self) -> None:
        pending: list[tuple[Poly, Certificate]] = [
            (relation, [(sp.Integer(1), (), index, ())]) for index, relation in enumerate(self.relations)
        ]
        while pending:
            pending.sort(key=lambda item: _key(max(item[0], key=_key)) if item[0] else (0, ()), reverse=True)
            poly, certificate = pending.pop()
            rule = self._add_rule(poly, list(certificate))
            if rule is None:
                continue
            if len(self.rules) >= MAX_RULES or len(rule.lead) > MAX_WORD:
                self.complete = False
                continue
            # rules whose lead the new rule rewrites go back to the queue
            kept = []
            for old in self.rules:
                if _find(old.lead, rule.lead) >= 0:
                    back: Poly = {old.lead: sp.Integer(1)}
                    for w, c in old.tail.items():
                        _add(back, w, -c)
                    pending.append((back, list(old.certificate)))
                else:
                    kept.append(old)
            self.rules = kept
            pending.extend(self._overlaps(rule))
            self.rules.append(rule)


def _relations(facts: dict[Any, Any]) -> list[tuple[Any, Any]]:
    """The non-commutative facts as (l, r) pairs, closed under the transpose where it is declared."""
    # Relations between non-commuting symbols only; facts about concrete-size MatrixSymbols (for the
    # 'matrices' steps of the same derivation) are not used here, which can only make less provable.
    stated = [
        (sp.sympify(k), sp.sympify(v))
        for k, v in facts.items()
        if not sp.sympify(k).is_commutative and not sp.sympify(k).has(sp.MatrixExpr)
    ]
    closed = list(stated)
    for left, right in stated:
        atoms = {a for a in (left - right).atoms(sp.Symbol) if not a.is_commutative}
        if atoms and all(a in _TRANSPOSES for a in atoms):
            transposed = (transpose(left), transpose(right))
            if sp.expand(transposed[0] - transposed[1] - left + right) != 0:
                closed.append(transposed)
    return closed


def algebra_residual(a: Any, b: Any, facts: dict[Any, Any]) -> Any:
    """Zero when ``a - b`` lies in the ideal generated by the stated non-commutative relations.

    Examples
    --------
    >>> import sympy as sp
    >>> S, Si, H, P, R = sp.symbols("S S__-1 H P R", commutative=False)
    >>> facts = {Si * S: 1, S * Si: 1, H * P * H: S - R}
    >>> algebra_residual(Si * H * P * H, 1 - Si * R, facts)
    0
    >>> algebra_residual(Si * H * P * H, 1 - R * Si, facts)  # S^{-1} R and R S^{-1} differ
    R*S__-1 - S__-1*R
    """
    pairs = _relations(facts)
    relations: list[Poly] = []
    for left, right in pairs:
        poly = _poly(left - right)
        if poly is None:
            return sp.Symbol(f"<relation {left} = {right} is not a polynomial in non-commuting symbols>")
        relations.append(poly)
    target = _poly(sp.sympify(a) - sp.sympify(b))
    if target is None:
        return sp.Symbol("<the sides must be polynomials in non-commuting symbols (write inverses as symbols)>")
    system = _System(relations)
    try:
        system.complete_rules()
    except _InconsistentError:
        return sp.Symbol("<the stated relations are inconsistent: they imply 1 = 0>")
    certificate: Certificate = []
    remainder = system.reduce(target, certificate)
    if remainder:
        left_over = sp.Add(*[c * sp.Mul(*w) for w, c in remainder.items()])
        if not system.complete:
            return sp.Symbol(f"<not decided: the completion was cut off; remainder {left_over}>")
        return left_over
    # Independent re-check of the certificate with SymPy's non-commutative expand.
    combination = sp.Add(*[c * sp.Mul(*u) * (pairs[i][0] - pairs[i][1]) * sp.Mul(*v) for c, u, i, v in certificate])
    if sp.expand(sp.sympify(a) - sp.sympify(b) - combination) != 0:
        return sp.Symbol("<internal error: the certificate does not expand to the difference>")
    return sp.Integer(0)


@dataclass(frozen=True)
class DerivedRule:
    """A rewrite rule the completion derived, ``lhs = rhs``, with its certificate checked by SymPy."""

    lhs: Any
    rhs: Any
    certified: bool
    complete: bool


def derived_rules(facts: dict[Any, Any]) -> tuple[DerivedRule, ...]:
    """Every rule the completion of the stated relations produces, each re-checked from its certificate.

    ``certified`` is True when ``lhs - rhs`` expands (SymPy, independently of
    the rewriting code) to the recorded combination ``sum c u (l - r) v`` of
    the stated relations: the rule is then a proved lemma. ``complete`` says
    whether the completion finished within its bounds.

    Examples
    --------
    >>> import sympy as sp
    >>> S, Si, H, P, R = sp.symbols("S S__-1 H P R", commutative=False)
    >>> rules = derived_rules({Si * S: 1, S * Si: 1, S: H * P * H + R})
    >>> all(rule.certified for rule in rules)
    True
    """
    pairs = _relations(facts)
    relations = [_poly(left - right) for left, right in pairs]
    if any(poly is None for poly in relations):
        raise ValueError("a stated relation is not a polynomial in non-commuting symbols")
    system = _System([poly for poly in relations if poly is not None])
    system.complete_rules()
    found = []
    for rule in system.rules:
        lhs = sp.Mul(*rule.lead)
        rhs = sp.Add(*[c * sp.Mul(*w) for w, c in rule.tail.items()])
        combination = sp.Add(
            *[c * sp.Mul(*u) * (pairs[i][0] - pairs[i][1]) * sp.Mul(*v) for c, u, i, v in rule.certificate]
        )
        found.append(DerivedRule(lhs, rhs, sp.expand(lhs - rhs - combination) == 0, system.complete))
    return tuple(found)
