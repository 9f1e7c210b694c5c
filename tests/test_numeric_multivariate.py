"""Multivariate Gaussians in kfsym.numeric against independent references.

References: the *information form* of the product and the textbook density,
evaluated with mpmath matrices at 40 significant digits from the float inputs
converted exactly (so only the floating-point evaluation is judged);
``scipy.stats.multivariate_normal`` and ``scipy.spatial.distance.mahalanobis``;
Python loops of single calls (batching); the 1-D functions (n = 1, exactly).
Then bad input for every function and argument.

Random SPD matrices are built as ``scale * (sym(A A^T) + EPS I)`` with the
entries of A in [-1, 1]: the eigenvalues of A A^T lie in [0, ||A||_F^2] ⊂ [0, n^2],
so cond ≤ (n^2 + EPS) / EPS ≤ 721 < 1e3 for n ≤ 6. Cholesky, triangular solves
and LU solves are backward stable, so their forward errors are a small multiple
of n · cond · eps ≈ 6 · 1e3 · 2.2e-16 ≈ 1.3e-12 (norm-wise, relative to the
largest entry of the result). RTOL = 1e-10 leaves two orders of magnitude of
slack for the constants, and still fails on any real formula error (which is of
order 1). Matrix errors are measured norm-wise (max-abs error / max-abs value):
an entry-wise relative error is meaningless for an off-diagonal entry that is
small by cancellation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose

from kfsym.numeric import (
    MultivariateGaussian,
    _jit,
    add,
    logpdf,
    mahalanobis,
    multiply,
    mvn_add,
    mvn_logpdf,
    mvn_multiply,
    mvn_pdf,
    pdf,
)

pytestmark = pytest.mark.filterwarnings("error")

RTOL = 1e-10
EPS = 0.05  # regularisation: cond ≤ (n^2 + EPS)/EPS ≤ 721 for n ≤ 6
COND_BOUND = 1e3
DPS = 40
LOG_2PI = math.log(2.0 * math.pi)

SOME = settings(max_examples=60, deadline=None)

# ---------------------------------------------------------------------------
# Helpers: exact symmetric matrices, mpmath conversions
# ---------------------------------------------------------------------------


def sym(matrix: np.ndarray) -> np.ndarray:
    """(M + M^T)/2: exactly symmetric (floating-point addition commutes)."""
    return 0.5 * (matrix + np.swapaxes(matrix, -1, -2))


def spd_from(a: np.ndarray, scale: float | np.ndarray = 1.0) -> np.ndarray:
    """scale · (sym(A A^T) + EPS I), batched over leading axes of A (..., n, n)."""
    n = a.shape[-1]
    scale = np.asarray(scale)[..., None, None]
    return scale * (sym(a @ np.swapaxes(a, -1, -2)) + EPS * np.eye(n))


def random_spd(rng: np.random.Generator, shape: tuple[int, ...], n: int, scale: float = 1.0) -> np.ndarray:
    return spd_from(rng.uniform(-1.0, 1.0, (*shape, n, n)), scale)


def is_exactly_symmetric(cov: np.ndarray) -> bool:
    return bool(np.array_equal(cov, np.swapaxes(cov, -1, -2)))


def mp_matrix(array: np.ndarray) -> mpmath.matrix:
    """The float matrix (or column vector) exactly, as an mpmath matrix."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 1:
        return mpmath.matrix([mpmath.mpf(float(v)) for v in array])
    return mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in array])


def to_float(matrix: mpmath.matrix) -> np.ndarray:
    return np.array([[float(matrix[i, j]) for j in range(matrix.cols)] for i in range(matrix.rows)])


def ref_product(m1: np.ndarray, s1: np.ndarray, m2: np.ndarray, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Information form: S = (S1^-1 + S2^-1)^-1, m = S (S1^-1 m1 + S2^-1 m2), at DPS digits."""
    with mpmath.workdps(DPS):
        info1, info2 = mpmath.inverse(mp_matrix(s1)), mpmath.inverse(mp_matrix(s2))
        cov = mpmath.inverse(info1 + info2)
        mean = cov * (info1 * mp_matrix(m1) + info2 * mp_matrix(m2))
        return to_float(mean)[:, 0], to_float(cov)


def ref_density_terms(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(d^2 = (x-m)^T S^-1 (x-m), log det S) at DPS digits (returned as mpf at that precision)."""
    with mpmath.workdps(DPS):
        deviation = mp_matrix(x) - mp_matrix(mean)
        matrix = mp_matrix(cov)
        solved = mpmath.lu_solve(matrix, deviation)
        squared = sum(deviation[i] * solved[i] for i in range(len(x)))
        return +squared, mpmath.log(mpmath.det(matrix))


def ref_logpdf(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> tuple[float, float]:
    """(log N(x; mean, cov), sum of the magnitudes of its terms) — the latter scales the tolerance."""
    squared, log_det = ref_density_terms(x, mean, cov)
    n = len(x)
    with mpmath.workdps(DPS):
        value = -(n * mpmath.log(2 * mpmath.pi) + log_det + squared) / 2
        terms = n * LOG_2PI + abs(float(log_det)) + float(squared)
        return float(value), terms


def norm_err(got: np.ndarray, ref: np.ndarray) -> float:
    """max |got - ref| / max |ref| (norm-wise relative error)."""
    scale = float(np.max(np.abs(ref)))
    err = float(np.max(np.abs(np.asarray(got) - ref)))
    return err / scale if scale > 0 else err


# ---------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------

dims = st.integers(1, 6)
scales = st.floats(-3.0, 3.0).map(lambda e: 10.0**e)  # log-uniform 1e-3 .. 1e3
unit_entries = st.floats(-1.0, 1.0, allow_subnormal=False)


@st.composite
def spd_matrices(draw: st.DrawFn, n: int) -> np.ndarray:
    a = draw(hnp.arrays(np.float64, (n, n), elements=unit_entries))
    return spd_from(a, draw(scales))


def mean_vectors(n: int) -> st.SearchStrategy[np.ndarray]:
    return hnp.arrays(np.float64, n, elements=st.floats(-100.0, 100.0, allow_subnormal=False))


@st.composite
def pair_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n = draw(dims)
    return draw(mean_vectors(n)), draw(spd_matrices(n)), draw(mean_vectors(n)), draw(spd_matrices(n))


@st.composite
def point_cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, mean, cov) with x = mean + L w, |w_i| ≤ 6: moderate distances in every direction."""
    n = draw(dims)
    mean, cov = draw(mean_vectors(n)), draw(spd_matrices(n))
    w = draw(hnp.arrays(np.float64, n, elements=st.floats(-6.0, 6.0, allow_subnormal=False)))
    return mean + np.linalg.cholesky(cov) @ w, mean, cov


# ---------------------------------------------------------------------------
# Construction of the test matrices
# ---------------------------------------------------------------------------


@SOME
@given(st.data())
def test_constructed_matrices_are_spd_with_bounded_condition(data: st.DataObject) -> None:
    n = data.draw(dims)
    cov = data.draw(spd_matrices(n))
    assert is_exactly_symmetric(cov)
    assert np.linalg.eigvalsh(cov)[0] > 0
    assert np.linalg.cond(cov) <= COND_BOUND


# ---------------------------------------------------------------------------
# mpmath: product (information form), logpdf, mahalanobis; add exactly
# ---------------------------------------------------------------------------


@SOME
@given(pair_cases())
def test_multiply_matches_information_form(case: tuple[np.ndarray, ...]) -> None:
    m1, s1, m2, s2 = case
    got = mvn_multiply(m1, s1, m2, s2)
    assert isinstance(got, MultivariateGaussian)
    ref_mean, ref_cov = ref_product(m1, s1, m2, s2)
    assert got.mean.shape == m1.shape
    assert got.cov.shape == s1.shape
    assert norm_err(got.cov, ref_cov) <= RTOL
    # m = m1 + K (m2 - m1): errors scale with the inputs' means, not with a (possibly cancelled) result
    mean_scale = max(np.max(np.abs(m1)), np.max(np.abs(m2)))
    assert np.max(np.abs(got.mean - ref_mean)) <= RTOL * mean_scale
    assert is_exactly_symmetric(got.cov)
    assert np.linalg.eigvalsh(got.cov)[0] > 0


@SOME
@given(point_cases())
def test_logpdf_and_pdf_match_mpmath(case: tuple[np.ndarray, ...]) -> None:
    x, mean, cov = case
    ref, terms = ref_logpdf(x, mean, cov)
    got = mvn_logpdf(x, mean, cov)
    assert isinstance(got, float)
    # log N = -(n log 2π + log det S + d^2)/2: absolute error relative to the size of its terms
    assert abs(got - ref) <= RTOL * terms
    # the density: relative error = absolute error of its log
    assert_allclose(mvn_pdf(x, mean, cov), math.exp(ref), rtol=RTOL * max(terms, 1.0))


@SOME
@given(point_cases())
def test_mahalanobis_matches_mpmath(case: tuple[np.ndarray, ...]) -> None:
    x, mean, cov = case
    squared, _ = ref_density_terms(x, mean, cov)
    with mpmath.workdps(DPS):
        ref = float(mpmath.sqrt(squared))
    assume(ref == 0.0 or ref >= 1e-150)  # tinier distances underflow: pinned as a bug below
    got = mahalanobis(x, mean, cov)
    assert isinstance(got, float)
    assert abs(got - ref) <= RTOL * ref  # also got == 0 when x == mean


@SOME
@given(pair_cases())
def test_add_is_exactly_the_sums(case: tuple[np.ndarray, ...]) -> None:
    m1, s1, m2, s2 = case
    got = mvn_add(m1, s1, m2, s2)
    assert isinstance(got, MultivariateGaussian)
    assert np.array_equal(got.mean, m1 + m2)
    assert np.array_equal(got.cov, s1 + s2)
    assert is_exactly_symmetric(got.cov)


# ---------------------------------------------------------------------------
# SciPy
# ---------------------------------------------------------------------------


@SOME
@given(point_cases())
def test_pdf_and_logpdf_match_scipy(case: tuple[np.ndarray, ...]) -> None:
    x, mean, cov = case
    dist = scipy.stats.multivariate_normal(mean, cov)
    assert_allclose(mvn_pdf(x, mean, cov), dist.pdf(x), rtol=RTOL)
    _, terms = ref_logpdf(x, mean, cov)
    assert abs(mvn_logpdf(x, mean, cov) - dist.logpdf(x)) <= RTOL * terms


@SOME
@given(point_cases())
def test_mahalanobis_matches_scipy(case: tuple[np.ndarray, ...]) -> None:
    x, mean, cov = case
    ref = scipy.spatial.distance.mahalanobis(x, mean, np.linalg.inv(cov))
    # SciPy squares before the root, so tinier distances underflow there (kfsym scales: see the regression tests)
    assume(ref >= 1e-150 or np.array_equal(x, mean))
    assert_allclose(mahalanobis(x, mean, cov), ref, rtol=RTOL, atol=1e-300)


@pytest.mark.parametrize("n", [2, 3, 6])
@pytest.mark.parametrize("sigmas", [1e3, 1e5, 1e8])
def test_logpdf_finite_far_in_the_tails(n: int, sigmas: float) -> None:
    rng = np.random.default_rng(1000 + n)
    mean = rng.uniform(-10, 10, n)
    cov = random_spd(rng, (), n, scale=2.0)
    direction = rng.normal(size=n)
    direction /= np.linalg.norm(direction)
    x = mean + sigmas * (np.linalg.cholesky(cov) @ direction)  # Mahalanobis distance ≈ sigmas
    assert mvn_pdf(x, mean, cov) == 0.0  # exp(-sigmas^2/2) underflows
    got = mvn_logpdf(x, mean, cov)
    assert math.isfinite(got)
    ref, terms = ref_logpdf(x, mean, cov)
    assert abs(got - ref) <= RTOL * terms
    assert_allclose(got, -0.5 * sigmas**2, rtol=1e-4)  # the other terms are O(n log scale)
    assert_allclose(got, scipy.stats.multivariate_normal(mean, cov).logpdf(x), rtol=RTOL)
    assert_allclose(mahalanobis(x, mean, cov), sigmas, rtol=1e-10)


def test_tutorial_2d_gaussian_matches_scipy() -> None:
    mean, cov = np.array([0.5, -0.2]), np.array([[2.0, 0.9], [0.9, 0.5]])
    points = np.array([[0.5, -0.2], [0.0, 0.0], [1.0, 1.0], [-2.0, 3.0], [3.0, -1.0], [2.5, 0.7]])
    dist = scipy.stats.multivariate_normal(mean, cov)
    got = mvn_pdf(points, mean, cov)
    assert got.shape == (6,)
    assert_allclose(got, dist.pdf(points), rtol=1e-12)
    assert_allclose(mvn_logpdf(points, mean, cov), dist.logpdf(points), rtol=1e-12)
    # the peak: 1 / (2π sqrt(det)) with det = 2·0.5 - 0.9² = 0.19
    assert_allclose(mvn_pdf(mean, mean, cov), 1.0 / (2.0 * math.pi * math.sqrt(0.19)), rtol=1e-14)
    for point in points:
        single = mvn_pdf(point, mean, cov)
        assert isinstance(single, float)
        assert_allclose(single, dist.pdf(point), rtol=1e-12)


# ---------------------------------------------------------------------------
# Batching and broadcasting
# ---------------------------------------------------------------------------


def assert_batch_equal(func: Callable[..., Any], batched: Any, single: Any) -> None:
    """A batched density or distance equals the single call to rounding (1e-14 relative).

    A batch sharing one covariance is whitened by one solve with many right-hand sides, a single point
    by its own solve: d^2 may differ in its last bit. logpdf and mahalanobis inherit that as a
    relative error of an ulp or two; pdf = exp(logpdf) turns an absolute error δ of logpdf into a
    relative error δ, i.e. about |logpdf| ulp — so its tolerance scales with |logpdf|.
    """
    rtol = 1e-14
    if func is mvn_pdf and single > 0:
        rtol *= max(1.0, abs(math.log(single)))
    assert_allclose(batched, single, rtol=rtol, atol=0)


@st.composite
def batched_cases(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """(x, mean1, cov1, mean2, cov2) with independent, mutually broadcastable batch shapes."""
    n = draw(dims)
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=5, max_dims=2, max_side=3)).input_shapes
    x, m1, m2 = (draw(hnp.arrays(np.float64, (*shape, n), elements=st.floats(-100, 100))) for shape in shapes[:3])
    covs = []
    for shape in shapes[3:]:
        a = draw(hnp.arrays(np.float64, (*shape, n, n), elements=unit_entries))
        covs.append(spd_from(a, draw(scales)))
    return x, m1, covs[0], m2, covs[1]


@settings(max_examples=30, deadline=None)
@given(batched_cases())
def test_batches_of_any_shape_equal_single_calls(case: tuple[np.ndarray, ...]) -> None:
    x, m1, s1, m2, s2 = case
    n = x.shape[-1]
    batch = np.broadcast_shapes(x.shape[:-1], m1.shape[:-1], s1.shape[:-2], m2.shape[:-1], s2.shape[:-2])
    pair_batch = np.broadcast_shapes(m1.shape[:-1], s1.shape[:-2], m2.shape[:-1], s2.shape[:-2])
    point_batch = np.broadcast_shapes(x.shape[:-1], m1.shape[:-1], s1.shape[:-2])
    product, total = mvn_multiply(m1, s1, m2, s2), mvn_add(m1, s1, m2, s2)
    densities = [func(x, m1, s1) for func in (mvn_pdf, mvn_logpdf, mahalanobis)]
    for result in (product, total):
        assert result.mean.shape == (*pair_batch, n)
        assert result.cov.shape == (*pair_batch, n, n)
        assert is_exactly_symmetric(result.cov)
    for values in densities:
        assert np.shape(values) == point_batch

    def full(array: Any, core: tuple[int, ...]) -> np.ndarray:
        return np.broadcast_to(array, (*batch, *core))

    bx, bm1, bm2, bs1, bs2 = full(x, (n,)), full(m1, (n,)), full(m2, (n,)), full(s1, (n, n)), full(s2, (n, n))
    for index in np.ndindex(*batch):
        one = mvn_multiply(bm1[index], bs1[index], bm2[index], bs2[index])
        mean_tol, cov_tol = 1e-14 * np.max(np.abs(one.mean)), 1e-14 * np.max(np.abs(one.cov))
        assert_allclose(full(product.mean, (n,))[index], one.mean, rtol=1e-14, atol=mean_tol)
        assert_allclose(full(product.cov, (n, n))[index], one.cov, rtol=1e-14, atol=cov_tol)
        one = mvn_add(bm1[index], bs1[index], bm2[index], bs2[index])
        assert np.array_equal(full(total.mean, (n,))[index], one.mean)
        assert np.array_equal(full(total.cov, (n, n))[index], one.cov)
        for func, values in zip((mvn_pdf, mvn_logpdf, mahalanobis), densities, strict=True):
            assert_batch_equal(func, full(values, ())[index], func(bx[index], bm1[index], bs1[index]))


def test_a_batch_on_the_compiled_path_equals_a_loop_of_single_calls() -> None:
    """A batch just large enough for the compiled product (``_jit.MIN_SIZE`` covariance entries) against a loop of
    single 4-D calls, which take the NumPy path."""
    rng = np.random.default_rng(20240505)
    n = 4
    count = _jit.MIN_SIZE // n**2 + 1
    m1, m2 = rng.normal(size=(count, n)), rng.normal(size=(count, n)) * 10
    s1 = random_spd(rng, (count,), n, scale=1.0)
    s2 = random_spd(rng, (count,), n, scale=3.0)
    batch = mvn_multiply(m1, s1, m2, s2)
    assert batch.mean.shape == (count, n)
    assert batch.cov.shape == (count, n, n)
    assert is_exactly_symmetric(batch.cov)
    loop_mean, loop_cov = np.empty_like(m1), np.empty_like(s1)
    for i in range(count):
        loop_mean[i], loop_cov[i] = mvn_multiply(m1[i], s1[i], m2[i], s2[i])
    assert_allclose(batch.mean, loop_mean, rtol=1e-14, atol=1e-14 * np.max(np.abs(loop_mean)))
    assert_allclose(batch.cov, loop_cov, rtol=1e-14, atol=1e-14 * np.max(np.abs(loop_cov)))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_one_prior_against_a_batch_of_measurements(n: int) -> None:
    rng = np.random.default_rng(7 + n)
    prior_mean, prior_cov = rng.normal(size=n), random_spd(rng, (), n)
    z, r = rng.normal(size=(5, n)), random_spd(rng, (5,), n, scale=0.5)
    shared_r = random_spd(rng, (), n, scale=0.5)
    for cov2 in (r, shared_r):
        got = mvn_multiply(prior_mean, prior_cov, z, cov2)
        assert got.mean.shape == (5, n)
        assert got.cov.shape == (5, n, n)
        assert is_exactly_symmetric(got.cov)
        for i in range(5):
            one = mvn_multiply(prior_mean, prior_cov, z[i], cov2 if cov2.ndim == 2 else cov2[i])
            assert_allclose(got.mean[i], one.mean, rtol=1e-14, atol=1e-15)
            assert_allclose(got.cov[i], one.cov, rtol=1e-14, atol=1e-15)
    summed = mvn_add(prior_mean, prior_cov, z, shared_r)
    assert summed.mean.shape == (5, n)
    assert summed.cov.shape == (5, n, n)
    assert np.array_equal(summed.cov, np.broadcast_to(prior_cov + shared_r, (5, n, n)))


@pytest.mark.parametrize("n", [1, 3])
def test_leading_axes_broadcast_like_numpy(n: int) -> None:
    rng = np.random.default_rng(11 + n)
    mean1, cov1 = rng.normal(size=(2, 1, n)), random_spd(rng, (3,), n)  # batches (2, 1) and (3,)
    mean2, cov2 = rng.normal(size=n), random_spd(rng, (), n)
    for func in (mvn_multiply, mvn_add):
        got = func(mean1, cov1, mean2, cov2)
        assert got.mean.shape == (2, 3, n)
        assert got.cov.shape == (2, 3, n, n)
        assert is_exactly_symmetric(got.cov)
        for i in range(2):
            for j in range(3):
                one = func(mean1[i, 0], cov1[j], mean2, cov2)
                assert_allclose(got.mean[i, j], one.mean, rtol=1e-14, atol=1e-15)
                assert_allclose(got.cov[i, j], one.cov, rtol=1e-14, atol=1e-15)
    x, mean = rng.normal(size=(4, 3, n)), rng.normal(size=(3, n))
    for func in (mvn_pdf, mvn_logpdf, mahalanobis):
        for cov in (cov1, cov1[0]):  # per-point covariances (3, n, n) and one shared (n, n)
            got = func(x, mean, cov)
            assert got.shape == (4, 3)
            for i in range(4):
                for j in range(3):
                    one = func(x[i, j], mean[j], cov[j] if cov.ndim == 3 else cov)
                    assert_batch_equal(func, got[i, j], one)


def test_inputs_are_not_mutated_and_outputs_are_fresh_arrays() -> None:
    rng = np.random.default_rng(3)
    n = 3
    x, m1, m2 = rng.normal(size=(4, n)), rng.normal(size=(4, n)), rng.normal(size=n)
    s1, s2 = random_spd(rng, (4,), n), random_spd(rng, (), n)
    inputs = [x, m1, m2, s1, s2]
    saved = [array.copy() for array in inputs]
    mvn_pdf(x, m1, s1)
    mvn_logpdf(x, m2, s2)
    mahalanobis(x, m1, s2)
    for func in (mvn_multiply, mvn_add):
        result = func(m1, s1, m2, s2)
        for field in result:
            assert not any(np.shares_memory(field, array) for array in inputs)
            field[...] = np.nan  # writing to a result must not reach an input
    for array, copy in zip(inputs, saved, strict=True):
        assert np.array_equal(array, copy)


def test_empty_batches_and_integer_input() -> None:
    eye, empty_points, empty_covs = np.eye(2), np.zeros((0, 2)), np.zeros((0, 2, 2))
    for func in (mvn_pdf, mvn_logpdf, mahalanobis):
        assert func(empty_points, [0.0, 0.0], eye).shape == (0,)
        assert func([0.0, 0.0], [0.0, 0.0], empty_covs).shape == (0,)
    for func in (mvn_multiply, mvn_add):
        result = func(empty_points, eye, [0.0, 0.0], empty_covs)
        assert result.mean.shape == (0, 2)
        assert result.cov.shape == (0, 2, 2)
    # integers are numbers: converted to float64
    assert mvn_pdf([0, 0], [0, 0], [[1, 0], [0, 1]]) == mvn_pdf([0.0, 0.0], [0.0, 0.0], eye)
    assert mahalanobis([3, 4], [0, 0], [[1, 0], [0, 1]]) == 5.0
    product = mvn_multiply([0, 0], [[2, 0], [0, 2]], [10, 0], [[2, 0], [0, 2]])
    assert product.mean.dtype == product.cov.dtype == np.float64
    assert np.array_equal(product.mean, [5.0, 0.0])
    assert np.array_equal(product.cov, eye)


def test_nearly_symmetric_input_gives_exactly_symmetric_output() -> None:
    cov1 = np.array([[2.0, 0.9], [0.9 * (1 + 1e-13), 0.5]])  # asymmetry far below the 1e-10 tolerance
    cov2 = np.array([[1.0, -0.3], [-0.3 * (1 - 1e-13), 1.5]])
    for func in (mvn_multiply, mvn_add):
        assert is_exactly_symmetric(func([0.0, 1.0], cov1, [1.0, 0.0], cov2).cov)
    assert math.isfinite(mvn_logpdf([0.0, 0.0], [0.5, -0.2], cov1))


@pytest.mark.parametrize("func", [mvn_pdf, mvn_logpdf])
def test_infinite_points_have_zero_density(func: Callable[..., Any]) -> None:
    mean, cov = [0.5, -0.2], [[2.0, 0.9], [0.9, 0.5]]
    points = [[np.inf, 0.0], [0.5, -0.2], [-np.inf, -np.inf], [0.0, -np.inf], [np.inf, -np.inf]]
    got = func(points, mean, cov)
    zero = 0.0 if func is mvn_pdf else -np.inf
    assert got[0] == got[2] == got[3] == got[4] == zero
    assert np.isfinite(got[1]) and got[1] != zero
    assert func([np.inf, 1.0], mean, cov) == zero
    assert func([np.inf], [0.0], [[1.0]]) == zero  # n = 1


# ---------------------------------------------------------------------------
# n = 1 is the 1-D function, exactly
# ---------------------------------------------------------------------------

wide_variances = st.floats(-150.0, 150.0).map(lambda e: 10.0**e)
wide_means = st.one_of(
    st.sampled_from([0.0, 1.0, -2.0]),
    st.tuples(st.sampled_from([-1.0, 1.0]), st.floats(-150.0, 150.0)).map(lambda t: t[0] * 10.0 ** t[1]),
)
z_scores = st.one_of(st.floats(-40.0, 40.0), st.sampled_from([1e3, -1e5, 1e200]))


@settings(max_examples=100, deadline=None)
@given(mean=wide_means, var=wide_variances, z=z_scores)
def test_n1_densities_agree_with_1d(mean: float, var: float, z: float) -> None:
    # Exact equality is the contract (pinned below as a known bug); until then: rounding level of the
    # exponent, |Δ logpdf| ≤ 8 eps·(size of its terms z²/2 + |log var|/2 + log(2π)/2, which may cancel),
    # and the same relative error for pdf.
    x = mean + z * math.sqrt(var)
    one_d = logpdf(x, mean, var)
    if math.isinf(one_d):  # -inf (and pdf 0) where (x - m)^2 overflows
        assert mvn_logpdf([x], [mean], [[var]]) == one_d
        assert mvn_pdf([x], [mean], [[var]]) == 0.0
        return
    terms = 0.5 * z * z + 0.5 * abs(math.log(var)) + 0.5 * LOG_2PI
    tol = 8 * np.finfo(float).eps * max(1.0, terms)
    assert abs(mvn_logpdf([x], [mean], [[var]]) - one_d) <= tol
    assert_allclose(mvn_pdf([x], [mean], [[var]]), pdf(x, mean, var), rtol=2 * tol, atol=0)


@settings(max_examples=100, deadline=None)
@given(m1=wide_means, v1=wide_variances, m2=wide_means, v2=wide_variances)
def test_n1_multiply_and_add_equal_1d_exactly(m1: float, v1: float, m2: float, v2: float) -> None:
    product, one_d = mvn_multiply([m1], [[v1]], [m2], [[v2]]), multiply(m1, v1, m2, v2)
    assert product.mean.shape == (1,)
    assert product.cov.shape == (1, 1)
    assert product.mean[0] == one_d.mean
    assert product.cov[0, 0] == one_d.var
    total, one_d = mvn_add([m1], [[v1]], [m2], [[v2]]), add(m1, v1, m2, v2)
    assert total.mean[0] == one_d.mean
    assert total.cov[0, 0] == one_d.var


def test_n1_product_and_sum_batches_equal_1d_exactly() -> None:
    rng = np.random.default_rng(5)
    m1, m2 = rng.normal(size=(2, 50)) * 10
    v1, v2 = 10.0 ** rng.uniform(-5, 5, size=(2, 50))
    product, one_d = (
        mvn_multiply(m1[:, None], v1[:, None, None], m2[:, None], v2[:, None, None]),
        multiply(m1, v1, m2, v2),
    )
    assert np.array_equal(product.mean[:, 0], one_d.mean)
    assert np.array_equal(product.cov[:, 0, 0], one_d.var)
    total, one_d = mvn_add(m1[:, None], v1[:, None, None], m2[:, None], v2[:, None, None]), add(m1, v1, m2, v2)
    assert np.array_equal(total.mean[:, 0], one_d.mean)
    assert np.array_equal(total.cov[:, 0, 0], one_d.var)


@settings(max_examples=100, deadline=None)
@given(mean=wide_means, var=wide_variances, z=st.one_of(st.just(0.0), st.floats(-1e6, 1e6)))
def test_n1_mahalanobis_is_the_z_score(mean: float, var: float, z: float) -> None:
    # |x - m| / sqrt(var) rounds twice (subtraction, division). mahalanobis gets sqrt(var) from a
    # Cholesky factor (same correctly rounded sqrt), divides in a triangular solve — LAPACK/BLAS may
    # multiply by a rounded reciprocal instead of dividing — and returns sqrt(y*y), which equals |y|
    # in binary64 when y*y neither overflows nor underflows. So: equal up to one ulp, for distances
    # whose square is a normal double (outside that range see the pinned overflow/underflow bug).
    x = mean + z * math.sqrt(var)
    ref = abs(x - mean) / math.sqrt(var)
    assume(ref == 0.0 or 1e-150 <= ref <= 1e150)
    got = mahalanobis([x], [mean], [[var]])
    assert isinstance(got, float)
    assert abs(got - ref) <= np.spacing(ref)


# ---------------------------------------------------------------------------
# Regressions: bugs found by these tests, fixed in kfsym
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("batch", [False, True])
def test_regression_n1_densities_differ_from_1d(batch: bool) -> None:
    x, mean, var = 12.649110640673518, 0.0, 10.0  # 4 standard deviations
    if batch:
        rng = np.random.default_rng(5)
        x, mean = rng.normal(size=(2, 50)) * 10
        var = 10.0 ** rng.uniform(-5, 5, size=50)
        assert np.array_equal(mvn_logpdf(x[:, None], mean[:, None], var[:, None, None]), logpdf(x, mean, var))
        assert np.array_equal(mvn_pdf(x[:, None], mean[:, None], var[:, None, None]), pdf(x, mean, var))
    else:
        assert mvn_logpdf([x], [mean], [[var]]) == logpdf(x, mean, var)
        assert mvn_pdf([x], [mean], [[var]]) == pdf(x, mean, var)


@pytest.mark.parametrize("func", [mvn_pdf, mvn_logpdf])
def test_regression_density_overflowing_deviation_warns(func: Callable[..., Any]) -> None:
    expected = 0.0 if func is mvn_pdf else -np.inf
    assert func([1e308], [-1e308], [[1.0]]) == expected  # n = 1: fine
    assert func([1e308, 0.0], [-1e308, 0.0], np.eye(2)) == expected


def test_regression_multiply_overflowing_mean_difference_warns() -> None:
    one_d = mvn_multiply([-1e308], [[1.0]], [1e308], [[1.0]])
    assert one_d.mean[0] == 0.0
    got = mvn_multiply([-1e308, 0.0], np.eye(2), [1e308, 0.0], np.eye(2))
    assert np.array_equal(got.mean, [0.0, 0.0])
    assert np.array_equal(got.cov, 0.5 * np.eye(2))


def test_regression_add_near_the_largest_double_differs_from_1d() -> None:
    one_d = add(1.0, 6e307, 1.0, 6e307)
    assert one_d.var == 1.2e308
    got = mvn_add([1.0], [[6e307]], [1.0], [[6e307]])
    assert got.cov[0, 0] == one_d.var


@pytest.mark.parametrize("distance", [1e200, 1e-190])
def test_regression_mahalanobis_over_and_underflows_for_a_representable_distance(distance: float) -> None:
    assert_allclose(mahalanobis([distance], [0.0], [[1.0]]), distance, rtol=1e-15)
    assert_allclose(mahalanobis([distance, 0.0], [0.0, 0.0], np.eye(2)), distance, rtol=1e-12)


@pytest.mark.parametrize("x", [[np.inf, 0.0], [0.0, -np.inf]])
def test_regression_mahalanobis_accepts_infinite_x(x: list[float]) -> None:
    with pytest.raises(ValueError, match=r"\bx\b.*finite"):
        mahalanobis(x, [0.0, 0.0], np.eye(2))


# ---------------------------------------------------------------------------
# Bad input: every function, every argument
# ---------------------------------------------------------------------------

GOOD_MEAN = [0.5, -0.2]
GOOD_COV = [[2.0, 0.9], [0.9, 0.5]]
POINT_FUNCS = [mvn_pdf, mvn_logpdf, mahalanobis]
PAIR_FUNCS = [mvn_multiply, mvn_add]


def good_args(func: Callable[..., Any]) -> dict[str, Any]:
    if func in POINT_FUNCS:
        return {"x": [0.1, 0.3], "mean": GOOD_MEAN, "cov": GOOD_COV}
    return {"mean1": GOOD_MEAN, "cov1": GOOD_COV, "mean2": [1.0, 1.0], "cov2": [[1.0, 0.2], [0.2, 1.0]]}


# (label, value, exception, rule in the message or None)
BAD_COVARIANCES: list[tuple[str, Any, type[Exception], str | None]] = [
    ("non-square", [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], ValueError, "square"),
    ("vector", [1.0, 2.0], ValueError, "square"),
    ("scalar", 1.0, ValueError, "square"),
    ("empty", np.zeros((0, 0)), ValueError, "empty"),
    ("non-symmetric", [[1.0, 0.5], [0.4, 1.0]], ValueError, "symmetric"),
    ("indefinite", [[1.0, 2.0], [2.0, 1.0]], ValueError, "positive definite"),
    ("negative-definite", [[-1.0, 0.0], [0.0, -1.0]], ValueError, "nonnegative diagonal"),
    ("one-negative-variance", [[1e10, 0.0], [0.0, -1.0]], ValueError, "nonnegative diagonal"),
    ("tiny-negative-variance", [[1.0, 0.0], [0.0, -1e-300]], ValueError, "nonnegative diagonal"),
    ("small-asymmetry", [[1e10, 0.0], [1e-3, 1e-10]], ValueError, "symmetric"),
    ("nan", [[1.0, np.nan], [np.nan, 1.0]], ValueError, "finite"),
    ("inf", [[np.inf, 0.0], [0.0, 1.0]], ValueError, "finite"),
    ("complex", [[1.0 + 0j, 0.0], [0.0, 1.0]], TypeError, "complex"),
    ("string", "[[1, 0], [0, 1]]", TypeError, None),
    ("strings", [["1", "0"], ["0", "1"]], TypeError, None),
    ("none", None, TypeError, None),
    ("bool", [[True, False], [False, True]], TypeError, None),
    ("ragged", [[1.0, 0.0], [0.0]], ValueError, None),
]
SINGULAR = ("singular", [[1.0, 1.0], [1.0, 1.0]], ValueError, "positive definite")
ZERO = ("zero", [[0.0, 0.0], [0.0, 0.0]], ValueError, "positive definite")

BAD_VECTORS: list[tuple[str, Any, type[Exception], str | None]] = [
    ("nan", [np.nan, 0.0], ValueError, "NaN"),
    ("wrong-n", [0.0, 0.0, 0.0], ValueError, "size"),
    ("scalar", 0.5, ValueError, "vector"),
    ("empty", [], ValueError, "empty"),
    ("complex", [1j, 0.0], TypeError, "complex"),
    ("string", "0.5", TypeError, None),
    ("strings", ["0", "1"], TypeError, None),
    ("none", None, TypeError, None),
    ("ragged", [[0.0, 1.0], [2.0]], ValueError, None),
]
INFINITE_PARAMETERS = [
    ("inf", [np.inf, 0.0], ValueError, "finite"),
    ("-inf", [0.0, -np.inf], ValueError, "finite"),
]


def bad_cases() -> list[Any]:
    cases = []
    for func in POINT_FUNCS + PAIR_FUNCS:
        for name in good_args(func):
            if name.startswith("cov"):
                table = list(BAD_COVARIANCES)
                if func is not mvn_add:  # densities, distance and product need an inverse
                    table += [SINGULAR, ZERO]
            else:
                table = list(BAD_VECTORS)
                if name != "x":  # x = ±inf is a legitimate density argument
                    table += INFINITE_PARAMETERS
            for label, value, error, rule in table:
                # parameters are checked for finiteness (NaN included); only x has its own NaN rule
                expected = "finite" if rule == "NaN" and name != "x" else rule
                cases.append(pytest.param(func, name, value, error, expected, id=f"{func.__name__}-{name}-{label}"))
    return cases


@pytest.mark.parametrize(("func", "name", "value", "error", "rule"), bad_cases())
def test_bad_input_raises_naming_the_argument(
    func: Callable[..., Any], name: str, value: Any, error: type[Exception], rule: str | None
) -> None:
    args = good_args(func)
    args[name] = value
    with pytest.raises(error, match=rf"\b{name}\b") as info:
        func(**args)
    if rule is not None:
        assert rule in str(info.value)


@pytest.mark.parametrize("func", [mvn_pdf, mvn_logpdf])
def test_nan_in_x_is_an_error_even_where_inf_is_allowed(func: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match=r"^x must not contain NaN"):
        func([[0.0, 0.0], [np.nan, 0.0]], GOOD_MEAN, GOOD_COV)


def test_mahalanobis_needs_finite_x() -> None:
    # outside the densities every argument must be finite (DESIGN.md), data included
    with pytest.raises(ValueError, match=r"^x must be finite \(no NaN or inf\)"):
        mahalanobis([[0.0, 0.0], [np.nan, 0.0]], GOOD_MEAN, GOOD_COV)


@pytest.mark.parametrize("func", POINT_FUNCS)
def test_point_shapes_that_do_not_broadcast(func: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match=r"\bx\b.*\bmean\b"):
        func(np.zeros((3, 2)), np.zeros((4, 2)), GOOD_COV)
    with pytest.raises(ValueError, match=r"\bmean\b.*\bcov\b|\bcov\b.*\bmean\b"):
        func([0.0, 0.0], np.zeros((3, 2)), np.broadcast_to(np.eye(2), (4, 2, 2)))


@pytest.mark.parametrize("func", PAIR_FUNCS)
def test_pair_shapes_that_do_not_broadcast(func: Callable[..., Any]) -> None:
    args = good_args(func)
    with pytest.raises(ValueError, match=r"\bmean1\b.*\bmean2\b"):
        func(**(args | {"mean1": np.zeros((3, 2)), "mean2": np.ones((4, 2))}))
    with pytest.raises(ValueError, match=r"\bcov2\b"):
        func(**(args | {"cov1": np.broadcast_to(np.eye(2), (3, 2, 2)), "cov2": np.broadcast_to(np.eye(2), (4, 2, 2))}))


def indefinite_batch(shape: tuple[int, ...], bad: tuple[int, ...]) -> np.ndarray:
    batch = np.broadcast_to(np.array(GOOD_COV), (*shape, 2, 2)).copy()
    batch[bad] = [[1.0, 2.0], [2.0, 1.0]]
    return batch


@pytest.mark.parametrize(
    ("func", "name"), [(f, n) for f in POINT_FUNCS + PAIR_FUNCS for n in good_args(f) if n.startswith("cov")]
)
def test_batch_index_of_a_bad_covariance_is_named(func: Callable[..., Any], name: str) -> None:
    args = good_args(func)
    args[name] = indefinite_batch((4,), (2,))
    with pytest.raises(ValueError, match=rf"^{name} must be positive definite at batch index \(2,\)"):
        func(**args)
    args[name] = indefinite_batch((2, 3), (1, 2))
    with pytest.raises(ValueError, match=rf"^{name} must be positive definite at batch index \(1, 2\)"):
        func(**args)
    asymmetric = np.broadcast_to(np.array(GOOD_COV), (3, 2, 2)).copy()
    asymmetric[1, 0, 1] += 0.1
    args[name] = asymmetric
    with pytest.raises(ValueError, match=rf"^{name} must be symmetric at batch index \(1,\)"):
        func(**args)


@pytest.mark.parametrize(
    ("func", "name"), [(f, n) for f in POINT_FUNCS + PAIR_FUNCS for n in good_args(f) if n in ("cov", "cov1")]
)
def test_regression_covariance_of_the_wrong_size_is_not_named(func: Callable[..., Any], name: str) -> None:
    args = good_args(func)
    args[name] = np.eye(3)
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        func(**args)


@pytest.mark.parametrize("func", PAIR_FUNCS)
def test_cov2_of_the_wrong_size_is_named(func: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match=r"^cov2 has size 3"):
        func(**(good_args(func) | {"cov2": np.eye(3)}))


def test_an_elements_product_does_not_depend_on_the_rest_of_the_batch() -> None:
    """A batch element near the ends of the range takes a slower path; the others' results stay bit for bit."""
    rng = np.random.default_rng(21)
    extreme_mean1, extreme_mean2 = np.full(3, -1e308), np.full(3, 1e308)  # z-scores beyond the largest double
    tiny = 1e-300 * np.eye(3)
    for _ in range(20):
        a, b = rng.normal(size=(2, 3, 3))
        cov1, cov2 = a @ a.T + rng.uniform(1e-3, 1e3) * np.eye(3), b @ b.T + rng.uniform(1e-3, 1e3) * np.eye(3)
        mean1, mean2 = rng.normal(size=3) * 10 ** rng.uniform(-3, 3), rng.normal(size=3) * 10 ** rng.uniform(-3, 3)
        alone = mvn_multiply(mean1, cov1, mean2, cov2)
        batch = mvn_multiply(
            np.stack([mean1, extreme_mean1]),
            np.stack([cov1, tiny]),
            np.stack([mean2, extreme_mean2]),
            np.stack([cov2, tiny]),
        )
        np.testing.assert_array_equal(batch.mean[0], alone.mean)
        np.testing.assert_array_equal(batch.cov[0], alone.cov)
        assert np.all(np.isfinite(batch.mean[1]))
