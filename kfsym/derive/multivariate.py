"""Multivariate Gaussians: density, moments, product (update), linear maps and sums (prediction).

Three kinds of proof, each stated in the derivation it checks:

- 2-D with a *fully symbolic* covariance: every symmetric positive-definite
  2x2 matrix is ``[[a, b], [b, k + b^2/a]]`` with ``a, k > 0`` (``k`` is the
  Schur complement), so symbols ``a, k > 0`` and real ``b`` cover all of them;
  integrals are moved to standard coordinates by an affine change of variables.
- concrete sizes n = 2, 3, 4 with generic symbolic entries, by cleared
  denominators in a polynomial ring (:mod:`kfsym.derive.linalg`);
- any n, with matrices as non-commuting symbols: a claim is checked in the
  free algebra modulo the relations stated under "given" (definitions,
  hypotheses, instances of the axioms in :mod:`kfsym.derive.matrix_lemmas`).
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from kfsym.derive import matrix_lemmas as ml
from kfsym.derive.core import Derivation, Step
from kfsym.derive.registry import register, register_topic

TOPIC = register_topic("multivariate", "Multivariate Gaussians", order=40)

# ----------------------------------------------------------------------------- 2-D, fully symbolic
x, y, z1, z2, mu1, mu2, b = sp.symbols("x y z_1 z_2 mu_1 mu_2 b", real=True)
a, k = sp.symbols("a k", positive=True)
c = sp.Symbol("c", positive=True)
COVARIANCE_2D = sp.Matrix([[a, b], [b, c]])
CHOLESKY_2D = sp.Matrix([[sp.sqrt(a), 0], [b / sp.sqrt(a), sp.sqrt(k)]])


def mvn_density(point: Any, mean: Any, covariance: Any) -> Any:
    """N(point; mean, covariance) for explicit SymPy matrices."""
    deviation = point - mean
    quadratic = (deviation.T * covariance.inv() * deviation)[0, 0]
    size = covariance.rows
    return sp.exp(-quadratic / 2) / sp.sqrt((2 * sp.pi) ** size * covariance.det())


def pdf_2d(covariance_entry: Any = c) -> Derivation:
    """Normalisation, mean and covariance of the 2-D Gaussian, by change of variables."""
    point, mean = sp.Matrix([x, y]), sp.Matrix([mu1, mu2])
    density = mvn_density(point, mean, sp.Matrix([[a, b], [b, covariance_entry]]))
    moments = [sp.Integer(1), x, y, (x - mu1) ** 2, (x - mu1) * (y - mu2), (y - mu2) ** 2]
    new_point = mean + CHOLESKY_2D * sp.Matrix([z1, z2])
    change = ((x, new_point[0]), (y, new_point[1]))
    standard = sp.exp(-(z1**2 + z2**2) / 2) / (2 * sp.pi)
    both = ((x, -sp.oo, sp.oo), (y, -sp.oo, sp.oo))
    standard_limits = ((z1, -sp.oo, sp.oo), (z2, -sp.oo, sp.oo))
    transformed = [sp.Integral(f.xreplace(dict(change)) * standard, *standard_limits) for f in moments]
    evaluated = sp.Matrix([1, mu1, mu2, a, b, k + b**2 / a])
    return Derivation(
        name="multivariate.pdf_2d",
        title=r"The 2-D Gaussian integrates to $1$, has mean $m$ and covariance $\Sigma$ (fully symbolic $\Sigma$)",
        lhs=sp.Matrix([sp.Integral(f * density, *both) for f in moments]),
        rhs=sp.Matrix([1, mu1, mu2, a, b, c]),
        where=((c, k + b**2 / a),),
        steps=(
            Step(
                CHOLESKY_2D * CHOLESKY_2D.T,
                r"the Cholesky factor $L$ of $\Sigma$",
                lhs=COVARIANCE_2D,
                restatement=True,
            ),
            Step(
                sp.Matrix(transformed),
                r"substitute $x = m + L z$: $(x - m)^T \Sigma^{-1} (x - m) = z^T z$ and $|\det L| = \sqrt{\det\Sigma}$",
                method="change_of_variables",
                change=change,
            ),
            Step(evaluated, r"standard normal moments: $\mathbb{E}[z_i] = 0$, $\mathbb{E}[z_i z_j] = \delta_{ij}$"),
            Step(
                sp.Matrix([1, mu1, mu2, a, b, c]),
                r"$c = k + b^2/a$",
                method="substitute",
                change=((c, k + b**2 / a),),
            ),
        ),
        notes=(
            r"Every symmetric positive-definite $2 \times 2$ matrix has rows $(a, b)$ and $(b, c)$ "
            r"with $a > 0$ and $c = k + b^2/a$ for some $k > 0$ ($k = \det\Sigma / a$), so this covers all 2-D "
            r"Gaussians."
        ),
    )


sigma_x, sigma_y = sp.symbols("sigma_x sigma_y", positive=True)
rho = sp.Symbol("rho", real=True)


def bivariate(determinant: Any = None) -> Derivation:
    """The textbook (sigma_x, sigma_y, rho) density equals the matrix form."""
    determinant = sigma_x**2 * sigma_y**2 * (1 - rho**2) if determinant is None else determinant
    covariance = sp.Matrix([[sigma_x**2, rho * sigma_x * sigma_y], [rho * sigma_x * sigma_y, sigma_y**2]])
    u, v = (x - mu1) / sigma_x, (y - mu2) / sigma_y
    textbook_quadratic = (u**2 - 2 * rho * u * v + v**2) / (1 - rho**2)
    deviation = sp.Matrix([x - mu1, y - mu2])
    adjugate_form = (deviation.T * covariance.adjugate() * deviation)[0, 0]
    return Derivation(
        name="multivariate.bivariate",
        title=r"The bivariate form with $\sigma_x$, $\sigma_y$, $\rho$ equals the matrix form",
        lhs=sp.Matrix([adjugate_form / covariance.det(), covariance.det()]),
        rhs=sp.Matrix([textbook_quadratic, determinant]),
        steps=(
            Step(
                sp.Matrix([textbook_quadratic, determinant]),
                r"$\Sigma^{-1} = \operatorname{adj}(\Sigma)/\det\Sigma$; $\det\Sigma = \sigma_x^2 \sigma_y^2 (1 - "
                r"\rho^2)$",
                method="cancel",
            ),
        ),
        notes=(
            r"So $\mathcal{N}(x; m, \Sigma) = e^{-Q/2} / (2\pi \sigma_x \sigma_y \sqrt{1 - \rho^2})$ with "
            r"$Q = (u^2 - 2\rho u v + v^2)/(1 - \rho^2)$, $u = (x - \mu_1)/\sigma_x$, $v = (y - \mu_2)/\sigma_y$, "
            r"$|\rho| < 1$."
        ),
    )


# ----------------------------------------------------------------------------- any n: the free algebra
HALF = sp.Rational(1, 2)
det_sigma = sp.Symbol(r"\det\Sigma", positive=True)
det_l = sp.Symbol(r"\det L", positive=True)
n_dim = sp.Symbol("n", integer=True, positive=True)

SIGMA = ml.Matrix("Sigma", invertible=True)
CHOL = ml.Matrix("L", invertible=True)
COV = ml.Matrix("S", invertible=True)
COV1, COV2 = ml.Matrix("S_1"), ml.Matrix("S_2")
XV, ZV, TV, MV, BV, SV, MV1, MV2 = ml.matrices("x z t m b s m_1 m_2")
MAP = ml.Matrix("A")


def pdf_general(power: Any = HALF, cholesky: Any = None) -> Derivation:
    """x = m + L z with Sigma = L L^T: the exponent becomes -z^T z/2 and the normaliser (2 pi)^{-n/2} (any n)."""
    cholesky = CHOL.symbol * CHOL.T if cholesky is None else cholesky
    z, zT, L, LT = ZV.symbol, ZV.T, CHOL.symbol, CHOL.T
    return Derivation(
        name="multivariate.pdf_general",
        title=(
            r"Any $n$: with $\Sigma = L L^T$ and $x = m + L z$, $(x - m)^T \Sigma^{-1} (x - m) = z^T z$ and "
            r"$|\det L| / \sqrt{(2\pi)^n \det\Sigma} = (2\pi)^{-n/2}$"
        ),
        lhs=(2 * sp.pi) ** (-n_dim / 2) * det_sigma ** (-power) * det_l,
        rhs=(2 * sp.pi) ** (-n_dim / 2),
        given=((SIGMA.symbol, cholesky), *ml.inverse(SIGMA), *ml.inverse(CHOL), (det_sigma, det_l**2)),
        steps=(
            Step(
                CHOL.inv_T * CHOL.inv,
                r"lemma: $\Sigma^{-1} = L^{-T} L^{-1}$, from $\Sigma = L L^T$ and the inverse axioms",
                method="algebra",
                lhs=SIGMA.inv,
            ),
            Step(
                zT * z,
                r"the quadratic form $(x - m)^T \Sigma^{-1} (x - m)$ at $x - m = L z$",
                method="algebra",
                lhs=zT * LT * SIGMA.inv * L * z,
            ),
            Step(
                (2 * sp.pi) ** (-n_dim / 2),
                r"$\det\Sigma = \det(L L^T) = \det L \det L^T = (\det L)^2$, and the Jacobian $|\det L| = \det L$ "
                r"cancels $(\det\Sigma)^{-1/2}$",
                method="substitute",
                change=((det_sigma, det_l**2),),
            ),
        ),
        notes=(
            r"Hypotheses: $\Sigma$ is symmetric positive definite, so it has a Cholesky factor $L$ with "
            r"$\Sigma = L L^T$ and $\det L > 0$ (a theorem, cited); $\Sigma$ and $L$ are invertible. Checked: the two "
            r"matrix lemmas for every $n$ in the free algebra, and the scalar identity of the normaliser after "
            r"$\det\Sigma = (\det L)^2$, an instance (stated under given) of the determinant axioms "
            r"$\det AB = \det A \det B$ and $\det A^T = \det A$. Argued in prose, not checked: the change of "
            r"variables $x = m + L z$ in an $n$-fold integral ($dx = |\det L|\,dz$) and Fubini, by which "
            r"$(2\pi)^{-n/2} e^{-z^T z/2} = \prod_i \varphi(z_i)$ integrates to $1$ because each 1-D factor does "
            r"(gaussian.normalisation); together they give that $\mathcal{N}(x; m, \Sigma)$ integrates to $1$ for "
            r"every $n$. "
            + ml.axioms_note(r"$\Sigma = L L^T$ with $L$ invertible; $\Sigma$ invertible", "none beyond the hypotheses")
        ),
    )


size = sp.Symbol("n", integer=True, positive=True)
SIZES = ({size: 2}, {size: 3}, {size: 4})
COV_N = sp.MatrixSymbol("S", size, size)


def _mgf_concrete(half: Any) -> tuple[Any, Any]:
    """The completed square with n x 1 vectors and an n x n covariance (MatrixSymbols, n concrete per case)."""
    t, x, m = (sp.MatrixSymbol(name, size, 1) for name in ("t", "x", "m"))
    shifted = m + COV_N * t
    lhs = t.T * x - HALF * (x - m).T * COV_N.I * (x - m)
    rhs = -HALF * (x - shifted).T * COV_N.I * (x - shifted) + t.T * m + half * t.T * COV_N * t
    return lhs, rhs


def mgf_general(half: Any = HALF) -> Derivation:
    """Completing the square: exp(t^T x) N(x; m, S) = exp(t^T m + t^T S t/2) N(x; m + S t, S) (any n)."""
    x, xT, t, tT, m, mT = XV.symbol, XV.T, TV.symbol, TV.T, MV.symbol, MV.T
    S, S_inv = COV.symbol, COV.inv
    shifted = m + S * t
    lhs = tT * x - HALF * (xT - mT) * S_inv * (x - m)
    rhs = -HALF * (xT - ml.transpose(shifted)) * S_inv * (x - shifted) + tT * m + half * tT * S * t
    return Derivation(
        name="multivariate.mgf",
        title=(
            r"Any $n$: completing the square, $t^T x - (x - m)^T S^{-1} (x - m)/2 = -(x - m')^T S^{-1} (x - m')/2 "
            r"+ t^T m + t^T S t/2$ with $m' = m + S t$; hence the MGF of $\mathcal{N}(m, S)$ is "
            r"$\exp(t^T m + t^T S t/2)$"
        ),
        lhs=lhs,
        rhs=rhs,
        given=(*ml.inverse(COV), *ml.symmetric(COV), (xT * t, tT * x), (mT * t, tT * m), (COV_N.T, COV_N)),
        steps=(
            Step(
                tT * x - HALF * (xT * S_inv * x - xT * S_inv * m - mT * S_inv * x + mT * S_inv * m),
                "multiply out the quadratic form",
                method="algebra",
            ),
            Step(
                rhs,
                r"complete the square: $S^{-1} S = I$, $S^T = S$, $x^T t = t^T x$, $m^T t = t^T m$",
                method="algebra",
            ),
            Step(
                _mgf_concrete(half)[1],
                r"the same identity for $n = 2, 3, 4$ with generic entries ($S$ symmetric), by cleared denominators",
                method="matrices",
                lhs=_mgf_concrete(half)[0],
                cases=SIZES,
            ),
        ),
        notes=(
            r"Multiplying by $\exp$ and by the normaliser of $\mathcal{N}(x; m, S)$, which does not depend on the "
            r"mean, $e^{t^T x}\,\mathcal{N}(x; m, S) = \exp(t^T m + t^T S t/2)\,\mathcal{N}(x; m', S)$. Integrating "
            r"over $x$, $\mathcal{N}(x; m', S)$ integrates to $1$ (multivariate.pdf_general), so "
            r"$M(t) = \mathbb{E}\,e^{t^T x} = \exp(t^T m + t^T S t/2)$. "
            + ml.axioms_note(
                r"$S$ is symmetric ($S^T = S$) and invertible; $x^T t = t^T x$ and $m^T t = t^T m$ are instances of "
                r"axiom A4 ($x, m, t$ are $n \times 1$)",
                "$m' = m + S t$ (written out)",
            )
        ),
    )


def linear_transform(covariance: Any = None) -> Derivation:
    """x ~ N(m, S) => A x + b has the MGF of N(A m + b, A S A^T) (any n)."""
    t, tT, m, b, s, sT = TV.symbol, TV.T, MV.symbol, BV.symbol, SV.symbol, SV.T
    A, AT, S = MAP.symbol, MAP.T, COV.symbol
    covariance = A * S * AT if covariance is None else covariance
    return Derivation(
        name="multivariate.linear_transform",
        title=(
            r"Any $n$: if $x \sim \mathcal{N}(m, S)$ (MGF from multivariate.mgf), $A x + b$ has the MGF of "
            r"$\mathcal{N}(A m + b, A S A^T)$"
        ),
        lhs=tT * b + sT * m + HALF * sT * S * s,
        rhs=tT * (A * m + b) + HALF * tT * covariance * t,
        given=((s, AT * t),),
        steps=(
            Step(
                tT * b + tT * A * m + HALF * tT * A * S * AT * t,
                r"$s = A^T t$, so $s^T = t^T A$ (axiom A2)",
                method="algebra",
            ),
            Step(tT * (A * m + b) + HALF * tT * covariance * t, "collect", method="algebra"),
        ),
        notes=(
            r"$\mathbb{E}\,e^{t^T (A x + b)} = e^{t^T b}\,\mathbb{E}\,e^{s^T x}$ with $s = A^T t$ "
            r"($t^T A x = (A^T t)^T x$, axiom A2), and $\mathbb{E}\,e^{s^T x} = \exp(s^T m + s^T S s/2)$ by "
            r"multivariate.mgf. The claim is the exponent of that product, and the right side is the MGF exponent of "
            r"$\mathcal{N}(A m + b, A S A^T)$. That an MGF finite near $0$ determines the distribution is a theorem "
            "cited, not checked. " + ml.axioms_note(r"$x \sim \mathcal{N}(m, S)$", "$s = A^T t$")
        ),
    )


def sum_independent(covariance: Any = None) -> Derivation:
    """Independent x ~ N(m_1, S_1), y ~ N(m_2, S_2): x + y has the MGF of N(m_1 + m_2, S_1 + S_2) (any n)."""
    t, tT, m1, m2, s1, s2 = TV.symbol, TV.T, MV1.symbol, MV2.symbol, COV1.symbol, COV2.symbol
    covariance = s1 + s2 if covariance is None else covariance
    return Derivation(
        name="multivariate.sum",
        title=(
            r"Any $n$: independent $x \sim \mathcal{N}(m_1, S_1)$, $y \sim \mathcal{N}(m_2, S_2)$: $x + y$ has the MGF "
            r"of $\mathcal{N}(m_1 + m_2, S_1 + S_2)$"
        ),
        lhs=(tT * m1 + HALF * tT * s1 * t) + (tT * m2 + HALF * tT * s2 * t),
        rhs=tT * (m1 + m2) + HALF * tT * covariance * t,
        steps=(Step(tT * (m1 + m2) + HALF * tT * covariance * t, "collect the exponents", method="algebra"),),
        notes=(
            r"For independent $x$ and $y$, $\mathbb{E}\,e^{t^T (x + y)} = \mathbb{E}\,e^{t^T x}\,\mathbb{E}\,e^{t^T "
            r"y}$ "
            r"(hypothesis: independence), and each factor is $\exp(t^T m_i + t^T S_i t/2)$ by multivariate.mgf, so "
            r"the exponents add; the sum is the MGF exponent of $\mathcal{N}(m_1 + m_2, S_1 + S_2)$, and MGFs "
            "determine distributions (cited). "
            + ml.axioms_note("independence of $x$ and $y$", "none")
        ),
    )


SIGMA_1 = ml.Matrix("Sigma_1", invertible=True)
SIGMA_2 = ml.Matrix("Sigma_2", invertible=True)
TOTAL = ml.Matrix("P", invertible=True)
#: P = Sigma_1 + Sigma_2 (definition); Sigma_1, Sigma_2, P invertible and the Sigmas symmetric (hypotheses).
PRODUCT_RELATIONS = (
    (TOTAL.symbol, SIGMA_1.symbol + SIGMA_2.symbol),
    *ml.inverse(SIGMA_1),
    *ml.inverse(SIGMA_2),
    *ml.inverse(TOTAL),
    *ml.symmetric(SIGMA_1),
    *ml.symmetric(SIGMA_2),
)


def product_general(covariance: Any = None) -> Derivation:
    """N(x; m1, S1) N(x; m2, S2) = N(m1; m2, S1 + S2) N(x; m, S), any n, in the free algebra."""
    S1, S2, S1_inv, S2_inv, P_inv = SIGMA_1.symbol, SIGMA_2.symbol, SIGMA_1.inv, SIGMA_2.inv, TOTAL.inv
    m1, m2, x = MV1.symbol, MV2.symbol, XV.symbol
    covariance = S1 * P_inv * S2 if covariance is None else covariance
    information = S1_inv + S2_inv
    mean = S2 * P_inv * m1 + S1 * P_inv * m2
    exponent_left = (XV.T - MV1.T) * S1_inv * (x - m1) + (XV.T - MV2.T) * S2_inv * (x - m2)
    exponent_right = (XV.T - ml.transpose(mean)) * information * (x - mean) + (MV1.T - MV2.T) * P_inv * (m1 - m2)
    return Derivation(
        name="multivariate.product_general",
        title=(
            r"Any $n$: product of two Gaussian densities: $(\Sigma_1^{-1} + \Sigma_2^{-1}) \Sigma_1 P^{-1} \Sigma_2 = "
            r"I$ "
            r"with $P = \Sigma_1 + \Sigma_2$, the gain forms, and the completed square of the exponents"
        ),
        lhs=information * covariance,
        rhs=sp.Integer(1),
        given=PRODUCT_RELATIONS,
        steps=(
            Step(
                S1_inv * S1 * P_inv * S2 + S2_inv * S1 * P_inv * S2,
                "distribute",
                method="algebra",
            ),
            Step(
                sp.Integer(1),
                r"$P^{-1} (\Sigma_1 + \Sigma_2) = I$, $\Sigma_i^{-1} \Sigma_i = I$",
                method="algebra",
            ),
            Step(
                S1 - S1 * P_inv * S1,
                "gain (Kalman) form of the covariance",
                method="algebra",
                lhs=covariance,
            ),
            Step(
                m1 + S1 * P_inv * (m2 - m1),
                r"gain form of the mean $m = S (\Sigma_1^{-1} m_1 + \Sigma_2^{-1} m_2)$",
                method="algebra",
                lhs=covariance * (S1_inv * m1 + S2_inv * m2),
            ),
            Step(
                exponent_right,
                r"complete the square: the exponents agree for every $x$, constant $(m_1 - m_2)^T P^{-1} (m_1 - m_2)$",
                method="algebra",
                lhs=exponent_left,
            ),
        ),
        notes=(
            r"With the exponents equal and $\det\Sigma_1 \det\Sigma_2 = \det P \det S$ (determinants multiply, "
            r"$S = \Sigma_1 P^{-1} \Sigma_2$; checked for $n = 2, 3, 4$ in multivariate.product_concrete, cited for "
            r"general $n$), $\mathcal{N}(x; m_1, \Sigma_1)\,\mathcal{N}(x; m_2, \Sigma_2) "
            r"= \mathcal{N}(m_1; m_2, P)\,\mathcal{N}(x; m, S)$. "
            + ml.axioms_note(
                r"$\Sigma_1$, $\Sigma_2$ symmetric and invertible, $P$ invertible",
                r"$P = \Sigma_1 + \Sigma_2$",
            )
        ),
    )


# ----------------------------------------------------------------------------- n = 2, 3, 4: generic entries
Sig1, Sig2 = sp.MatrixSymbol("Sigma_1", size, size), sp.MatrixSymbol("Sigma_2", size, size)
mean1, mean2 = sp.MatrixSymbol("m_1", size, 1), sp.MatrixSymbol("m_2", size, 1)
SYMMETRIC = ((Sig1.T, Sig1), (Sig2.T, Sig2))


def product_concrete(gain_covariance: Any = None) -> Derivation:
    """The product's matrix identities for generic symmetric 2x2, 3x3 and 4x4 covariances."""
    total_inv = (Sig1 + Sig2).I
    gain_covariance = Sig1 - Sig1 * total_inv * Sig1 if gain_covariance is None else gain_covariance
    return Derivation(
        name="multivariate.product_concrete",
        title="Product of Gaussians for $n = 2, 3, 4$ with generic symbolic covariances",
        lhs=gain_covariance,
        rhs=Sig1 * total_inv * Sig2,
        given=SYMMETRIC,
        steps=(
            Step(
                Sig1.I * (Sig1 + Sig2) * Sig2.I,
                r"information form: $\Sigma_1^{-1} + \Sigma_2^{-1} = \Sigma_1^{-1} (\Sigma_1 + \Sigma_2) "
                r"\Sigma_2^{-1}$",
                method="matrices",
                lhs=Sig1.I + Sig2.I,
                cases=SIZES,
            ),
            Step(
                Sig2 * total_inv * Sig1,
                "the posterior covariance is symmetric",
                method="matrices",
                lhs=Sig1 * total_inv * Sig2,
                cases=SIZES,
            ),
            Step(
                mean1 + Sig1 * total_inv * (mean2 - mean1),
                "posterior mean: information-weighted form = gain form",
                method="matrices",
                lhs=Sig2 * total_inv * mean1 + Sig1 * total_inv * mean2,
                cases=SIZES,
            ),
            Step(Sig1 * total_inv * Sig2, "gain form of the covariance", method="matrices", cases=SIZES),
        ),
        notes=(
            r"Each identity is checked three times, with generic symmetric $n \times n$ matrices for $n = 2, 3, 4$, "
            r"by clearing denominators (inverse = adjugate/determinant) and comparing polynomial matrices. "
            r"Together with the inverse of the first identity, "
            r"$(\Sigma_1^{-1} (\Sigma_1 + \Sigma_2) \Sigma_2^{-1})^{-1} = \Sigma_2 (\Sigma_1 + \Sigma_2)^{-1} "
            r"\Sigma_1$, "
            r"they give the information, gain and product forms of the update; multivariate.product_general proves "
            r"the same for every $n$."
        ),
    )


for _factory in (
    pdf_2d,
    bivariate,
    pdf_general,
    mgf_general,
    product_general,
    product_concrete,
    linear_transform,
    sum_independent,
):
    register(_factory())
