"""The equivalent mutants of ``mutation/equivalent.txt``, found among the mutants of a run by the change they make.

Each entry names a mutant as mutmut numbered it, gives the reason no test can tell it from the original, and records
the change itself, the original lines (``-``) and the mutated ones (``+``)::

    kfsym.cli.x__out__mutmut_1 _out's default text "" -> "XXXX": every call passes its text.
        - def _out(text: str = "", *, err: bool = False) -> None:
        + def _out(text: str = "XXXX", *, err: bool = False) -> None:

mutmut numbers the mutants of a function in order, so an edit elsewhere in the function renumbers them. An entry is
therefore matched by its change: the mutant of the same function that makes the same change (under the listed name if
that one still makes it, else the only one that does). An entry that matches no mutant, or several, is *stale*: the
code it was written for has changed, and its mutant (if any) is run and scored like any other until the entry is
reviewed. ``python mutation/equivalents.py --check`` lists the stale entries of the last run; ``--diff NAME`` prints
the lines to record for a mutant.

Lines are compared without their indentation; the function's own name in its ``def`` line is written as in the source.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"
EQUIVALENT = Path(__file__).resolve().parent / "equivalent.txt"

_NUMBERED = re.compile(r"^(?P<function>.+)__mutmut_(?P<number>\d+|orig)$")


@dataclass(frozen=True)
class Change:
    """A mutant's change: its function (``kfsym.cli.x__out``) and the lines it removes and adds (stripped)."""

    function: str
    removed: tuple[str, ...]
    added: tuple[str, ...]


@dataclass
class Entry:
    """One entry of the equivalents file."""

    name: str
    reason: str
    line: int
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def change(self) -> Change:
        return Change(function_of(self.name), tuple(self.removed), tuple(self.added))


def function_of(name: str) -> str:
    """``kfsym.cli.x__out__mutmut_3`` -> ``kfsym.cli.x__out``."""
    match = _NUMBERED.match(name)
    if match is None:
        raise ValueError(f"not a mutmut mutant name: {name}")
    return match.group("function")


def read(path: Path = EQUIVALENT) -> list[Entry]:
    """The entries of the equivalents file, in order (``#`` comments and blank lines ignored)."""
    entries: list[Entry] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        if raw[0].isspace():
            mark, _, text = raw.strip().partition(" ")
            if not entries or mark not in ("-", "+"):
                raise SystemExit(f"{path.name}:{number}: an indented line must be '- <line>' or '+ <line>' of an entry")
            (entries[-1].removed if mark == "-" else entries[-1].added).append(text.strip())
            continue
        name, _, reason = raw.strip().partition(" ")
        if not reason.strip():
            raise SystemExit(f"{path.name}:{number}: {name} has no reason")
        entries.append(Entry(name, reason.strip(), number))
    for entry in entries:
        if not entry.removed and not entry.added:
            raise SystemExit(f"{path.name}:{entry.line}: {entry.name} does not record its change (- and + lines)")
    return entries


def _source_name(mangled: str) -> str:
    """``x__out`` -> ``_out``; ``x\u01c1Step\u01c1__post_init__`` -> ``__post_init__``."""
    return mangled.rsplit("\u01c1", 1)[-1] if "\u01c1" in mangled else mangled[len("x_") :]


def _functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found.append(node)
        elif isinstance(node, ast.ClassDef):
            found.extend(n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))
    return found


def _difference(original: list[str], mutated: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if len(original) == len(mutated):
        pairs = [(a, b) for a, b in zip(original, mutated, strict=True) if a != b]
        return tuple(a for a, _ in pairs), tuple(b for _, b in pairs)
    removed: list[str] = []
    added: list[str] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=original, b=mutated, autojunk=False).get_opcodes():
        if tag != "equal":
            removed.extend(original[i1:i2])
            added.extend(mutated[j1:j2])
    return tuple(removed), tuple(added)


def changes(mutants: Path = MUTANTS) -> dict[str, Change]:
    """``{mutant name: its change}`` for every mutant in mutmut's ``mutants/`` folder."""
    found: dict[str, Change] = {}
    for meta in sorted(mutants.glob("kfsym/**/*.py.meta")):
        source = meta.with_suffix("")
        module = ".".join(source.relative_to(mutants).with_suffix("").parts)
        lines = source.read_text(encoding="utf-8").splitlines()
        bodies: dict[str, dict[str, list[str]]] = {}
        for node in _functions(ast.parse("\n".join(lines))):
            match = _NUMBERED.match(node.name)
            if match is None or node.end_lineno is None:
                continue
            body = [line.strip() for line in lines[node.lineno - 1 : node.end_lineno]]
            body[0] = body[0].replace(node.name + "(", _source_name(match.group("function")) + "(", 1)
            bodies.setdefault(match.group("function"), {})[match.group("number")] = body
        for function, versions in bodies.items():
            original = versions.get("orig")
            if original is None:
                continue
            qualified = module.removesuffix(".__init__") + "." + function
            for number, body in versions.items():
                if number != "orig":
                    found[f"{qualified}__mutmut_{number}"] = Change(qualified, *_difference(original, body))
    return found


@dataclass
class Matched:
    """The current equivalent mutants (``{name: reason}``) and the entries that match none, or several."""

    equivalent: dict[str, str]
    stale: list[Entry]


def match(entries: list[Entry], current: dict[str, Change]) -> Matched:
    """Each entry's current mutant: the listed name if it still makes the recorded change, else the only one that does
    (an entry matching none, or one another entry took, is stale)."""
    by_change: dict[Change, list[str]] = {}
    for name, change in current.items():
        by_change.setdefault(change, []).append(name)
    equivalent: dict[str, str] = {}
    stale: list[Entry] = []
    for entry in entries:
        candidates = by_change.get(entry.change, [])
        name = entry.name if entry.name in candidates else candidates[0] if len(candidates) == 1 else None
        if name is None or name in equivalent:
            stale.append(entry)
        else:
            equivalent[name] = entry.reason
    return Matched(equivalent, stale)


def current(mutants: Path = MUTANTS, path: Path = EQUIVALENT) -> Matched:
    """The equivalents file matched against the mutants of the run in ``mutants``."""
    return match(read(path), changes(mutants))


def diff_lines(change: Change) -> list[str]:
    """The indented ``-``/``+`` lines that record ``change`` in the equivalents file."""
    return [f"    - {line}" for line in change.removed] + [f"    + {line}" for line in change.added]


def main(argv: list[str] | None = None) -> int:
    """``--check``: list the stale entries (exit status 1 if any); ``--diff NAME``: the lines recording a mutant."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="list the entries that match no current mutant")
    parser.add_argument("--diff", metavar="NAME", nargs="+", help="print the - / + lines of these mutants")
    args = parser.parse_args(argv)
    if not MUTANTS.is_dir():
        print("no mutants/ folder: run `make mutate` first", file=sys.stderr)
        return 2
    found = changes()
    for name in args.diff or []:
        print(name)
        print("\n".join(diff_lines(found[name])))
    if args.check:
        matched = match(read(), found)
        for entry in matched.stale:
            print(f"stale: {EQUIVALENT.name}:{entry.line}: {entry.name}")
        print(f"{len(matched.equivalent)} entries match a mutant, {len(matched.stale)} are stale")
        return 1 if matched.stale else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
