"""Multivariate Gaussians: density, moments, product (update), linear maps and sums (prediction).

Three kinds of proof, each stated in the derivation it checks:

- 2-D with a *fully symbolic* covariance: every symmetric positive-definite
  2x2 matrix is ``[[a, b], [b, k + b^2/a]]`` with ``a, k > 0`` (``k`` is the
  Schur complement), so symbols ``a, k > 0`` and real ``b`` cover all of them;
  integrals are moved to standard coordinates by an affine change of variables.
- concrete sizes n = 2, 3, 4 with generic symbolic entries, by cleared
  denominators in a polynomial ring (:mod:`kfsym.derive.linalg`);
- any n, with matrices as non-commuting symbols and rewrite rules that are each
  a stated true equation (shown under "given").
"""

from __future__ import annotations

from typing import Any

import sympy as sp

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
        title="the 2-D Gaussian integrates to 1, has mean m and covariance Sigma (fully symbolic Sigma)",
        lhs=sp.Matrix([sp.Integral(f * density, *both) for f in moments]),
        rhs=sp.Matrix([1, mu1, mu2, a, b, c]),
        where=((c, k + b**2 / a),),
        steps=(
            Step(
                CHOLESKY_2D * CHOLESKY_2D.T,
                "the Cholesky factor L of Sigma",
                lhs=COVARIANCE_2D,
                restatement=True,
            ),
            Step(
                sp.Matrix(transformed),
                "substitute x = m + L z: (x - m)^T Sigma^{-1} (x - m) = z^T z and |det L| = sqrt(det Sigma)",
                method="change_of_variables",
                change=change,
            ),
            Step(evaluated, "standard normal moments: E[z_i] = 0, E[z_i z_j] = delta_ij"),
            Step(sp.Matrix([1, mu1, mu2, a, b, c]), "c = k + b^2/a", method="substitute", change=((c, k + b**2 / a),)),
        ),
        notes=(
            "Every symmetric positive-definite 2x2 matrix is [[a, b], [b, c]] with a > 0 and "
            "c = k + b^2/a for some k > 0 (k = det Sigma / a), so this covers all 2-D Gaussians."
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
        title="the bivariate form with sigma_x, sigma_y, rho equals the matrix form",
        lhs=sp.Matrix([adjugate_form / covariance.det(), covariance.det()]),
        rhs=sp.Matrix([textbook_quadratic, determinant]),
        steps=(
            Step(
                sp.Matrix([textbook_quadratic, determinant]),
                "Sigma^{-1} = adj(Sigma)/det(Sigma); det Sigma = sigma_x^2 sigma_y^2 (1 - rho^2)",
                method="cancel",
            ),
        ),
        notes=(
            "So N(x; m, Sigma) = exp(-Q/2) / (2 pi sigma_x sigma_y sqrt(1 - rho^2)) with "
            "Q = (u^2 - 2 rho u v + v^2)/(1 - rho^2), u = (x - mu_1)/sigma_x, v = (y - mu_2)/sigma_y, |rho| < 1."
        ),
    )


# ----------------------------------------------------------------------------- any n: rewriting
def nc(*names: str) -> tuple[Any, ...]:
    """Non-commuting symbols (matrices and vectors of unspecified size)."""
    symbols: tuple[Any, ...] = sp.symbols(" ".join(names), commutative=False)
    return symbols


L, LT, L_inv, LT_inv, Sigma_inv, z, zT = nc("L", "L^T", "L__-1", "L^{-T}", "Sigma__-1", "z", "z^T")
det_sigma = sp.Symbol(r"\det\Sigma", positive=True)
det_l = sp.Symbol(r"\det L", positive=True)
n_dim = sp.Symbol("n", integer=True, positive=True)


HALF = sp.Rational(1, 2)


def pdf_general(power: Any = HALF) -> Derivation:
    """N(x; m, Sigma) with x = m + L z is the standard normal density in z (any n)."""
    return Derivation(
        name="multivariate.pdf_general",
        title="any n: x = m + L z with Sigma = L L^T turns N(x; m, Sigma) dx into N(z; 0, I) dz",
        lhs=(2 * sp.pi) ** (-n_dim / 2) * det_sigma ** (-power) * det_l,
        rhs=(2 * sp.pi) ** (-n_dim / 2),
        given=(
            (Sigma_inv, LT_inv * L_inv),
            (LT * LT_inv, sp.Integer(1)),
            (L_inv * L, sp.Integer(1)),
            (det_sigma, det_l**2),
        ),
        steps=(
            Step(
                zT * z,
                "quadratic form: (L z)^T Sigma^{-1} (L z) with (L L^T)^{-1} = L^{-T} L^{-1}",
                method="rewrite",
                lhs=zT * LT * Sigma_inv * L * z,
            ),
            Step(
                (2 * sp.pi) ** (-n_dim / 2) * det_l ** (-2 * power) * det_l,
                "det Sigma = det(L L^T) = det L det L^T = (det L)^2",
                restatement=True,
            ),
            Step((2 * sp.pi) ** (-n_dim / 2), "the Jacobian |det L| cancels det(Sigma)^{-1/2}", restatement=True),
        ),
        notes=(
            "The claim is the normaliser after the change of variables dx = |det L| dz (det L > 0 for the "
            "Cholesky factor); the lemma shows the exponent becomes -z^T z / 2. So the n-D density integrates "
            "to 1 and x = m + L z has mean m and covariance L E[z z^T] L^T = L L^T = Sigma."
        ),
    )


S1, S2, S1_inv, S2_inv, P_inv = nc("Sigma_1", "Sigma_2", "Sigma_1__-1", "Sigma_2__-1", "P__-1")
m1, m2, m1T, m2T, xv, xT = nc("m_1", "m_2", "m_1^T", "m_2^T", "x", "x^T")

#: Inverse relations for Sigma_1, Sigma_2 and P = Sigma_1 + Sigma_2 (all symmetric).
PRODUCT_RULES = (
    (S1_inv * S1, sp.Integer(1)),
    (S1 * S1_inv, sp.Integer(1)),
    (S2_inv * S2, sp.Integer(1)),
    (S2 * S2_inv, sp.Integer(1)),
    (S1 * P_inv, 1 - S2 * P_inv),
    (P_inv * S1, 1 - P_inv * S2),
)


def product_general(covariance: Any = S1 * P_inv * S2) -> Derivation:
    """N(x; m1, S1) N(x; m2, S2) = N(m1; m2, S1 + S2) N(x; m, S), any n, by rewriting."""
    information = S1_inv + S2_inv
    mean = S2 * P_inv * m1 + S1 * P_inv * m2
    mean_t = m1T * P_inv * S2 + m2T * P_inv * S1
    exponent_left = (xT - m1T) * S1_inv * (xv - m1) + (xT - m2T) * S2_inv * (xv - m2)
    exponent_right = (xT - mean_t) * information * (xv - mean) + (m1T - m2T) * P_inv * (m1 - m2)
    return Derivation(
        name="multivariate.product_general",
        title="any n: product of two Gaussian densities, S = (S_1^{-1} + S_2^{-1})^{-1} = S_1 P^{-1} S_2",
        lhs=information * covariance,
        rhs=sp.Integer(1),
        given=PRODUCT_RULES,
        steps=(
            Step(
                S1_inv * S1 * P_inv * S2 + S2_inv * S1 * P_inv * S2,
                "distribute",
                method="rewrite",
            ),
            Step(sp.Integer(1), "S_1 P^{-1} = 1 - S_2 P^{-1} (from P^{-1} P = 1) and cancel", method="rewrite"),
            Step(
                S1 - S1 * P_inv * S1,
                "gain (Kalman) form of the covariance",
                method="rewrite",
                lhs=covariance,
            ),
            Step(
                m1 + S1 * P_inv * (m2 - m1),
                "gain form of the mean m = S (S_1^{-1} m_1 + S_2^{-1} m_2)",
                method="rewrite",
                lhs=covariance * (S1_inv * m1 + S2_inv * m2),
            ),
            Step(
                exponent_right,
                "complete the square: the exponents agree for every x, constant (m_1-m_2)^T P^{-1} (m_1-m_2)",
                method="rewrite",
                lhs=exponent_left,
            ),
        ),
        notes=(
            "P = Sigma_1 + Sigma_2; all covariances are symmetric, so (P^{-1} Sigma_1 m_2)^T = m_2^T Sigma_1 "
            "P^{-1} etc. With the exponents equal and det Sigma_1 det Sigma_2 = det P det S (determinants "
            "multiply, S = Sigma_1 P^{-1} Sigma_2), N(x; m_1, Sigma_1) N(x; m_2, Sigma_2) = "
            "N(m_1; m_2, P) N(x; m, S). Rewriting reaches 0 only with rules that are true equations."
        ),
    )


# ----------------------------------------------------------------------------- n = 2, 3, 4: generic entries
size = sp.Symbol("n", integer=True, positive=True)
Sig1, Sig2 = sp.MatrixSymbol("Sigma_1", size, size), sp.MatrixSymbol("Sigma_2", size, size)
mean1, mean2 = sp.MatrixSymbol("m_1", size, 1), sp.MatrixSymbol("m_2", size, 1)
SIZES = ({size: 2}, {size: 3}, {size: 4})
SYMMETRIC = ((Sig1.T, Sig1), (Sig2.T, Sig2))


def product_concrete(gain_covariance: Any = None) -> Derivation:
    """The product's matrix identities for generic symmetric 2x2, 3x3 and 4x4 covariances."""
    total_inv = (Sig1 + Sig2).I
    gain_covariance = Sig1 - Sig1 * total_inv * Sig1 if gain_covariance is None else gain_covariance
    return Derivation(
        name="multivariate.product_concrete",
        title="product of Gaussians for n = 2, 3, 4 with generic symbolic covariances",
        lhs=gain_covariance,
        rhs=Sig1 * total_inv * Sig2,
        given=SYMMETRIC,
        steps=(
            Step(
                Sig1.I * (Sig1 + Sig2) * Sig2.I,
                "information form: Sigma_1^{-1} + Sigma_2^{-1} = Sigma_1^{-1} (Sigma_1 + Sigma_2) Sigma_2^{-1}",
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
            "Each identity is checked three times, with generic symmetric n x n matrices for n = 2, 3, 4, by "
            "clearing denominators (inverse = adjugate/determinant) and comparing polynomial matrices. "
            "Together with the inverse of the first identity, (Sigma_1^{-1} (Sigma_1 + Sigma_2) Sigma_2^{-1})^{-1} "
            "= Sigma_2 (Sigma_1 + Sigma_2)^{-1} Sigma_1, they give the information, gain and product forms of "
            "the update; multivariate.product_general proves the same for every n."
        ),
    )


# ----------------------------------------------------------------------------- linear maps and sums (MGFs)
t, tT, A, AT, bv, bT, mv, mT, Sv, Sv2, mv2 = nc("t", "t^T", "A", "A^T", "b", "b^T", "m", "m^T", "S", "S_2", "m_2")


def mgf_exponent(argument: Any, argument_t: Any, mean: Any, covariance: Any) -> Any:
    """Exponent of the MGF of N(mean, covariance) at ``argument``: a^T m + a^T S a / 2."""
    return argument_t * mean + argument_t * covariance * argument / 2


def linear_transform(covariance: Any = A * Sv * AT) -> Derivation:
    """x ~ N(m, S) => A x + b ~ N(A m + b, A S A^T), by the MGF (any n)."""
    lhs = tT * bv + mgf_exponent(AT * t, tT * A, mv, Sv)
    return Derivation(
        name="multivariate.linear_transform",
        title="any n: if x ~ N(m, S) then A x + b ~ N(A m + b, A S A^T)",
        lhs=lhs,
        rhs=tT * (A * mv + bv) + tT * covariance * t / 2,
        steps=(
            Step(
                tT * bv + tT * A * mv + tT * A * Sv * AT * t / 2,
                "(A^T t)^T = t^T A",
                restatement=True,
            ),
            Step(tT * (A * mv + bv) + tT * covariance * t / 2, "collect", method="rewrite"),
        ),
        notes=(
            "E[exp(t^T (A x + b))] = exp(t^T b) M_x(A^T t), and M_x(s) = exp(s^T m + s^T S s / 2); the right "
            "side is the exponent of the MGF of N(A m + b, A S A^T), which determines the distribution."
        ),
    )


def sum_independent(covariance: Any = Sv + Sv2) -> Derivation:
    """Independent x ~ N(m, S), y ~ N(m2, S2): x + y ~ N(m + m2, S + S2) (any n)."""
    return Derivation(
        name="multivariate.sum",
        title="any n: the sum of independent Gaussians is N(m_1 + m_2, S_1 + S_2)",
        lhs=mgf_exponent(t, tT, mv, Sv) + mgf_exponent(t, tT, mv2, Sv2),
        rhs=mgf_exponent(t, tT, mv + mv2, covariance),
        steps=(Step(mgf_exponent(t, tT, mv + mv2, covariance), "collect the exponents", method="rewrite"),),
        notes="M_{x+y}(t) = M_x(t) M_y(t) for independent x and y: the exponents add.",
    )


for _factory in (pdf_2d, bivariate, pdf_general, product_general, product_concrete, linear_transform, sum_independent):
    register(_factory())
