"""kfsym's vectorised erfc (the NumPy array path of cdf): its coefficients are the fit's, and it is accurate.

Accuracy is checked against mpmath at 40 digits over the whole double range, region by region (each fit's
interval, its edges to the ulp, the series near 0, the subnormal results, huge and tiny arguments), with the
bound the module states; the C library's ``erfc`` is only a second opinion (its own error is a few ulp).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from kfsym.derive import erfc_fit
from kfsym.numeric import _erfc
from kfsym.numeric._erfc import ULP_BOUND, erfc

SMALLEST_NORMAL = 2.0**-1022
SUBNORMAL_STEP = 2.0**-1074
EPS = 2.0**-52


def exact(x: float) -> mpmath.mpf:
    with mpmath.workdps(40):
        return mpmath.erfc(mpmath.mpf(x))


def ulp_error(got: float, x: float) -> float:
    """|got - erfc(x)| in ulp of the exact value (steps of 2^-1074 where it is below the normal range)."""
    want = exact(x)
    step = math.ulp(float(want)) if want >= SMALLEST_NORMAL else SUBNORMAL_STEP
    return float(abs(mpmath.mpf(got) - want) / step)


def just_below_powers_of_two(rng: np.random.Generator) -> np.ndarray:
    """Points where erfc is just below 2^-k (where an ulp is smallest relative to the value), 40 per k."""
    with mpmath.workdps(30):
        # log erfc(t) = -k log 2, from t = sqrt(k log 2) (erfc(t) ~ exp(-t^2))
        roots = [
            float(mpmath.findroot(lambda t, k=k: mpmath.log(mpmath.erfc(t)) + k * mpmath.log(2), math.sqrt(k * 0.69)))
            for k in range(2, 40)
        ]
    return np.concatenate([root + rng.uniform(0.0, 1e-3 * root, 40) for root in roots])


def points() -> np.ndarray:
    """Seeded points covering every region of the method, its edges and the far ranges."""
    rng = np.random.default_rng(20261130)
    edges = np.array(erfc_fit.EDGES)
    around_edges = np.concatenate([np.nextafter(edges, -np.inf), edges, np.nextafter(edges, np.inf)])
    return np.concatenate(
        [
            rng.uniform(-6.0, 27.3, 1500),  # all regions, both signs
            rng.uniform(-0.5, 0.5, 300),  # the series
            rng.uniform(26.0, 27.3, 300),  # subnormal results and the underflow to 0
            np.sign(rng.uniform(-1, 1, 300)) * 10.0 ** rng.uniform(-320, 0, 300),  # tiny arguments
            around_edges,
            -around_edges,
            just_below_powers_of_two(rng),
            [0.8196203012677297],  # 4.1 ulp, the largest error found (by an independent review)
        ]
    )


def test_the_committed_coefficients_are_the_fit() -> None:
    """Every digit of the table in kfsym/numeric/_erfc.py is what kfsym.derive.erfc_fit prints."""
    table = erfc_fit.coefficient_table()
    assert table["series"] == _erfc._SERIES
    assert table["edges"] == _erfc._EDGES
    assert table["intervals"] == _erfc._INTERVALS
    assert table["tail"] == _erfc._TAIL


def test_erfc_is_within_its_stated_bound_of_the_exact_value() -> None:
    xs = points()
    got = erfc(xs)
    errors = np.array([ulp_error(float(value), float(x)) for value, x in zip(got, xs, strict=True)])
    worst = int(errors.argmax())
    assert errors.max() <= ULP_BOUND, f"erfc({xs[worst]!r}) = {got[worst]!r}: {errors[worst]:.2f} ulp"
    assert errors.max() > 0.5  # the check measures something: no double is exact everywhere
    # the same as a relative error: at most about 2.1 eps where the result is normal (the docstring's statement)
    relative = [
        float(abs(mpmath.mpf(float(value)) - exact(float(x))) / exact(float(x)))
        for value, x in zip(got, xs, strict=True)
        if exact(float(x)) >= SMALLEST_NORMAL
    ]
    assert max(relative) <= 2.2 * EPS


def test_a_wrong_coefficient_is_caught_by_the_accuracy_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """The accuracy check is not vacuous: one coefficient off by 1e-12 relative breaks the bound."""
    rows = list(_erfc._INTERVALS)
    rows[2] = (*rows[2][:-1], rows[2][-1] * (1 + 1e-12))
    monkeypatch.setattr(_erfc, "_INTERVALS", tuple(rows))
    xs = np.linspace(2.0, 3.0, 50)
    worst = max(ulp_error(float(value), float(x)) for value, x in zip(erfc(xs), xs, strict=True))
    assert worst > ULP_BOUND


def test_special_values_shapes_and_scalars() -> None:
    values = erfc(np.array([[-math.inf, math.inf], [math.nan, 0.0]]))
    assert values.shape == (2, 2) and values.dtype == np.float64
    assert values[0, 0] == 2.0 and values[0, 1] == 0.0 and math.isnan(values[1, 0]) and values[1, 1] == 1.0
    assert erfc(np.array([30.0, -30.0, 1e300, -1e300])).tolist() == [0.0, 2.0, 0.0, 2.0]
    assert erfc(np.empty((0, 3))).shape == (0, 3)
    scalar = erfc(0.5)
    assert type(scalar) is float and scalar == math.erfc(0.5)  # a scalar is the C library's
    assert erfc(np.float64(1.0)) == math.erfc(1.0)


def test_erfc_agrees_with_the_c_library_within_both_bounds() -> None:
    """A second opinion: the C library's erfc (a few ulp itself) within ULP_BOUND + 4 ulp everywhere normal."""
    xs = points()
    ours = erfc(xs)
    theirs = np.array([math.erfc(float(x)) for x in xs])
    normal = theirs >= SMALLEST_NORMAL
    differences = np.abs(ours - theirs)[normal] / np.spacing(theirs[normal])
    assert differences.max() <= ULP_BOUND + 4
