"""The Gaussian integral, as an evaluation rule for integrals over the whole real line.

Rule (a theorem, with its hypothesis checked): for ``a > 0`` and any real
``b``, ``c`` (constants with respect to ``x``),

    integral over (-oo, oo) of C exp(-a x^2 + b x + c) dx = C sqrt(pi / a) exp(b^2 / (4 a) + c).

An integral is rewritten by this rule only when, after merging its
exponential factors, the integrand is exactly ``C exp(Q)`` with ``C`` free of
``x`` and ``Q`` a polynomial of degree two in ``x`` whose leading coefficient
``-a`` SymPy *proves* negative from the symbol assumptions, and ``b``, ``c``
are real. Anything else is left to SymPy's ``integrate``. SymPy's own result
for such integrals (of products of Gaussian densities, for instance) is an
``erf`` expression with removable singularities (it evaluates to NaN at some
points and matches the closed form only after further simplification); this
rule gives the closed form the textbook derivation reaches by completing the
square.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["evaluate_gaussian_integrals", "gaussian_integral"]


def gaussian_integral(integral: Any) -> Any:
    """The closed form of a one-dimensional Gaussian integral over the real line, or ``None``."""
    if not isinstance(integral, sp.Integral) or len(integral.limits) != 1:
        return None
    limit = integral.limits[0]
    if len(limit) != 3 or limit[1] != -sp.oo or limit[2] != sp.oo:
        return None
    variable = limit[0]
    if variable.is_real is not True:
        return None
    merged = sp.powsimp(sp.expand_power_base(integral.function, force=False), combine="exp")
    constant, rest = merged.as_independent(variable, as_Add=False)
    if not isinstance(rest, sp.exp):
        return None
    exponent = sp.expand(rest.args[0])
    try:
        quadratic = sp.Poly(exponent, variable)
    except sp.PolynomialError:
        return None
    if quadratic.degree() != 2:
        return None
    minus_a, b, c = (sp.cancel(coefficient) for coefficient in quadratic.all_coeffs())
    a = sp.factor(-minus_a)
    if a.is_positive is not True or b.is_real is not True or c.is_real is not True:
        return None
    return constant * sp.sqrt(sp.pi / a) * sp.exp(sp.cancel(b**2 / (4 * a) + c))


def evaluate_gaussian_integrals(expr: Any) -> Any:
    """Replace every Gaussian integral over the real line in ``expr`` by its closed form."""

    def closed(node: Any) -> Any:
        value = gaussian_integral(node)
        return node if value is None else value

    return expr.replace(lambda node: isinstance(node, sp.Integral), closed)
