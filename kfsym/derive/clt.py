"""The central limit theorem, and the exact finite-N facts the tutorial's demo relies on.

The demo averages N Uniform(a, b) draws many times and plots a histogram. What
is exact for every N: the mean of the draws has mean (a + b)/2 and variance
(b - a)^2 / (12 N). What holds in the limit: the moment generating function of
the standardised mean tends to exp(t^2/2), the MGF of N(0, 1).

Scope of the limit proofs, stated plainly: the general statement is checked
for a cumulant generating function with an exact Taylor remainder,
K(s) = s^2/2 + s^3 R(s) with R an arbitrary function: the identity
n K(t/sqrt n) = t^2/2 + t^3 R(t/sqrt n)/sqrt n and the decay of the bound
|t|^3 B/sqrt n are checked; the bound |R| <= B near 0 (Taylor's theorem) and
the squeeze to the limit are stated, not checked. The uniform and exponential
cases are checked with their exact MGFs. SymPy's ``limit`` can return wrong answers for MGFs that are
written piecewise (the uniform MGF has a separate branch at s = 0, and a limit
taken through it came out as ``-oo*sign(t)``), so the concrete cases use the
s != 0 branch only and each is stated twice, as ``M^n`` and as
``exp(n log M)``; the kernel's numeric falsifier cannot evaluate limits, so
these steps rest on SymPy's ``limit`` alone.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from kfsym.derive.core import Derivation, Result, Step
from kfsym.derive.expectation import IID_FACTS, N, draw, mu, sigma
from kfsym.derive.operators import Expectation
from kfsym.derive.registry import register, register_topic

TOPIC = register_topic("clt", "The central limit theorem", order=20)

i = sp.Symbol("i", integer=True, positive=True)
n = sp.Symbol("n", integer=True, positive=True)
t = sp.Symbol("t", real=True)
s = sp.Symbol("s", real=True)
low, high = sp.symbols("a b", real=True)
width = sp.Symbol("h", positive=True)
rate = sp.Symbol("lambda", positive=True)
remainder = sp.Function("R", real=True)
remainder_bound = sp.Symbol("B", positive=True)
mean_of_draws = sp.Symbol(r"\bar{x}_N", real=True)

STANDARD_NORMAL_MGF = sp.exp(t**2 / 2)


def mean_of_draws_moments(variance: Any = sigma**2 / N) -> Derivation:
    """E[xbar] = mu and Var(xbar) = sigma^2/N for N independent draws (symbolic N)."""
    return Derivation(
        name="clt.mean_of_draws",
        title=r"The mean of $N$ independent draws has mean $\mu$ and variance $\sigma^2/N$",
        lhs=sp.Matrix([Expectation(mean_of_draws), Expectation((mean_of_draws - mu) ** 2)]),
        rhs=sp.Matrix([mu, variance]),
        where=((mean_of_draws, sp.Sum(draw[i], (i, 1, N)) / N),),
        given=IID_FACTS,
        steps=(
            Step(
                sp.Matrix([mu, (N * (mu**2 + sigma**2) + N * (N - 1) * mu**2) / N**2 - mu**2]),
                r"$\mathbb{E}$ is linear; $\mathbb{E}[\bar{x}^2] = \frac{1}{N^2} \sum_i \sum_j \mathbb{E}[x_i x_j]$ "
                r"with $\mathbb{E}[x_i x_j] = \mu^2 + \sigma^2 \delta_{ij}$",
                method="expectation",
            ),
            Step(sp.Matrix([mu, variance]), r"the $\mu^2$ terms cancel", method="cancel"),
        ),
        notes="Proved for symbolic $N$ from the stated moment facts of independent, identically distributed draws.",
    )


def uniform_mean_of_draws(variance: Any = (high - low) ** 2 / (12 * N)) -> Derivation:
    """The demo's exact finite-N law: mean (a+b)/2, variance (b-a)^2/(12 N)."""
    uniform_mean, uniform_variance = (low + high) / 2, (high - low) ** 2 / 12
    uniform_facts = tuple((k, v.xreplace({mu: uniform_mean, sigma**2: uniform_variance})) for k, v in IID_FACTS)
    return Derivation(
        name="clt.uniform_mean_of_draws",
        title=r"The mean of $N$ $\mathrm{Uniform}(a, b)$ draws has mean $(a+b)/2$ and variance $(b-a)^2/(12N)$",
        lhs=sp.Matrix([Expectation(mean_of_draws), Expectation((mean_of_draws - uniform_mean) ** 2)]),
        rhs=sp.Matrix([uniform_mean, variance]),
        where=((mean_of_draws, sp.Sum(draw[i], (i, 1, N)) / N),),
        given=uniform_facts,
        steps=(
            Step(
                sp.Matrix([uniform_mean, sp.Mul(uniform_variance, 1 / N, evaluate=False)]),
                r"clt.mean_of_draws with the $\mathrm{Uniform}(a, b)$ moments of moments.uniform",
                method="expectation",
            ),
            Step(sp.Matrix([uniform_mean, variance]), "the same, written over $12N$", restatement=True),
        ),
        notes=(
            r"This is the Gaussian the demo's histogram approaches: $\mathcal{N}((a+b)/2, (b-a)^2/(12N))$; for "
            r"$\mathrm{Uniform}(1, 10)$ and $N = 1000$ draws it is $\mathcal{N}(5.5, 0.00675)$ "
            "(mean $5.5$, variance $0.00675$)."
        ),
        results=(
            Result(
                "clt_limit",
                (("n_draws", N), ("low", low), ("high", high)),
                (("mean", uniform_mean), ("var", variance)),
                "Mean and variance of the mean of n_draws Uniform(low, high) draws.",
            ),
        ),
    )


def cumulant_limit(leading: Any = None, bound: Any = None) -> Derivation:
    """General CLT through the cumulant generating function, with an exact Taylor remainder."""
    leading = t**2 / 2 if leading is None else leading
    bound = sp.Abs(t) ** 3 * remainder_bound / sp.sqrt(n) if bound is None else bound
    cgf = s**2 / 2 + s**3 * remainder(s)
    scaled = n * cgf.subs(s, t / sp.sqrt(n))
    return Derivation(
        name="clt.cumulant_limit",
        title=(
            r"CLT for any distribution with an MGF near $0$: with $K(s) = s^2/2 + s^3 R(s)$, "
            r"$n K(t/\sqrt{n}) = t^2/2 + t^3 R(t/\sqrt{n})/\sqrt{n}$ exactly, and the bound $|t|^3 B/\sqrt{n} \to 0$"
        ),
        lhs=scaled,
        rhs=leading + t**3 * remainder(t / sp.sqrt(n)) / sp.sqrt(n),
        steps=(
            Step(
                sp.Integer(0),
                r"the remainder's bound $|t|^3 B/\sqrt{n}$ tends to $0$",
                lhs=sp.Limit(bound, n, sp.oo),
            ),
            Step(
                leading + t**3 * remainder(t / sp.sqrt(n)) / sp.sqrt(n),
                r"substitute $s = t/\sqrt{n}$ and multiply out",
                method="expand",
            ),
        ),
        notes=(
            r"$Y_k$ i.i.d. with mean $0$, variance $1$ and an MGF finite near $0$ (hypotheses). The mean scaled by "
            r"$\sqrt{n}$ has MGF $M(t/\sqrt{n})^n = \exp(n K(t/\sqrt{n}))$, $K = \log M$. $K(0) = 0$, $K'(0) = 0$ "
            r"(mean), $K''(0) = 1$ (variance), and $K$ is smooth near $0$, so Taylor's theorem gives "
            r"$K(s) = s^2/2 + s^3 R(s)$ with $|R(s)| \le B$ for $|s| \le \delta$ (hypothesis: these facts of analysis "
            r"are cited, not checked). Checked by SymPy: the exact identity of the claim, for an arbitrary function "
            r"$R$ and every $n$, and that $|t|^3 B/\sqrt{n} \to 0$. Argued in prose: for $n > t^2/\delta^2$, "
            r"$|t^3 R(t/\sqrt{n})/\sqrt{n}| \le |t|^3 B/\sqrt{n}$, so by the squeeze theorem "
            r"$n K(t/\sqrt{n}) \to t^2/2$ and, $\exp$ being continuous, $M(t/\sqrt{n})^n \to e^{t^2/2}$, the MGF of "
            r"$\mathcal{N}(0, 1)$; convergence of MGFs near $0$ implies convergence in distribution (J. H. Curtiss, "
            r"A note on the theory of moment generating functions, Ann. Math. Statist. 13 (1942) 430–433; cited). "
            "clt.uniform_limit and clt.exponential_limit check whole limits for two concrete distributions."
        ),
    )


def _concrete_limit(name: str, title: str, centred_mgf: Any, std: Any, *, limit: Any, notes: str) -> Derivation:
    standardised = centred_mgf.subs(s, t / (std * sp.sqrt(n)))
    return Derivation(
        name=name,
        title=title,
        lhs=sp.Limit(standardised**n, n, sp.oo),
        rhs=limit,
        steps=(
            Step(sp.exp(sp.Limit(n * sp.log(standardised), n, sp.oo)), r"$M^n = \exp(n \log M)$; $\exp$ is continuous"),
            Step(limit, r"evaluate the limit of $n \log M(t/(\sigma\sqrt{n}))$"),
        ),
        notes=notes,
    )


def uniform_limit(limit: Any = STANDARD_NORMAL_MGF) -> Derivation:
    """CLT for Uniform draws (the demo), with the exact MGF."""
    return _concrete_limit(
        "clt.uniform_limit",
        r"CLT for $\mathrm{Uniform}(a, a + h)$ draws, from the exact MGF",
        sp.sinh(s * width / 2) / (s * width / 2),
        width / sp.sqrt(12),
        limit=limit,
        notes=r"The centred uniform on $[-h/2, h/2]$ has MGF $\sinh(s h/2)/(s h/2)$ for $s \ne 0$ (the value $1$ at "
        r"$s = 0$ is left out: SymPy's limit mishandles the piecewise form) and standard deviation $h/\sqrt{12}$.",
    )


def exponential_limit(limit: Any = STANDARD_NORMAL_MGF) -> Derivation:
    """CLT for Exponential(lambda) draws, with the exact MGF."""
    return _concrete_limit(
        "clt.exponential_limit",
        r"CLT for $\mathrm{Exponential}(\lambda)$ draws, from the exact MGF",
        sp.exp(-s / rate) / (1 - s / rate),
        1 / rate,
        limit=limit,
        notes=r"The centred exponential with rate $\lambda$ has MGF $e^{-s/\lambda}/(1 - s/\lambda)$ for $s < \lambda$ "
        r"and standard deviation $1/\lambda$; a skewed distribution, yet its standardised mean is Gaussian in the "
        "limit.",
    )


for _factory in (mean_of_draws_moments, uniform_mean_of_draws, cumulant_limit, uniform_limit, exponential_limit):
    register(_factory())
