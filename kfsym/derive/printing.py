"""Print proved results as NumPy source: the one printer codegen and ``compile`` share.

A :class:`~kfsym.derive.core.Result` becomes a plain Python function over NumPy
arrays: ``where`` definitions are substituted, arguments are renamed to the
public parameter names (a variance argument ``var`` replaces ``sigma**2``),
constants are folded to correctly rounded floats, and common subexpressions
are hoisted into temporaries (``sympy.cse``).
"""

from __future__ import annotations

import keyword
import math
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import numpy
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from kfsym.derive.core import Result

__all__ = ["PRELUDE", "KernelPrinter", "compile_result", "docstring_text", "kernel_source"]

#: Source that every generated module starts with (after its banner).
PRELUDE = '''\
import math
from collections.abc import Callable
from typing import Any

import numpy


def _erfc(x: Any) -> Any:
    """NumPy has no erfc: kfsym's, as whole-array operations (the C library's for a scalar); imported on first use."""
    from kfsym.numeric._erfc import erfc

    return erfc(x)
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

    def clip_lines(self, output: str, low: str, high: str) -> list[str]:
        """Statements that clip ``output`` to the closed interval between ``low`` and ``high``."""
        return [f"{output} = numpy.clip({output}, numpy.minimum({low}, {high}), numpy.maximum({low}, {high}))"]


def docstring_text(text: str) -> str:
    """``text`` made safe inside a triple-quoted docstring: backslashes and double quotes escaped.

    The result can never close the docstring early (no raw ``\"\"\"``), so text a user wrote
    (a summary, a title, a symbol name inside a formula) is never executed as code.
    """
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def safe_symbols(label: str, value: Any) -> None:
    """Refuse a formula whose printed source would contain a name that is not a plain identifier."""
    for symbol in value.atoms(sp.Symbol):  # free and bound (a Sum index is printed too)
        name = symbol.name
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("__"):
            raise ValueError(f"{label}: symbol name {name!r} is not a Python identifier; it cannot be printed as code")
    if value.atoms(sp.core.function.AppliedUndef):
        raise ValueError(f"{label}: undefined functions cannot be printed as code")


def parameter_map(result: Result) -> dict[Any, Any]:
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


def _definition(lhs: Any, rhs: Any) -> tuple[Any, Any]:
    """``(symbol, value)`` of a ``where`` pair; ``sigma**2 = v`` defines ``sigma = sqrt(v)``."""
    if isinstance(lhs, sp.Pow):
        return lhs.base, sp.sqrt(rhs)
    return lhs, sp.sympify(rhs)


def lowered(result: Result, where: Sequence[tuple[Any, Any]]) -> tuple[list[tuple[Any, Any]], list[tuple[str, Any]]]:
    """The kernel as assignments: needed ``where`` definitions, then the outputs.

    Definitions are kept as named temporaries (``_z = (x - mean)/sqrt(var)``)
    instead of being substituted, so SymPy cannot re-canonicalise the stable
    form (it would rewrite ``exp(a - log(s))`` back into ``exp(a)/s``).
    Constants are folded to correctly rounded floats.

    Raises
    ------
    ValueError
        When an output depends on a symbol that no parameter or definition provides.
    """
    mapping = parameter_map(result)
    definitions = [_definition(lhs, rhs) for lhs, rhs in where]
    needed: set[Any] = set().union(*(sp.sympify(expr).free_symbols for _, expr in result.outputs))
    for symbol, value in reversed(definitions):
        if symbol in needed:
            needed |= value.free_symbols
    renamed = {symbol: sp.Symbol(f"_{symbol.name}", real=True) for symbol, _ in definitions if symbol in needed}
    allowed = {name for name, _ in result.params} | {temp.name for temp in renamed.values()}

    def lower(label: str, expr: Any) -> Any:
        value = sp.expand_log(sp.sympify(expr).xreplace(mapping).xreplace(renamed))  # log(sqrt v) -> log(v)/2
        value = sp.nfloat(value, n=_CONSTANT_DIGITS, exponent=False)
        safe_symbols(f"result {result.name}: {label!r}", value)
        missing = sorted(s.name for s in value.free_symbols if s.name not in allowed)
        if missing:
            raise ValueError(f"result {result.name}: {label!r} depends on {missing}, which are not parameters")
        return value

    temporaries = [(renamed[symbol], lower(str(symbol), value)) for symbol, value in definitions if symbol in renamed]
    outputs = [(name, lower(name, expr)) for name, expr in result.outputs]
    return temporaries, outputs


def kernel_source(
    result: Result,
    where: Sequence[tuple[Any, Any]],
    origin: str,
    *,
    printer: KernelPrinter | None = None,
    suffix: str = "",
    argument_type: str = "Any",
) -> str:
    """Python source of one kernel function.

    Parameters
    ----------
    result : Result
        What to print.
    where : sequence of (expression, expression)
        The derivation's ``where`` definitions.
    origin : str
        Name of the derivation, quoted in the docstring.
    printer, suffix, argument_type : optional
        Another printer (the plain-float one of :mod:`kfsym.derive.lowering`),
        a suffix for the function name and the annotation of its arguments.

    Returns
    -------
    str
        ``def name(args) -> ...:`` with a docstring that names the derivation
        and states the formula.
    """
    printer = printer or KernelPrinter({"fully_qualified_modules": True, "allow_unknown_functions": False})
    definitions, outputs = lowered(result, where)
    arguments = ", ".join(f"{name}: {argument_type}" for name, _ in result.params)
    returns = argument_type if len(outputs) == 1 else f"tuple[{', '.join(argument_type for _ in outputs)}]"
    mapping = parameter_map(result)
    shown = [(name, sp.sympify(expr)) for name, expr in result.outputs]
    defined = {temp.name for temp, _ in definitions}
    pairs = (_definition(lhs, rhs) for lhs, rhs in where)
    shown += [(symbol.name, value) for symbol, value in pairs if f"_{symbol}" in defined]
    formula = "\n".join(f"{name} = {sp.sstr(sp.sympify(expr).xreplace(mapping))}" for name, expr in shown)
    lines = [
        f"def {result.name}{suffix}({arguments}) -> {returns}:",
        f'    """{docstring_text(result.summary)}',
        "",
        f"    Generated by ``kfsym codegen`` from the derivation ``{docstring_text(origin)}``::",
        "",
        textwrap.indent(docstring_text(formula), "        "),
        '    """',
    ]
    lines += [f"    {line}" for line in body_lines(result, where, printer)]
    lines.append(f"    return {', '.join(name for name, _ in outputs)}")
    return "\n".join(lines) + "\n"


def body_lines(result: Result, where: Sequence[tuple[Any, Any]], printer: KernelPrinter) -> list[str]:
    """Assignments computing every output of ``result`` (definitions, common subexpressions, outputs)."""
    definitions, outputs = lowered(result, where)
    common, reduced = sp.cse([value for _, value in outputs], symbols=sp.numbered_symbols("_t"))
    lines = [f"{symbol} = {printer.doprint(value)}" for symbol, value in [*definitions, *common]]
    lines += [f"{name} = {printer.doprint(value)}" for (name, _), value in zip(outputs, reduced, strict=True)]
    for output, low, high in result.between:  # a convex combination stays between its end points
        lines += printer.clip_lines(output, low, high)
    return lines


def compile_result(result: Result, where: Sequence[tuple[Any, Any]], origin: str = "<user>") -> Callable[..., Any]:
    """Execute :func:`kernel_source` and return the function it defines."""
    source = PRELUDE + "\n\n" + kernel_source(result, where, origin)
    namespace: dict[str, Any] = {"__name__": f"kfsym.compiled.{result.name}", "numpy": numpy, "math": math}
    exec(compile(source, f"<kfsym compiled {result.name}>", "exec"), namespace)
    function: Callable[..., Any] = namespace[result.name]
    function.__source__ = source  # type: ignore[attr-defined]
    return function
