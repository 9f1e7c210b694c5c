"""The mutation score of ``make mutate``, per part, from mutmut's results in ``mutants/``.

Parts (issue 17): the prover's trusted kernel (``kfsym/derive/kernel/``), the numerics
(``kfsym/numeric/`` validation and public functions) and the CLI (``kfsym/cli.py``). A mutant counts as
killed when a test failed, timed out or crashed on it, or ``mypy --strict`` rejected it (column "by mypy", part
of "killed"); as not killed when every test passed or no selected
test reached it. Mutants listed in ``mutation/equivalent.txt`` (name, a one-line reason and the change; matched to
this run's mutants by their change, :mod:`equivalents`) are left out of the score; stale entries are printed.
Exit status 1 when a part scores below ``--threshold`` (default 90 %) or mutants are unchecked.

Run from the repository root after ``mutmut run``: ``python mutation/score.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path

import equivalents

ROOT = Path(__file__).resolve().parent.parent
MUTANTS = ROOT / "mutants"

PARTS = {
    "prover": ("kfsym/derive/kernel/",),
    "numerics": ("kfsym/numeric/",),
    "cli": ("kfsym/cli.py",),
}
#: mutmut's exit codes: 1 and 3 a failing test, 36/24/-24/152/255 a timeout, -9/-11 a crash, 37 the type checker
#: (``mypy --strict`` rejects the mutant, so ``make lint`` would: ``type_check_command`` in pyproject.toml).
#: -6 and -14 are crashes the mutant causes too (both reproduce in a plain pytest run of its tests): SIGABRT from a
#: compiled loop handed an array of the wrong shape, SIGALRM from a timer the mutated time limit left armed.
#: Any other signal (SIGTERM: see mutation/run.py on Numba and fork) counts as a survivor.
KILLED = {1, 3, 36, 24, -24, 152, 255, -9, -11, -6, -14, 37}
TYPE_CHECKED = 37
SURVIVED = {0}
NO_TESTS = {5, 33}
#: mutmut's "skipped": mutation/run.py does not run the listed equivalent mutants.
SKIPPED = 34


def part_of(source: str) -> str | None:
    """The part a source file (``kfsym/numeric/gaussian.py``) belongs to, or None."""
    for part, prefixes in PARTS.items():
        if any(source == prefix or source.startswith(prefix) for prefix in prefixes):
            return part
    return None


def equivalent_mutants(mutants: Path = MUTANTS) -> dict[str, str]:
    """``{mutant name: reason}``: the entries of the equivalents file matched to this run's mutants by their change."""
    return equivalents.current(mutants).equivalent


def results(mutants: Path = MUTANTS) -> dict[str, dict[str, int | None]]:
    """``{source file: {mutant name: exit code}}`` from mutmut's ``*.py.meta`` files."""
    found: dict[str, dict[str, int | None]] = {}
    for meta in sorted(mutants.glob("kfsym/**/*.py.meta")):
        source = str(meta.relative_to(mutants))[: -len(".meta")]
        found[source] = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
    return found


def wilson(killed: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a killed fraction from a random sample of ``n`` mutants, in percent."""
    if n == 0:
        return 0.0, 100.0
    p = killed / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * (centre - half), 100 * (centre + half)


def tally_parts(equivalent: dict[str, str]) -> tuple[dict[str, Counter[str]], dict[str, list[str]]]:
    """Per part, the counts of each outcome and the names of the mutants that were not killed."""
    counts: dict[str, Counter[str]] = {part: Counter() for part in PARTS}
    survivors: dict[str, list[str]] = {part: [] for part in PARTS}
    for source, codes in results().items():
        part = part_of(source)
        if part is None:
            continue
        for name, code in codes.items():
            tally = counts[part]
            tally["total"] += 1
            if name in equivalent:
                tally["equivalent"] += 1
            elif code is None or code == SKIPPED:  # skipped but not (or no longer) an equivalent: not checked
                tally["unchecked"] += 1
            elif code in KILLED:
                tally["killed"] += 1
                tally["by mypy"] += code == TYPE_CHECKED
            elif code in NO_TESTS:
                tally["no tests"] += 1
                survivors[part].append(f"{name} (no test reaches it)")
            else:
                tally["survived"] += 1
                survivors[part].append(name if code in SURVIVED else f"{name} (exit {code})")
    return counts, survivors


def main(argv: list[str] | None = None) -> int:
    """Print the table and the survivors; the exit status says whether every part reached the threshold."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=90.0, help="percent each part must reach")
    parser.add_argument("--survivors", action="store_true", help="list every surviving mutant")
    parser.add_argument(
        "--sampled",
        action="store_true",
        help="the checked mutants are a random sample (mutation/sample.py): score them, with a 95 %% interval",
    )
    args = parser.parse_args(argv)
    if not MUTANTS.is_dir():
        print("no mutants/ folder: run `make mutate` (or `mutmut run`) first", file=sys.stderr)
        return 2
    matched = equivalents.current(MUTANTS)
    for entry in matched.stale:
        print(f"stale entry (its change is no mutant's now; review it): equivalent.txt:{entry.line}: {entry.name}")
    counts, survivors = tally_parts(matched.equivalent)
    ok = True
    print(
        f"{'part':<10}{'mutants':>9}{'equiv.':>8}{'killed':>8}{'by mypy':>9}{'survived':>10}{'no test':>9}"
        f"{'unchecked':>11}  score"
    )
    for part, tally in counts.items():
        scored = tally["killed"] + tally["survived"] + tally["no tests"]
        score = 100.0 * tally["killed"] / scored if scored else 0.0
        ok &= score >= args.threshold and (args.sampled or tally["unchecked"] == 0)
        interval = ""
        if args.sampled:
            low, high = wilson(tally["killed"], scored)
            interval = f" (sample of {scored}; 95 % interval {low:.0f}-{high:.0f} %)"
        print(
            f"{part:<10}{tally['total']:>9}{tally['equivalent']:>8}{tally['killed']:>8}{tally['by mypy']:>9}"
            f"{tally['survived']:>10}"
            f"{tally['no tests']:>9}{tally['unchecked']:>11}  {score:.1f} %{interval}"
        )
        if args.survivors:
            for name in survivors[part]:
                print(f"    {name}")
    print(f"threshold {args.threshold:g} % in every part: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
