"""Lower an elementwise result to allocation-free NumPy code and to plain-float code.

A :class:`~kfsym.derive.core.Result` with a ``data`` argument (the large array,
e.g. ``x`` of a density) is rewritten as a chain of operations on that
argument: every sub-expression that does not involve the data is a
*parameter* value computed once (usually a scalar), and the data-dependent
part is a sequence of unary/binary steps. Two functions are printed from the
same sequence:

``<name>_inplace``
    allocates one output array and applies each step with ``out=`` (no
    temporaries): ``numpy.subtract(x, mean, out=out)``, ``numpy.square(out,
    out=out)``, ``numpy.exp(out, out=out)``, ...
``<name>_scalar``
    the same steps on Python floats with :mod:`math`, for the scalar fast
    path. The IEEE arithmetic steps (``+ - * /``, ``sqrt``) are identical;
    ``exp`` and ``log`` are two implementations (the C library's and NumPy's,
    possibly SIMD), each within an ulp or so of the correctly rounded value on
    the platforms tested, so the two paths agree within the ulp bound stated
    in :mod:`kfsym.numeric.gaussian` and tested there, not bit for bit.

The chain follows the derivation's own order of operations: data-dependent
``where`` temporaries are walked, not substituted, so ``w**2`` with
``w = (x - m)/(sqrt(2) s)`` is scaled before it is squared (SymPy would
otherwise rewrite it as ``(x - m)**2/(2 s**2)``, which overflows first). The
only rewrite is collecting the parameter factors of a product; the
symbolic-vs-generated tests evaluate the printed functions against the SymPy
result.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import sympy as sp

from kfsym.derive.core import Result
from kfsym.derive.printing import KernelPrinter, body_lines, docstring_text, lowered, parameter_map, safe_symbols

__all__ = [
    "Chain",
    "LoweringError",
    "ScalarPrinter",
    "chain_for",
    "fastpath_source",
    "inplace_source",
    "scalar_source",
]

_UNARY = {sp.exp: "exp", sp.log: "log", sp.erfc: "erfc"}


@dataclass(frozen=True)
class Chain:
    """Parameter assignments, then steps ``(operation, operand)`` applied to the running value."""

    params: tuple[tuple[Any, Any], ...]
    first: tuple[str, Any]
    steps: tuple[tuple[str, Any], ...]
    output: str


class LoweringError(ValueError):
    """The expression is not a single chain in the data argument (it is printed the plain way)."""


@dataclass(frozen=True)
class _Data:
    """The data symbol and the data-dependent ``where`` temporaries (walked, never substituted).

    Substituting ``w = (x - m)/sqrt(2 v)`` into ``w**2`` would let SymPy re-canonicalise it as
    ``(x - m)**2/(2 v)``, whose intermediate ``(x - m)**2`` overflows where ``w**2`` does not; walking
    the definition keeps the order of operations the derivation wrote.
    """

    symbol: Any
    definitions: dict[Any, Any]

    def depends(self, expr: Any) -> bool:
        free = expr.free_symbols
        return self.symbol in free or any(temp in free for temp in self.definitions)


def _split(expr: Any, data: _Data) -> tuple[list[Any], list[Any]]:
    dependent = [arg for arg in expr.args if data.depends(arg)]
    independent = [arg for arg in expr.args if not data.depends(arg)]
    return dependent, independent


def _walk(expr: Any, data: _Data, steps: list[tuple[str, Any]]) -> tuple[str, Any] | None:
    """Append the steps computing ``expr``; returns the first (allocating) step or None if already started."""
    if expr == data.symbol:
        return ("copy", None)
    if expr in data.definitions:
        return _walk(data.definitions[expr], data, steps)
    if isinstance(expr, (sp.Add, sp.Mul)):
        dependent, independent = _split(expr, data)
        if len(dependent) != 1:
            raise LoweringError(f"{expr} depends on the data through {len(dependent)} terms")
        (inner,) = dependent
        rest = expr.func(*independent)
        if isinstance(expr, sp.Add) and inner.could_extract_minus_sign() and isinstance(inner, sp.Mul):
            # p - f(x): compute f(x), then subtract it from p
            first = _walk(-inner, data, steps)
            operation = ("rsubtract", rest)
        elif isinstance(expr, sp.Add):
            first = _walk(inner, data, steps)
            operation = ("subtract", -rest) if rest.could_extract_minus_sign() else ("add", rest)
        else:
            first = _walk(inner, data, steps)
            # a parameter that is a reciprocal (1/sigma): divide by it, one rounding instead of two
            reciprocal = isinstance(rest, sp.Pow) and rest.exp.is_negative
            operation = ("divide", 1 / rest) if reciprocal else ("multiply", rest)
        return _then(first, operation, steps)
    if isinstance(expr, sp.Pow) and expr.exp == 2:
        return _then(_walk(expr.base, data, steps), ("square", None), steps)
    if isinstance(expr, sp.Pow) and expr.exp == -1:
        return _then(_walk(expr.base, data, steps), ("reciprocal", None), steps)
    if isinstance(expr, sp.Pow) and expr.exp == sp.Rational(1, 2):
        return _then(_walk(expr.base, data, steps), ("sqrt", None), steps)
    if type(expr) in _UNARY and len(expr.args) == 1:
        return _then(_walk(expr.args[0], data, steps), (_UNARY[type(expr)], None), steps)
    raise LoweringError(f"cannot lower {type(expr).__name__}: {expr}")


def _then(
    first: tuple[str, Any] | None, operation: tuple[str, Any], steps: list[tuple[str, Any]]
) -> tuple[str, Any] | None:
    """Attach ``operation``: it is the allocating first step if nothing has been computed yet."""
    if first is not None and first[0] == "copy":
        return operation
    steps.append(operation)
    return first


def chain_for(result: Result, where: Sequence[tuple[Any, Any]], data: str) -> Chain:
    """The lowered chain of a one-output result in its ``data`` argument."""
    definitions, outputs = lowered(result, where)
    if len(outputs) != 1:
        raise LoweringError("only one-output results are lowered")
    data_symbol = next(s for s in outputs[0][1].free_symbols | _all_free(definitions) if s.name == data)
    dependent: dict[Any, Any] = {}
    for temp, value in definitions:  # in order: a temporary may depend on the data through an earlier one
        if data_symbol in value.free_symbols or any(other in value.free_symbols for other in dependent):
            dependent[temp] = value
    params = tuple((temp, value) for temp, value in definitions if temp not in dependent)
    steps: list[tuple[str, Any]] = []
    first = _walk(outputs[0][1], _Data(data_symbol, dependent), steps)
    if first is None or first[0] == "copy":
        raise LoweringError("the result does not depend on the data argument")
    return Chain(params, first, tuple(steps), outputs[0][0])


def _all_free(definitions: list[tuple[Any, Any]]) -> set[Any]:
    return set().union(*(value.free_symbols for _, value in definitions)) if definitions else set()


_BINARY_ARRAY = {"add": "add", "subtract": "subtract", "multiply": "multiply", "divide": "divide"}
_BINARY_SCALAR = {
    "add": "{a} + {b}",
    "subtract": "{a} - {b}",
    "multiply": "{a} * {b}",
    "divide": "{a} / {b}",
    "rsubtract": "{b} - {a}",
}
_UNARY_SCALAR = {
    "square": "{a} * {a}",
    "reciprocal": "1.0 / {a}",
    "sqrt": "math.sqrt({a})",
    "exp": "math.exp({a})",
    "log": "math.log({a})",
    "erfc": "math.erfc({a})",
}


def _param_lines(chain: Chain, printer: Callable[[Any], str]) -> list[str]:
    return [f"    {temp} = {printer(value)}" for temp, value in chain.params]


def _operand(value: Any, printer: Callable[[Any], str]) -> str:
    return "" if value is None else printer(value)


def inplace_source(result: Result, chain: Chain, data: str, origin: str) -> str:
    """``def <name>_inplace(...)``: one allocation, every step with ``out=``."""
    printer = KernelPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False}).doprint
    arguments = ", ".join(f"{name}: Any" for name, _ in result.params)
    shapes = ", ".join(f"numpy.shape({name})" for name, _ in result.params)
    lines = [
        f"def {result.name}_inplace({arguments}, out: Any = None) -> Any:",
        f'    """{docstring_text(result.summary)} In place: one output array, no temporaries.',
        "",
        f"    Generated by ``kfsym codegen`` from the derivation ``{origin}``, lowered to ufunc steps",
        f"    on ``{data}``; equal to ``{result.name}``. ``out`` (float64, the broadcast shape) is",
        "    written and returned; by default it is allocated.",
        '    """',
        *_param_lines(chain, printer),
        "    if out is None:",
        f"        out = numpy.empty(numpy.broadcast_shapes({shapes}))",
    ]
    for index, (operation, operand) in enumerate((chain.first, *chain.steps)):
        source = data if index == 0 else "out"
        lines.append("    " + _array_step(operation, source, operand, printer))
    lines.append("    return out")
    return "\n".join(lines) + "\n"


def _array_step(operation: str, source: str, operand: Any, printer: Callable[[Any], str]) -> str:
    if operation in _BINARY_ARRAY:
        return f"numpy.{_BINARY_ARRAY[operation]}({source}, {_operand(operand, printer)}, out=out)"
    if operation == "rsubtract":
        return f"numpy.subtract({_operand(operand, printer)}, {source}, out=out)"
    if operation == "erfc":
        return f"out[...] = _erfc({source})"
    return f"numpy.{operation}({source}, out=out)"


def scalar_source(result: Result, chain: Chain, data: str, origin: str) -> str:
    """``def <name>_scalar(...)``: the same steps on Python floats with :mod:`math`."""
    printer = ScalarPrinter().doprint
    arguments = ", ".join(f"{name}: float" for name, _ in result.params)
    lines = [
        f"def {result.name}_scalar({arguments}) -> float:",
        f'    """{docstring_text(result.summary)} Plain floats, the same steps as ``{result.name}_inplace``.',
        "",
        f"    Generated by ``kfsym codegen`` from the derivation ``{origin}``.",
        '    """',
    ]
    lines += [f"    {line}" for line in _scalar_steps(chain, data, printer)]
    lines.append("    return v")
    return "\n".join(lines) + "\n"


def _scalar_steps(chain: Chain, data: str, printer: Callable[[Any], str]) -> list[str]:
    """The chain on a Python float ``v``: ``v = x - (mean)``, ``v = v * v``, ..."""
    lines = [f"{temp} = {printer(value)}" for temp, value in chain.params]
    value = data
    for operation, operand in (chain.first, *chain.steps):
        template = _BINARY_SCALAR.get(operation) or _UNARY_SCALAR[operation]
        lines.append("v = " + template.format(a=value, b=f"({_operand(operand, printer)})"))
        value = "v"
    return lines


def _guard(result: Result, data: str | None) -> str:
    """The plain-float test of the fast path: exact float types, then the proved domain of each argument."""
    names = [name for name, _ in result.params]
    checks = [f"_type({name}) is _float" for name in names]
    for name, stands_for in result.params:
        if name == data:
            checks.append(f"-_inf <= {name} <= _inf")  # a density's point may be infinite, not NaN
        elif getattr(stands_for, "is_positive", False) or isinstance(stands_for, sp.Pow):
            checks.append(f"0.0 < {name} < _inf")
        else:
            checks.append(f"-_inf < {name} < _inf")
    if result.fast_when is not None:
        checks.append(_condition(result))
    return "\n            and ".join(checks)


def _condition(result: Result) -> str:
    """``result.fast_when`` as a plain-float comparison of the arguments (constants folded)."""
    relation = result.fast_when.xreplace(parameter_map(result))
    safe_symbols(f"result {result.name}: fast_when", relation)
    printer = ScalarPrinter()
    left, right = (printer.doprint(sp.nfloat(side, n=17, exponent=False)) for side in (relation.lhs, relation.rhs))
    return f"{left} {relation.rel_op} {right}"


def fastpath_source(result: Result, where: Sequence[tuple[Any, Any]], origin: str) -> str:
    """``def <name>_fastpath(fallback, make=None)``: a closure with the scalar fast path inlined.

    The closure checks that every argument is a plain float inside its domain,
    evaluates the same steps as ``<name>_scalar`` inline (no further calls),
    and otherwise defers to ``fallback`` — the validated array path, which
    raises the proper error. Multi-output results are built with
    ``tuple.__new__(make, ...)`` (a NamedTuple class) and only returned when
    every output is finite; the fallback handles the rest.
    """
    printer = ScalarPrinter()
    arguments = ", ".join(name for name, _ in result.params)
    if result.data is not None:
        chain = chain_for(result, where, result.data)
        body = _scalar_steps(chain, result.data, printer.doprint)
        # an infinite value from finite data is an intermediate overflow: the validated path decides
        finish = [f"if -_inf < v < _inf or not -_inf < {result.data} < _inf:", "    return v"]
    else:
        body = body_lines(result, where, printer)
        names = [name for name, _ in result.outputs]
        finite = " and ".join(f"-_inf < {name} < _inf" for name in names)
        finish = [f"if {finite}:", f"    return _new(make, ({', '.join(names)}))"]
    inner = [f"            {line}" for line in [*body, *finish]]
    lines = [
        f"def {result.name}_fastpath(fallback: Callable[..., Any], make: Any = None) -> Callable[..., Any]:",
        f'    """The plain-float fast path of ``{result.name}``, inlined; everything else goes to ``fallback``.',
        "",
        f"    Generated by ``kfsym codegen`` from the derivation ``{origin}``; the same steps as",
        f"    ``{result.name}_scalar``.",
        '    """',
        "    # builtins bound as closure cells: the fast path is a few hundred nanoseconds long",
        "    _inf, _new, _type, _float = math.inf, tuple.__new__, type, float",
        "",
        f"    def fast({arguments}):  # type: ignore[no-untyped-def]",
        "        if (",
        f"            {_guard(result, result.data)}",
        "        ):",
        *inner,
        f"        return fallback({arguments})",
        "",
        "    return fast",
    ]
    return "\n".join(lines) + "\n"


class ScalarPrinter(KernelPrinter):
    """Print parameter expressions for Python floats: ``math.`` functions, conditional min/max."""

    _kf_math: ClassVar[dict[str, str]] = {
        "exp": "math.exp",
        "log": "math.log",
        "sqrt": "math.sqrt",
        "erfc": "math.erfc",
    }

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False})

    def _print_Pow(self, expr: Any, rational: bool = False) -> str:
        # Python's ** raises OverflowError where IEEE arithmetic gives inf: use * and / instead
        if expr.exp == 2:
            base = self._print(expr.base)
            return f"({base}*{base})"
        if expr.exp == -1:
            return f"(1.0/{self._print(expr.base)})"
        if expr.exp == sp.Rational(1, 2):
            return f"math.sqrt({self._print(expr.base)})"
        if expr.exp == -sp.Rational(1, 2):
            return f"(1.0/math.sqrt({self._print(expr.base)}))"
        printed: str = super()._print_Pow(expr, rational=rational)
        return printed.replace("numpy.sqrt", "math.sqrt")

    def _print_Function(self, expr: Any) -> str:
        name = type(expr).__name__
        if name in self._kf_math:
            return f"{self._kf_math[name]}({self._print(expr.args[0])})"
        printed: str = super()._print_Function(expr)
        return printed

    def _print_exp(self, expr: Any) -> str:
        return f"math.exp({self._print(expr.args[0])})"

    def _print_log(self, expr: Any) -> str:
        return f"math.log({self._print(expr.args[0])})"

    def _print_erfc(self, expr: Any) -> str:
        return f"math.erfc({self._print(expr.args[0])})"

    def clip_lines(self, output: str, low: str, high: str) -> list[str]:
        """Plain-float clipping: two comparisons on the common path, no calls."""
        return [
            f"if not ({low} <= {output} <= {high} or {high} <= {output} <= {low}):",
            f"    {output} = max({low}, {high}) if {output} > {low} else min({low}, {high})",
        ]

    def _binary(self, function: str, expr: Any) -> str:
        first, second = (self._print(arg) for arg in expr.args)
        relation = "<=" if function == "minimum" else ">="
        return f"({first} if {first} {relation} {second} else {second})"
