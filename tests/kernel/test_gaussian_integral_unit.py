"""The Gaussian integral rule (kfsym/derive/kernel/gaussian_integral.py), checked directly and fast.

For ``a > 0`` proved, real ``b`` and ``c``, the integral over the real line of a polynomial times
``exp(-a x^2 + b x + c)`` has the closed form of the module docstring; every result here is compared with an
independent value (a textbook moment or mpmath quadrature), and integrals outside the rule are left alone.
"""

from __future__ import annotations

from typing import Any

import mpmath
import pytest
import sympy as sp

from kfsym.derive.kernel.gaussian_integral import evaluate_gaussian_integrals, gaussian_integral

x, y, b, c = sp.symbols("x y b c", real=True)
a, s = sp.symbols("a s", positive=True)
oo = sp.oo
z = sp.Symbol("z")  # complex


def _closed(integrand: Any, *limits: Any) -> Any:
    value = gaussian_integral(sp.Integral(integrand, *limits))
    assert value is not None
    return value


@pytest.mark.parametrize(
    ("integrand", "expected"),
    [
        (sp.exp(-(x**2) / 2), sp.sqrt(2 * sp.pi)),
        (x**2 * sp.exp(-(x**2) / 2), sp.sqrt(2 * sp.pi)),
        (x**4 * sp.exp(-(x**2) / 2), 3 * sp.sqrt(2 * sp.pi)),
        (x * sp.exp(-(x**2) / 2), sp.Integer(0)),
        (x**3 * sp.exp(-(x**2) / 2), sp.Integer(0)),
        (sp.exp(-a * x**2), sp.sqrt(sp.pi / a)),
        (sp.exp(-((x - b) ** 2) / (2 * s**2)), sp.sqrt(2 * sp.pi) * s),
        (x * sp.exp(-((x - b) ** 2) / (2 * s**2)), sp.sqrt(2 * sp.pi) * s * b),
        ((x - b) ** 2 * sp.exp(-((x - b) ** 2) / (2 * s**2)), sp.sqrt(2 * sp.pi) * s**3),
        (sp.exp(-(x**2) + b * x + c), sp.sqrt(sp.pi) * sp.exp(b**2 / 4 + c)),
        (3 * sp.exp(-(x**2)) * sp.exp(2 * x), 3 * sp.sqrt(sp.pi) * sp.E),  # two exponentials merged
        ((x + 1) ** 2 * sp.exp(-(x**2)), sp.Rational(3, 2) * sp.sqrt(sp.pi)),
    ],
)
def test_the_closed_form_is_the_textbook_moment(integrand: Any, expected: Any) -> None:
    got = _closed(integrand, (x, -oo, oo))
    assert sp.simplify(got - expected) == 0


def test_numeric_parameters_agree_with_quadrature() -> None:
    integrand = (2 * x**3 - x + 5) * sp.exp(-3 * x**2 / 2 + x / 2 - 1)
    got = _closed(integrand, (x, -oo, oo))
    f = sp.lambdify(x, integrand, "mpmath")
    with mpmath.workdps(30):
        assert mpmath.almosteq(mpmath.mpf(sp.N(got, 40)), mpmath.quad(f, [-mpmath.inf, mpmath.inf]), 1e-25)


def test_several_variables_are_integrated_innermost_first() -> None:
    got = _closed(sp.exp(-(x**2) - (x - y) ** 2), (x, -oo, oo), (y, -oo, oo))
    assert sp.simplify(got - sp.pi) == 0
    inner_only = sp.Integral(sp.exp(-(x**2)) * y, (x, -oo, oo), (y, -oo, oo))
    assert gaussian_integral(inner_only) is None  # the outer stage is no Gaussian


@pytest.mark.parametrize(
    "integral",
    [
        sp.Integral(sp.exp(x**2), (x, -oo, oo)),  # a < 0
        sp.Integral(sp.exp(-b * x**2), (x, -oo, oo)),  # a not proved positive
        sp.Integral(sp.exp(-(x**2) + z * x), (x, -oo, oo)),  # b not real
        sp.Integral(sp.exp(-(x**2) + z), (x, -oo, oo)),  # c not real
        sp.Integral(sp.exp(-(x**2)), (x, 0, oo)),  # not the whole line
        sp.Integral(sp.exp(-(x**3)), (x, -oo, oo)),  # not quadratic
        sp.Integral(sp.exp(-x), (x, -oo, oo)),
        sp.Integral(sp.sin(x) * sp.exp(-(x**2)), (x, -oo, oo)),  # not a polynomial factor
        sp.Integral(sp.exp(-(x**2)) * sp.exp(sp.cos(x)), (x, -oo, oo)),
        sp.Integral(x**2, (x, -oo, oo)),  # no exponential
        sp.Integral(sp.exp(-(z**2)), (z, -oo, oo)),  # the variable is not real
        sp.Integral(sp.exp(-(x**2)), x),  # indefinite
    ],
)
def test_integrals_outside_the_rule_are_left_alone(integral: Any) -> None:
    assert gaussian_integral(integral) is None
    assert evaluate_gaussian_integrals(integral + 1) == integral + 1


def test_every_gaussian_integral_of_an_expression_is_replaced() -> None:
    expr = 2 * sp.Integral(sp.exp(-(x**2)), (x, -oo, oo)) + sp.Integral(sp.exp(x**2), (x, -oo, oo))
    assert evaluate_gaussian_integrals(expr) == 2 * sp.sqrt(sp.pi) + sp.Integral(sp.exp(x**2), (x, -oo, oo))
    assert gaussian_integral(sp.exp(-(x**2))) is None  # not an integral at all


def test_a_constant_factor_is_not_split_where_that_would_change_its_value() -> None:
    """sqrt(t*u) stays one factor: split into sqrt(t)*sqrt(u) it would change sign when t and u are both negative."""
    t, u = sp.symbols("t u", real=True)
    value = _closed(sp.sqrt(t * u) * sp.exp(-(x**2)), (x, -oo, oo))
    assert value.subs({t: -1, u: -1}) == sp.sqrt(sp.pi)
    assert value.subs({t: -2, u: -8}) == 4 * sp.sqrt(sp.pi)


def test_a_sum_with_a_non_gaussian_term_is_left_alone() -> None:
    """The integral of 1 + exp(-x^2) diverges: the rule takes no additive term for a factor, it gives no value."""
    assert gaussian_integral(sp.Integral(1 + sp.exp(-(x**2)), (x, -oo, oo))) is None
    assert gaussian_integral(sp.Integral(b + sp.exp(-(x**2)), (x, -oo, oo))) is None
