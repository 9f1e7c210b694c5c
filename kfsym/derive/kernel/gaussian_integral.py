"""The Gaussian integral and its moments, as evaluation rules for integrals over the real line.

Rule (a theorem, with its hypothesis checked): for ``a > 0``, real ``b``,
``c`` (constants with respect to ``x``) and ``h = b / (2 a)``,

    integral over (-oo, oo) of p(x) exp(-a x^2 + b x + c) dx
        = exp(b^2 / (4 a) + c) * sum_k q_k * Gamma((k + 1)/2) / a^((k + 1)/2)   (k even)

where ``p(x)`` is a polynomial in ``x`` and ``p(h + y) = sum_k q_k y^k``:
substituting ``x = h + y`` (a shift, Jacobian 1) turns the exponent into
``-a y^2 + b^2/(4a) + c``; the odd moments of ``exp(-a y^2)`` vanish and the
even ones are ``Gamma((k + 1)/2) / a^((k + 1)/2)``. For ``p = 1`` this is
``sqrt(pi / a) exp(b^2/(4 a) + c)``.

An integral is rewritten by this rule only when, after merging its
exponential factors, the integrand is exactly ``C p(x) exp(Q)`` with ``C``
free of ``x``, ``p`` a polynomial in ``x`` and ``Q`` a polynomial of degree two
in ``x`` whose leading coefficient ``-a`` SymPy *proves* negative from the
symbol assumptions, with ``b``, ``c`` real. An integral over several
variables, each over the whole line, is evaluated innermost first (Fubini:
such integrands are absolutely integrable), and only if every stage matches.
Anything else is left to SymPy's ``integrate``. SymPy's own result for such
integrals (of products of Gaussian densities, for instance) is an ``erf``
expression with removable singularities (it evaluates to NaN at some points
and matches the closed form only after further simplification); this rule
gives the closed form the textbook derivation reaches by completing the
square.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

__all__ = ["evaluate_gaussian_integrals", "gaussian_integral"]


def _whole_line(limit: Any) -> bool:
    return len(limit) == 3 and limit[1] == -sp.oo and limit[2] == sp.oo and limit[0].is_real is True


def _one_variable(function: Any, variable: Any) -> Any:
    """``integral of function d variable`` over the real line in closed form, or ``None``."""
    merged = sp.powsimp(sp.expand_power_base(function, force=False), combine="exp")
    constant, rest = merged.as_independent(variable, as_Add=False)
    factors = sp.Mul.make_args(rest)
    exponentials = [f for f in factors if isinstance(f, sp.exp)]
    if len(exponentials) != 1:
        return None
    polynomial_part = sp.Mul(*[f for f in factors if not isinstance(f, sp.exp)])
    exponent = sp.expand(exponentials[0].args[0])
    try:
        quadratic = sp.Poly(exponent, variable)
        polynomial = sp.Poly(sp.expand(polynomial_part), variable)
    except sp.PolynomialError:
        return None
    if quadratic.degree() != 2 or any(c.has(variable) for c in polynomial.all_coeffs()):
        return None
    minus_a, b, c = (sp.cancel(coefficient) for coefficient in quadratic.all_coeffs())
    a = sp.factor(-minus_a)
    if a.is_positive is not True or b.is_real is not True or c.is_real is not True:
        return None
    centre = sp.cancel(b / (2 * a))
    y = sp.Dummy("y", real=True)
    shifted = sp.Poly(sp.expand(polynomial.as_expr().subs(variable, centre + y)), y)
    moments = sp.Add(
        *[
            coefficient * sp.gamma(sp.Rational(k + 1, 2)) / a ** sp.Rational(k + 1, 2)
            for (k,), coefficient in shifted.terms()
            if k % 2 == 0
        ]
    )
    return constant * moments * sp.exp(sp.cancel(b**2 / (4 * a) + c))


def gaussian_integral(integral: Any) -> Any:
    """The closed form of a Gaussian(-moment) integral over the whole space, or ``None``.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> gaussian_integral(sp.Integral(x**2 * sp.exp(-x**2 / 2), (x, -sp.oo, sp.oo)))
    sqrt(2)*sqrt(pi)
    >>> gaussian_integral(sp.Integral(sp.exp(x**2), (x, -sp.oo, sp.oo))) is None
    True
    """
    if not isinstance(integral, sp.Integral) or not integral.limits:
        return None
    if not all(_whole_line(limit) for limit in integral.limits):
        return None
    value = integral.function
    for limit in integral.limits:  # innermost first
        value = _one_variable(value, limit[0])
        if value is None:
            return None
    return value


def evaluate_gaussian_integrals(expr: Any) -> Any:
    """Replace every Gaussian integral over the real line in ``expr`` by its closed form."""

    def closed(node: Any) -> Any:
        value = gaussian_integral(node)
        return node if value is None else value

    return expr.replace(lambda node: isinstance(node, sp.Integral), closed)
