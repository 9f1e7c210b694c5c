"""``mutmut`` with its type-check mapping done by :mod:`ast` instead of LibCST: ``python mutation/run.py run``.

mutmut 3.8 type-checks all mutants in one ``mypy`` run (``type_check_command`` in pyproject.toml) and then
maps each error to the mutated function whose lines contain it. For that mapping it parses every mutated file
again with LibCST and its position metadata; on kfsym's mutated files (up to 90,000 lines each) that takes
about 3 minutes in one process, against about 1 minute for mypy itself. Only the line span of each mutated
function is needed, and Python's own :mod:`ast` gives the same spans in about 5 seconds (checked on all 19
mutated files of a full run: the same functions, the same first and last lines).

Everything else is mutmut's own code: this module replaces that one function and hands over to mutmut's
command line (``python mutation/run.py run --max-children 2`` is ``mutmut run --max-children 2``). The
replacement is written against mutmut 3.8.1 (the version the ``mutate`` extra pins); another version is
refused rather than patched blindly.
"""

from __future__ import annotations

import ast
import importlib.metadata
from collections import defaultdict
from pathlib import Path

import mutmut.__main__ as mutmut_cli
from mutmut.configuration import config
from mutmut.mutation.file_mutation import FailedTypeCheckMutant, MutatedMethodLocation
from mutmut.type_checking import TypeCheckingError, run_type_checker
from mutmut.utils.file_utils import change_cwd
from mutmut.utils.format_utils import get_mutant_name, is_mutated_method_name

#: The mutmut release whose ``filter_mutants_with_type_checker`` this module reproduces.
MUTMUT_VERSION = "3.8.1"


class _MutatedFunctions(ast.NodeVisitor):
    """The mutated functions of one file with their lines, as mutmut's LibCST visitor finds them.

    Like mutmut's ``MutatedMethodsCollector`` it does not look inside a function (mutated functions are never
    nested in one) but does look inside classes (mutated methods); a function's span starts at its first
    decorator, as LibCST's position of a ``FunctionDef`` does.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[MutatedMethodLocation] = []

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if is_mutated_method_name(node.name):
            first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
            last = node.end_lineno if node.end_lineno is not None else node.lineno
            self.found.append(MutatedMethodLocation(self.path, node.name, first, last))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._function(node)


def mutated_functions(path: Path) -> list[MutatedMethodLocation]:
    """Every mutated function of ``path`` (``x_name__mutmut_3``, ``xǁClassǁmethod__mutmut_orig``), in order."""
    visitor = _MutatedFunctions(path)
    visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return visitor.found


def filter_mutants_with_type_checker() -> dict[str, FailedTypeCheckMutant]:
    """mutmut 3.8.1's function of this name, with the file parsed by :mod:`ast`: ``{mutant name: its type error}``.

    An error outside every mutated function fails the run, as in mutmut: a mutant changed types elsewhere, or
    the unmutated code does not pass the type checker.
    """
    with change_cwd(Path("mutants")):
        errors_by_path: dict[Path, list[TypeCheckingError]] = defaultdict(list)
        for error in run_type_checker(config().type_check_command):
            errors_by_path[error.file_path].append(error)
        caught: dict[str, FailedTypeCheckMutant] = {}
        for path, errors in errors_by_path.items():
            functions = mutated_functions(path)
            if not functions:
                continue
            for error in errors:
                function = next(
                    (f for f in functions if f.line_number_start <= error.line_number <= f.line_number_end), None
                )
                if function is None:
                    raise RuntimeError(
                        f"type error outside every mutated function: {error.file_path}:{error.line_number}: "
                        f"{error.error_description}"
                    )
                name = get_mutant_name(path.relative_to(Path(".").absolute()), function.function_name)
                caught[name] = FailedTypeCheckMutant(method_location=function, name=name, error=error)
        return caught


def main() -> None:
    """Check the mutmut version, put the fast mapping in place and run mutmut's command line."""
    installed = importlib.metadata.version("mutmut")
    if installed != MUTMUT_VERSION:
        raise SystemExit(
            f"mutation/run.py reproduces mutmut {MUTMUT_VERSION}'s type-check mapping; mutmut {installed} is "
            "installed (reinstall the `mutate` extra, or update this module against the new version)"
        )
    mutmut_cli.filter_mutants_with_type_checker = filter_mutants_with_type_checker
    mutmut_cli.cli()


if __name__ == "__main__":
    main()
