"""The Kalman filter: predict = linear map + sum of Gaussians, update = Gaussian conditioning.

Notation: state mean x with covariance P, transition F, process noise Q,
measurement z = H x + v with v ~ N(0, R), innovation covariance
S = H P H^T + R and gain K = P H^T S^{-1}. Covariances are symmetric.
"""

from __future__ import annotations

from typing import Any

import sympy as sp

from kfsym.derive.core import Derivation, Step
from kfsym.derive.multivariate import mgf_exponent, nc
from kfsym.derive.registry import register, register_topic

TOPIC = register_topic("kalman", "The Kalman filter", order=50)

# ----------------------------------------------------------------------------- any n: predict
t, tT, F, FT, B, u, xm, P, Q = nc("t", "t^T", "F", "F^T", "B", "u", "x", "P", "Q")


def predict(covariance: Any = F * P * FT + Q) -> Derivation:
    """F x + B u + w with x ~ N(x, P), w ~ N(0, Q) independent is N(F x + B u, F P F^T + Q)."""
    zero = sp.Integer(0)
    lhs = tT * B * u + mgf_exponent(FT * t, tT * F, xm, P) + mgf_exponent(t, tT, zero, Q)
    return Derivation(
        name="kalman.predict",
        title="predict: x' = F x + B u, P' = F P F^T + Q (any n)",
        lhs=lhs,
        rhs=mgf_exponent(t, tT, F * xm + B * u, covariance),
        steps=(
            Step(
                tT * (F * xm + B * u) + tT * (F * P * FT) * t / 2 + tT * Q * t / 2,
                "linear map of N(x, P) (multivariate.linear_transform), plus the constant B u",
                method="rewrite",
            ),
            Step(
                mgf_exponent(t, tT, F * xm + B * u, covariance),
                "independent noise: MGF exponents add (multivariate.sum)",
                method="rewrite",
            ),
        ),
        notes="Exponents of moment generating functions; the result is the MGF exponent of the predicted Gaussian.",
    )


# ----------------------------------------------------------------------------- any n: Joseph form
H, HT, R, S_inv, I_ = nc("H", "H^T", "R", "S__-1", "I")
K = P * HT * S_inv
KT = S_inv * H * P

#: S^{-1} is the inverse of S = H P H^T + R, written as rules on products.
INNOVATION_RULES = (
    (S_inv * H * P * HT, 1 - S_inv * R),
    (H * P * HT * S_inv, 1 - R * S_inv),
)


def joseph_general(gain: Any = K, gain_t: Any = KT) -> Derivation:
    """(I - K H) P (I - K H)^T + K R K^T = (I - K H) P for the optimal gain (any n)."""
    return Derivation(
        name="kalman.joseph_general",
        title="any n: the Joseph form equals (I - K H) P for the optimal gain K = P H^T S^{-1}",
        lhs=(1 - gain * H) * P * (1 - HT * gain_t) + gain * R * gain_t,
        rhs=(1 - gain * H) * P,
        given=INNOVATION_RULES,
        steps=(
            Step(
                P - gain * H * P - P * HT * gain_t + gain * (H * P * HT + R) * gain_t,
                "multiply out; K H P H^T K^T + K R K^T = K S K^T",
                method="rewrite",
            ),
            Step((1 - gain * H) * P, "K S K^T = P H^T S^{-1} S S^{-1} H P = P H^T K^T", method="rewrite"),
        ),
        notes=(
            "The Joseph form stays symmetric positive semi-definite under rounding; it equals the short form "
            "(I - K H) P only for the optimal gain, which is why kfsym's kf_update uses it."
        ),
    )


C_inv, S_sym = nc("C__-1", "S")
#: Block inverse of the joint covariance: C = P - P H^T S^{-1} H P (Schur complement) with
#: C C^{-1} = 1 read as P H^T S^{-1} H P C^{-1} = P C^{-1} - 1, and S S^{-1} = 1.
SCHUR_RULES = (
    (S_sym * S_inv, sp.Integer(1)),
    (S_inv * S_sym, sp.Integer(1)),
    (P * HT * S_inv * H * P * C_inv, P * C_inv - 1),
)


def _joint_blocks() -> tuple[Any, Any, Any, Any]:
    return P, P * HT, H * P, S_sym


def conditional_general(block_11: Any = None) -> Derivation:
    """Gaussian conditioning: the joint covariance of (x, z) times its Schur-form inverse is I (any n)."""
    sxx, sxz, szx, szz = _joint_blocks()
    inv_11 = C_inv if block_11 is None else block_11
    inv_12 = -inv_11 * sxz * S_inv
    inv_21 = -S_inv * szx * inv_11
    inv_22 = S_inv + S_inv * szx * inv_11 * sxz * S_inv
    return Derivation(
        name="kalman.update_general",
        title="any n: the update is the conditional of the joint Gaussian of state and measurement",
        lhs=sxx * inv_11 + sxz * inv_21,
        rhs=sp.Integer(1),
        given=SCHUR_RULES,
        steps=(
            Step(sp.Integer(0), "block (1, 2) of Sigma M is 0", method="rewrite", lhs=sxx * inv_12 + sxz * inv_22),
            Step(sp.Integer(0), "block (2, 1) of Sigma M is 0", method="rewrite", lhs=szx * inv_11 + szz * inv_21),
            Step(sp.Integer(1), "block (2, 2) of Sigma M is 1", method="rewrite", lhs=szx * inv_12 + szz * inv_22),
            Step(sp.Integer(1), "block (1, 1): P C^{-1} - P H^T S^{-1} H P C^{-1} = C C^{-1}", method="rewrite"),
        ),
        notes=(
            "The joint of x ~ N(x, P) and z = H x + v, v ~ N(0, R), has covariance Sigma = [[P, P H^T], "
            "[H P, S]] with S = H P H^T + R. With the Schur complement C = P - P H^T S^{-1} H P, the matrix "
            "M = [[C^{-1}, -C^{-1} P H^T S^{-1}], [-S^{-1} H P C^{-1}, S^{-1} + S^{-1} H P C^{-1} P H^T S^{-1}]] "
            "satisfies Sigma M = I (the four blocks above), so the joint density factors as N(z; H x, S) times "
            "N(x; x + K (z - H x), C) with K = P H^T S^{-1} and C = (I - K H) P: the Kalman update."
        ),
    )


# ----------------------------------------------------------------------------- n = 2 state, m = 1, 2 measurements
n_state, m_meas = sp.symbols("n m", integer=True, positive=True)
Pm = sp.MatrixSymbol("P", n_state, n_state)
Hm = sp.MatrixSymbol("H", m_meas, n_state)
Rm = sp.MatrixSymbol("R", m_meas, m_meas)
In = sp.Identity(n_state)
KF_SIZES = ({n_state: 2, m_meas: 1}, {n_state: 2, m_meas: 2})
KF_SYMMETRIC = ((Pm.T, Pm), (Rm.T, Rm))


def _gain() -> Any:
    return Pm * Hm.T * (Hm * Pm * Hm.T + Rm).I


def update_concrete(covariance: Any = None) -> Derivation:
    """Schur-complement conditional and Joseph form for a 2-D state with 1-D and 2-D measurements."""
    gain = _gain()
    innovation = Hm * Pm * Hm.T + Rm
    schur = Pm - Pm * Hm.T * innovation.I * Hm * Pm
    covariance = (In - gain * Hm) * Pm if covariance is None else covariance
    inv_11 = schur.I
    return Derivation(
        name="kalman.update_concrete",
        title="Kalman update for a 2-D state with 1-D and 2-D measurements, generic symbolic P, H, R",
        lhs=schur,
        rhs=covariance,
        given=KF_SYMMETRIC,
        steps=(
            Step(
                sp.Identity(n_state),
                "block (1, 1) of Sigma M: P C^{-1} - P H^T S^{-1} H P C^{-1} = I",
                method="matrices",
                lhs=Pm * inv_11 - Pm * Hm.T * innovation.I * Hm * Pm * inv_11,
                cases=KF_SIZES,
            ),
            Step(
                (In - gain * Hm) * Pm,
                "Joseph form (I - K H) P (I - K H)^T + K R K^T for the optimal K",
                method="matrices",
                lhs=(In - gain * Hm) * Pm * (In - gain * Hm).T + gain * Rm * gain.T,
                cases=KF_SIZES,
            ),
            Step(covariance, "the Schur complement is (I - K H) P", method="matrices", cases=KF_SIZES),
        ),
        notes=(
            "Checked with generic symmetric P (2 x 2), generic H (1 x 2 and 2 x 2) and symmetric R, by cleared "
            "denominators. The other three blocks of Sigma M = I are proved for every n in kalman.update_general."
        ),
    )


# ----------------------------------------------------------------------------- n = 1: the scalar filter
prior_mean, measurement = sp.symbols("x z", real=True)
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
        title="the 1-D Kalman filter: update = product of Gaussians, K = sigma^2/(sigma^2 + sigma_z^2)",
        lhs=update,
        rhs=sp.Matrix([product_mean, product_var]),
        where=((gain_1d, gain),),
        steps=(
            Step(
                sp.Matrix([prior_mean + gain_1d * (measurement - prior_mean), (1 - gain_1d) * prior_var]),
                "Joseph form with H = 1 equals (1 - K) sigma^2 for the optimal K",
                method="cancel",
            ),
            Step(sp.Matrix([product_mean, product_var]), "gaussian.product_gain", method="cancel"),
        ),
        notes=(
            "So the 1-D filter needs no code of its own: predict is numeric.add, update is numeric.multiply "
            "(the same generated kernel), and kf_update with n = m = 1, H = 1 returns exactly the same numbers."
        ),
    )


for _factory in (predict, joseph_general, conditional_general, update_concrete, scalar):
    register(_factory())
