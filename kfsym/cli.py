"""The ``kfsym`` command line: ``list``, ``show``, ``prove``, ``codegen``, ``render``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kfsym.derive import Derivation

__all__ = ["main"]

_OK, _FAIL = "✓", "✗"


def _out(text: str = "") -> None:
    print(text, flush=True)


def _derivations(names: Sequence[str]) -> list[Derivation] | None:
    from kfsym.derive import all_derivations, get

    if not names:
        return list(all_derivations())
    chosen = []
    for name in names:
        try:
            chosen.append(get(name))
        except KeyError as error:
            print(f"kfsym: {error.args[0]}", file=sys.stderr)
            return None
    return chosen


def _cmd_list(args: argparse.Namespace) -> int:
    from kfsym.derive import all_derivations, topics

    everything = all_derivations()
    for topic in topics():
        members = [d for d in everything if d.topic == topic.key]
        if not members:
            continue
        _out(f"{topic.title}  [{topic.key}]")
        width = max(len(d.name) for d in members)
        for derivation in members:
            generated = f"  → {', '.join(r.name for r in derivation.results)}" if derivation.results else ""
            _out(f"  {derivation.name:<{width}}  {derivation.title}{generated}")
    _out(f"\n{len(everything)} derivations in {len(topics())} topics")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    chosen = _derivations([args.name])
    if chosen is None:
        return 2
    (derivation,) = chosen
    _out(derivation.latex() if args.latex else str(derivation))
    return 0


def _cmd_prove(args: argparse.Namespace) -> int:
    from kfsym.derive import ProofError

    started = time.perf_counter()
    chosen = _derivations(args.names)
    if chosen is None:
        return 2
    width = max(len(d.name) for d in chosen)
    failures = 0
    checked_steps = 0
    for item in chosen:
        derivation = item if args.timeout is None else replace(item, timeout=args.timeout)
        step_started = time.perf_counter()
        try:
            report = derivation.verify()
        except ProofError as error:
            failures += 1
            seconds = time.perf_counter() - step_started
            _out(f"{_FAIL} {derivation.name:<{width}}  {seconds:6.2f} s  FAILED")
            for line in str(error).splitlines():
                _out(f"    {line}")
            continue
        checked_steps += report.steps
        _out(f"{_OK} {derivation.name:<{width}}  {report.seconds:6.2f} s  {report.steps} steps")
    total = time.perf_counter() - started
    proved = len(chosen) - failures
    _out(
        f"\n{proved} of {len(chosen)} derivations proved ({checked_steps} steps checked), "
        f"{failures} failed, in {total:.1f} s"
    )
    return 1 if failures else 0


def _cmd_codegen(args: argparse.Namespace) -> int:
    from kfsym import codegen

    if args.check:
        if codegen.check():
            _out(f"{codegen.GENERATED_PATH} is up to date")
            return 0
        print(f"kfsym: {codegen.GENERATED_PATH} is stale; run `kfsym codegen`", file=sys.stderr)
        return 1
    changed = codegen.write()
    _out(f"{'wrote' if changed else 'unchanged'} {codegen.GENERATED_PATH}")
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    from kfsym import render

    out = Path(args.out) if args.out else render.DEFAULT_OUT
    if args.check:
        stale = render.check(out)
        if stale:
            print(f"kfsym: stale or missing in {out}: {', '.join(stale)}; run `kfsym render`", file=sys.stderr)
            return 1
        _out(f"rendered derivations in {out} are up to date")
        return 0
    started = time.perf_counter()
    written = render.write(out)
    for path in written:
        _out(f"wrote {path}")
    _out(f"rendered {len(written)} files into {out} in {time.perf_counter() - started:.1f} s")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kfsym",
        description="Prove the probability behind the Kalman filter with SymPy; generate NumPy from the proofs.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("list", help="list the registered derivations by topic").set_defaults(run=_cmd_list)

    show = commands.add_parser("show", help="print one derivation")
    show.add_argument("name", help="derivation name, e.g. gaussian.product")
    show.add_argument("--latex", action="store_true", help="print LaTeX (align*) instead of text")
    show.set_defaults(run=_cmd_show)

    prove = commands.add_parser("prove", help="check derivations symbolically (all by default)")
    prove.add_argument("names", nargs="*", metavar="NAME", help="derivations to prove")
    prove.add_argument("--timeout", type=float, default=None, help="seconds allowed per check")
    prove.set_defaults(run=_cmd_prove)

    generate = commands.add_parser("codegen", help="write kfsym/numeric/_generated.py from the proofs")
    generate.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    generate.set_defaults(run=_cmd_codegen)

    render = commands.add_parser("render", help="write the derivations as LaTeX and Markdown")
    render.add_argument("--out", help="output folder (default: derivations/ in the repository)")
    render.add_argument("--check", action="store_true", help="exit 1 if the rendered files are stale")
    render.set_defaults(run=_cmd_render)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    status: int = args.run(args)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
