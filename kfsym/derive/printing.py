"""Print proved results as NumPy source: the one printer codegen and ``compile`` share.

A :class:`~kfsym.derive.core.Result` becomes a plain Python function over NumPy
arrays: ``where`` definitions are substituted, arguments are renamed to the
public parameter names (a variance argument ``var`` replaces ``sigma**2``),
constants are folded to correctly rounded floats, and common subexpressions
are hoisted into temporaries (``sympy.cse``).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

import numpy
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from kfsym.derive.core import Result

__all__ = ["PRELUDE", "KernelPrinter", "compile_result", "kernel_source"]

#: Source that every generated module starts with (after its banner).
PRELUDE = '''\
import math
from typing import Any

import numpy

_erfc_ufunc = numpy.frompyfunc(math.erfc, 1, 1)


def _erfc(x: Any) -> Any:
    """Complementary error function, elementwise (NumPy has none)."""
    if numpy.ndim(x) == 0:
        return math.erfc(float(x))
    return _erfc_ufunc(x).astype(numpy.float64)
'''

# Digits kept when folding constants such as sqrt(2*pi) before rounding to a double.
_CONSTANT_DIGITS = 40


class KernelPrinter(NumPyPrinter):  # type: ignore[misc]
    """SymPy's NumPy printer with exact float constants and two-argument min/max."""

    def _print_Float(self, expr: Any) -> str:
        return repr(float(expr))

    def _binary(self, function: str, expr: Any) -> str:
        if len(expr.args) != 2:
            raise ValueError(f"only two-argument {function} is supported, got {expr}")
        first, second = (self._print(arg) for arg in expr.args)
        return f"numpy.{function}({first}, {second})"

    def _print_Min(self, expr: Any) -> str:
        return self._binary("minimum", expr)

    def _print_Max(self, expr: Any) -> str:
        return self._binary("maximum", expr)

    def _print_erfc(self, expr: Any) -> str:
        return f"_erfc({self._print(expr.args[0])})"


def _parameter_map(result: Result) -> dict[Any, Any]:
    """Map derivation symbols to argument symbols (``sigma -> sqrt(var)``)."""
    mapping: dict[Any, Any] = {}
    for argument, stands_for in result.params:
        if isinstance(stands_for, sp.Symbol):
            mapping[stands_for] = sp.Symbol(argument, real=True, positive=stands_for.is_positive)
        elif isinstance(stands_for, sp.Pow) and stands_for.exp == 2 and stands_for.base.is_positive:
            mapping[stands_for.base] = sp.sqrt(sp.Symbol(argument, positive=True))
        else:
            raise ValueError(f"parameter {argument!r} must stand for a symbol or a positive symbol squared")
    return mapping


def numeric_outputs(result: Result, substitutions: Mapping[Any, Any]) -> list[tuple[str, Any]]:
    """The outputs as expressions in the argument symbols, constants folded.

    Raises
    ------
    ValueError
        When an output depends on a symbol that no parameter provides.
    """
    mapping = _parameter_map(result)
    arguments = {name for name, _ in result.params}
    outputs = []
    for name, expr in result.outputs:
        value = sp.sympify(expr).xreplace(dict(substitutions)).xreplace(mapping)
        value = sp.nfloat(value, n=_CONSTANT_DIGITS, exponent=False)
        missing = sorted(s.name for s in value.free_symbols if s.name not in arguments)
        if missing:
            raise ValueError(f"result {result.name}: output {name!r} depends on {missing}, which are not parameters")
        outputs.append((name, value))
    return outputs


def kernel_source(result: Result, substitutions: Mapping[Any, Any], origin: str) -> str:
    """Python source of one kernel function.

    Parameters
    ----------
    result : Result
        What to print.
    substitutions : mapping
        The derivation's expanded ``where`` definitions.
    origin : str
        Name of the derivation, quoted in the docstring.

    Returns
    -------
    str
        ``def name(args) -> ...:`` with a docstring that names the derivation
        and states the formula.
    """
    printer = KernelPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    outputs = numeric_outputs(result, substitutions)
    temporaries, reduced = sp.cse([value for _, value in outputs], symbols=sp.numbered_symbols("_t"))
    arguments = ", ".join(f"{name}: Any" for name, _ in result.params)
    returns = "Any" if len(outputs) == 1 else f"tuple[{', '.join('Any' for _ in outputs)}]"
    mapping = _parameter_map(result)
    shown = [(name, sp.sympify(expr)) for name, expr in result.outputs]
    used = set().union(*(expr.free_symbols for _, expr in shown))
    shown += [(str(symbol), value) for symbol, value in substitutions.items() if symbol in used]
    formula = "\n".join(f"{name} = {sp.sstr(expr.xreplace(mapping))}" for name, expr in shown)
    lines = [
        f"def {result.name}({arguments}) -> {returns}:",
        f'    """{result.summary}',
        "",
        f"    Generated by ``kfsym codegen`` from the derivation ``{origin}``::",
        "",
        textwrap.indent(formula, "        "),
        '    """',
    ]
    for symbol, value in temporaries:
        lines.append(f"    {symbol} = {printer.doprint(value)}")
    for (name, _), value in zip(outputs, reduced, strict=True):
        lines.append(f"    {name} = {printer.doprint(value)}")
    lines.append(f"    return {', '.join(name for name, _ in outputs)}")
    return "\n".join(lines) + "\n"


def compile_result(result: Result, substitutions: Mapping[Any, Any], origin: str = "<user>") -> Callable[..., Any]:
    """Execute :func:`kernel_source` and return the function it defines."""
    source = PRELUDE + "\n\n" + kernel_source(result, substitutions, origin)
    namespace: dict[str, Any] = {"__name__": f"kfsym.compiled.{result.name}", "numpy": numpy, "math": math}
    exec(compile(source, f"<kfsym compiled {result.name}>", "exec"), namespace)
    function: Callable[..., Any] = namespace[result.name]
    function.__source__ = source  # type: ignore[attr-defined]
    return function
