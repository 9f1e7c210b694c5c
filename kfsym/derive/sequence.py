"""Whole sequences: the likelihood of a measurement sequence and the Rauch-Tung-Striebel smoother.

The 1-D model (scalar state, every quantity a symbol):

    x_1 ~ N(x_{1|0}, P_{1|0}),   x_{t+1} = F x_t + w_t,   z_t = H x_t + v_t,
    w_t ~ N(0, Q),  v_t ~ N(0, R),  x_1, w_1, w_2, ..., v_1, v_2, ... independent,

with F, H real and P_{1|0}, Q, R > 0 (hypotheses, carried by the symbols'
assumptions). The prior of x_1 is arbitrary, so a model started at
x_0 ~ N(m_0, P_0) is the case x_{1|0} = F m_0, P_{1|0} = F^2 P_0 + Q.

The filter quantities are ``where`` definitions that follow the recursion the
numeric code computes (predict, innovation, gain, Joseph-form update)::

    S_t = H^2 P_{t|t-1} + R,  K_t = P_{t|t-1} H / S_t,
    x_{t|t} = x_{t|t-1} + K_t (z_t - H x_{t|t-1}),  P_{t|t} = (1 - K_t H)^2 P_{t|t-1} + K_t^2 R,
    x_{t+1|t} = F x_{t|t},  P_{t+1|t} = F^2 P_{t|t} + Q.

Each is checked against the assumption of its symbol (S_t > 0, P_{t|t} >= 0), which
is what lets the log-likelihood proof split logarithms of products soundly.

Exact answers come from the joint Gaussian of all states and measurements: z = A u
for the independent u = (x_1, w_1, ..., v_1, ...), so E z = A E u and Cov z = A D A^T
(multivariate.linear_transform, cited), and the density of z is N(z; E z, Cov z).
The any-n smoother identities are checked in the free algebra (kernel method
``algebra``) with the axioms of :mod:`kfsym.derive.matrix_lemmas`.

Names cited by :mod:`kfsym.numeric` (kf_filter, rts_smoother):
``sequence.loglikelihood_factorisation`` (T = 2), ``sequence.loglikelihood_factorisation_t3`` (T = 3),
``sequence.rts_scalar`` (T = 2), ``sequence.rts_scalar_t3_mean`` (T = 3, mean),
``sequence.rts_gain_general``, ``sequence.rts_step_general``,
``sequence.rts_gain_concrete``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp

from kfsym.derive import matrix_lemmas as ml
from kfsym.derive.core import Derivation, Step
from kfsym.derive.registry import register, register_topic

TOPIC = register_topic("sequence", "Sequences: likelihood and smoothing", order=60)

HALF = sp.Rational(1, 2)
ONE = sp.Integer(1)

# ----------------------------------------------------------------------------- the 1-D model
F, H = sp.symbols("F H", real=True)
Q, R = sp.symbols("Q R", positive=True)
prior_mean = sp.Symbol("x_{1|0}", real=True)
prior_var = sp.Symbol("P_{1|0}", positive=True)
MAX_T = 3
z = sp.symbols(f"z_1:{MAX_T + 1}", real=True)

#: Filter quantities, one symbol each (index t = 1, 2, 3).
S = {t: sp.Symbol(f"S_{t}", positive=True) for t in range(1, MAX_T + 1)}
K = {t: sp.Symbol(f"K_{t}", real=True) for t in range(1, MAX_T + 1)}
x_pred = {1: prior_mean, **{t: sp.Symbol(f"x_{{{t}|{t - 1}}}", real=True) for t in range(2, MAX_T + 1)}}
P_pred = {1: prior_var, **{t: sp.Symbol(f"P_{{{t}|{t - 1}}}", positive=True) for t in range(2, MAX_T + 1)}}
x_filt = {t: sp.Symbol(f"x_{{{t}|{t}}}", real=True) for t in range(1, MAX_T + 1)}
P_filt = {t: sp.Symbol(f"P_{{{t}|{t}}}", nonnegative=True) for t in range(1, MAX_T + 1)}
G = {t: sp.Symbol(f"G_{t}", real=True) for t in range(1, MAX_T)}
x_smoothed = {(t, T): sp.Symbol(f"x_{{{t}|{T}}}", real=True) for T in range(2, MAX_T + 1) for t in range(1, T)}
P_smoothed = {(t, T): sp.Symbol(f"P_{{{t}|{T}}}", real=True) for T in range(2, MAX_T + 1) for t in range(1, T)}
G1 = G[1]


def filter_definitions(
    steps: int, overrides: Mapping[Any, Any] | None = None, *, last_update: bool = True
) -> tuple[tuple[Any, Any], ...]:
    """The filter recursion for ``steps`` measurements as ``where`` pairs (``overrides`` replaces formulas).

    Without ``last_update`` the recursion stops at the last innovation variance S_T
    (the likelihood needs nothing after it).
    """
    chosen = dict(overrides or {})
    pairs: list[tuple[Any, Any]] = []

    def define(symbol: Any, formula: Any) -> None:
        pairs.append((symbol, chosen.get(symbol, formula)))

    for t in range(1, steps + 1):
        if t > 1:
            define(x_pred[t], F * x_filt[t - 1])
            define(P_pred[t], F**2 * P_filt[t - 1] + Q)
        define(S[t], H**2 * P_pred[t] + R)
        if t == steps and not last_update:
            break
        define(K[t], P_pred[t] * H / S[t])
        define(x_filt[t], x_pred[t] + K[t] * (z[t - 1] - H * x_pred[t]))
        define(P_filt[t], (1 - K[t] * H) ** 2 * P_pred[t] + K[t] ** 2 * R)
    return tuple(pairs)


FILTER_NOTE = (
    r"Filter recursion (where): $S_t = H^2 P_{t|t-1} + R$, $K_t = P_{t|t-1} H / S_t$, "
    r"$x_{t|t} = x_{t|t-1} + K_t (z_t - H x_{t|t-1})$, $P_{t|t} = (1 - K_t H)^2 P_{t|t-1} + K_t^2 R$ (Joseph form, "
    r"equal to $(1 - K_t H) P_{t|t-1}$ by kalman.scalar and kalman.joseph_general), $x_{t+1|t} = F x_{t|t}$, "
    r"$P_{t+1|t} = F^2 P_{t|t} + Q$. "
)
MODEL_NOTE = (
    r"Model (hypotheses): $x_1 \sim \mathcal{N}(x_{1|0}, P_{1|0})$, $x_{t+1} = F x_t + w_t$, $z_t = H x_t + v_t$ "
    r"with $w_t \sim \mathcal{N}(0, Q)$, $v_t \sim \mathcal{N}(0, R)$, and $x_1$, all $w_t$, all $v_t$ "
    r"independent; $F, H$ real, $P_{1|0}, Q, R > 0$. "
)


def _model(steps: int) -> tuple[Any, Any, Any]:
    """(A, D, u-mean): z = A u with u = (x_1, w_1..w_{T-1}, v_1..v_T) independent, Cov u = D."""
    size = 1 + (steps - 1) + steps
    rows = []
    for t in range(1, steps + 1):
        row = [sp.Integer(0)] * size
        row[0] = H * F ** (t - 1)
        for s in range(1, t):  # w_s enters x_t with weight F^{t-1-s}
            row[s] = H * F ** (t - 1 - s)
        row[steps - 1 + t] = ONE
        rows.append(row)
    variances = [prior_var] + [Q] * (steps - 1) + [R] * steps
    mean_u = sp.Matrix([prior_mean] + [0] * (size - 1))
    return sp.Matrix(rows), sp.diag(*variances), mean_u


def _state_variance(t: int) -> Any:
    """Var x_t by the textbook recursion Var x_1 = P_{1|0}, Var x_{t+1} = F^2 Var x_t + Q."""
    value = prior_var
    for _ in range(t - 1):
        value = F**2 * value + Q
    return value


def joint_measurements(steps: int) -> tuple[Any, Any]:
    """(mean, covariance) of (z_1..z_T) by the textbook formulas.

    E z_t = H F^{t-1} x_{1|0}; Cov(z_s, z_t) = H^2 F^{t-s} Var x_s + R [s = t] for s <= t.
    """
    mean = sp.Matrix([H * F ** (t - 1) * prior_mean for t in range(1, steps + 1)])

    def entry(i: int, j: int) -> Any:
        s, t = min(i, j) + 1, max(i, j) + 1
        return H**2 * F ** (t - s) * _state_variance(s) + (R if s == t else 0)

    return mean, sp.Matrix(steps, steps, entry)


def _joint_log_density(deviation: Any, adjugate: Any, determinant: Any, steps: int) -> Any:
    """log N(z; mean, C) written with C^{-1} = adj(C)/det(C), det(C) passed in (so it can be replaced)."""
    quadratic = sp.expand((deviation.T * adjugate * deviation)[0, 0])
    density = sp.exp(-(quadratic / determinant) / 2) / ((2 * sp.pi) ** sp.Rational(steps, 2) * sp.sqrt(determinant))
    return sp.log(density)


def normal_pdf(at: Any, mean: Any, variance: Any) -> Any:
    """N(at; mean, variance) for a positive variance."""
    return sp.exp(-((at - mean) ** 2) / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)


# ----------------------------------------------------------------------------- the likelihood factorises
def loglikelihood(
    steps: int = 2,
    overrides: Mapping[Any, Any] | None = None,
    terms: tuple[Any, ...] | None = None,
    covariance: Any = None,
) -> Derivation:
    """log p(z_1..z_T) = sum_t log N(z_t; H x_{t|t-1}, S_t) for the 1-D model (T = 2 or 3).

    ``overrides`` replaces filter formulas, ``terms`` the innovation terms of the
    right side and ``covariance`` the joint covariance of the measurements (mutants).
    """
    mean, textbook = joint_measurements(steps)
    covariance = textbook if covariance is None else covariance
    A, D, mean_u = _model(steps)
    deviation = sp.Matrix(z[:steps]) - mean
    adjugate, determinant = covariance.adjugate(), sp.expand(covariance.det())
    innovations = [z[t - 1] - H * x_pred[t] for t in range(1, steps + 1)]
    product_s = sp.Mul(*(S[t] for t in range(1, steps + 1)))
    squares = sum((e**2 / S[t] for t, e in zip(range(1, steps + 1), innovations, strict=True)), sp.Integer(0))
    log_2pi = sp.Rational(steps, 2) * sp.log(2 * sp.pi)
    log_s = sum((sp.log(S[t]) / 2 for t in range(1, steps + 1)), sp.Integer(0))
    quadratic = sp.expand((deviation.T * adjugate * deviation)[0, 0])
    if terms is None:
        terms = tuple(sp.log(normal_pdf(z[t - 1], H * x_pred[t], S[t])) for t in range(1, steps + 1))
    rhs = sp.Add(*terms)
    lhs = _joint_log_density(deviation, adjugate, determinant, steps)
    name = "sequence.loglikelihood_factorisation" + ("" if steps == 2 else f"_t{steps}")
    labels = ", ".join(f"z_{t}" for t in range(1, steps + 1))
    summands = " + ".join(rf"\log \mathcal{{N}}(z_{t}; H x_{{{t}|{t - 1}}}, S_{t})" for t in range(1, steps + 1))
    return Derivation(
        name=name,
        title=(
            f"1-D model, $T = {steps}$: " + "$\\log p(" + labels + ") = " + summands + "$: the log-likelihood is "
            "the sum of the innovation log-densities of the filter recursion"
        ),
        lhs=lhs,
        rhs=rhs,
        where=filter_definitions(steps, overrides, last_update=False),
        steps=(
            Step(
                covariance.row_join(mean),
                r"the joint mean and covariance from the model: $z = A u$ with $u = (x_1, w, v)$ independent, "
                r"$\mathbb{E} z = A\,\mathbb{E} u$, $\operatorname{Cov} z = A D A^T$, "
                r"$D = \operatorname{diag}(P_{1|0}, Q, \ldots, R, \ldots)$",
                method="expand",
                lhs=(A * D * A.T).row_join(A * mean_u),
            ),
            Step(
                product_s,
                "the determinant of the joint covariance is the product of the innovation variances",
                method="cancel",
                lhs=determinant,
            ),
            Step(
                _joint_log_density(deviation, adjugate, product_s, steps),
                r"replace $\det C$ by $\prod_t S_t$ (lemma 2)",
                method="substitute",
                change=((determinant, product_s),),
            ),
            Step(
                -quadratic / (2 * product_s) - log_2pi - log_s,
                r"the log of a product of positive factors ($S_t > 0$) is the sum of the logs; "
                r"$\log e^a = a$ for real $a$",
                method="expand",
            ),
            Step(
                -squares / 2 - log_2pi - log_s,
                r"the quadratic form over $\det C = \prod_t S_t$ is the sum of the squared innovations "
                "over their variances",
                method="cancel",
            ),
            Step(rhs, "regroup into one Gaussian log-density per innovation", method="expand"),
        ),
        notes=(
            MODEL_NOTE
            + FILTER_NOTE
            + r"The measurements are a linear map of independent Gaussians, so their joint density is "
            r"$\mathcal{N}(z; \mathbb{E} z, C)$ with the mean and covariance of lemma 1 "
            "(multivariate.linear_transform; cited, and argued in prose: the joint density of a linear map of "
            r"independent Gaussians is the Gaussian with that mean and covariance). $C^{-1}$ is written as "
            r"$\operatorname{adj}(C)/\det C$. Checked: every step, with $S_t > 0$ and $P_{t|t} \ge 0$ verified "
            "from their definitions. So the log-likelihood kf_filter reports, the sum of the innovation "
            r"log-densities (log_evidence terms), is exactly $\log p(z_1, \ldots, z_T)$ for "
            f"$T = {steps}$; for longer sequences and n-D states it is the chain rule "
            r"$p(z_1, \ldots, z_T) = \prod_t p(z_t \mid z_1, \ldots, z_{t-1})$ with each factor the filter's "
            "predictive density (argued, not checked here)."
        ),
    )


# ----------------------------------------------------------------------------- the RTS smoother, 1-D, T = 2, 3
def smoother_definitions(
    steps: int = 2,
    gain: Any = None,
    smoothed_var: Any = None,
    overrides: Mapping[Any, Any] | None = None,
    *,
    variances: bool = True,
) -> tuple[tuple[Any, Any], ...]:
    """The filter for ``steps`` measurements, then the RTS backward pass t = T-1, ..., 1.

    G_t = P_{t|t} F / P_{t+1|t}, x_{t|T} = x_{t|t} + G_t (x_{t+1|T} - x_{t+1|t}),
    P_{t|T} = P_{t|t} + G_t^2 (P_{t+1|T} - P_{t+1|t}); ``gain`` and ``smoothed_var``
    replace the formulas of G_1 and P_{1|T} (mutants). Without ``variances`` the
    smoothed variances P_{t|T} are not defined (a check of the means only).
    """
    pairs = list(filter_definitions(steps, overrides))
    if not variances:  # the means never use the last filtered variance: it is not defined
        pairs = [pair for pair in pairs if pair[0] != P_filt[steps]]
    later_mean, later_var = x_filt[steps], P_filt[steps]
    for t in range(steps - 1, 0, -1):
        formula_gain = P_filt[t] * F / P_pred[t + 1]
        formula_var = P_filt[t] + G[t] ** 2 * (later_var - P_pred[t + 1])
        if t == 1:
            formula_gain = formula_gain if gain is None else gain
            formula_var = formula_var if smoothed_var is None else smoothed_var
        pairs += [(G[t], formula_gain), (x_smoothed[t, steps], x_filt[t] + G[t] * (later_mean - x_pred[t + 1]))]
        if variances:
            pairs.append((P_smoothed[t, steps], formula_var))
        later_mean, later_var = x_smoothed[t, steps], P_smoothed[t, steps]
    return tuple(pairs)


def rts_scalar(
    steps: int = 2,
    gain: Any = None,
    smoothed_var: Any = None,
    overrides: Mapping[Any, Any] | None = None,
    *,
    variances: bool = True,
) -> Derivation:
    """1-D: the RTS smoothed mean (and variance) of x_1 equal exact conditioning of x_1 on z_1..z_T.

    ``variances=False`` checks the smoothed mean only (T = 3: the variance check
    exceeds the time budget).
    """
    mean, covariance = joint_measurements(steps)
    A, D, mean_u = _model(steps)
    cross = sp.Matrix([[H * F ** (t - 1) * prior_var for t in range(1, steps + 1)]])  # Cov(x_1, z)
    first = sp.Matrix([[1] + [0] * (A.cols - 1)])
    stacked = A.col_join(first)  # x_1 = e_1^T u below the rows of z = A u
    deviation = sp.Matrix(z[:steps]) - mean
    adjugate, determinant = covariance.adjugate(), sp.expand(covariance.det())
    exact_mean = prior_mean + (cross * adjugate * deviation)[0, 0] / determinant
    exact_var = prior_var - (cross * adjugate * cross.T)[0, 0] / determinant
    labels = ", ".join(f"z_{t}" for t in range(1, steps + 1))
    backward = r"$G_t = P_{t|t} F / P_{t+1|t}$, $x_{t|T} = x_{t|t} + G_t (x_{t+1|T} - x_{t+1|t})$"
    backward += r", $P_{t|T} = P_{t|t} + G_t^2 (P_{t+1|T} - P_{t+1|t})$" if variances else ""
    backward += r" for $t = T - 1, \ldots, 1$"
    if variances:
        lhs = sp.Matrix([x_smoothed[1, steps], P_smoothed[1, steps]])
        rhs = sp.Matrix([exact_mean, exact_var])
        what = f"$x_{{1|{steps}}}$, $P_{{1|{steps}}}$ equal to the mean and variance"
        formula = r"$x_{1|0} + \Sigma_{xz} C^{-1} (z - \mathbb{E} z)$, $P_{1|0} - \Sigma_{xz} C^{-1} \Sigma_{zx}$"
    else:
        lhs, rhs = sp.Matrix([x_smoothed[1, steps]]), sp.Matrix([exact_mean])
        what = f"$x_{{1|{steps}}}$ equal to the mean (the smoothed mean only)"
        formula = r"$x_{1|0} + \Sigma_{xz} C^{-1} (z - \mathbb{E} z)$"
    suffix = ("" if steps == 2 else f"_t{steps}") + ("" if variances else "_mean")
    return Derivation(
        name="sequence.rts_scalar" + suffix,
        title=(
            f"1-D model, $T = {steps}$: the RTS smoother ({backward}) gives {what} of $x_1$ given ${labels}$ by "
            "exact Gaussian conditioning"
        ),
        lhs=lhs,
        rhs=rhs,
        where=smoother_definitions(steps, gain, smoothed_var, overrides, variances=variances),
        steps=(
            Step(
                covariance.row_join(cross.T)
                .col_join(cross.row_join(sp.Matrix([[prior_var]])))
                .row_join(mean.col_join(sp.Matrix([[prior_mean]]))),
                f"joint moments of $({labels}, x_1)$ from the model: "
                r"$(z, x_1) = B u$ with $B = [A; e_1^T]$, mean $B\,\mathbb{E} u$, covariance $B D B^T$",
                method="expand",
                lhs=(stacked * D * stacked.T).row_join(stacked * mean_u),
            ),
            Step(
                rhs,
                "the RTS formulas, filter definitions substituted, against the conditional of the joint Gaussian: "
                f"{formula} with " + r"$C^{-1} = \operatorname{adj}(C)/\det C$",
                method="cancel",
            ),
        ),
        notes=(
            MODEL_NOTE
            + FILTER_NOTE
            + f"RTS backward pass (where): {backward}, starting from the filtered "
            + r"$x_{T|T}$, $P_{T|T}$. The conditional of a jointly Gaussian $(x, z)$ is "
            r"$\mathcal{N}(m_x + \Sigma_{xz} \Sigma_{zz}^{-1} (z - m_z), "
            r"\Sigma_{xx} - \Sigma_{xz} \Sigma_{zz}^{-1} \Sigma_{zx})$ (Schur complement; cited, not checked "
            r"here), with the joint moments of lemma 1. Checked: the smoothed estimate of $x_1$; at $t = T$ the "
            "smoothed estimate is the filtered one by definition"
            + (
                r"; $x_{2|3}$ enters the check through $x_{1|3}$, so both backward steps of the mean are checked. "
                r"Not checked for $T = 3$: the smoothed variance (its cancel takes about 70 s with the Joseph-form "
                "filter, beyond the time limit)"
                if not variances
                else ""
            )
            + r". sequence.rts_gain_general and sequence.rts_step_general prove the backward step for every $n$."
        ),
    )


def rts_scalar_t3_mean() -> Derivation:
    """The RTS smoothed mean against exact conditioning for T = 3 (two backward steps)."""
    return rts_scalar(3, variances=False)


# ----------------------------------------------------------------------------- any n: the smoother gain
FM = ml.Matrix("F")
QM = ml.Matrix("Q", invertible=True)
PF = ml.Matrix("P_f", invertible=True)
PP = ml.Matrix("P_p", invertible=True)
GM = ml.Matrix("G")
PS = ml.Matrix("P_s")
XV, YV, MV, MSV, TV, SV = ml.matrices("x y m m_s t s")

#: P_p = F P_f F^T + Q and G = P_f F^T P_p^{-1} (definitions); P_f, Q symmetric, P_p invertible (hypotheses).
GAIN_RELATIONS = (
    (PP.symbol, FM.symbol * PF.symbol * FM.T + QM.symbol),
    (GM.symbol, PF.symbol * FM.T * PP.inv),
    *ml.inverse(PP),
    *ml.symmetric(PF),
    *ml.symmetric(QM),
)
GAIN_HYPOTHESES = r"$P_f$ and $Q$ symmetric (covariances); $P_p$ invertible"
GAIN_DEFINITIONS = r"$P_p = F P_f F^T + Q$ (the predicted covariance), $G = P_f F^T P_p^{-1}$ (the smoother gain)"


def rts_gain_general(gain: Any = None, mean: Any = None) -> Derivation:
    """Backward conditional, any n: N(x; m, P_f) N(y; F x, Q) = N(y; F m, P_p) N(x; m + G (y - F m), C)."""
    F_, FT, Pf, Pp, G, GT = FM.symbol, FM.T, PF.symbol, PP.symbol, GM.symbol, GM.T
    x, xT, y, yT, m, mT = XV.symbol, XV.T, YV.symbol, YV.T, MV.symbol, MV.T
    Pf_inv, Q_inv, Pp_inv = PF.inv, QM.inv, PP.inv
    relations = GAIN_RELATIONS if gain is None else (GAIN_RELATIONS[0], (G, gain), *GAIN_RELATIONS[2:])
    mean = m + G * (y - F_ * m) if mean is None else mean
    covariance = Pf - G * Pp * GT
    precision = Pf_inv + FT * Q_inv * F_
    innovation = y - F_ * m
    lhs = (xT - mT) * Pf_inv * (x - m) + (yT - xT * FT) * Q_inv * (y - F_ * x)
    rhs = (xT - ml.transpose(mean)) * precision * (x - mean) + ml.transpose(innovation) * Pp_inv * innovation
    return Derivation(
        name="sequence.rts_gain_general",
        title=(
            r"Any $n$: the backward conditional behind the RTS smoother gain: "
            r"$(x - m)^T P_f^{-1} (x - m) + (y - F x)^T Q^{-1} (y - F x) = (x - \mu)^T C^{-1} (x - \mu) "
            r"+ (y - F m)^T P_p^{-1} (y - F m)$ with $\mu = m + G (y - F m)$, $C = P_f - G P_p G^T$, "
            r"$C^{-1} = P_f^{-1} + F^T Q^{-1} F$, $G = P_f F^T P_p^{-1}$"
        ),
        lhs=lhs,
        rhs=rhs,
        given=(*relations, *ml.inverse(PF), *ml.inverse(QM)),
        steps=(
            Step(
                Pf * FT,
                r"lemma: $G P_p = P_f F^T$ (the cross-covariance $\operatorname{Cov}(x_t, x_{t+1})$)",
                method="algebra",
                lhs=G * Pp,
            ),
            Step(
                Pf - G * F_ * Pf,
                r"lemma: the conditional covariance $C = P_f - G P_p G^T = P_f - G F P_f$ "
                r"$= P_f - P_f F^T P_p^{-1} F P_f$ (Schur complement of $P_p$ in the joint covariance of "
                r"$(x_t, x_{t+1})$)",
                method="algebra",
                lhs=covariance,
            ),
            Step(
                ONE,
                r"lemma: $(I - G F) P_f (P_f^{-1} + F^T Q^{-1} F) = I$",
                method="algebra",
                lhs=(Pf - G * F_ * Pf) * precision,
            ),
            Step(
                ONE,
                r"lemma: $(P_f^{-1} + F^T Q^{-1} F) (I - G F) P_f = I$",
                method="algebra",
                lhs=precision * (Pf - G * F_ * Pf),
            ),
            Step(
                mean,
                r"lemma, the conditional mean: $C (P_f^{-1} m + F^T Q^{-1} y) = m + G (y - F m)$",
                method="algebra",
                lhs=covariance * (Pf_inv * m + FT * Q_inv * y),
            ),
            Step(
                xT * precision * x
                - xT * (Pf_inv * m + FT * Q_inv * y)
                - (mT * Pf_inv + yT * Q_inv * F_) * x
                + yT * Q_inv * y
                + mT * Pf_inv * m,
                r"multiply out: a quadratic in $x$ with Hessian $P_f^{-1} + F^T Q^{-1} F$",
                method="algebra",
            ),
            Step(rhs, r"complete the square around $\mu$ (the lemmas above)", method="algebra"),
        ),
        notes=(
            r"Read with $x = x_t$ and $y = x_{t+1}$: $x_t \mid Z_t \sim \mathcal{N}(m, P_f)$ (filtered) and "
            r"$x_{t+1} = F x_t + w$, $w \sim \mathcal{N}(0, Q)$. Then $p(x_t \mid x_{t+1}, Z_t)$ is proportional "
            r"to $\mathcal{N}(x_t; m, P_f)\,\mathcal{N}(x_{t+1}; F x_t, Q)$, whose exponent the claim completes in "
            r"$x_t$: by lemmas 3 and 4 the Hessian is $C^{-1}$, so "
            r"$x_t \mid x_{t+1}, Z_t \sim \mathcal{N}(m + G (x_{t+1} - F m), P_f - G P_p G^T)$ (normalisation, "
            "multivariate.pdf_general); this is the step the RTS recursion rests on (sequence.rts_step_general). "
            r"It is the Kalman update (kalman.update_general) with $F$ as the measurement matrix, $Q$ as the noise "
            r"and $x_{t+1}$ as the measurement. "
            + ml.axioms_note(
                GAIN_HYPOTHESES + r"; $P_f$ and $Q$ invertible (the Bayes form needs $P_f^{-1}$, $Q^{-1}$)",
                GAIN_DEFINITIONS,
            )
        ),
    )


#: C = P_f - G P_p G^T is the conditional covariance of x_t given x_{t+1} (sequence.rts_gain_general).
CM = ml.Matrix("C")


def rts_step_general(covariance: Any = None, mean: Any = None) -> Derivation:
    """The RTS step (any n): x_t = G x_{t+1} + (m - G F m) + e with x_{t+1} ~ N(m_s, P_s)."""
    G, GT, Pf, Pp, Ps, C, F_ = GM.symbol, GM.T, PF.symbol, PP.symbol, PS.symbol, CM.symbol, FM.symbol
    t, tT, s, sT, m, ms = TV.symbol, TV.T, SV.symbol, SV.T, MV.symbol, MSV.symbol
    covariance = Pf + G * (Ps - Pp) * GT if covariance is None else covariance
    mean = m + G * (ms - F_ * m) if mean is None else mean
    offset = m - G * F_ * m
    return Derivation(
        name="sequence.rts_step_general",
        title=(
            r"Any $n$: the RTS step: if $x_t \mid x_{t+1} \sim \mathcal{N}(m + G (x_{t+1} - F m), P_f - G P_p G^T)$ "
            r"and $x_{t+1} \sim \mathcal{N}(m_s, P_s)$, then $x_t$ has the MGF of "
            r"$\mathcal{N}(m + G (m_s - F m), P_f + G (P_s - P_p) G^T)$"
        ),
        lhs=tT * offset + (sT * ms + HALF * sT * Ps * s) + HALF * tT * C * t,
        rhs=tT * mean + HALF * tT * covariance * t,
        given=((s, GT * t), (C, Pf - G * Pp * GT)),
        steps=(
            Step(
                tT * (m + G * (ms - F_ * m)) + HALF * tT * (G * Ps * GT + C) * t,
                r"linear map of $\mathcal{N}(m_s, P_s)$ (multivariate.linear_transform): "
                r"$s = G^T t$, $s^T = t^T G$",
                method="algebra",
            ),
            Step(
                tT * mean + HALF * tT * covariance * t,
                r"$C = P_f - G P_p G^T$ (sequence.rts_gain_general): "
                r"$G P_s G^T + C = P_f + G (P_s - P_p) G^T$",
                method="algebra",
            ),
        ),
        notes=(
            r"Write $x_t = G x_{t+1} + (m - G F m) + e$, where $e \sim \mathcal{N}(0, C)$ is independent of "
            r"$x_{t+1}$ (sequence.rts_gain_general: the backward conditional given $x_{t+1}$ and $Z_t$). Given all "
            r"measurements $Z_T$, $x_{t+1} \sim \mathcal{N}(m_s, P_s)$ (the smoothed moments, one step later), and "
            r"$x_t$ is independent of $z_{t+1}, \ldots, z_T$ given $x_{t+1}$ (Markov property of the model; "
            r"argued, not checked), so $\mathbb{E} \exp(t^T x_t) = \exp(t^T (m - G F m))\,"
            r"\mathbb{E} \exp(s^T x_{t+1})\,\mathbb{E} \exp(t^T e)$ with $s = G^T t$. The claim is the "
            "exponent of that product; the right side is the MGF exponent of the RTS update "
            r"$m_{t|T} = m_{t|t} + G (m_{t+1|T} - m_{t+1|t})$, "
            r"$P_{t|T} = P_{t|t} + G (P_{t+1|T} - P_{t+1|t}) G^T$ ($m_{t+1|t} = F m$). "
            + ml.axioms_note(
                r"independence of $e$ and $x_{t+1}$ (Markov property)", r"$s = G^T t$, $C = P_f - G P_p G^T$"
            )
        ),
    )


# ----------------------------------------------------------------------------- n = 2: cleared denominators
n_state = sp.Symbol("n", integer=True, positive=True)
Pf_m = sp.MatrixSymbol("P_f", n_state, n_state)
Q_m = sp.MatrixSymbol("Q", n_state, n_state)
F_m = sp.MatrixSymbol("F", n_state, n_state)
m_m = sp.MatrixSymbol("m", n_state, 1)
y_m = sp.MatrixSymbol("y", n_state, 1)
SMOOTHER_SIZES = ({n_state: 2},)
SMOOTHER_SYMMETRIC = ((Pf_m.T, Pf_m), (Q_m.T, Q_m))


def _predicted() -> Any:
    return F_m * Pf_m * F_m.T + Q_m


def _smoother_gain() -> Any:
    return Pf_m * F_m.T * _predicted().I


def rts_gain_concrete(covariance: Any = None) -> Derivation:
    """The smoother-gain identities for generic 2 x 2 F, symmetric P_f and Q, by cleared denominators."""
    gain = _smoother_gain()
    predicted = _predicted()
    schur = Pf_m - gain * predicted * gain.T
    covariance = schur if covariance is None else covariance
    information = (Pf_m.I + F_m.T * Q_m.I * F_m).I
    return Derivation(
        name="sequence.rts_gain_concrete",
        title=(
            r"$n = 2$, generic $F$ and symmetric $P_f$, $Q$: with $P_p = F P_f F^T + Q$ and "
            r"$G = P_f F^T P_p^{-1}$, $(P_f^{-1} + F^T Q^{-1} F)^{-1} = P_f - G P_p G^T "
            r"= P_f - P_f F^T P_p^{-1} F P_f$, the conditional mean "
            r"$(P_f - G P_p G^T)(P_f^{-1} m + F^T Q^{-1} y) = m + G (y - F m)$, and "
            r"$\det P_f \det Q = \det P_p \det(P_f - G P_p G^T)$"
        ),
        lhs=information,
        rhs=covariance,
        given=SMOOTHER_SYMMETRIC,
        steps=(
            Step(
                m_m + gain * (y_m - F_m * m_m),
                "conditional mean: information-weighted form = gain form",
                method="matrices",
                lhs=schur * (Pf_m.I * m_m + F_m.T * Q_m.I * y_m),
                cases=SMOOTHER_SIZES,
            ),
            Step(
                sp.Determinant(predicted) * sp.Determinant(schur),
                r"$\det P_f \det Q = \det P_p \det C$: the normalisers of the backward factorisation agree",
                method="matrices",
                lhs=sp.Determinant(Pf_m) * sp.Determinant(Q_m),
                cases=SMOOTHER_SIZES,
            ),
            Step(
                covariance,
                r"information form of the backward conditional covariance = smoother form $P_f - G P_p G^T$",
                method="matrices",
                cases=SMOOTHER_SIZES,
            ),
        ),
        notes=(
            r"Checked with a generic $2 \times 2$ matrix $F$ and generic symmetric $2 \times 2$ matrices $P_f$, $Q$, "
            "by cleared denominators in a polynomial ring (inverse = adjugate/determinant), so each identity holds "
            "for every such matrix whose inverses exist. With the determinant identity, "
            r"$\mathcal{N}(x; m, P_f)\,\mathcal{N}(y; F x, Q) = \mathcal{N}(y; F m, P_p)\,"
            r"\mathcal{N}(x; m + G (y - F m), P_f - G P_p G^T)$ for $n = 2$, the backward factorisation the RTS "
            r"smoother rests on; sequence.rts_gain_general proves the exponent identity for every $n$."
        ),
    )


def loglikelihood_t3() -> Derivation:
    """The log-likelihood factorisation for T = 3 (registered as its own derivation)."""
    return loglikelihood(3)


for _factory in (
    loglikelihood,
    loglikelihood_t3,
    rts_scalar,
    rts_scalar_t3_mean,
    rts_gain_general,
    rts_step_general,
    rts_gain_concrete,
):
    register(_factory())
