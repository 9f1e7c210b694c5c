"""The ``kfsym`` command line: ``list``, ``show``, ``prove``, ``codegen``, ``render``, ``plot``, ``bench``,
``accuracy``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

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
    from kfsym.derive.mathtext import to_unicode

    everything = all_derivations()
    for topic in topics():
        members = [d for d in everything if d.topic == topic.key]
        if not members:
            continue
        _out(f"{topic.title}  [{topic.key}]")
        width = max(len(d.name) for d in members)
        for derivation in members:
            generated = f"  → {', '.join(r.name for r in derivation.results)}" if derivation.results else ""
            _out(f"  {derivation.name:<{width}}  {to_unicode(derivation.title)}{generated}")
    _out(f"\n{len(everything)} derivations in {len(topics())} topics")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    chosen = _derivations([args.name])
    if chosen is None:
        return 2
    (derivation,) = chosen
    _out(derivation.latex() if args.latex else str(derivation))
    return 0


def _verify(name: str, timeout: float | None) -> tuple[str, bool, float, int, str]:
    """Prove one registered derivation: (name, proved, seconds, steps, error message)."""
    from kfsym.derive import ProofError, get

    derivation = get(name)
    if timeout is not None:
        derivation = replace(derivation, timeout=timeout)
    started = time.perf_counter()
    try:
        report = derivation.verify()
    except ProofError as error:
        return name, False, time.perf_counter() - started, 0, str(error)
    return name, True, report.seconds, report.steps, ""


def _verify_star(arguments: tuple[str, float | None]) -> tuple[str, bool, float, int, str]:
    return _verify(*arguments)


def _cmd_prove(args: argparse.Namespace) -> int:
    import multiprocessing

    started = time.perf_counter()
    chosen = _derivations(args.names)
    if chosen is None:
        return 2
    width = max(len(d.name) for d in chosen)
    work = [(d.name, args.timeout) for d in chosen]
    jobs = max(1, min(args.jobs, len(work)))
    pool = multiprocessing.get_context("fork").Pool(jobs) if jobs > 1 else None
    # fork: the workers inherit the loaded registry; each check keeps its own SIGALRM limit
    outcomes: Iterable[tuple[str, bool, float, int, str]] = (
        pool.imap(_verify_star, work) if pool is not None else map(_verify_star, work)
    )
    failures = checked_steps = 0
    try:
        for name, proved, seconds, steps, message in outcomes:
            if proved:
                checked_steps += steps
                _out(f"{_OK} {name:<{width}}  {seconds:6.2f} s  {steps} steps")
                continue
            failures += 1
            _out(f"{_FAIL} {name:<{width}}  {seconds:6.2f} s  FAILED")
            for line in message.splitlines():
                _out(f"    {line}")
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    total = time.perf_counter() - started
    proved_count = len(chosen) - failures
    _out(
        f"\n{proved_count} of {len(chosen)} derivations proved ({checked_steps} steps checked), "
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
    if not args.pdf:
        command = f"kfsym render --pdf{'' if args.out is None else ' --out ' + args.out}"
        missing = render.missing_tools()
        if missing:
            _out(f"no PDF: {command} needs LaTeX ({render.toolchain_hint(missing)})")
        else:
            _out(f"for the PDF: {command}")
        return 0
    pdf_started = time.perf_counter()
    try:
        pdf = render.build_pdf(out)
    except render.MissingToolchainError as error:
        print(f"kfsym: no PDF, LaTeX is not installed: {error}", file=sys.stderr)
        print(f"kfsym: the .tex, .md and figure files in {out} were written; only the PDF is missing", file=sys.stderr)
        return 1
    except render.LatexError as error:
        print(f"kfsym: {error}", file=sys.stderr)
        return 1
    pages = render.pdf_pages(out)
    _out(f"wrote {pdf} ({pages} pages) in {time.perf_counter() - pdf_started:.1f} s")
    page = render.pdf_page_png(out)
    if page is not None:
        _out(f"wrote {page}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from kfsym import plot

    if args.list:
        width = max(len(name) for name in plot.FIGURES)
        for name, draw in plot.FIGURES.items():
            # the docstring's first line; under `python -OO` there are no docstrings: the derivation it illustrates
            lines = (draw.__doc__ or "").strip().splitlines()
            summary = lines[0] if lines else f"(illustrates {plot.FIGURE_INFO[name].illustrates})"
            _out(f"{name:<{width}}  {summary}")
        return 0
    if args.name is None or args.name not in plot.FIGURES:
        known = ", ".join(plot.FIGURES)
        problem = "name a figure" if args.name is None else f"no figure named {args.name!r}"
        print(f"kfsym: {problem}; figures: {known}", file=sys.stderr)
        return 2
    target = Path(args.out) if args.out else Path(f"{args.name}.png")
    try:
        written = plot.save(args.name, target)
    except (ValueError, OSError) as error:
        print(f"kfsym: cannot write {target}: {error}", file=sys.stderr)
        return 2
    _out(f"wrote {written}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    if args.dask or args.dask_scale is not None:
        from kfsym import bench_dask

        if args.case:
            print("kfsym bench: --case does not apply to --dask", file=sys.stderr)
            return 2
        json_path = Path(args.json) if args.json else None
        return bench_dask.run(quick=args.quick, scale=args.dask_scale, json_path=json_path)
    from kfsym import bench

    return bench.run(quick=args.quick, json_path=Path(args.json) if args.json else None, cases=args.case)


def _cmd_accuracy(args: argparse.Namespace) -> int:
    from kfsym import accuracy

    return accuracy.run(samples=args.samples, seed=args.seed, json_path=Path(args.json) if args.json else None)


def _positive_seconds(text: str) -> float:
    """``--timeout``: a finite number of seconds greater than 0 (argparse turns the error into one line, exit 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number of seconds greater than 0, got {text}")
    return value


def _at_least_one(text: str) -> int:
    """``--jobs`` and counts: a whole number, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``kfsym prove: error: argument --jobs: must be 1 or more, got 0`` (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    from kfsym import __version__

    parser = _Parser(
        prog="kfsym",
        description="Prove the probability behind the Kalman filter with SymPy; generate NumPy from the proofs.",
    )
    parser.add_argument("--version", action="version", version=f"kfsym {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("list", help="list the registered derivations by topic").set_defaults(run=_cmd_list)

    show = commands.add_parser("show", help="print one derivation")
    show.add_argument("name", help="derivation name, e.g. gaussian.product")
    show.add_argument("--latex", action="store_true", help="print LaTeX (align*) instead of text")
    show.set_defaults(run=_cmd_show)

    prove = commands.add_parser("prove", help="check derivations symbolically (all by default)")
    prove.add_argument("names", nargs="*", metavar="NAME", help="derivations to prove")
    prove.add_argument("--timeout", type=_positive_seconds, default=None, help="CPU seconds allowed per check (> 0)")
    prove.add_argument(
        "--jobs",
        type=_at_least_one,
        default=min(2, os.cpu_count() or 1),
        help="worker processes, 1 or more (default: min(2, cores))",
    )
    prove.set_defaults(run=_cmd_prove)

    generate = commands.add_parser("codegen", help="write kfsym/numeric/_generated.py from the proofs")
    generate.add_argument("--check", action="store_true", help="exit 1 if the committed file is stale")
    generate.set_defaults(run=_cmd_codegen)

    render = commands.add_parser("render", help="write the derivations as LaTeX, Markdown and figures (and a PDF)")
    render.add_argument("--out", help="output folder (default: derivations/ in the repository)")
    render.add_argument("--check", action="store_true", help="exit 1 if the rendered files are stale")
    render.add_argument("--pdf", action="store_true", help="also build kfsym.pdf with latexmk -pdf")
    render.set_defaults(run=_cmd_render)

    draw = commands.add_parser("plot", help="draw one of the tutorial's figures into a PNG or PDF file")
    draw.add_argument("name", nargs="?", metavar="NAME", help="figure name (see --list)")
    draw.add_argument("--out", help="output file, format from its suffix (default: NAME.png)")
    draw.add_argument("--list", action="store_true", help="list the figures")
    draw.set_defaults(run=_cmd_plot)
    bench = commands.add_parser("bench", help="time kfsym against SciPy, FilterPy and hand-written NumPy")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions (well under a minute)")
    bench.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    bench.add_argument("--case", help="only cases whose name contains this text")
    bench.add_argument("--dask", action="store_true", help="kfsym.dask on a 2-worker LocalCluster instead (minutes)")
    bench.add_argument(
        "--dask-scale", type=float, metavar="F", help="with --dask: F times the full sizes (--quick: 0.002)"
    )
    bench.set_defaults(run=_cmd_bench)
    accuracy = commands.add_parser("accuracy", help="measure kfsym's and SciPy's errors against mpmath at 50 digits")
    accuracy.add_argument(
        "--samples",
        type=_at_least_one,
        default=2000,
        help="random samples per 1-D function (n-D: a tenth per bucket; default 2000)",
    )
    accuracy.add_argument("--seed", type=int, default=0, help="seed of the random samples (default 0)")
    accuracy.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    accuracy.set_defaults(run=_cmd_accuracy)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        status: int = args.run(args)
    except BrokenPipeError:  # e.g. `kfsym show NAME | head`: the reader left, which is not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # keep Python's final flush from failing again
        return 0
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
