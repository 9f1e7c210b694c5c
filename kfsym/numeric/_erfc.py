"""Complementary error function as whole-array NumPy operations (NumPy has no ``erfc``).

The array path of :func:`kfsym.numeric.cdf` needs ``erfc`` without a Python call per element. The method and
the fit of the coefficients below are in :mod:`kfsym.derive.erfc_fit` (``tests/test_erfc.py`` refits them and
checks every digit); in short, with ``a = |x|``:

- ``a < 1/2``: ``erfc(x) = 1 - x P(x^2)``, ``P`` the Maclaurin series of ``erf(x)/x``;
- ``1/2 <= a``: ``erfc(a) = erfcx(a) exp(-a^2)``, ``erfcx`` a polynomial fit per interval (``g(1/a^2)/a``
  beyond the last edge), and ``exp(-a^2) = exp(-b^2) exp(-(a - b)(a + b))`` with ``b`` the leading 26 bits of
  ``a``, so that ``b^2`` is exact and no rounding of ``a^2`` is magnified by the exponential;
- ``x <= -1/2``: ``erfc(x) = 2 - erfc(-x)``.

Accuracy, measured against mpmath over the whole double range (``tests/test_erfc.py`` checks the stated
bound, :data:`ULP_BOUND`): a relative error of at most about 2.1 eps (the fits are far more accurate; the
rest is rounding in Horner's rule, the exponential and three products). In units in the last place that is
at most 4.1 ulp, reached where erfc is just below a power of two (erfc(0.8196) just below 1/4, where an ulp
is smallest relative to the value), and 3 subnormal steps where the result is subnormal. Like any function
evaluated to a few ulp, neighbouring doubles can come out up to 2 ulp out of order (measured: 35 of 200,000
neighbouring pairs in [-7, 27]); the C library's erfc is about twice as accurate.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

#: Bound checked by the tests: |erfc(x) - exact| <= ULP_BOUND * ulp(exact), with ulp of the smallest normal
#: below it (absolute steps of 2^-1074 where the result is subnormal).
ULP_BOUND = 5

# Printed by ``python -m kfsym.derive.erfc_fit`` (highest power first).
_SERIES = (
    9.422759064650411e-11,
    -1.2290555301717928e-09,
    1.4807192815879218e-08,
    -1.6365844691234924e-07,
    1.6462114365889248e-06,
    -1.492565035840625e-05,
    0.00012055332981789664,
    -0.0008548327023450853,
    0.005223977625442188,
    -0.026866170645131252,
    0.11283791670955126,
    -0.37612638903183754,
    1.1283791670955126,
)
_EDGES = (0.5, 1.0, 2.0, 3.0, 4.5, 6.5)
_INTERVALS = (
    (
        1.0350358504999337e-16,
        -1.3586639402228971e-15,
        1.6922598911156157e-14,
        -2.098775696242263e-13,
        2.5256004719947655e-12,
        -2.9410027836191583e-11,
        3.3068719940073687e-10,
        -3.580139366634323e-09,
        3.719539429927566e-08,
        -3.693562193204623e-07,
        3.4885738930506322e-06,
        -3.114966996062544e-05,
        0.00026090055674831536,
        -0.002028688468670017,
        0.014434883221956143,
        -0.09199317291394885,
        0.5069376502931449,
    ),
    (
        2.0206514750441873e-13,
        -1.512018061489917e-12,
        1.0201594788774491e-11,
        -7.257032617086992e-11,
        5.04654734183512e-10,
        -3.405938587821499e-09,
        2.2328417586062252e-08,
        -1.4191186135917107e-07,
        8.72304473829848e-07,
        -5.171328672722121e-06,
        2.947085745299996e-05,
        -0.0001608111733699307,
        0.0008360838095667121,
        -0.004116363162445659,
        0.01903775996386935,
        -0.08181145886628002,
        0.3215854164543175,
    ),
    (
        3.2301166728430767e-15,
        -2.846881146445913e-14,
        2.326569272108777e-13,
        -1.9711739348105174e-12,
        1.6391918153365922e-11,
        -1.3328011349885886e-10,
        1.0597875947394497e-09,
        -8.231045499084752e-09,
        6.235098886174186e-08,
        -4.599137870635136e-07,
        3.2971847544381417e-06,
        -2.2924716785537266e-05,
        0.00015418980098134069,
        -0.0010001961727627055,
        0.006234499271664226,
        -0.037173673394897334,
        0.2108063640611436,
    ),
    (
        2.894818162660385e-14,
        -2.05981857088651e-13,
        1.3227982460581693e-12,
        -9.13090541825045e-12,
        6.231658386058411e-11,
        -4.1744344748977115e-10,
        2.7517480574279817e-09,
        -1.78401364703713e-08,
        1.1366075635352506e-07,
        -7.110249915775245e-07,
        4.363379198991451e-06,
        -2.6241051470593187e-05,
        0.00015447661308493247,
        -0.0008890099608526433,
        0.004994299984120479,
        -0.027342193149542646,
        0.14558972127503855,
    ),
    (
        2.161853529687105e-14,
        -1.4612908136571583e-13,
        8.867677237619284e-13,
        -5.871160787646386e-12,
        3.8652589895761846e-11,
        -2.509064101069434e-10,
        1.6117611770208097e-09,
        -1.0244550354521081e-08,
        6.44039049674862e-08,
        -4.003220063774742e-07,
        2.4593866338167246e-06,
        -1.4927753496087938e-05,
        8.948080413321427e-05,
        -0.0005294638064742854,
        0.0030910125438747696,
        -0.017794764701022602,
        0.10096221839949909,
    ),
)
_TAIL = (
    6.400526300519089e-17,
    -5.950896686891816e-16,
    5.751694546191139e-15,
    -6.291983547416803e-14,
    7.560305769624172e-13,
    -1.010566088629192e-11,
    1.529862197081214e-10,
    -2.6852588806761766e-09,
    5.648481707527718e-08,
    -1.4970461981617527e-06,
    5.440210590574368e-05,
    -0.0032248641913444694,
    0.5609087608703147,
)

_TOP_26_BITS = np.int64(~((1 << 27) - 1))  # clears the 27 low bits of a double's 52-bit significand
# intervals[i] covers [EDGES[i], EDGES[i + 1]): centre and half-width of t = (a - centre)/half
_CENTRES = tuple((low + high) / 2 for low, high in itertools.pairwise(_EDGES))
_HALVES = tuple((high - low) / 2 for low, high in itertools.pairwise(_EDGES))
_TAIL_HALF = 0.5 / _EDGES[-1] ** 2  # the tail fit's t = (w - half)/half, w = 1/a^2 in [0, 2 half]


def _horner(coefficients: tuple[float, ...], t: Any) -> Any:
    """sum_k c_k t^k, highest power first, in place on one new array."""
    value = np.full_like(t, coefficients[0])
    for coefficient in coefficients[1:]:
        value *= t
        value += coefficient
    return value


def _exp_minus_square(a: Any) -> Any:
    """exp(-a^2) = exp(-b^2) exp(-d), b = a to 26 bits (b^2 exact), d = (a - b)(a + b) = a^2 - b^2 small."""
    b = (a.view(np.int64) & _TOP_26_BITS).view(np.float64)
    d = (a - b) * (a + b)
    # |d| < 2^-25 a^2 <= 2.3e-5 where erfc(a) > 0: exp(-d) = 1 - d (1 - d (1/2 - d/6)) + O(d^4) (< 1e-20)
    d *= -1.0
    return np.exp(-(b * b)) * (1.0 + d * (1.0 + d * (0.5 + d * (1.0 / 6.0))))


def _erfc_large(a: Any) -> Any:
    """erfc(a) for a >= 1/2 (a 1-D array; inf gives 0, NaN gives NaN)."""
    a = np.minimum(a, 64.0)  # erfc is 0 beyond 27.3 (so at 64 and inf); NaN stays NaN
    result = np.empty_like(a)
    which = np.zeros(a.shape, dtype=np.int8)  # interval index: EDGES[which] <= a < EDGES[which + 1]
    for edge in _EDGES[1:]:
        which += a >= edge
    for index, coefficients in enumerate(_INTERVALS):
        chosen = np.flatnonzero(which == index)
        if chosen.size:
            part = a[chosen]
            # erfcx(a) ~= p((a - c)/h)
            result[chosen] = _horner(coefficients, (part - _CENTRES[index]) / _HALVES[index])
    chosen = np.flatnonzero(which >= len(_INTERVALS))
    if chosen.size:
        part = a[chosen]
        w = 1.0 / (part * part)
        # erfcx(a) ~= g(w) / a,  g(w) ~= p((w - half)/half)
        result[chosen] = _horner(_TAIL, (w - _TAIL_HALF) / _TAIL_HALF) / part
    with np.errstate(under="ignore"):  # exp(-a^2) underflows to 0 (and through the subnormals) beyond 26.5
        # erfc(a) = erfcx(a) exp(-a^2)
        result *= _exp_minus_square(a)
    return result


def erfc(x: Any) -> Any:
    """Complementary error function ``erfc(x) = 1 - erf(x)``, elementwise, as whole-array operations.

    Parameters
    ----------
    x : float or array_like
        Any real values; NaN gives NaN, ``-inf`` 2 and ``+inf`` 0.

    Returns
    -------
    float or ndarray
        A float for a scalar (the C library's ``math.erfc``), else a float64 array of ``x``'s shape.

    Examples
    --------
    >>> import numpy as np
    >>> from kfsym.numeric._erfc import erfc
    >>> erfc(np.array([-1.0, 0.0, 1.0, 30.0])).round(12)
    array([1.84270079, 1.        , 0.15729921, 0.        ])
    """
    values = np.asarray(x, dtype=np.float64)
    if values.ndim == 0:
        return math.erfc(float(values))
    flat = values.ravel()
    result = np.empty_like(flat)
    a = np.abs(flat)
    near = np.flatnonzero(a < 0.5)
    if near.size:
        part = flat[near]
        # erfc(x) = 1 - x P(x^2)
        result[near] = 1.0 - part * _horner(_SERIES, part * part)
    far = np.flatnonzero(~(a < 0.5))
    if far.size:
        part = flat[far]
        value = _erfc_large(np.abs(part))
        # erfc(x) = 2 - erfc(-x) for x < 0
        result[far] = np.where(part < 0.0, 2.0 - value, value)
    return result.reshape(values.shape)
