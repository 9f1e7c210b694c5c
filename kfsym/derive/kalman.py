"""The Kalman filter: predict = linear map + sum of Gaussians, update = Bayes' rule for Gaussians.

Notation: prior state x ~ N(m, P), transition F, process noise Q, measurement
z = H x + v with v ~ N(0, R), innovation covariance S = H P H^T + R and gain
K = P H^T S^{-1}. That P, Q, R are symmetric is a hypothesis each derivation
states (``given``), as are the definitions of S and K; the any-n proofs
derive every other rule they use from those and the axioms of
:mod:`kfsym.derive.matrix_lemmas`.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from kfsym.derive import matrix_lemmas as ml
from kfsym.derive.core import Derivation, Step
from kfsym.derive.registry import register, register_topic

TOPIC = register_topic("kalman", "The Kalman filter", order=50)

HALF = sp.Rational(1, 2)
ONE = sp.Integer(1)

# Matrices of any size (non-commuting symbols with declared transposes, kfsym.derive.matrix_lemmas).
F_, B_, Q_, H_, K_ = ml.matrices("F B Q H K")
P_ = ml.Matrix("P", invertible=True)
R_ = ml.Matrix("R", invertible=True)
S_ = ml.Matrix("S", invertible=True)
TV, SV, UV, XV, MV, ZV = ml.matrices("t s u x m z")


# ----------------------------------------------------------------------------- any n: predict
def predict(covariance: Any = None) -> Derivation:
    """F x + B u + w with x ~ N(m, P), w ~ N(0, Q) independent has the MGF of N(F m + B u, F P F^T + Q)."""
    t, tT, s, sT, m, u = TV.symbol, TV.T, SV.symbol, SV.T, MV.symbol, UV.symbol
    F, FT, B, P, Q = F_.symbol, F_.T, B_.symbol, P_.symbol, Q_.symbol
    covariance = F * P * FT + Q if covariance is None else covariance
    return Derivation(
        name="kalman.predict",
        title=(
            r"Any $n$: predict, $F x + B u + w$ has the MGF of $\mathcal{N}(F m + B u, F P F^T + Q)$ for $x \sim "
            r"\mathcal{N}(m, P)$, $w \sim \mathcal{N}(0, Q)$"
        ),
        lhs=tT * B * u + (sT * m + HALF * sT * P * s) + HALF * tT * Q * t,
        rhs=tT * (F * m + B * u) + HALF * tT * covariance * t,
        given=((s, FT * t),),
        steps=(
            Step(
                tT * (F * m + B * u) + HALF * tT * F * P * FT * t + HALF * tT * Q * t,
                r"linear map of $\mathcal{N}(m, P)$ (multivariate.linear_transform): $s = F^T t$, $s^T = t^T F$",
                method="algebra",
            ),
            Step(
                tT * (F * m + B * u) + HALF * tT * covariance * t,
                "independent noise: MGF exponents add (multivariate.sum)",
                method="algebra",
            ),
        ),
        notes=(
            r"$\mathbb{E}\,e^{t^T (F x + B u + w)} = e^{t^T B u}\,\mathbb{E}\,e^{s^T x}\,\mathbb{E}\,e^{t^T w}$ with "
            r"$s = F^T t$, $x$ and $w$ independent (hypothesis); each factor is an MGF of a Gaussian "
            r"(multivariate.mgf). "
            r"The claim is the exponent of the product, and the right side is the MGF exponent of "
            r"$\mathcal{N}(F m + B u, F P F^T + Q)$. "
            + ml.axioms_note(r"$x \sim \mathcal{N}(m, P)$ and $w \sim \mathcal{N}(0, Q)$ independent", "$s = F^T t$")
        ),
    )


# ----------------------------------------------------------------------------- any n: the update
#: S = H P H^T + R and K = P H^T S^{-1} (definitions); S invertible, P and R symmetric (hypotheses).
UPDATE_RELATIONS = (
    (S_.symbol, H_.symbol * P_.symbol * H_.T + R_.symbol),
    (K_.symbol, P_.symbol * H_.T * S_.inv),
    *ml.inverse(S_),
    *ml.symmetric(P_),
    *ml.symmetric(R_),
)
UPDATE_HYPOTHESES = "$P$ and $R$ symmetric (covariances); $S$ invertible"
UPDATE_DEFINITIONS = "$S = H P H^T + R$, $K = P H^T S^{-1}$"


def joseph_general(gain: Any = None) -> Derivation:
    """(I - K H) P (I - K H)^T + K R K^T = (I - K H) P for K = P H^T S^{-1}, S = H P H^T + R (any n)."""
    H, HT, P, R, S = H_.symbol, H_.T, P_.symbol, R_.symbol, S_.symbol
    K, KT = K_.symbol, K_.T
    relations = UPDATE_RELATIONS if gain is None else (*UPDATE_RELATIONS[:1], (K, gain), *UPDATE_RELATIONS[2:])
    return Derivation(
        name="kalman.joseph_general",
        title=(
            r"Any $n$, any $H$: $(I - K H) P (I - K H)^T + K R K^T = (I - K H) P$ for $S = H P H^T + R$, "
            r"$K = P H^T S^{-1}$"
        ),
        lhs=(ONE - K * H) * P * (ONE - HT * KT) + K * R * KT,
        rhs=(ONE - K * H) * P,
        given=relations,
        steps=(
            Step(S, r"lemma: $S$ is symmetric ($S^T = H P^T H^T + R^T$)", method="algebra", lhs=S_.T),
            Step(
                S_.inv,
                r"lemma: $S^{-1}$ is symmetric ($S^{-T} = S^{-1} S S^{-T} = S^{-1} S^T S^{-T}$)",
                method="algebra",
                lhs=S_.inv_T,
            ),
            Step(P * HT, r"lemma: $K S = P H^T S^{-1} S = P H^T$", method="algebra", lhs=K * S),
            Step(
                P - K * H * P - P * HT * KT + K * S * KT,
                r"multiply out; $K H P H^T K^T + K R K^T = K (H P H^T + R) K^T = K S K^T$",
                method="algebra",
            ),
            Step((ONE - K * H) * P, r"$K S K^T = P H^T K^T$ (lemma 3)", method="algebra"),
        ),
        notes=(
            "The Joseph form stays symmetric positive semi-definite under rounding; it equals the short form "
            "$(I - K H) P$ only for the optimal gain, which is why kfsym's kf_update uses it. "
            + ml.axioms_note(UPDATE_HYPOTHESES, UPDATE_DEFINITIONS)
        ),
    )


def update_general(mean: Any = None) -> Derivation:
    """Bayes update for any n: the exponent of N(z; H x, R) N(x; m, P) is a square around m + K (z - H m)."""
    H, HT, P, K = H_.symbol, H_.T, P_.symbol, K_.symbol
    x, xT, m, mT, z, zT = XV.symbol, XV.T, MV.symbol, MV.T, ZV.symbol, ZV.T
    P_inv, R_inv, S_inv = P_.inv, R_.inv, S_.inv
    mean = m + K * (z - H * m) if mean is None else mean
    posterior = (ONE - K * H) * P
    precision = P_inv + HT * R_inv * H
    innovation = z - H * m
    lhs = (zT - xT * HT) * R_inv * (z - H * x) + (xT - mT) * P_inv * (x - m)
    rhs = (xT - ml.transpose(mean)) * precision * (x - mean) + ml.transpose(innovation) * S_inv * innovation
    return Derivation(
        name="kalman.update_general",
        title=(
            r"Any $n$, any $H$: $(z - H x)^T R^{-1} (z - H x) + (x - m)^T P^{-1} (x - m) "
            r"= (x - m^+)^T C^{-1} (x - m^+) + (z - H m)^T S^{-1} (z - H m)$ with $m^+ = m + K (z - H m)$ and "
            r"$C = (I - K H) P$"
        ),
        lhs=lhs,
        rhs=rhs,
        given=(*UPDATE_RELATIONS, *ml.inverse(P_), *ml.inverse(R_)),
        steps=(
            Step(ONE, r"lemma: $(I - K H) P (P^{-1} + H^T R^{-1} H) = I$", method="algebra", lhs=posterior * precision),
            Step(ONE, r"lemma: $(P^{-1} + H^T R^{-1} H) (I - K H) P = I$", method="algebra", lhs=precision * posterior),
            Step(
                mean,
                r"lemma, the Kalman mean: $(I - K H) P (P^{-1} m + H^T R^{-1} z) = m + K (z - H m)$",
                method="algebra",
                lhs=posterior * (P_inv * m + HT * R_inv * z),
            ),
            Step(
                xT * precision * x
                - xT * (P_inv * m + HT * R_inv * z)
                - (mT * P_inv + zT * R_inv * H) * x
                + zT * R_inv * z
                + mT * P_inv * m,
                r"multiply out: a quadratic in $x$ with Hessian $P^{-1} + H^T R^{-1} H$",
                method="algebra",
            ),
            Step(rhs, r"complete the square around $m^+$ (the lemmas above)", method="algebra"),
        ),
        notes=(
            r"So, as a function of $x$, $\mathcal{N}(z; H x, R)\,\mathcal{N}(x; m, P)$ is a constant times "
            r"$\exp(-(x - m^+)^T C^{-1} (x - m^+)/2)$ with $C^{-1} = P^{-1} + H^T R^{-1} H$ (lemmas 1 and 2). "
            r"The posterior $p(x \mid z)$ is this product divided by its integral over $x$, and "
            r"$\exp(-(x - m^+)^T C^{-1} (x - m^+)/2)$ integrates to $\sqrt{(2\pi)^n \det C}$ "
            r"(multivariate.pdf_general), so the posterior is exactly $\mathcal{N}(m + K (z - H m), (I - K H) P)$ "
            r"for every $n$, with no determinant identity needed: the Kalman update kf_update computes (with the "
            r"Joseph form of kalman.joseph_general for $C$). The $x$-free factor "
            r"$\exp(-(z - H m)^T S^{-1} (z - H m)/2)$ is the innovation likelihood $\mathcal{N}(z; H m, S)$ up to "
            r"its normaliser; that the normalisers match ($\det R \det P = \det S \det C$) is checked for "
            r"$n m \le 6$ in kalman.update_concrete and cited for general $n$; only the evidence (log-likelihood) "
            "needs it. "
            + ml.axioms_note(
                UPDATE_HYPOTHESES + "; $P$ and $R$ invertible (the Bayes form needs $P^{-1}$, $R^{-1}$)",
                UPDATE_DEFINITIONS,
            )
        ),
    )


# ---------------------------------------------------------------------- n = 2, 3, 4 states, m = 1, 2 measurements
n_state, m_meas = sp.symbols("n m", integer=True, positive=True)
Pm = sp.MatrixSymbol("P", n_state, n_state)
Hm = sp.MatrixSymbol("H", m_meas, n_state)
Rm = sp.MatrixSymbol("R", m_meas, m_meas)
In = sp.Identity(n_state)
KF_SIZES = tuple({n_state: n, m_meas: m} for n in (2, 3, 4) for m in (1, 2))
KF_SMALL = tuple(size for size in KF_SIZES if size[n_state] * size[m_meas] <= 6)
KF_SYMMETRIC = ((Pm.T, Pm), (Rm.T, Rm))


def _gain() -> Any:
    return Pm * Hm.T * (Hm * Pm * Hm.T + Rm).I


def update_concrete(covariance: Any = None) -> Derivation:
    """Joseph form, the Bayes mean lemmas and the determinant identity for n = 2, 3, 4 and m = 1, 2."""
    gain = _gain()
    innovation = Hm * Pm * Hm.T + Rm
    short = (In - gain * Hm) * Pm
    covariance = short if covariance is None else covariance
    return Derivation(
        name="kalman.update_concrete",
        title=(
            r"Kalman update for $n = 2, 3, 4$ states and $m = 1, 2$ measurements, generic symmetric $P$, $R$ and "
            r"generic $H$: Joseph form $= (I - K H) P$, $(I - K H) P H^T R^{-1} = K$, "
            r"$\det S \det((I - K H) P) = \det R \det P$ ($n m \le 6$)"
        ),
        lhs=(In - gain * Hm) * Pm * (In - gain * Hm).T + gain * Rm * gain.T,
        rhs=covariance,
        given=KF_SYMMETRIC,
        steps=(
            Step(
                gain,
                r"$(I - K H) P H^T R^{-1} = K$; with $(I - K H) P P^{-1} = I - K H$, "
                r"$C (P^{-1} m + H^T R^{-1} z) = m + K (z - H m)$",
                method="matrices",
                lhs=short * Hm.T * Rm.I,
                cases=KF_SIZES,
            ),
            Step(
                sp.Determinant(Rm) * sp.Determinant(Pm),
                r"$\det S \det((I - K H) P) = \det R \det P$: the normalisers of the Bayes update agree",
                method="matrices",
                lhs=sp.Determinant(innovation) * sp.Determinant(short),
                cases=KF_SMALL,
            ),
            Step(
                covariance,
                r"Joseph form $(I - K H) P (I - K H)^T + K R K^T$ equals $(I - K H) P$ for the optimal $K$",
                method="matrices",
                cases=KF_SIZES,
            ),
        ),
        notes=(
            r"Checked with generic symmetric $P$ ($n \times n$), generic $H$ ($m \times n$) and generic symmetric "
            r"$R$ ($m \times m$), by cleared denominators in a polynomial ring (inverse = adjugate/determinant, "
            r"factored denominators; the innovation $S = H P H^T + R$ is made a free symmetric matrix by the "
            r"coordinate change $R = S - H P H^T$), for every $n = 2, 3, 4$ and $m = 1, 2$ (the determinant identity "
            r"for $n m \le 6$; for $n = 4$, $m = 2$ it exceeds the time limit). kalman.joseph_general and "
            r"kalman.update_general prove the same for every $n$."
        ),
    )


# ----------------------------------------------------------------------------- n = 1: the scalar filter
prior_mean, measurement = sp.symbols("m z", real=True)
prior_var, noise_var = sp.symbols("sigma^2 sigma_z^2", positive=True)
gain_1d = sp.Symbol("K", positive=True)


def scalar(gain: Any = prior_var / (prior_var + noise_var)) -> Derivation:
    """With n = m = 1 and H = 1 the update is the product of two 1-D Gaussians (gaussian.product)."""
    product_mean = (prior_mean * noise_var + measurement * prior_var) / (prior_var + noise_var)
    product_var = prior_var * noise_var / (prior_var + noise_var)
    update = sp.Matrix(
        [
            prior_mean + gain_1d * (measurement - prior_mean),
            (1 - gain_1d) ** 2 * prior_var + gain_1d**2 * noise_var,
        ]
    )
    return Derivation(
        name="kalman.scalar",
        title=r"The 1-D Kalman filter: update = product of Gaussians, $K = \sigma^2/(\sigma^2 + \sigma_z^2)$",
        lhs=update,
        rhs=sp.Matrix([product_mean, product_var]),
        where=((gain_1d, gain),),
        steps=(
            Step(
                sp.Matrix([prior_mean + gain_1d * (measurement - prior_mean), (1 - gain_1d) * prior_var]),
                r"Joseph form with $H = 1$ equals $(1 - K)\sigma^2$ for the optimal $K$",
                method="cancel",
            ),
            Step(
                sp.Matrix([product_mean, product_var]),
                "the gain form of the product (gaussian.product_gain)",
                method="cancel",
            ),
        ),
        notes=(
            r"Here $m$ is the prior mean of the state, $\sigma^2$ its variance, $z$ the measurement and $\sigma_z^2$ "
            r"its noise variance. So the 1-D filter needs no code of its own: predict is numeric.add, update is "
            r"numeric.multiply (the same generated kernel), and kf_update with $n = m = 1$, $H = 1$ returns exactly "
            "the same numbers."
        ),
    )


for _factory in (predict, joseph_general, update_general, update_concrete, scalar):
    register(_factory())
