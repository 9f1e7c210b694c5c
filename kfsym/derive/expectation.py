"""Expectation, variance, covariance and the 1/N vs 1/(N-1) estimators.

Discrete results are proved for a *general* finite distribution: outcomes
``i = 1..n`` (``n`` symbolic) with probabilities ``p_i >= 0`` and values
``x_i, y_i``, so that ``E[f(X, Y)] = sum_i p_i f(x_i, y_i)``. The one fact
used is the stated ``sum_i p_i = 1`` (the tutorial's probabilities
``[0.1, 0.3, 0.4]`` violate it; a mutant test shows the proofs then fail).

The estimator results are proved for ``N`` independent draws with mean ``mu``
and variance ``sigma^2``, ``N`` symbolic, using the moment facts
``E[x_i x_j] = mu^2 + sigma^2 delta_ij``; a second derivation re-checks every
``N`` from 2 to 12 by explicit expansion.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from kfsym.derive.core import Derivation, Result, Step
from kfsym.derive.operators import Expectation
from kfsym.derive.registry import register, register_topic

TOPIC = register_topic("moments", "Expectation, variance and covariance", order=10)

i = sp.Symbol("i", integer=True, positive=True)
n = sp.Symbol("n", integer=True, positive=True)
p = sp.IndexedBase("p", nonnegative=True)
x, y, zv = (sp.IndexedBase(name, real=True) for name in ("x", "y", "z"))
a, b, c, s_ = sp.symbols("a b c s", real=True)
mu_x, mu_y, mu_z = sp.symbols("mu_X mu_Y mu_Z", real=True)
t_ = sp.Symbol("t")

PROBABILITIES_SUM_TO_ONE = (sp.Sum(p[i], (i, 1, n)), sp.Integer(1))


def E(f: Any) -> Any:  # noqa: N802 - the textbook name
    """E[f] over the finite distribution: ``Sum(p[i] * f, (i, 1, n))``."""
    return sp.Sum(p[i] * f, (i, 1, n))


def var(values: Any, mean: Any) -> Any:
    """Var = E[(X - mean)^2]."""
    return E((values - mean) ** 2)


def cov(first: Any, mean_first: Any, second: Any, mean_second: Any) -> Any:
    """Cov = E[(X - mean_X)(Y - mean_Y)]."""
    return E((first - mean_first) * (second - mean_second))


_MEANS = ((mu_x, E(x[i])), (mu_y, E(y[i])))


def _moment_derivation(
    name: str, title: str, lhs: Any, rhs: Any, steps: tuple[Step, ...], *, total: Any = 1, **extra: Any
) -> Derivation:
    """A derivation over the finite distribution, with the fact sum p_i = ``total`` stated.

    Of the mean definitions (``where``) only those of the means the derivation shows are kept.
    """
    shown: set[Any] = set()
    for expr in (lhs, rhs, *(e for step in steps for e in (step.expr, step.lhs) if e is not None)):
        shown |= sp.sympify(expr).free_symbols
    where = tuple((symbol, value) for symbol, value in extra.pop("where", _MEANS) if symbol in shown)
    return Derivation(
        name=name,
        title=title,
        lhs=lhs,
        rhs=rhs,
        steps=steps,
        where=where,
        given=((PROBABILITIES_SUM_TO_ONE[0], sp.sympify(total)),),
        **extra,
    )


def discrete_expectation(total: Any = 1) -> Derivation:
    """E[c] = c and E[X - E[X]] = 0: where sum p_i = 1 is needed."""
    return _moment_derivation(
        "moments.discrete_expectation",
        r"Discrete expectation $\mathbb{E}[X] = \sum_i p_i x_i$: a constant is its own mean, deviations average to $0$",
        sp.Matrix([E(c), E(x[i] - mu_x)]),
        sp.Matrix([c, 0]),
        (
            Step(sp.Matrix([c * E(1), E(x[i]) - mu_x * E(1)]), "linearity of the finite sum", method="sums"),
            Step(
                sp.Matrix([c, 0]),
                r"$\sum_i p_i = 1$ and $\mu_X = \sum_i p_i x_i$",
                method="substitute",
                change=((E(1), 1), (mu_x, E(x[i]))),
            ),
        ),
        total=total,
        notes=r"Probabilities that do not sum to $1$ break both statements: $\mathbb{E}[c]$ would not be $c$.",
    )


def uniform_moments(variance: Any = (b - a) ** 2 / 12) -> Derivation:
    """Continuous expectation for the uniform density 1/(b - a) on [a, b]."""
    u = sp.Symbol("u", real=True)
    density = 1 / (b - a)
    return Derivation(
        name="moments.uniform",
        title=(
            r"Continuous expectation $\mathbb{E}[X] = \int x f(x)\,dx$: "
            r"the mean and variance of $\mathrm{Uniform}(a, b)$"
        ),
        lhs=sp.Matrix([sp.Integral(u * density, (u, a, b)), sp.Integral((u - (a + b) / 2) ** 2 * density, (u, a, b))]),
        rhs=sp.Matrix([(a + b) / 2, variance]),
        steps=(
            Step(
                sp.Matrix([(b**2 - a**2) / (2 * (b - a)), (b - a) ** 3 / (12 * (b - a))]),
                r"antiderivatives $u^2/2$ and $(u - (a+b)/2)^3/3$ between $a$ and $b$",
            ),
            Step(sp.Matrix([(a + b) / 2, variance]), r"cancel $b - a$ (nonzero: $a < b$)", method="cancel"),
        ),
        notes=r"The CLT demo averages $\mathrm{Uniform}(1, 10)$ draws: mean $5.5$, variance $81/12 = 6.75$.",
        conditions=("$a < b$",),
        results=(
            Result(
                "uniform_moments",
                (("low", a), ("high", b)),
                (("mean", (a + b) / 2), ("var", variance)),
                "Mean and variance of the Uniform(low, high) distribution.",
            ),
        ),
    )


def linearity(rhs: Any = None) -> Derivation:
    """E[aX + bY + c] = a E[X] + b E[Y] + c."""
    rhs = a * E(x[i]) + b * E(y[i]) + c if rhs is None else rhs
    return _moment_derivation(
        "moments.linearity",
        r"Linearity of expectation: $\mathbb{E}[aX + bY + c] = a\,\mathbb{E}[X] + b\,\mathbb{E}[Y] + c$",
        E(a * x[i] + b * y[i] + c),
        rhs,
        (
            Step(a * E(x[i]) + b * E(y[i]) + c * E(1), "split the sum, pull out the constants", method="sums"),
            Step(rhs, r"$\sum_i p_i = 1$", method="substitute", change=((E(1), 1),)),
        ),
        where=(),
    )


def variance_moments(rhs: Any = None) -> Derivation:
    """Var X = E[X^2] - E[X]^2."""
    rhs = E(x[i] ** 2) - mu_x**2 if rhs is None else rhs
    return _moment_derivation(
        "moments.variance_moments",
        r"$\operatorname{Var}(X) = \mathbb{E}[X^2] - \mathbb{E}[X]^2$",
        var(x[i], mu_x),
        rhs,
        (
            Step(E(x[i] ** 2) - 2 * mu_x * E(x[i]) + mu_x**2 * E(1), "expand the square", method="sums"),
            Step(
                rhs,
                r"$\mathbb{E}[X] = \mu_X$ and $\sum_i p_i = 1$",
                method="substitute",
                change=((E(x[i]), mu_x), (E(1), 1)),
            ),
        ),
        notes=(
            r"Numerically the two-pass form $\mathbb{E}[(X - \mu)^2]$ is used: "
            r"$\mathbb{E}[X^2] - \mathbb{E}[X]^2$ cancels catastrophically."
        ),
    )


def variance_affine(factor: Any = a**2) -> Derivation:
    """Var(aX + b) = a^2 Var X."""
    shifted_mean = a * mu_x + b
    return _moment_derivation(
        "moments.variance_affine",
        r"$\operatorname{Var}(aX + b) = a^2 \operatorname{Var}(X)$",
        var(a * x[i] + b, shifted_mean),
        factor * var(x[i], mu_x),
        (
            Step(
                E((a * (x[i] - mu_x)) ** 2),
                r"$\mathbb{E}[aX + b] = a\mu_X + b$, so the shift $b$ has left the deviation; factor out $a$",
                method="sums",
            ),
            Step(factor * var(x[i], mu_x), r"pull $a^2$ out of the sum", method="sums"),
        ),
    )


def variance_sum(covariance_factor: Any = 2) -> Derivation:
    """Var(X + Y) = Var X + Var Y + 2 Cov(X, Y)."""
    rhs = var(x[i], mu_x) + var(y[i], mu_y) + covariance_factor * cov(x[i], mu_x, y[i], mu_y)
    return _moment_derivation(
        "moments.variance_sum",
        r"$\operatorname{Var}(X + Y) = \operatorname{Var}(X) + \operatorname{Var}(Y) + 2 \operatorname{Cov}(X, Y)$",
        var(x[i] + y[i], mu_x + mu_y),
        rhs,
        (
            Step(
                E((x[i] - mu_x) ** 2 + 2 * (x[i] - mu_x) * (y[i] - mu_y) + (y[i] - mu_y) ** 2),
                r"$\mathbb{E}[X + Y] = \mu_X + \mu_Y$; square $(x_i - \mu_X) + (y_i - \mu_Y)$",
                method="sums",
            ),
            Step(rhs, "split the sum: the cross term is twice the covariance", method="sums"),
        ),
        notes=r"For independent $X$ and $Y$ the covariance vanishes and variances add (the prediction step).",
    )


def covariance_moments(rhs: Any = None) -> Derivation:
    """Cov(X, Y) = E[XY] - E[X] E[Y]."""
    rhs = E(x[i] * y[i]) - mu_x * mu_y if rhs is None else rhs
    return _moment_derivation(
        "moments.covariance_moments",
        r"$\operatorname{Cov}(X, Y) = \mathbb{E}[XY] - \mathbb{E}[X]\,\mathbb{E}[Y]$",
        cov(x[i], mu_x, y[i], mu_y),
        rhs,
        (
            Step(
                E(x[i] * y[i]) - mu_y * E(x[i]) - mu_x * E(y[i]) + mu_x * mu_y * E(1),
                "multiply out",
                method="sums",
            ),
            Step(
                rhs,
                r"$\mathbb{E}[X] = \mu_X$, $\mathbb{E}[Y] = \mu_Y$, $\sum_i p_i = 1$",
                method="substitute",
                change=((E(x[i]), mu_x), (E(y[i]), mu_y), (E(1), 1)),
            ),
        ),
    )


def covariance_bilinear(coefficient: Any = a) -> Derivation:
    """Cov(aX + bY, Z) = a Cov(X, Z) + b Cov(Y, Z) and Cov(X, Y) = Cov(Y, X)."""
    lhs = sp.Matrix([cov(a * x[i] + b * y[i], a * mu_x + b * mu_y, zv[i], mu_z), cov(x[i], mu_x, y[i], mu_y)])
    rhs = sp.Matrix(
        [coefficient * cov(x[i], mu_x, zv[i], mu_z) + b * cov(y[i], mu_y, zv[i], mu_z), cov(y[i], mu_y, x[i], mu_x)]
    )
    return _moment_derivation(
        "moments.covariance_bilinear",
        "Covariance is bilinear and symmetric",
        lhs,
        rhs,
        (
            Step(
                sp.Matrix([E((a * (x[i] - mu_x) + b * (y[i] - mu_y)) * (zv[i] - mu_z)), cov(y[i], mu_y, x[i], mu_x)]),
                r"$\mathbb{E}[aX + bY] = a\mu_X + b\mu_Y$; multiplication commutes",
                method="sums",
            ),
            Step(rhs, "distribute and pull out the constants", method="sums"),
        ),
        where=(*_MEANS, (mu_z, E(zv[i]))),
    )


def _components(dimension: int) -> tuple[list[Any], list[Any]]:
    values = [sp.IndexedBase(f"x_{k + 1}", real=True) for k in range(dimension)]
    means = [sp.Symbol(f"mu_{k + 1}", real=True) for k in range(dimension)]
    return values, means


def _covariance_matrix(values: list[Any], means: list[Any]) -> Any:
    size = len(values)
    return sp.Matrix(size, size, lambda k, m: cov(values[k][i], means[k], values[m][i], means[m]))


def covariance_matrix(dimension: int = 3, quadratic_form: Any = None) -> Derivation:
    """The covariance matrix is symmetric and w^T Sigma w = Var(w^T X) >= 0."""
    values, means = _components(dimension)
    weights = sp.Matrix(sp.symbols(f"w_1:{dimension + 1}", real=True))
    sigma = _covariance_matrix(values, means)
    centred = sum(weights[k] * (values[k][i] - means[k]) for k in range(dimension))
    quadratic = (weights.T * sigma * weights)[0, 0] if quadratic_form is None else quadratic_form
    variance_of_projection = E(centred**2)
    return _moment_derivation(
        "moments.covariance_matrix",
        f"The covariance matrix is symmetric positive semi-definite (checked for ${{d = {dimension}}}$)",
        quadratic,
        variance_of_projection,
        (
            Step(
                sigma.T,
                r"$\Sigma = \Sigma^T$: $\operatorname{Cov}(X_k, X_l) = \operatorname{Cov}(X_l, X_k)$, "
                "as multiplication commutes (the transposed matrix is entry for entry the same expression)",
                lhs=sigma,
                restatement=True,
            ),
            Step(
                sp.Add(*(weights[k] * weights[m] * sigma[k, m] for k in range(dimension) for m in range(dimension))),
                "write out the quadratic form",
                method="sums",
            ),
            Step(
                variance_of_projection,
                r"gather the sums: $\mathbb{E}\big[(\sum_k w_k (X_k - \mu_k))^2\big]$",
                method="sums",
            ),
            Step(sp.Integer(0), r"$p_i \ge 0$ times a square", method="nonnegative", lhs=variance_of_projection),
        ),
        where=tuple((means[k], E(values[k][i])) for k in range(dimension)),
        notes=(
            f"Proved for a random vector with $d = {dimension}$ components over a general finite distribution; "
            r"the algebra is the same for every $d$. $w^T \Sigma w = \operatorname{Var}(w^T X) \ge 0$ "
            r"for every $w$ is positive semi-definiteness."
        ),
    )


def covariance_transform(dimension: int = 2, transform: Any = None) -> Derivation:
    """Cov(AX + b) = A Sigma A^T."""
    values, means = _components(dimension)
    matrix = sp.Matrix(dimension, dimension, lambda k, m: sp.Symbol(f"A_{k + 1}{m + 1}", real=True))
    shift = sp.Matrix(sp.symbols(f"b_1:{dimension + 1}", real=True))
    sigma = _covariance_matrix(values, means)
    outputs = [sum(matrix[k, m] * values[m][i] for m in range(dimension)) + shift[k] for k in range(dimension)]
    output_means = [sum(matrix[k, m] * means[m] for m in range(dimension)) + shift[k] for k in range(dimension)]
    centred = [sum(matrix[k, m] * (values[m][i] - means[m]) for m in range(dimension)) for k in range(dimension)]
    lhs = sp.Matrix(dimension, dimension, lambda k, m: cov(outputs[k], output_means[k], outputs[m], output_means[m]))
    rhs = matrix * sigma * matrix.T if transform is None else transform(matrix, sigma)
    return _moment_derivation(
        "moments.covariance_transform",
        f"$\\operatorname{{Cov}}(AX + b) = A \\Sigma A^T$ (checked for $d = {dimension}$)",
        lhs,
        rhs,
        (
            Step(
                sp.Matrix(dimension, dimension, lambda k, m: E(centred[k] * centred[m])),
                r"$\mathbb{E}[AX + b] = A\mu + b$, so the shift $b$ has left the deviations",
                method="sums",
            ),
            Step(rhs, r"multiply out: entry $(k, l)$ is $\sum_m \sum_r A_{km} \Sigma_{mr} A_{lr}$", method="sums"),
        ),
        where=tuple((means[k], E(values[k][i])) for k in range(dimension)),
    )


def correlation_bound(rhs: Any = None) -> Derivation:
    """Cauchy–Schwarz: Var X (Var X Var Y - Cov^2) is a weighted sum of squares, so Cov^2 <= Var X Var Y."""
    vx, vy, cxy = var(x[i], mu_x), var(y[i], mu_y), cov(x[i], mu_x, y[i], mu_y)
    rhs = vx * (vx * vy - cxy**2) if rhs is None else rhs
    square = E((vx * (y[i] - mu_y) - cxy * (x[i] - mu_x)) ** 2)
    return _moment_derivation(
        "moments.correlation_bound",
        r"Cauchy–Schwarz: "
        r"$\operatorname{Var}(X)(\operatorname{Var}(X) \operatorname{Var}(Y) - \operatorname{Cov}(X, Y)^2)$ "
        r"is a weighted sum of squares, "
        r"so $\operatorname{Cov}(X, Y)^2 \le \operatorname{Var}(X) \operatorname{Var}(Y)$ "
        r"when $\operatorname{Var}(X) > 0$",
        square,
        rhs,
        (
            Step(
                sp.Integer(0),
                r"a sum of squares weighted by $p_i \ge 0$ is $\ge 0$",
                method="nonnegative",
                lhs=square,
            ),
            Step(
                sp.Integer(0),
                r"$\operatorname{Var}(X) = \sum_i p_i (x_i - \mu_X)^2 \ge 0$ likewise",
                method="nonnegative",
                lhs=vx,
            ),
            Step(
                vx**2 * vy - 2 * vx * cxy * cxy + cxy**2 * vx,
                r"expand the square; $\operatorname{Var}(X)$ and $\operatorname{Cov}(X, Y)$ are constants of the sum",
                method="sums",
            ),
            Step(rhs, r"collect $\operatorname{Var}(X)$", method="sums"),
        ),
        where=_MEANS,
        notes=(
            r"Checked: the identity (the chain) and the two inequalities (lemmas 1 and 2), for a general finite "
            r"distribution with $n$ outcomes. The last inference is one line of prose: if $\operatorname{Var}(X) > 0$, "
            r"dividing $\operatorname{Var}(X)(\operatorname{Var}(X) \operatorname{Var}(Y) - \operatorname{Cov}^2)"
            r" \ge 0$ "
            r"by $\operatorname{Var}(X)$ gives $\operatorname{Cov}^2 \le \operatorname{Var}(X) \operatorname{Var}(Y)$, "
            r"i.e. $\rho = \operatorname{Cov}(X, Y)/(\sigma_X \sigma_Y)$ lies in $[-1, 1]$; "
            r"if $\operatorname{Var}(X) = 0$, "
            r"every $x_i$ with $p_i > 0$ equals $\mu_X$, so $\operatorname{Cov}(X, Y) = 0$ and the bound holds "
            r"trivially. No division by $\operatorname{Var}(X)$ happens in what is checked."
        ),
    )


# ----------------------------------------------------------------- estimators (i.i.d. sample of size N)
N = sp.Symbol("N", integer=True, positive=True)
j = sp.Symbol("j", integer=True, positive=True)
draw = sp.IndexedBase("x", real=True)
mu, sigma = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
xbar = sp.Symbol(r"\bar{x}", real=True)
_first, _second = sp.Wild("k"), sp.Wild("l")

#: Independent draws with mean mu and variance sigma^2: the moment facts every estimator proof uses.
IID_FACTS = (
    (Expectation(draw[_first] * draw[_second]), mu**2 + sigma**2 * sp.KroneckerDelta(_first, _second)),
    (Expectation(draw[_first] ** 2), mu**2 + sigma**2),
    (Expectation(draw[_first]), mu),
)


def sample_variance_bias(divisor: Any = N - 1) -> Derivation:
    """E[sum (x_i - xbar)^2] = (N - 1) sigma^2, for symbolic N."""
    scatter = sp.Sum((draw[i] - xbar) ** 2, (i, 1, N))
    return Derivation(
        name="moments.sample_variance_bias",
        conditions=(r"$N \ge 2$",),
        title=(
            r"Population ($1/N$) vs sample ($1/(N-1)$) variance: "
            r"$\mathbb{E}[\sum_i (x_i - \bar{x})^2] = (N-1)\sigma^2$"
        ),
        lhs=Expectation(scatter / divisor),
        rhs=sigma**2,
        where=((xbar, sp.Sum(draw[j], (j, 1, N)) / N),),
        given=IID_FACTS,
        steps=(
            Step(
                (Expectation(sp.Sum(draw[i] ** 2, (i, 1, N))) - N * Expectation(xbar**2)) / divisor,
                r"$\sum_i (x_i - \bar{x})^2 = \sum_i x_i^2 - N\bar{x}^2$, and $\mathbb{E}$ is linear",
                method="expectation",
            ),
            Step(
                (N * (mu**2 + sigma**2) - N * (mu**2 + sigma**2 / N)) / divisor,
                r"$\mathbb{E}[x_i^2] = \mu^2 + \sigma^2$; $\mathbb{E}[\bar{x}^2] = \mu^2 + \sigma^2/N$ "
                r"from $\mathbb{E}[x_i x_j] = \mu^2 + \sigma^2 \delta_{ij}$",
                method="expectation",
            ),
            Step(sigma**2, r"the $\mu^2$ terms cancel; $N - 1 \ne 0$ as $N \ge 2$", method="cancel"),
            Step(
                -(sigma**2) / N,
                r"so the population ($1/N$) estimator is biased by $-\sigma^2/N$",
                method="expectation",
                lhs=Expectation(scatter / N) - sigma**2,
            ),
        ),
        notes=(
            r"Proved for symbolic $N$ (any sample size $N \ge 2$) with the stated moment facts of independent, "
            r"identically distributed draws; moments.sample_variance_small_n checks $N = 2, \ldots, 12$ "
            r"again by expansion. Dividing by $N - 1$ (numpy.cov's default, ddof=1) is unbiased; dividing by $N$ "
            r"(bias=True, ddof=0) is not."
        ),
    )


def sample_variance_small_n(sizes: tuple[int, ...] = tuple(range(2, 13)), divisor: Any = None) -> Derivation:
    """The same statement, expanded explicitly for each concrete N."""

    def scatter(size: int) -> Any:
        mean = sp.Add(*(draw[k] for k in range(1, size + 1))) / size
        return sp.Add(*((draw[k] - mean) ** 2 for k in range(1, size + 1)))

    def divide(size: int) -> Any:
        return size - 1 if divisor is None else divisor(size)

    lhs = sp.Matrix([Expectation(scatter(size) / divide(size)) for size in sizes])
    rhs = sp.Matrix([sigma**2] * len(sizes))
    return Derivation(
        name="moments.sample_variance_small_n",
        title=f"The $1/(N-1)$ estimator is unbiased, checked by expansion for $N = {sizes[0]}, \\ldots, {sizes[-1]}$",
        lhs=lhs,
        rhs=rhs,
        given=IID_FACTS,
        steps=(
            Step(
                rhs,
                r"expand each scatter as a polynomial in $x_1, \ldots, x_N$; apply $\mathbb{E}$ monomial by monomial",
                "expectation",
            ),
        ),
        notes=(
            "A second check of the statement of moments.sample_variance_bias, independent of it: "
            "no symbolic sums, only the stated moment facts of independent draws."
        ),
    )


for _factory in (
    discrete_expectation,
    uniform_moments,
    linearity,
    variance_moments,
    variance_affine,
    variance_sum,
    covariance_moments,
    covariance_bilinear,
    covariance_matrix,
    covariance_transform,
    correlation_bound,
    sample_variance_bias,
    sample_variance_small_n,
):
    register(_factory())
