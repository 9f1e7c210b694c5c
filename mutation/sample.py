"""Run a seeded random sample of the mutants of each part: an unbiased estimate of the score in minutes.

The full run (``make mutate``) tests every mutant; when that is too long for the time at hand, this draws
``--per-part`` mutants of each part uniformly at random (fixed ``--seed``), runs exactly those with
``mutmut run NAME...`` and leaves the rest unchecked; ``python mutation/score.py --sampled`` then reports the
killed fraction of the sample with a 95 % interval. Needs ``mutants/`` from a ``mutmut run`` that got past its
stats phase (``make mutate`` interrupted after "Running mutation testing" is enough).
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from score import PARTS, equivalent_mutants, part_of, results


def main(argv: list[str] | None = None) -> int:
    """Draw the sample and run it; mutmut's exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-part", type=int, default=150)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--parts", nargs="*", default=list(PARTS))
    parser.add_argument("--max-children", type=int, default=2, help="mutmut's worker processes")
    args = parser.parse_args(argv)
    equivalent = equivalent_mutants()
    by_part: dict[str, list[str]] = {part: [] for part in PARTS}
    for source, codes in results().items():
        part = part_of(source)
        if part is not None:
            by_part[part].extend(sorted(name for name in codes if name not in equivalent))
    rng = random.Random(args.seed)
    chosen: list[str] = []
    for part in args.parts:
        names = sorted(by_part[part])
        chosen += rng.sample(names, min(args.per_part, len(names)))
        print(f"{part}: {min(args.per_part, len(names))} of {len(names)} mutants", flush=True)
    if not chosen:
        print("no mutants to sample: let `mutmut run` reach 'Running mutation testing' first", file=sys.stderr)
        return 2
    mutmut = Path(sys.executable).parent / "mutmut"
    return subprocess.run(
        [str(mutmut), "run", "--max-children", str(args.max_children), *chosen], check=False
    ).returncode


if __name__ == "__main__":
    raise SystemExit(main())
