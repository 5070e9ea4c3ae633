"""``covsde bench``: run the speed benchmarks and print their ratios as a markdown table."""
from __future__ import annotations

from covsde.derive.errors import InputError


def register(sub):
    from covsde.benchmarks import BENCHMARKS
    p = sub.add_parser("bench", help="measure speed against the alternatives (issue 5 benchmarks)",
                       description="Run the benchmarks; each times its baseline in the same run and "
                                   "prints ratios; a combined markdown table (date, cores, machine, "
                                   "NumPy version) follows. Close other programs first: timings are "
                                   "the best of several repeats, but a busy machine still shows.")
    p.add_argument("names", nargs="*", metavar="NAME",
                   help=f"benchmarks to run ({', '.join(BENCHMARKS)}); default all")
    p.add_argument("--quick", action="store_true",
                   help="short versions (the whole set in about a minute)")
    p.add_argument("--markdown", default=None, metavar="FILE",
                   help="also write the combined markdown table to FILE")
    p.set_defaults(func=run)


def run(args) -> int:
    from covsde.benchmarks import BENCHMARKS, run_benchmark
    from covsde.benchmarks.report import machine_description, markdown_table
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        raise InputError(f"unknown benchmark {unknown[0]!r}; available: {', '.join(BENCHMARKS)}")
    machine = machine_description()
    reports = [run_benchmark(name, args.quick) for name in (args.names or BENCHMARKS)]
    table = markdown_table(reports, machine, args.quick)
    print("\n" + table)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as out:
            out.write(table + "\n")
    return 0
