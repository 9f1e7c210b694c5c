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
            lambda: g.pdf(sp.exp(-(g.z**2) / 2 - sp.log(g.sigma**2) - sp.log(2 * sp.pi) / 2)),
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

# ----------------------------------------------------------------------------- moments and CLT
from kfsym.derive import clt as c  # noqa: E402
from kfsym.derive import expectation as m  # noqa: E402

_a, _b = m.a, m.b

MUTANTS.update(
    {
        "moments.discrete_expectation": [
            ("the tutorial's probabilities summing to 0.8", lambda: m.discrete_expectation(total=sp.Rational(4, 5)), 2),
        ],
        "moments.uniform": [("variance (b-a)^2/6", lambda: m.uniform_moments((_b - _a) ** 2 / 6), 2)],
        "moments.linearity": [
            ("constant dropped", lambda: m.linearity(_a * m.E(m.x[m.i]) + _b * m.E(m.y[m.i])), 2),
        ],
        "moments.variance_moments": [
            ("E[X^2] + E[X]^2", lambda: m.variance_moments(m.E(m.x[m.i] ** 2) + m.mu_x**2), 2),
        ],
        "moments.variance_affine": [("a in place of a^2", lambda: m.variance_affine(_a), 2)],
        "moments.variance_sum": [
            ("missing 2 Cov term", lambda: m.variance_sum(0), 2),
            ("Cov counted once", lambda: m.variance_sum(1), 2),
        ],
        "moments.covariance_moments": [
            ("+ E[X]E[Y]", lambda: m.covariance_moments(m.E(m.x[m.i] * m.y[m.i]) + m.mu_x * m.mu_y), 2),
        ],
        "moments.covariance_bilinear": [("a^2 in place of a", lambda: m.covariance_bilinear(_a**2), 2)],
        "moments.covariance_matrix": [
            (
                "quadratic form without the off-diagonal terms",
                lambda: m.covariance_matrix(quadratic_form=sum(w**2 for w in sp.symbols("w_1:4", real=True))),
                2,
            ),
        ],
        "moments.covariance_transform": [
            ("A Sigma in place of A Sigma A^T", lambda: m.covariance_transform(transform=lambda A, S: A * S), 2),
            (
                "A^T Sigma A in place of A Sigma A^T",
                lambda: m.covariance_transform(transform=lambda A, S: A.T * S * A),
                2,
            ),
        ],
        "moments.correlation_bound": [
            (
                "Var X Var Y - 2 Cov^2",
                lambda: m.correlation_bound(
                    m.var(m.x[m.i], m.mu_x)
                    * (
                        m.var(m.x[m.i], m.mu_x) * m.var(m.y[m.i], m.mu_y)
                        - 2 * m.cov(m.x[m.i], m.mu_x, m.y[m.i], m.mu_y) ** 2
                    )
                ),
                4,
            ),
            (
                "Var X Var Y + Cov^2",
                lambda: m.correlation_bound(
                    m.var(m.x[m.i], m.mu_x)
                    * (
                        m.var(m.x[m.i], m.mu_x) * m.var(m.y[m.i], m.mu_y)
                        + m.cov(m.x[m.i], m.mu_x, m.y[m.i], m.mu_y) ** 2
                    )
                ),
                4,
            ),
        ],
        "moments.sample_variance_bias": [
            ("1/N claimed unbiased", lambda: m.sample_variance_bias(m.N), 3),
            ("1/(N-2)", lambda: m.sample_variance_bias(m.N - 2), 3),
        ],
        "moments.sample_variance_small_n": [
            (
                "1/N claimed unbiased for N = 2..5",
                lambda: m.sample_variance_small_n((2, 3, 4, 5), divisor=lambda k: k),
                1,
            ),
        ],
        "clt.mean_of_draws": [("variance sigma^2/N^2", lambda: c.mean_of_draws_moments(m.sigma**2 / m.N**2), 2)],
        "clt.uniform_mean_of_draws": [
            ("(b-a)^2/(12 sqrt N)", lambda: c.uniform_mean_of_draws((c.high - c.low) ** 2 / (12 * sp.sqrt(m.N))), 2),
            (
                "(b-a)/(12N): a std where a variance belongs",
                lambda: c.uniform_mean_of_draws((c.high - c.low) / (12 * m.N)),
                2,
            ),
        ],
        "clt.cumulant_limit": [
            ("leading term t^2 (variance 2)", lambda: c.cumulant_limit(leading=c.t**2), 2),
            ("a bound that does not decay", lambda: c.cumulant_limit(bound=sp.Abs(c.t) ** 3 * c.remainder_bound), 1),
        ],
        "clt.uniform_limit": [("limit exp(t^2/4)", lambda: c.uniform_limit(sp.exp(c.t**2 / 4)), 2)],
        "clt.exponential_limit": [("limit exp(t)", lambda: c.exponential_limit(sp.exp(c.t)), 2)],
    }
)

# ----------------------------------------------------------------------------- multivariate and Kalman
from kfsym.derive import kalman as kf  # noqa: E402
from kfsym.derive import multivariate as mv  # noqa: E402

MUTANTS.update(
    {
        "multivariate.pdf_2d": [("Sigma_22 = k, not k + b^2/a", lambda: mv.pdf_2d(covariance_entry=mv.k), 2)],
        "multivariate.bivariate": [
            ("det with (1 - rho)", lambda: mv.bivariate(mv.sigma_x**2 * mv.sigma_y**2 * (1 - mv.rho)), 1),
        ],
        "multivariate.pdf_general": [
            ("det(Sigma)^{-1} normaliser", lambda: mv.pdf_general(sp.Integer(1)), 3),
            (
                "Sigma = L^T L (factor in the wrong order)",
                lambda: mv.pdf_general(cholesky=mv.CHOL.T * mv.CHOL.symbol),
                1,
            ),
        ],
        "multivariate.mgf": [("t^T S t without the 1/2", lambda: mv.mgf_general(sp.Integer(1)), 2)],
        "multivariate.product_general": [
            (
                "S_1 + S_2 as the product covariance",
                lambda: mv.product_general(mv.SIGMA_1.symbol + mv.SIGMA_2.symbol),
                1,
            ),
            (
                "S_1 P^{-1} S_1",
                lambda: mv.product_general(mv.SIGMA_1.symbol * mv.TOTAL.inv * mv.SIGMA_1.symbol),
                1,
            ),
        ],
        "multivariate.product_concrete": [
            ("S_1 + S_2 as the product covariance", lambda: mv.product_concrete(mv.Sig1 + mv.Sig2), 4),
        ],
        "multivariate.linear_transform": [
            ("A S in place of A S A^T", lambda: mv.linear_transform(mv.MAP.symbol * mv.COV.symbol), 2),
            ("A^T S A in place of A S A^T", lambda: mv.linear_transform(mv.MAP.T * mv.COV.symbol * mv.MAP.symbol), 2),
        ],
        "multivariate.sum": [
            ("S_1 S_2 for independent sum", lambda: mv.sum_independent(mv.COV1.symbol * mv.COV2.symbol), 1),
        ],
        "kalman.predict": [
            ("F P + Q", lambda: kf.predict(kf.F_.symbol * kf.P_.symbol + kf.Q_.symbol), 2),
            ("F^T P F + Q", lambda: kf.predict(kf.F_.T * kf.P_.symbol * kf.F_.symbol + kf.Q_.symbol), 2),
        ],
        "kalman.joseph_general": [
            (
                "a non-optimal gain 2 P H^T S^{-1}",
                lambda: kf.joseph_general(2 * kf.P_.symbol * kf.H_.T * kf.S_.inv),
                3,
            ),
            ("gain without S^{-1}", lambda: kf.joseph_general(kf.P_.symbol * kf.H_.T), 3),
        ],
        "kalman.update_general": [
            (
                "mean m + K (z - m), H dropped",
                lambda: kf.update_general(kf.MV.symbol + kf.K_.symbol * (kf.ZV.symbol - kf.MV.symbol)),
                3,
            ),
            (
                "mean m + K (H m - z), innovation reversed",
                lambda: kf.update_general(kf.MV.symbol + kf.K_.symbol * (kf.H_.symbol * kf.MV.symbol - kf.ZV.symbol)),
                3,
            ),
        ],
        "kalman.update_concrete": [
            (
                "Joseph form without K R K^T",
                lambda: kf.update_concrete((kf.In - kf._gain() * kf.Hm) * kf.Pm * (kf.In - kf._gain() * kf.Hm).T),
                3,
            ),
        ],
        "kalman.scalar": [
            (
                "gain with the measurement variance on top",
                lambda: kf.scalar(kf.noise_var / (kf.prior_var + kf.noise_var)),
                1,
            )
        ],
    }
)

# ----------------------------------------------------------------------------- sequences: likelihood and RTS smoother
from kfsym.derive import sequence as sq  # noqa: E402

_e2 = sq.z[1] - sq.H * sq.x_pred[2]
_x_joint, _c_joint = sq.joint_measurements(2)

MUTANTS.update(
    {
        "sequence.loglikelihood_factorisation": [
            (
                "second innovation term without its normaliser",
                lambda: sq.loglikelihood(
                    terms=(
                        sp.log(sq.normal_pdf(sq.z[0], sq.H * sq.x_pred[1], sq.S[1])),
                        -(_e2**2) / (2 * sq.S[2]),
                    )
                ),
                6,
            ),
            (
                "second innovation variance without the prediction: S_2 = H^2 P_{1|1} + R",
                lambda: sq.loglikelihood(overrides={sq.S[2]: sq.H**2 * sq.P_filt[1] + sq.R}),
                2,
            ),
            (
                "predicted mean without F: x_{2|1} = x_{1|1}",
                lambda: sq.loglikelihood(overrides={sq.x_pred[2]: sq.x_filt[1]}),
                5,
            ),
            (
                "gain without H: K_1 = P_{1|0}/S_1",
                lambda: sq.loglikelihood(overrides={sq.K[1]: sq.prior_var / sq.S[1]}),
                2,
            ),
            (
                "joint covariance with cross term H^2 P_{1|0} (F dropped)",
                lambda: sq.loglikelihood(
                    covariance=sp.Matrix(2, 2, lambda i, j: _c_joint[i, j] / (sq.F if i != j else 1))
                ),
                1,
            ),
        ],
        "sequence.loglikelihood_factorisation_t3": [
            (
                "third prediction from the prediction, not the update: x_{3|2} = F x_{2|1}",
                lambda: sq.loglikelihood(3, overrides={sq.x_pred[3]: sq.F * sq.x_pred[2]}),
                5,
            ),
            (
                "third innovation variance without R: S_3 = H^2 P_{3|2} + Q",
                lambda: sq.loglikelihood(3, overrides={sq.S[3]: sq.H**2 * sq.P_pred[3] + sq.Q}),
                2,
            ),
        ],
        "sequence.rts_scalar": [
            ("smoother gain P_{1|1} F / P_{1|1}", lambda: sq.rts_scalar(gain=sq.P_filt[1] * sq.F / sq.P_filt[1]), 2),
            ("smoother gain P_{1|1} / P_{2|1}, F dropped", lambda: sq.rts_scalar(gain=sq.P_filt[1] / sq.P_pred[2]), 2),
            (
                "G in place of G^2 in the smoothed variance",
                lambda: sq.rts_scalar(smoothed_var=sq.P_filt[1] + sq.G1 * (sq.P_filt[2] - sq.P_pred[2])),
                2,
            ),
            (
                "predicted variance with half the process noise, F^2 P_{1|1} + Q/2",
                lambda: sq.rts_scalar(overrides={sq.P_pred[2]: sq.F**2 * sq.P_filt[1] + sq.Q / 2}),
                2,
            ),
        ],
        "sequence.rts_scalar_t3_mean": [
            (
                "smoother gain with predicted variances P_{1|0} F / P_{2|1}",
                lambda: sq.rts_scalar(3, gain=sq.prior_var * sq.F / sq.P_pred[2], variances=False),
                2,
            ),
            (
                "third prediction from the prediction: x_{3|2} = F x_{2|1}",
                lambda: sq.rts_scalar(3, overrides={sq.x_pred[3]: sq.F * sq.x_pred[2]}, variances=False),
                2,
            ),
        ],
        "sequence.rts_gain_general": [
            ("gain P_f F^T without P_p^{-1}", lambda: sq.rts_gain_general(gain=sq.PF.symbol * sq.FM.T), 1),
            (
                "gain P_p^{-1} F P_f (factors reversed)",
                lambda: sq.rts_gain_general(gain=sq.PP.inv * sq.FM.symbol * sq.PF.symbol),
                1,
            ),
            (
                "conditional mean m + G (y - m), F dropped",
                lambda: sq.rts_gain_general(mean=sq.MV.symbol + sq.GM.symbol * (sq.YV.symbol - sq.MV.symbol)),
                5,
            ),
        ],
        "sequence.rts_step_general": [
            (
                "G (P_s - P_p) without G^T",
                lambda: sq.rts_step_general(sq.PF.symbol + sq.GM.symbol * (sq.PS.symbol - sq.PP.symbol)),
                2,
            ),
            (
                "P_f + G P_s G^T, predicted covariance not subtracted",
                lambda: sq.rts_step_general(sq.PF.symbol + sq.GM.symbol * sq.PS.symbol * sq.GM.T),
                2,
            ),
            (
                "mean m + G (m_s - m), prediction F m replaced by m",
                lambda: sq.rts_step_general(mean=sq.MV.symbol + sq.GM.symbol * (sq.MSV.symbol - sq.MV.symbol)),
                2,
            ),
        ],
        "sequence.rts_gain_concrete": [
            (
                "P_f - P_f F^T P_p^{-1} P_f (F dropped)",
                lambda: sq.rts_gain_concrete(sq.Pf_m - sq.Pf_m * sq.F_m.T * sq._predicted().I * sq.Pf_m),
                3,
            ),
            (
                "P_f + G P_p G^T",
                lambda: sq.rts_gain_concrete(sq.Pf_m + sq._smoother_gain() * sq._predicted() * sq._smoother_gain().T),
                3,
            ),
        ],
    }
)
