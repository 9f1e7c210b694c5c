"""Validated, broadcasting NumPy functions generated from kfsym's proved derivations.

This package imports NumPy only — never SymPy, SciPy or matplotlib — so it is
as cheap to import as NumPy itself. Variances (not standard deviations) are the
parameters everywhere.

>>> from kfsym.numeric import multiply, add
>>> multiply(0.0, 2.0, 10.0, 2.0)        # measurement update
Gaussian(mean=5.0, var=1.0)
>>> add(5.0, 1.0, 10.0, 1.0)             # prediction
Gaussian(mean=15.0, var=2.0)
"""

from kfsym.numeric.clt import clt_limit, clt_sample_means
from kfsym.numeric.gaussian import Gaussian, add, cdf, evidence, log_evidence, logpdf, multiply, pdf
from kfsym.numeric.kalman import kf_predict, kf_update
from kfsym.numeric.moments import correlation, covariance, expectation, std, variance
from kfsym.numeric.multivariate import (
    MultivariateGaussian,
    mahalanobis,
    mvn_add,
    mvn_logpdf,
    mvn_multiply,
    mvn_pdf,
)
from kfsym.numeric.sequence import FilterResult, SmootherResult, kf_filter, rts_smoother

__all__ = [
    "FilterResult",
    "Gaussian",
    "MultivariateGaussian",
    "SmootherResult",
    "add",
    "cdf",
    "clt_limit",
    "clt_sample_means",
    "correlation",
    "covariance",
    "evidence",
    "expectation",
    "kf_filter",
    "kf_predict",
    "kf_update",
    "log_evidence",
    "logpdf",
    "mahalanobis",
    "multiply",
    "mvn_add",
    "mvn_logpdf",
    "mvn_multiply",
    "mvn_pdf",
    "pdf",
    "rts_smoother",
    "std",
    "variance",
]
