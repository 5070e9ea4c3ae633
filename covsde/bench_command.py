"""``covsde bench``: run the speed benchmarks and print their ratios as a markdown table."""
from __future__ import annotations

from covsde.choices import BENCHMARKS
from covsde.derive.errors import InputError
from covsde.figure_directory import DEFAULT_FIGURE_DIR, figure_directory
from covsde.output_file import writable_file


def register(sub):
    p = sub.add_parser("bench", help="measure speed against the alternatives (ratios timed in one run)",
                       description="Run the benchmarks; each times its baseline in the same run and "
                                   "prints ratios; a combined markdown table (date, cores, machine, "
                                   "NumPy version) follows. Close other programs first: timings are "
                                   "the best of several repeats, but a busy machine still shows.")
    # names are checked in run(): argparse rejects an empty nargs="*" list that has choices
    p.add_argument("names", nargs="*", metavar="NAME",
                   help=f"benchmarks to run, any of {', '.join(BENCHMARKS)}; default all")
    p.add_argument("--quick", action="store_true",
                   help="short versions (the whole set in about a minute)")
    p.add_argument("--markdown", default=None, metavar="FILE",
                   help="also write the combined markdown table to FILE")
    p.add_argument("--figures", default=None, metavar="DIR",
                   help=f"write PNG figures into DIR (default: ./{DEFAULT_FIGURE_DIR} for full runs, none "
                        "with --quick); needs the plot extra")
    p.set_defaults(func=run)


def run(args) -> int:
    from covsde.benchmarks import run_benchmark
    from covsde.benchmarks.report import machine_description, markdown_table
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        raise InputError(f"unknown benchmark {unknown[0]!r}; available: {', '.join(BENCHMARKS)}")
    markdown = None if args.markdown is None else writable_file(args.markdown, "--markdown")
    figure_dir = figure_directory(args.figures, args.quick)
    machine = machine_description()
    reports = [run_benchmark(name, args.quick, figure_dir=figure_dir) for name in (args.names or BENCHMARKS)]
    table = markdown_table(reports, machine, args.quick)
    print("\n" + table)
    if markdown is not None:
        with open(markdown, "w", encoding="utf-8") as out:
            out.write(table + "\n")
    return 0
