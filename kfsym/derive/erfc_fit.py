"""The coefficients of kfsym's vectorised ``erfc`` (``kfsym.numeric._erfc``), fitted here with mpmath.

NumPy has no ``erfc``; kfsym's array path needs one that runs as whole-array operations (no Python call per
element) and keeps the relative accuracy of the C library's in both tails. The method, in three regions of
``a = |x|``:

- ``a < 1/2``: ``erfc(x) = 1 - x P(x^2)`` with ``P`` the Maclaurin series of ``erf(x)/x``,
  ``2/sqrt(pi) sum_n (-1)^n x^(2n) / (n! (2n+1))``, cut where the next term is below 2^-60 of the sum.
- ``1/2 <= a < TAIL``: ``erfc(a) = erfcx(a) exp(-a^2)`` with ``erfcx(a) = exp(a^2) erfc(a)``, smooth and
  slowly varying, approximated on each interval ``[lo, hi]`` by a polynomial in ``t = (a - c)/h`` (``c``, ``h``
  the interval's centre and half-width, so ``|t| <= 1``): mpmath's Chebyshev fit (near-minimax).
- ``a >= TAIL``: ``erfcx(a) = g(1/a^2) / a`` with ``g(w) = (1 - w/2 + 3w^2/4 - ...)/sqrt(pi)`` smooth on
  ``[0, 1/TAIL^2]``, fitted the same way in ``t = (w - c)/h``.

Negative ``x`` use ``erfc(x) = 2 - erfc(-x)`` (no cancellation: the result is in [1.5, 2]).

``kfsym codegen`` does not run this (it takes seconds); ``tests/test_erfc.py`` refits and checks that the
committed table in ``kfsym/numeric/_erfc.py`` is what :func:`coefficient_table` prints, and
``python -m kfsym.derive.erfc_fit`` prints the table to paste there.
"""

from __future__ import annotations

import itertools

import mpmath

#: The interval edges of the erfcx fits (the last edge starts the tail fit in 1/a^2).
EDGES = (0.5, 1.0, 2.0, 3.0, 4.5, 6.5)
#: Polynomial degree of every erfcx fit, and of the tail fit.
DEGREE = 16
TAIL_DEGREE = 12
#: Terms of the Maclaurin series of erf(x)/x used below 1/2: the first left out is < 2^-60 of the sum.
SERIES_TERMS = 13
_DIGITS = 50


def _erfcx(a: mpmath.mpf) -> mpmath.mpf:
    return mpmath.exp(a * a) * mpmath.erfc(a)


def _tail(w: mpmath.mpf) -> mpmath.mpf:
    """g(w) = a erfcx(a) at a = 1/sqrt(w); g(0) = 1/sqrt(pi)."""
    if w == 0:
        return 1 / mpmath.sqrt(mpmath.pi)
    a = 1 / mpmath.sqrt(w)
    return a * _erfcx(a)


def _fit(function: object, low: mpmath.mpf, high: mpmath.mpf, degree: int) -> tuple[float, ...]:
    """Coefficients, highest power first, of the near-minimax fit of function(c + h t) on t in [-1, 1]."""
    centre, half = (low + high) / 2, (high - low) / 2
    coefficients = mpmath.chebyfit(lambda t: function(centre + half * t), [-1, 1], degree + 1)  # type: ignore[operator]
    return tuple(float(c) for c in coefficients)


def coefficient_table() -> dict[str, object]:
    """The series, interval and tail coefficients as plain floats (50 significant digits before rounding)."""
    with mpmath.workdps(_DIGITS):
        series = tuple(
            float(2 / mpmath.sqrt(mpmath.pi) * (-1) ** n / (mpmath.factorial(n) * (2 * n + 1)))
            for n in reversed(range(SERIES_TERMS))
        )
        edges = [mpmath.mpf(edge) for edge in EDGES]
        intervals = tuple(_fit(_erfcx, low, high, DEGREE) for low, high in itertools.pairwise(edges))
        tail = _fit(_tail, mpmath.mpf(0), 1 / edges[-1] ** 2, TAIL_DEGREE)
    return {"series": series, "edges": EDGES, "intervals": intervals, "tail": tail}


def _literal(values: tuple[float, ...], indent: str) -> str:
    inner = "".join(f"{indent}    {value!r},\n" for value in values)
    return f"(\n{inner}{indent})"


def main() -> None:
    """Print the table as Python literals for ``kfsym/numeric/_erfc.py``."""
    table = coefficient_table()
    print(f"_SERIES = {_literal(table['series'], '')}")  # type: ignore[arg-type]
    print(f"_EDGES = {table['edges']!r}")
    rows = "".join(f"    {_literal(row, '    ')},\n" for row in table["intervals"])  # type: ignore[attr-defined]
    print(f"_INTERVALS = (\n{rows})")
    print(f"_TAIL = {_literal(table['tail'], '')}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
