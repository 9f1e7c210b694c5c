"""``mutmut`` with its type-check mapping done by :mod:`ast` instead of LibCST: ``python mutation/run.py run``.

mutmut 3.8 type-checks all mutants in one ``mypy`` run (``type_check_command`` in pyproject.toml) and then
maps each error to the mutated function whose lines contain it. For that mapping it parses every mutated file
again with LibCST and its position metadata; on kfsym's mutated files (up to 90,000 lines each) that takes
about 3 minutes in one process, against about 1 minute for mypy itself. Only the line span of each mutated
function is needed, and Python's own :mod:`ast` gives the same spans in about 5 seconds (checked on all 19
mutated files of a full run: the same functions, the same first and last lines).

Everything else is mutmut's own code: this module replaces that one function and hands over to mutmut's
command line (``python mutation/run.py run --max-children 2`` is ``mutmut run --max-children 2``). Two more
changes, both to ``mutmut run`` only:

- **Listed equivalent mutants are not run.** ``mutation/equivalent.txt`` lists mutants no test can tell from the
  original, each with its reason and the change it makes; they are excluded from the score, and running each one's
  whole test selection (they survive, so every test runs) cost about 15 minutes of the two workers' time. They are
  matched by their change (:mod:`equivalents`), so a renumbered entry still finds its mutant and a stale entry (its
  change gone) finds none: its mutant, if any, is then run and scored like any other. They are recorded with mutmut's
  "skipped" status (exit code 34).
- **A test counts for the functions it reaches within** :data:`MAX_STACK_DEPTH` **calls.** mutmut records, in its
  stats run, which tests reach each function, and runs those tests on the function's mutants; a survivor runs all of
  them. A whole proof reaches nearly every kernel function, so every kernel survivor ran every proof test. Here a
  test is recorded for a function only when fewer than ``MAX_STACK_DEPTH`` frames of kfsym code lie between the two
  (mutmut's ``max_stack_depth``, counted the same way); deeper helpers are tested by their modules' own contract
  tests. mutmut's own option is not used: it resolves every frame's file with ``Path.resolve(strict=True)``, which
  raises for code without a file (a dataclass's generated ``__init__`` is ``<string>``, a ``python -m`` subprocess
  of a test starts in ``<frozen runpy>``), and a test's subprocess would run that unpatched walk.

One setting, not a replacement: **Numba's fork-safe threading layer.** mutmut forks every mutant's test run from a
process that has already run the tests, and so the compiled filters' parallel loops. Numba picks GNU OpenMP where
it can, and a child forked after OpenMP started kills itself with SIGTERM at its first parallel loop (Numba's guard
against OpenMP's undefined behaviour after ``fork``): 49 mutants of a full run ended that way, counted as survivors,
some of which their tests do kill. ``NUMBA_THREADING_LAYER=workqueue`` (fork-safe; not thread-safe, and mutmut's
runs are single-threaded) is set unless the environment already chooses a layer.

The replacements are written against mutmut 3.8.1 (the version the ``mutate`` extra pins); another version is
refused rather than patched blindly.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata
import inspect
import os
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import equivalents
import mutmut.__main__ as mutmut_cli
import mutmut.mutation.trampoline as mutmut_trampoline
import mutmut.stats as mutmut_stats
from mutmut.configuration import config
from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.file_mutation import FailedTypeCheckMutant, MutatedMethodLocation
from mutmut.state import state
from mutmut.type_checking import TypeCheckingError, run_type_checker
from mutmut.utils.file_utils import change_cwd
from mutmut.utils.format_utils import get_mutant_name, is_mutated_method_name

#: The mutmut release whose functions this module replaces.
MUTMUT_VERSION = "3.8.1"
#: mutmut's exit code for a mutant it did not run ("skipped").
SKIPPED = 34
#: A test is recorded as reaching a function through fewer than this many frames of kfsym code (see above).
MAX_STACK_DEPTH = 5

_Collected = tuple[list[tuple[SourceFileMutationData, str, "int | None"]], dict[str, SourceFileMutationData]]


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


def skipping_equivalents(original: Callable[..., _Collected]) -> Callable[..., _Collected]:
    """mutmut's ``collect_source_file_mutation_data``, with the listed equivalent mutants marked as not to be run.

    Mutants named on the command line are run whatever they are, as mutmut does.
    """

    def collect(*, mutant_names: tuple[str, ...] | list[str]) -> _Collected:
        mutants, by_path = original(mutant_names=mutant_names)
        if mutant_names:
            return mutants, by_path
        matched = equivalents.current(Path("mutants"))
        marked: list[tuple[SourceFileMutationData, str, int | None]] = []
        changed: dict[int, SourceFileMutationData] = {}
        for data, name, result in mutants:
            skip = result is None and name in matched.equivalent
            if skip:
                data.exit_code_by_key[name] = SKIPPED
                changed[id(data)] = data
            marked.append((data, name, SKIPPED if skip else result))
        for data in changed.values():
            data.save()
        print(
            f"    {sum(r == SKIPPED for _, _, r in marked)} listed equivalent mutants not run; "
            f"{len(matched.stale)} stale entries in mutation/equivalent.txt (python mutation/equivalents.py --check)"
        )
        return marked, by_path

    return collect


@functools.cache
def _mutated_source(filename: str) -> bool:
    """Whether a frame's code file is in the mutated source tree; code without a file (``<string>``) is not."""
    try:
        path = Path(filename).resolve(strict=True)
    except OSError:
        return False
    return any(root in path.parents for root in config().resolved_mutated_source_paths)


def record_trampoline_hit(name: str, caller: str | None = None) -> None:
    """mutmut 3.8.1's ``record_trampoline_hit`` with its ``max_stack_depth`` walk at :data:`MAX_STACK_DEPTH`.

    The test is recorded as reaching the function only through fewer than that many frames of the mutated source
    between the two (the walk stops at pytest's own frames); a frame of code without a file is not kfsym's.
    """
    frame = inspect.currentframe()
    budget = MAX_STACK_DEPTH
    while budget and frame:
        filename = frame.f_code.co_filename
        frame = frame.f_back
        if "pytest" in filename or "hammett" in filename or "unittest" in filename:
            break
        if _mutated_source(filename):
            budget -= 1
    if not budget:
        return
    state()._stats.add(name)
    if caller is not None and config().track_dependencies:
        state().function_dependencies[name].add(caller)


def main() -> None:
    """Check the mutmut version, put the replacements in place and run mutmut's command line."""
    installed = importlib.metadata.version("mutmut")
    if installed != MUTMUT_VERSION:
        raise SystemExit(
            f"mutation/run.py replaces functions of mutmut {MUTMUT_VERSION}; mutmut {installed} is installed "
            "(reinstall the `mutate` extra, or update this module against the new version)"
        )
    # fork-safe parallel loops in the forked test runs (see the module docstring); set before any Numba import
    os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
    mutmut_cli.filter_mutants_with_type_checker = filter_mutants_with_type_checker
    mutmut_stats.record_trampoline_hit = record_trampoline_hit
    mutmut_trampoline.record_trampoline_hit = record_trampoline_hit
    if sys.argv[1:2] == ["run"]:
        mutmut_cli.collect_source_file_mutation_data = skipping_equivalents(
            mutmut_cli.collect_source_file_mutation_data
        )
    mutmut_cli.cli()


if __name__ == "__main__":
    main()
