"""Wrong formulas ("mutants") that each derivation must reject.

``MUTANTS[name]`` lists ``(what is wrong, factory, step that must fail)``; the
factory builds the derivation with the wrong formula in place of the right one.
``step`` is the 1-based step expected to fail (``None``: the claim itself, e.g.
a definition that breaks its symbol's assumptions). ``test_proofs`` checks that
every registered derivation has at least one entry here.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from kfsym.derive import Derivation
from kfsym.derive import gaussian as g

Mutant = tuple[str, Callable[[], Derivation], "int | None"]

_s1, _s2 = g.sigma1**2, g.sigma2**2
_low, _high = sp.Min(_s1, _s2), sp.Max(_s1, _s2)

MUTANTS: dict[str, list[Mutant]] = {
    "gaussian.normalisation": [
        ("normaliser 1/sqrt(pi sigma^2)", lambda: g.normalisation(g.normal_pdf(g.x, g.mu, g.sigma**2 / 2) / 2), 1),
    ],
    "gaussian.mean": [
        ("density centred at 2 mu", lambda: g.mean(g.normal_pdf(g.x, 2 * g.mu, g.sigma**2)), 1),
    ],
    "gaussian.variance": [
        ("sigma passed as the variance (the tutorial's bug)", lambda: g.variance(g.normal_pdf(g.x, g.mu, g.sigma)), 1),
    ],
    "gaussian.pdf": [
        (
            "sigma^2 in place of sigma in the normaliser",
            lambda: g.pdf(sp.exp(-(g.z**2) / 2) / (sp.sqrt(2 * sp.pi) * g.sigma**2)),
            2,
        ),
    ],
    "gaussian.logpdf": [
        (
            "log(sigma^2) without the 1/2",
            lambda: g.logpdf(-(g.z**2) / 2 - sp.log(2 * sp.pi) / 2 - sp.log(g.sigma**2)),
            2,
        ),
    ],
    "gaussian.cdf": [
        ("erfc without the 1/2", lambda: g.cdf(sp.erfc(sp.Symbol("w", real=True))), 2),
        ("erf in place of erfc", lambda: g.cdf(sp.erf(sp.Symbol("w", real=True)) / 2), 2),
    ],
    "gaussian.product": [
        ("variances swapped in the mean", lambda: g.product(mean=(g.mu1 * _s1 + g.mu2 * _s2) / (_s1 + _s2)), 2),
        ("sigma_1^2 + sigma_2^2 as the product variance", lambda: g.product(var=_s1 + _s2), 2),
        ("sigma_1 sigma_2 instead of sigma_1^2 sigma_2^2", lambda: g.product(var=g.sigma1 * g.sigma2 / (_s1 + _s2)), 2),
        ("wrong evidence normaliser", lambda: g.product(evidence_var=g.sigma1 * g.sigma2), 3),
    ],
    "gaussian.product_gain": [
        ("gain with the measurement variance on top", lambda: g.product_gain(_s2 / (_s1 + _s2)), 1),
    ],
    "gaussian.product_information": [
        ("precisions not added: variances added", lambda: g.product_information(var=_s1 + _s2), 2),
    ],
    "gaussian.product_stable": [
        ("1 - ratio in the stable variance", lambda: g.product_stable(var=_low / (1 - _low / _high)), 2),
        ("larger variance on top", lambda: g.product_stable(var=_high / (1 + _low / _high)), 2),
    ],
    "gaussian.mgf": [
        ("sigma^2 t^2 without the 1/2", lambda: g.mgf(sp.exp(g.mu * g.t + g.sigma**2 * g.t**2)), 3),
    ],
    "gaussian.sum_mgf": [
        ("standard deviations added", lambda: g.sum_mgf(var=(g.sigma1 + g.sigma2) ** 2), 2),
        ("means subtracted", lambda: g.sum_mgf(mean=g.mu1 - g.mu2), 2),
    ],
    "gaussian.sum_convolution": [
        ("product variance in place of the sum", lambda: g.sum_convolution(var=_s1 * _s2 / (_s1 + _s2)), 5),
    ],
}
