"""The one-dimensional Gaussian: density, moments, product (update) and sum (prediction).

Every variance appears as ``sigma**2`` with ``sigma`` a *positive* symbol, so
the densities below are provably positive and square roots simplify; means and
the variable are *real*. Each derivation is built by a small factory whose
arguments are the formulas under test, so the tests can feed it wrong formulas
(mutants) and watch the proof fail.

References: the product and sum identities are textbook (e.g. Bromiley,
"Products and convolutions of Gaussian probability density functions", 2003);
here every step is checked by SymPy.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from kfsym.derive.core import Case, Derivation, Result, Step
from kfsym.derive.registry import register, register_topic

TOPIC = register_topic("gaussian", "The one-dimensional Gaussian", order=30)

x, t, tau, z = sp.symbols("x t tau z", real=True)
mu, mu1, mu2, m = sp.symbols("mu mu_1 mu_2 m", real=True)
sigma, sigma1, sigma2, s = sp.symbols("sigma sigma_1 sigma_2 s", positive=True)
K = sp.Symbol("K", positive=True)
oo = sp.oo


def normal_pdf(at: Any, mean: Any, variance: Any) -> Any:
    """N(at; mean, variance) = exp(-(at - mean)**2 / (2 variance)) / sqrt(2 pi variance)."""
    return sp.exp(-((at - mean) ** 2) / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)


def standard_pdf(at: Any) -> Any:
    """The standard normal density phi(at) = exp(-at**2/2) / sqrt(2 pi)."""
    return sp.exp(-(at**2) / 2) / sp.sqrt(2 * sp.pi)


def _unevaluated(*factors: Any) -> Any:
    return sp.Mul(*factors, evaluate=False)


# The textbook product formulas (what the tutorial states without proof).
PRODUCT_MEAN = (mu1 * sigma2**2 + mu2 * sigma1**2) / (sigma1**2 + sigma2**2)
PRODUCT_VARIANCE = sigma1**2 * sigma2**2 / (sigma1**2 + sigma2**2)
EVIDENCE_VARIANCE = sigma1**2 + sigma2**2

_GAUSSIAN_PARAMS = (("x", x), ("mean", mu), ("var", sigma**2))
_PAIR_PARAMS = (("mean1", mu1), ("var1", sigma1**2), ("mean2", mu2), ("var2", sigma2**2))


# --------------------------------------------------------------------------- density
def normalisation(density: Any = None) -> Derivation:
    """The density integrates to one (``density`` defaults to N(x; mu, sigma**2))."""
    density = normal_pdf(x, mu, sigma**2) if density is None else density
    return Derivation(
        name="gaussian.normalisation",
        title="The Gaussian density integrates to $1$",
        lhs=sp.Integral(density, (x, -oo, oo)),
        rhs=sp.Integer(1),
        steps=(
            Step(
                sp.Integral(standard_pdf(z), (z, -oo, oo)),
                r"substitute $x = \mu + \sigma z$, $dx = \sigma\,dz$ ($\sigma > 0$ keeps the limits)",
                method="change_of_variables",
                change=((x, mu + sigma * z),),
            ),
            Step(
                _unevaluated(1 / sp.sqrt(2 * sp.pi), sp.sqrt(2 * sp.pi)),
                r"Gaussian integral: $\int_{-\infty}^{\infty} e^{-z^2/2}\,dz = \sqrt{2\pi}$",
            ),
            Step(sp.Integer(1), r"cancel $\sqrt{2\pi}$", restatement=True),
        ),
    )


def mean(density: Any = None) -> Derivation:
    """The first moment of N(x; mu, sigma**2) is mu."""
    density = normal_pdf(x, mu, sigma**2) if density is None else density
    return Derivation(
        name="gaussian.mean",
        title=r"The mean of $\mathcal{N}(\mu, \sigma^2)$ is $\mu$",
        lhs=sp.Integral(x * density, (x, -oo, oo)),
        rhs=mu,
        steps=(
            Step(
                sp.Integral((mu + sigma * z) * standard_pdf(z), (z, -oo, oo)),
                r"substitute $x = \mu + \sigma z$, $dx = \sigma\,dz$",
                method="change_of_variables",
                change=((x, mu + sigma * z),),
            ),
            Step(
                mu * sp.Integral(standard_pdf(z), (z, -oo, oo))
                + sigma * sp.Integral(z * standard_pdf(z), (z, -oo, oo)),
                "linearity of the integral",
            ),
            Step(
                sp.Add(_unevaluated(mu, 1), _unevaluated(sigma, 0), evaluate=False),
                r"$\varphi$ integrates to $1$; $z \varphi(z)$ is odd, so its integral is $0$",
            ),
            Step(mu, "collect", restatement=True),
        ),
    )


def variance(density: Any = None) -> Derivation:
    """The second central moment of N(x; mu, sigma**2) is sigma**2."""
    density = normal_pdf(x, mu, sigma**2) if density is None else density
    return Derivation(
        name="gaussian.variance",
        title=r"The variance of $\mathcal{N}(\mu, \sigma^2)$ is $\sigma^2$ (the parameter is the variance)",
        lhs=sp.Integral((x - mu) ** 2 * density, (x, -oo, oo)),
        rhs=sigma**2,
        steps=(
            Step(
                sigma**2 * sp.Integral(z**2 * standard_pdf(z), (z, -oo, oo)),
                r"substitute $x = \mu + \sigma z$, $dx = \sigma\,dz$",
                method="change_of_variables",
                change=((x, mu + sigma * z),),
            ),
            Step(
                sigma**2 * sp.Integral(standard_pdf(z), (z, -oo, oo)),
                r"integrate by parts with $u = z$, $v = -\varphi(z)$ ($v' = z \varphi(z)$); the boundary term $z "
                r"\varphi(z)$ vanishes",
                method="by_parts",
                change=((z, -standard_pdf(z)),),
            ),
            Step(_unevaluated(sigma**2, 1), r"$\varphi$ integrates to $1$"),
            Step(sigma**2, "collect", restatement=True),
        ),
    )


def pdf(stable: Any = None) -> Derivation:
    """The density written in the overflow-safe form codegen prints."""
    log_normaliser = sp.Symbol("c", real=True)
    stable = sp.exp(-(z**2) / 2 - log_normaliser) if stable is None else stable
    return Derivation(
        name="gaussian.pdf",
        title="The Gaussian density as one exponential of its logarithm",
        lhs=normal_pdf(x, mu, sigma**2),
        rhs=stable,
        where=((z, (x - mu) / sigma), (log_normaliser, sp.log(sigma) + sp.log(2 * sp.pi) / 2)),
        steps=(
            Step(
                sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi * sigma**2),
                r"$(x - \mu)^2/\sigma^2 = z^2$ with $z = (x - \mu)/\sigma$",
                method="substitute",
                change=((z, (x - mu) / sigma),),
            ),
            Step(
                stable,
                r"move the normaliser into the exponent: $\sqrt{2\pi\sigma^2} = \exp(\log\sigma + \log(2\pi)/2)$, "
                r"$\sigma > 0$",
                method="substitute",
                change=((log_normaliser, sp.log(sigma) + sp.log(2 * sp.pi) / 2),),
            ),
        ),
        notes=(
            r"One exponential of the log-density: $2\pi\sigma^2$ is never formed (it overflows for variances near "
            r"the largest double), $e^{-z^2/2}$ is never formed on its own (it underflows for $z^2/2 > 745$ even "
            r"where the density, scaled by $1/\sigma$, is a normal double), and neither $(x - \mu)^2$ nor "
            r"$1/\sigma^2$ is formed (they overflow for $|x - \mu| > 1.3 \times 10^{154}$ or a subnormal variance): "
            r"$z = (x - \mu)/\sigma$ is divided out before it is squared."
        ),
        results=(
            Result(
                "gaussian_pdf", _GAUSSIAN_PARAMS, (("density", stable),), "Gaussian density N(x; mean, var).", data="x"
            ),
        ),
    )


def logpdf(stable: Any = None) -> Derivation:
    """log N(x; mu, sigma**2) as a sum of terms that cannot overflow."""
    stable = -(z**2) / 2 - sp.log(2 * sp.pi) / 2 - sp.log(sigma**2) / 2 if stable is None else stable
    return Derivation(
        name="gaussian.logpdf",
        title="The log-density, finite where the density underflows",
        lhs=sp.log(normal_pdf(x, mu, sigma**2)),
        rhs=stable,
        where=((z, (x - mu) / sigma),),
        steps=(
            Step(
                -((x - mu) ** 2) / (2 * sigma**2) - sp.log(2 * sp.pi * sigma**2) / 2,
                r"$\log(e^a/b) = a - \log b$ for real $a$ and $b > 0$",
            ),
            Step(
                stable,
                r"$(x - \mu)^2/\sigma^2 = z^2$, and $\log(2\pi\sigma^2) = \log(2\pi) + \log(\sigma^2)$ since both "
                "factors are positive",
            ),
        ),
        notes=(
            r"$z = (x - \mu)/\sigma$ is divided out before it is squared, so no intermediate overflows while the "
            r"log-density is a finite double, except $z^2$ itself in a narrow band "
            r"($1.3 \times 10^{154} < |z| < 1.9 \times 10^{154}$) that the numeric layer recomputes from halves."
        ),
        results=(
            Result("gaussian_logpdf", _GAUSSIAN_PARAMS, (("log_density", stable),), "Gaussian log-density.", data="x"),
        ),
    )


def cdf(closed_form: Any = None) -> Derivation:
    """The distribution function in terms of ``erfc`` (accurate in both tails)."""
    w, u = sp.Symbol("w", real=True), sp.Symbol("u", real=True)
    closed_form = sp.erfc(w) / 2 if closed_form is None else closed_form
    return Derivation(
        name="gaussian.cdf",
        title=r"The Gaussian distribution function via $\operatorname{erfc}$",
        lhs=sp.Integral(normal_pdf(t, mu, sigma**2), (t, -oo, x)),
        rhs=closed_form,
        where=((w, (mu - x) / (sp.sqrt(2) * sigma)),),
        steps=(
            Step(
                sp.Integral(standard_pdf(u), (u, -oo, -sp.sqrt(2) * w)),
                r"substitute $t = \mu + \sigma u$, $dt = \sigma\,du$; the upper limit becomes "
                r"$u = (x - \mu)/\sigma = -\sqrt{2}\,w$",
                method="change_of_variables",
                change=((t, mu + sigma * u),),
            ),
            Step(closed_form, r"$\int_{-\infty}^{-\sqrt{2}\,w} \varphi(u)\,du = \operatorname{erfc}(w)/2$"),
        ),
        notes=(
            r"$\operatorname{erfc}(w)/2$ with $w = (\mu - x)/(\sqrt{2}\,\sigma)$ keeps full relative accuracy in the "
            r"lower tail, where $1 + \operatorname{erf}(-w)$ would cancel to $0$; in the upper tail the value is close "
            r"to $1$ anyway."
        ),
        results=(Result("gaussian_cdf", _GAUSSIAN_PARAMS, (("probability", closed_form),), "Gaussian CDF.", data="x"),),
    )


# --------------------------------------------------------------------------- product
def product(mean: Any = PRODUCT_MEAN, var: Any = PRODUCT_VARIANCE, evidence_var: Any = EVIDENCE_VARIANCE) -> Derivation:
    """N(x; mu1, s1^2) N(x; mu2, s2^2) = N(mu1; mu2, evidence_var) N(x; mean, var)."""
    lhs = normal_pdf(x, mu1, sigma1**2) * normal_pdf(x, mu2, sigma2**2)
    rhs = normal_pdf(mu1, mu2, evidence_var) * normal_pdf(x, mu, sigma**2)
    return Derivation(
        name="gaussian.product",
        title="Product of two Gaussian densities (the Bayes measurement update)",
        lhs=lhs,
        rhs=rhs,
        where=((mu, mean), (sigma**2, var)),
        steps=(
            Step(
                sp.exp(-((x - mu1) ** 2) / (2 * sigma1**2) - (x - mu2) ** 2 / (2 * sigma2**2))
                / (2 * sp.pi * sigma1 * sigma2),
                r"multiply the exponentials; $\sqrt{\sigma_i^2} = \sigma_i$",
                method="log_ratio",
            ),
            Step(
                sp.exp(-((x - mu) ** 2) / (2 * sigma**2) - (mu1 - mu2) ** 2 / (2 * (sigma1**2 + sigma2**2)))
                / (2 * sp.pi * sigma1 * sigma2),
                r"complete the square in $x$: the exponent is a quadratic with curvature $1/\sigma^2$ and vertex $\mu$",
                method="log_ratio",
            ),
            Step(
                rhs,
                r"split the $x$-free part off as a density in $\mu_1$: "
                r"$2\pi\sigma_1\sigma_2 = \sqrt{2\pi(\sigma_1^2 + \sigma_2^2)}\,\sqrt{2\pi\sigma^2}$",
                method="log_ratio",
            ),
        ),
        notes=(
            r"The normalised product is the Bayes posterior of a prior $\mathcal{N}(\mu_1, \sigma_1^2)$ and a "
            r"measurement $\mathcal{N}(\mu_2, \sigma_2^2)$; the factor $\mathcal{N}(\mu_1; \mu_2, \sigma_1^2 + "
            r"\sigma_2^2)$ "
            "is the evidence. "
            "Each step compares logarithms, which is sound because both sides are provably positive."
        ),
    )


def product_gain(gain: Any = sigma1**2 / (sigma1**2 + sigma2**2)) -> Derivation:
    """Kalman-gain form of the product's mean and variance."""
    return Derivation(
        name="gaussian.product_gain",
        title=r"The product in Kalman-gain form: $\mu = \mu_1 + K(\mu_2 - \mu_1)$, $\sigma^2 = (1 - K)\sigma_1^2$",
        lhs=sp.Matrix([mu1 + K * (mu2 - mu1), (1 - K) * sigma1**2]),
        rhs=sp.Matrix([PRODUCT_MEAN, PRODUCT_VARIANCE]),
        where=((K, gain),),
        steps=(
            Step(
                sp.Matrix(
                    [
                        (mu1 * (sigma1**2 + sigma2**2) + sigma1**2 * (mu2 - mu1)) / (sigma1**2 + sigma2**2),
                        sigma2**2 * sigma1**2 / (sigma1**2 + sigma2**2),
                    ]
                ),
                r"substitute $K$ and put each entry over the denominator $\sigma_1^2 + \sigma_2^2$",
                method="cancel",
            ),
            Step(sp.Matrix([PRODUCT_MEAN, PRODUCT_VARIANCE]), r"the $\mu_1 \sigma_1^2$ terms cancel", method="cancel"),
        ),
    )


def product_information(var: Any = PRODUCT_VARIANCE) -> Derivation:
    """Information (precision) form: precisions add, precision-weighted means add."""
    information = sp.Matrix(
        [1 / sigma1**2 + 1 / sigma2**2, (mu1 / sigma1**2 + mu2 / sigma2**2) / (1 / sigma1**2 + 1 / sigma2**2)]
    )
    return Derivation(
        name="gaussian.product_information",
        title=r"The product in information form: $1/\sigma^2 = 1/\sigma_1^2 + 1/\sigma_2^2$",
        lhs=information,
        rhs=sp.Matrix([1 / sigma**2, mu]),
        where=((mu, PRODUCT_MEAN), (sigma**2, var)),
        steps=(
            Step(
                sp.Matrix(
                    [
                        (sigma1**2 + sigma2**2) / (sigma1**2 * sigma2**2),
                        (mu1 * sigma2**2 + mu2 * sigma1**2) / (sigma1**2 + sigma2**2),
                    ]
                ),
                r"common denominator $\sigma_1^2 \sigma_2^2$",
                method="cancel",
            ),
            Step(
                sp.Matrix([1 / sigma**2, mu]),
                r"the reciprocal of the posterior variance $\sigma^2$ and the posterior mean $\mu$ of gaussian.product",
                restatement=True,
            ),
        ),
    )


def product_stable(var: Any = None) -> Derivation:
    """The overflow-free form the numeric ``multiply`` is generated from."""
    low, high = sp.Min(sigma1**2, sigma2**2), sp.Max(sigma1**2, sigma2**2)
    var = low / (1 + low / high) if var is None else var
    weighted_mean = mu1 / (1 + sigma1**2 / sigma2**2) + mu2 / (1 + sigma2**2 / sigma1**2)
    ordered = (
        Case(sigma1**2 <= sigma2**2, {low: sigma1**2, high: sigma2**2}),
        Case(sigma1**2 >= sigma2**2, {low: sigma2**2, high: sigma1**2}),
    )
    return Derivation(
        name="gaussian.product_stable",
        title="The product in a form that neither overflows nor underflows",
        lhs=sp.Matrix([PRODUCT_MEAN, PRODUCT_VARIANCE]),
        rhs=sp.Matrix([weighted_mean, var]),
        steps=(
            Step(
                sp.Matrix([weighted_mean, PRODUCT_VARIANCE]),
                r"divide the two mean terms by $\sigma_2^2$ and $\sigma_1^2$: the weights $1/(1 + \text{ratio})$ lie "
                r"in $[0, 1]$",
                method="cancel",
            ),
            Step(
                sp.Matrix([weighted_mean, var]),
                r"the variance is symmetric in $\sigma_1^2, \sigma_2^2$; divide by the larger one, so the ratio "
                r"is at most $1$ (proved in both cases: $\sigma_1^2 \le \sigma_2^2$ and $\sigma_1^2 \ge \sigma_2^2$)",
                method="cancel",
                cases=ordered,
            ),
        ),
        notes=(
            r"$\sigma_1^2 \sigma_2^2$ overflows for variances above about $10^{154}$ and the ratio "
            r"$\sigma_1^2/\sigma_2^2$ can overflow too; $\min/(1 + \min/\max)$ only forms a ratio at most $1$, so the "
            r"posterior variance is finite and accurate for any two positive normal doubles, e.g. "
            r"$(10^{300}, 10^{-300})$."
        ),
        results=(
            Result(
                "gaussian_product",
                _PAIR_PARAMS,
                (("mean", weighted_mean), ("var", var)),
                "Mean and variance of the normalised product of two Gaussian densities.",
                scalar=True,
                between=(("mean", "mean1", "mean2"),),
                # min/max below the normal range: the weight of the mean with the larger variance underflows
                fast_when=sp.StrictGreaterThan(low, high / 2**1022),
            ),
        ),
    )


# --------------------------------------------------------------------------- sum
def mgf(closed_form: Any = None) -> Derivation:
    """The moment generating function of N(mu, sigma**2)."""
    closed_form = sp.exp(mu * t + sigma**2 * t**2 / 2) if closed_form is None else closed_form
    shifted = normal_pdf(x, mu + sigma**2 * t, sigma**2)
    return Derivation(
        name="gaussian.mgf",
        title=r"The moment generating function $\mathbb{E}[e^{tX}] = \exp(\mu t + \sigma^2 t^2/2)$",
        lhs=sp.Integral(sp.exp(t * x) * normal_pdf(x, mu, sigma**2), (x, -oo, oo)),
        rhs=closed_form,
        steps=(
            Step(
                sp.Integral(sp.exp(mu * t + sigma**2 * t**2 / 2) * shifted, (x, -oo, oo)),
                r"complete the square: $t x - (x - \mu)^2/(2\sigma^2) "
                r"= \mu t + \sigma^2 t^2/2 - (x - \mu - \sigma^2 t)^2/(2\sigma^2)$",
                method="integrand",
            ),
            Step(
                sp.exp(mu * t + sigma**2 * t**2 / 2) * sp.Integral(shifted, (x, -oo, oo)),
                r"the factor does not depend on $x$",
                method="integrand",
            ),
            Step(closed_form, "a Gaussian density integrates to $1$ (gaussian.normalisation)"),
        ),
    )


def sum_mgf(mean: Any = mu1 + mu2, var: Any = sigma1**2 + sigma2**2) -> Derivation:
    """X ~ N(mu1, s1^2), Y ~ N(mu2, s2^2) independent: X + Y ~ N(mean, var)."""
    y = sp.Symbol("y", real=True)
    mgf_x = sp.Integral(sp.exp(t * x) * normal_pdf(x, mu1, sigma1**2), (x, -oo, oo))
    mgf_y = sp.Integral(sp.exp(t * y) * normal_pdf(y, mu2, sigma2**2), (y, -oo, oo))
    closed = sp.exp(mean * t + var * t**2 / 2)
    return Derivation(
        name="gaussian.sum_mgf",
        title="Sum of independent Gaussians (the prediction step), by moment generating functions",
        lhs=_unevaluated(mgf_x, mgf_y),
        rhs=closed,
        steps=(
            Step(
                sp.exp(mu1 * t + sigma1**2 * t**2 / 2) * sp.exp(mu2 * t + sigma2**2 * t**2 / 2),
                "the MGF of each Gaussian (gaussian.mgf)",
            ),
            Step(closed, "add the exponents", method="expand"),
        ),
        notes=(
            r"For independent $X$ and $Y$, $\mathbb{E}[e^{t(X+Y)}] = \mathbb{E}[e^{tX}]\,\mathbb{E}[e^{tY}]$, the left "
            r"side. The result is the MGF of $\mathcal{N}(\mu_1 + \mu_2, \sigma_1^2 + \sigma_2^2)$, and an MGF that is "
            r"finite near $t = 0$ determines the distribution, so $X + Y$ is that Gaussian."
        ),
        results=(
            Result(
                "gaussian_sum",
                _PAIR_PARAMS,
                (("mean", mean), ("var", var)),
                "Mean and variance of the sum of two independent Gaussian variables.",
                scalar=True,
            ),
        ),
    )


def sum_convolution(var: Any = sigma1**2 + sigma2**2) -> Derivation:
    """The convolution of two Gaussian densities, by the product identity."""
    first = normal_pdf(tau, mu1, sigma1**2)
    evidence = normal_pdf(mu1, x - mu2, sigma1**2 + sigma2**2)
    inner = normal_pdf(tau, m, s**2)
    return Derivation(
        name="gaussian.sum_convolution",
        title="Sum of independent Gaussians, by the convolution integral",
        lhs=sp.Integral(first * normal_pdf(x - tau, mu2, sigma2**2), (tau, -oo, oo)),
        rhs=normal_pdf(x, mu1 + mu2, var),
        where=(
            (m, (mu1 * sigma2**2 + (x - mu2) * sigma1**2) / (sigma1**2 + sigma2**2)),
            (s**2, sigma1**2 * sigma2**2 / (sigma1**2 + sigma2**2)),
        ),
        steps=(
            Step(
                sp.Integral(first * normal_pdf(tau, x - mu2, sigma2**2), (tau, -oo, oo)),
                r"$\mathcal{N}(x - \tau; \mu_2, \sigma_2^2) = \mathcal{N}(\tau; x - \mu_2, \sigma_2^2)$: only the "
                r"square $(x - \tau - \mu_2)^2$ enters",
                method="integrand",
            ),
            Step(
                sp.Integral(evidence * inner, (tau, -oo, oo)),
                r"product of two Gaussian densities in $\tau$ (gaussian.product)",
                method="integrand",
            ),
            Step(
                evidence * sp.Integral(inner, (tau, -oo, oo)),
                r"the first factor is free of $\tau$",
                method="integrand",
            ),
            Step(evidence, "a Gaussian density integrates to $1$ (gaussian.normalisation)"),
            Step(
                normal_pdf(x, mu1 + mu2, var),
                r"$(\mu_1 - (x - \mu_2))^2 = (x - (\mu_1 + \mu_2))^2$",
                method="log_ratio",
            ),
            Step(
                normal_pdf(x, mu1 + mu2, var),
                "second opinion: the convolution integral evaluated directly by the Gaussian integral rule "
                r"(completing the square in $\tau$, $a > 0$ checked)",
                method="cancel",
                lhs=sp.Integral(first * normal_pdf(x - tau, mu2, sigma2**2), (tau, -oo, oo)),
            ),
        ),
        notes="The density of $X + Y$ is the convolution of the densities of independent $X$ and $Y$.",
    )


for _factory in (
    normalisation,
    mean,
    variance,
    pdf,
    logpdf,
    cdf,
    product,
    product_gain,
    product_information,
    product_stable,
    mgf,
    sum_mgf,
    sum_convolution,
):
    register(_factory())
