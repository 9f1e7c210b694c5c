"""The API contract of kfsym.numeric: return types, broadcasting, and bad input.

Every public function validates every argument and raises a TypeError or
ValueError whose message starts with the argument's name — never a NaN result,
a NumPy traceback or a RuntimeWarning (pytest turns RuntimeWarning into an
error; this module additionally turns *every* warning into an error).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kfsym.numeric import Gaussian, add, cdf, evidence, logpdf, multiply, pdf
from tests.paths import assert_paths_agree
from tests.tolerance import assert_rel

pytestmark = pytest.mark.filterwarnings("error")

DENSITIES = [pdf, logpdf, cdf]
PAIRS = [multiply, evidence, add]
FUNCTIONS = DENSITIES + PAIRS
GAUSSIAN_RESULT = {multiply, add}

# valid keyword arguments of each family
DENSITY_ARGS = {"x": 0.5, "mean": 0.25, "var": 2.0}
PAIR_ARGS = {"mean1": 0.5, "var1": 2.0, "mean2": -1.0, "var2": 3.0}


def valid_args(func: Callable[..., Any]) -> dict[str, Any]:
    return dict(DENSITY_ARGS if func in DENSITIES else PAIR_ARGS)


def fields(result: Any) -> list[Any]:
    """The numeric outputs of a call: both fields of a Gaussian, else the value itself."""
    return [result.mean, result.var] if isinstance(result, Gaussian) else [result]


def kind(name: str) -> str:
    return "x" if name == "x" else name.rstrip("12")


# ---------------------------------------------------------------------------
# Return types
# ---------------------------------------------------------------------------

SCALARS = [
    pytest.param(1, id="int"),
    pytest.param(1.0, id="float"),
    pytest.param(np.float64(1.0), id="np.float64"),
    pytest.param(np.float32(1.0), id="np.float32"),
    pytest.param(np.int64(1), id="np.int64"),
    pytest.param(np.uint8(1), id="np.uint8"),
    pytest.param(np.array(1.0), id="0d-float"),
    pytest.param(np.array(1), id="0d-int"),
]


@pytest.mark.parametrize("func", FUNCTIONS)
@pytest.mark.parametrize("scalar", SCALARS)
def test_all_scalar_input_gives_python_float(func: Callable[..., Any], scalar: Any) -> None:
    args = {name: scalar for name in valid_args(func)}
    result = func(**args)
    for value in fields(result):
        assert type(value) is float
        assert math.isfinite(value)


@pytest.mark.parametrize("func", DENSITIES)
def test_defaults_are_standard_normal(func: Callable[..., Any]) -> None:
    assert func(0.3) == func(0.3, 0.0, 1.0)
    assert type(func(0.3)) is float
    assert type(func(np.float64(0.3))) is float


ARRAYS = [
    pytest.param([1.0], id="list"),
    pytest.param((1.0, 2.0), id="tuple"),
    pytest.param(np.array([1.0]), id="1d"),
    pytest.param(np.array([[1.0]]), id="2d-1x1"),
    pytest.param(np.full((2, 3), 1.5), id="2d"),
    pytest.param(np.array([1, 2], dtype=np.int32), id="int32"),
    pytest.param(np.ones(3, dtype=np.float32), id="float32"),
    pytest.param(np.empty((0,)), id="empty"),
]


@pytest.mark.parametrize("func", FUNCTIONS)
@pytest.mark.parametrize("array", ARRAYS)
def test_any_array_input_gives_float64_ndarray(func: Callable[..., Any], array: Any) -> None:
    for name in valid_args(func):
        args = valid_args(func)
        args[name] = array
        result = func(**args)
        for value in fields(result):
            assert type(value) is np.ndarray, name
            assert value.dtype == np.float64, name
            assert value.shape == np.shape(array), name


def test_broadcast_shapes_from_brief() -> None:
    total = add([0, 1, 2], [[1], [2]], 0, 1)
    assert total.mean.shape == (2, 3)
    assert total.var.shape == (2, 3)
    np.testing.assert_array_equal(total.mean, [[0, 1, 2], [0, 1, 2]])
    np.testing.assert_array_equal(total.var, [[2, 2, 2], [3, 3, 3]])

    assert pdf(np.zeros((3, 1)), np.zeros(4)).shape == (3, 4)
    assert pdf(np.zeros((3, 1)), 0.0, np.ones(4)).shape == (3, 4)

    # every field has the common shape, even when it depends on fewer inputs
    post = multiply([0.0, 1.0, 2.0], 1.0, 0.0, 1.0)
    assert post.mean.shape == post.var.shape == (3,)
    np.testing.assert_array_equal(post.var, [0.5, 0.5, 0.5])
    total = add(0.0, 1.0, np.zeros((2, 1, 4)), 1.0)
    assert total.mean.shape == total.var.shape == (2, 1, 4)
    assert evidence(0.0, [[1.0], [2.0]], [0.0, 1.0, 2.0], 1.0).shape == (2, 3)


def _scalar_call(func: Callable[..., Any], args: dict[str, np.ndarray], index: tuple[int, ...]) -> Any:
    return func(**{name: float(value[index]) for name, value in args.items()})


@settings(max_examples=60, deadline=None)
@given(
    func=st.sampled_from(FUNCTIONS),
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=4, max_dims=3, max_side=3),
)
def test_broadcasting_matches_elementwise_scalar_calls(func: Callable[..., Any], shapes: Any) -> None:
    names = list(valid_args(func))
    input_shapes = shapes.input_shapes[: len(names)]
    out_shape = np.broadcast_shapes(*input_shapes)
    args = {}
    for i, (name, shape) in enumerate(zip(names, input_shapes, strict=True)):
        size = math.prod(shape)
        base = np.arange(size, dtype=np.float64).reshape(shape)
        args[name] = 0.5 + base / 7 if kind(name) == "var" else base / 3 - i
    result = func(**args)
    expanded = {name: np.broadcast_to(value, out_shape) for name, value in args.items()}
    for position, value in enumerate(fields(result)):
        if out_shape == ():
            assert type(value) is float
        else:
            assert type(value) is np.ndarray
            assert value.dtype == np.float64
            assert value.shape == out_shape
        for index in np.ndindex(out_shape):
            expected = fields(_scalar_call(func, expanded, index))[position]
            point = {name: float(array[index]) for name, array in expanded.items()}
            assert_paths_agree(func, float(np.asarray(value)[index]), expected, point)


# ---------------------------------------------------------------------------
# Inputs are neither mutated nor aliased; integers and read-only arrays work
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("func", FUNCTIONS)
def test_inputs_not_mutated_or_aliased(func: Callable[..., Any]) -> None:
    args = {}
    for i, name in enumerate(valid_args(func)):
        args[name] = np.linspace(1.0, 2.0, 5) + i if kind(name) == "var" else np.linspace(-1.0, 1.0, 5) * (i + 1)
    originals = {name: value.copy() for name, value in args.items()}
    result = func(**args)
    for name, value in args.items():
        np.testing.assert_array_equal(value, originals[name])
        assert value.dtype == np.float64
        for out in fields(result):
            assert not np.shares_memory(out, value), name


@pytest.mark.parametrize("func", FUNCTIONS)
def test_read_only_inputs(func: Callable[..., Any]) -> None:
    args = {}
    for name, value in valid_args(func).items():
        array = np.full(3, value)
        array.flags.writeable = False
        args[name] = array
    for out in fields(func(**args)):
        assert out.shape == (3,)
        out[0] = 0.0  # results are owned by the caller


@pytest.mark.parametrize("func", FUNCTIONS)
def test_integer_inputs(func: Callable[..., Any]) -> None:
    ints = {name: int(2 * value) if kind(name) != "var" else 2 for name, value in valid_args(func).items()}
    floats = {name: float(value) for name, value in ints.items()}
    for got, want in zip(fields(func(**ints)), fields(func(**floats)), strict=True):
        assert_paths_agree(func, got, want, floats)
    int_arrays = {name: np.array([value, value], dtype=np.int64) for name, value in ints.items()}
    for got, want in zip(fields(func(**int_arrays)), fields(func(**floats)), strict=True):
        for element in got:
            assert_paths_agree(func, float(element), want, floats)


def test_integer_worked_numbers() -> None:
    assert add(5, 1, 10, 1) == Gaussian(15.0, 2.0)
    assert multiply(0, 2, 10, 2) == Gaussian(5.0, 1.0)
    assert_paths_agree(pdf, pdf(0, 0, 1), pdf(0.0, 0.0, 1.0), {"x": 0.0, "mean": 0.0, "var": 1.0})


# ---------------------------------------------------------------------------
# Bad input: every function × every argument
# ---------------------------------------------------------------------------

BAD_ANY = [
    pytest.param(1j, TypeError, id="complex"),
    pytest.param(np.complex128(1.0), TypeError, id="np.complex128"),
    pytest.param([1.0, 2j], TypeError, id="complex-list"),
    pytest.param("1", TypeError, id="str"),
    pytest.param(b"1", TypeError, id="bytes"),
    pytest.param(np.array(["1"]), TypeError, id="str-array"),
    pytest.param(None, TypeError, id="None"),
    pytest.param([1.0, None], TypeError, id="None-in-list"),
    pytest.param(True, TypeError, id="bool"),
    pytest.param(np.bool_(False), TypeError, id="np.bool_"),
    pytest.param([True, False], TypeError, id="bool-list"),
    pytest.param(object(), TypeError, id="object"),
    pytest.param([[1, 2], [3]], ValueError, id="ragged"),
]
BAD_BY_KIND = {
    "x": [
        pytest.param(math.nan, ValueError, id="nan"),
        pytest.param([0.0, math.nan], ValueError, id="nan-in-array"),
    ],
    "mean": [
        pytest.param(math.nan, ValueError, id="nan"),
        pytest.param(math.inf, ValueError, id="inf"),
        pytest.param(-math.inf, ValueError, id="-inf"),
        pytest.param([0.0, math.inf], ValueError, id="inf-in-array"),
    ],
    "var": [
        pytest.param(0, ValueError, id="0"),
        pytest.param(0.0, ValueError, id="0.0"),
        pytest.param(-0.0, ValueError, id="-0.0"),
        pytest.param(-1, ValueError, id="-1"),
        pytest.param(-1e-300, ValueError, id="-1e-300"),
        pytest.param(math.nan, ValueError, id="nan"),
        pytest.param(math.inf, ValueError, id="inf"),
        pytest.param(-math.inf, ValueError, id="-inf"),
        pytest.param([1.0, 0.0], ValueError, id="0-in-array"),
        pytest.param([[1.0], [-2.0]], ValueError, id="negative-in-2d"),
    ],
}


def _bad_cases() -> list[Any]:
    cases = []
    for func in FUNCTIONS:
        for name in valid_args(func):
            for bad in BAD_ANY + BAD_BY_KIND[kind(name)]:
                value, error = bad.values
                cases.append(pytest.param(func, name, value, error, id=f"{func.__name__}-{name}-{bad.id}"))
    return cases


@pytest.mark.parametrize(("func", "name", "value", "error"), _bad_cases())
def test_bad_input_raises_naming_the_argument(
    func: Callable[..., Any], name: str, value: Any, error: type[Exception]
) -> None:
    args = valid_args(func)
    args[name] = value
    with pytest.raises(error, match=rf"^{name}\b"):
        func(**args)


@pytest.mark.parametrize("func", DENSITIES)
def test_bad_x_positional(func: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match=r"^x must not contain NaN"):
        func(math.nan)
    with pytest.raises(TypeError, match=r"^x\b"):
        func("0.5")


@pytest.mark.parametrize("func", DENSITIES)
def test_infinite_x_is_allowed(func: Callable[..., Any]) -> None:
    values = func(np.array([-math.inf, math.inf]), 1.0, 2.0)
    assert not np.isnan(values).any()
    assert type(func(math.inf)) is float


def test_error_message_locates_the_bad_element() -> None:
    with pytest.raises(ValueError, match=r"^var2 must be a positive, finite variance; got -1\.0 at index 1$"):
        multiply(0.0, 1.0, 0.0, [1.0, -1.0])
    with pytest.raises(ValueError, match=r"^mean must be finite \(no NaN or inf\); got inf at index \(1, 0\)$"):
        pdf(0.0, [[0.0], [math.inf]])
    with pytest.raises(ValueError, match=r"^x must not contain NaN; got nan$"):
        cdf(math.nan)


def _shape_clash_cases() -> list[Any]:
    cases = []
    for func in FUNCTIONS:
        for first, second in itertools.combinations(valid_args(func), 2):
            cases.append(pytest.param(func, first, second, id=f"{func.__name__}-{first}-{second}"))
    return cases


@pytest.mark.parametrize(("func", "first", "second"), _shape_clash_cases())
def test_shapes_that_do_not_broadcast(func: Callable[..., Any], first: str, second: str) -> None:
    args = valid_args(func)
    args[first] = np.full(3, args[first])
    args[second] = np.full(2, args[second])
    with pytest.raises(ValueError, match="broadcast") as info:
        func(**args)
    message = str(info.value)
    assert re.search(rf"\b{first}\b", message), message
    assert re.search(rf"\b{second}\b", message), message
    assert "(3,)" in message
    assert "(2,)" in message


# ---------------------------------------------------------------------------
# Overflow of the sum
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mean1", "var1", "mean2", "var2"),
    [
        (0.0, 1e308, 0.0, 1e308),
        (1e308, 1.0, 1e308, 1.0),
        (-1e308, 1.0, -1e308, 1.0),
        ([0.0, 0.0], [1.0, 1e308], 0.0, 1e308),
    ],
)
def test_add_overflow_raises(mean1: Any, var1: Any, mean2: Any, var2: Any) -> None:
    with pytest.raises(OverflowError):
        add(mean1, var1, mean2, var2)


def test_add_largest_finite_sum_is_fine() -> None:
    big = float(np.finfo(np.float64).max) / 2
    total = add(big, big, big, big)
    assert total == Gaussian(2 * big, 2 * big)
    assert math.isfinite(total.var)


# ---------------------------------------------------------------------------
# Gaussian
# ---------------------------------------------------------------------------


def test_gaussian_std() -> None:
    g = Gaussian(5.0, 4.0)
    assert g.std == 2.0
    assert type(g.std) is float
    assert g.mean == 5.0
    assert g.var == 4.0
    mean, var = g
    assert (mean, var) == (5.0, 4.0)
    assert Gaussian._fields == ("mean", "var")


def test_gaussian_std_array() -> None:
    std = Gaussian(np.zeros(2), np.array([4.0, 9.0])).std
    assert type(std) is np.ndarray
    np.testing.assert_array_equal(std, [2.0, 3.0])
    post = multiply([0.0, 1.0], 2.0, 10.0, 2.0)
    np.testing.assert_array_equal(post.std, [1.0, 1.0])
    assert type(multiply(0.0, 2.0, 10.0, 2.0).std) is float


# ---------------------------------------------------------------------------
# Import weight
# ---------------------------------------------------------------------------


def test_import_numeric_is_light() -> None:
    code = (
        "import json, sys\n"
        "import kfsym.numeric\n"
        "heavy = ('sympy', 'scipy', 'matplotlib', 'numba', 'llvmlite')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(done.stdout) == []


# ---------------------------------------------------------------------------
# Regressions: far tails must not warn; var1 + var2 overflow is an OverflowError
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "args", "expected"),
    [
        pytest.param(pdf, (1e200, 0.0, 1.0), 0.0, id="pdf"),
        pytest.param(pdf, (1.0, 0.0, 1e-310), 0.0, id="pdf-subnormal-var"),
        pytest.param(cdf, (1e300, 0.0, 1e-300), 1.0, id="cdf-upper"),
        pytest.param(cdf, (-1e300, 0.0, 1e-300), 0.0, id="cdf-lower"),
        pytest.param(evidence, (1e200, 1.0, 0.0, 1.0), 0.0, id="evidence"),
        pytest.param(logpdf, (1e200, 0.0, 1.0), -math.inf, id="logpdf"),
    ],
)
def test_far_tail_does_not_warn(func: Callable[..., Any], args: tuple[float, ...], expected: float) -> None:
    # logpdf's true value (-5e399) is not a double: -inf or an OverflowError would both be honest
    try:
        got = func(*args)
    except OverflowError:
        assert func is logpdf
        return
    assert got == expected


def test_evidence_variance_sum_overflow() -> None:
    """var1 + var2 overflows, the density does not: evidence is finite and right (its docstring's promise).

    The reference is 1/sqrt(2π · 2 · 1e308) = 2.82094791773878e-155 (mpmath, 50 digits), a normal double; the
    scalar and the array path both answer it, and so does a far-apart pair (exponent
    -(1e150)^2 / (2 · 2e308) = -2.5e-9, not 0).
    """
    want = 2.8209479177387814192547139157080425739720220999408e-155
    assert_rel(evidence(0.0, 1e308, 0.0, 1e308), want, 1e-12)
    assert_rel(evidence(np.array([0.0, 0.0]), 1e308, 0.0, np.array([1e308, 1e308])), want, 1e-12)
    assert_rel(evidence(0.0, 1e308, 1e150, 1e308), want * math.exp(-2.5e-9), 1e-12)
