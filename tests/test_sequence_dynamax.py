"""kf_filter and rts_smoother against dynamax's ``lgssm_filter`` / ``lgssm_smoother`` (JAX, float64).

dynamax is an optional peer (``pip install 'kfsym[jax]'``): this module is skipped where it is not
installed. Its filter conditions the initial moments on the first measurement, as kfsym's does
(x0, P0 are the prior of the first state), so the outputs compare entry by entry.

The tolerance is dynamax's, not rounding: its gain solves with S + 1e-9 I (``psd_solve``'s
``diagonal_boost``), which moves covariances by about 1e-9 relative to S here (measured: 2.6e-9
for 80 steps), means by 1e-11 and the log-likelihood by 4e-11. The comparisons use 1e-7 for
moments and 1e-9 for the log-likelihood; FilterPy and pykalman (tests/test_sequence.py) agree to 1e-10.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

from kfsym.numeric import kf_filter, rts_smoother
from tests.test_sequence import BACKENDS, F_CV, H_CV, P0, Q_CV, R_CV, X0, assert_close, simulate

lgssm = pytest.importorskip("dynamax.linear_gaussian_ssm.inference")
jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)  # compare at kfsym's precision
jnp = pytest.importorskip("jax.numpy")

MOMENTS, LOGLIK = 1e-7, 1e-9  # dynamax adds 1e-9 to the diagonal of S (see above)


def dynamax_params(F: Any = F_CV, Q: Any = Q_CV, H: Any = H_CV, R: Any = R_CV) -> Any:
    size, count = np.shape(F)[-1], np.shape(H)[-2]
    return lgssm.ParamsLGSSM(
        initial=lgssm.ParamsLGSSMInitial(mean=jnp.asarray(X0), cov=jnp.asarray(P0)),
        dynamics=lgssm.ParamsLGSSMDynamics(
            weights=jnp.asarray(F), bias=jnp.zeros(size), input_weights=jnp.zeros((size, 0)), cov=jnp.asarray(Q)
        ),
        emissions=lgssm.ParamsLGSSMEmissions(
            weights=jnp.asarray(H), bias=jnp.zeros(count), input_weights=jnp.zeros((count, 0)), cov=jnp.asarray(R)
        ),
    )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_one_track_equals_dynamax(backend: str) -> None:
    _, z = simulate(80, seed=31)
    reference = lgssm.lgssm_filter(dynamax_params(), jnp.asarray(z))
    ours = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV, backend=backend)
    assert ours.log_likelihood == pytest.approx(float(reference.marginal_loglik), rel=LOGLIK, abs=0)
    assert_close(ours.filtered_means, np.asarray(reference.filtered_means), MOMENTS)
    assert_close(ours.filtered_covariances, np.asarray(reference.filtered_covariances), MOMENTS)
    smoothed = lgssm.lgssm_smoother(dynamax_params(), jnp.asarray(z))
    mine = rts_smoother(ours, F_CV)
    assert_close(mine.smoothed_means, np.asarray(smoothed.smoothed_means), MOMENTS)
    assert_close(mine.smoothed_covariances, np.asarray(smoothed.smoothed_covariances), MOMENTS)


def test_a_batch_of_tracks_equals_dynamax_under_vmap(backend: str) -> None:
    _, z = simulate(30, seed=32, tracks=(7, 3))
    run = jax.vmap(jax.vmap(functools.partial(lgssm.lgssm_filter, dynamax_params())))
    reference = run(jnp.asarray(z))
    ours = kf_filter(z, X0, P0, F_CV, Q_CV, H_CV, R_CV, backend=backend)
    assert ours.filtered_means.shape == (7, 3, 30, 4)
    np.testing.assert_allclose(ours.log_likelihood, np.asarray(reference.marginal_loglik), rtol=LOGLIK, atol=0)
    assert_close(ours.filtered_means, np.asarray(reference.filtered_means), MOMENTS)
    assert_close(ours.filtered_covariances, np.asarray(reference.filtered_covariances), MOMENTS)


def test_time_varying_transitions_equal_dynamax(backend: str) -> None:
    """dynamax takes a (T, n, n) weight for time-varying dynamics, indexed by the step it moves to (its
    ``lgssm_filter`` predicts t -> t + 1 with F[t + 1]; F[0] is unused); kfsym's F has the T - 1 transitions."""
    _, z = simulate(25, seed=33)
    steps = len(z)
    scales = 1.0 + 0.1 * np.sin(np.arange(steps))
    Fs = np.stack([F_CV * np.array([1, 1, s, s])[None, :] for s in scales])  # a different F every step
    reference = lgssm.lgssm_filter(dynamax_params(F=Fs), jnp.asarray(z))
    ours = kf_filter(z, X0, P0, Fs[1:], Q_CV, H_CV, R_CV, time_varying="F", backend=backend)
    assert_close(ours.filtered_means, np.asarray(reference.filtered_means), MOMENTS)
    assert_close(ours.filtered_covariances, np.asarray(reference.filtered_covariances), MOMENTS)
    assert ours.log_likelihood == pytest.approx(float(reference.marginal_loglik), rel=LOGLIK, abs=0)
