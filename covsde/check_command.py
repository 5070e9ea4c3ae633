"""``covsde check``: run the paper checks and print their claim-vs-measurement tables."""
from __future__ import annotations

from covsde import option_types
from covsde.choices import CHECKS
from covsde.figure_directory import DEFAULT_FIGURE_DIR, figure_directory


def register(sub):
    from covsde.paper_checks import CHECKS as DESCRIBED
    p = sub.add_parser("check", help="reproduce the papers' claims (tables and figures)",
                       description="Run the paper checks, each a table of claim vs measurement with a "
                                   "verdict (exit status 1 when a claim fails): " + "; ".join(
                                       f"{name}: {description}" for name, (_, description) in DESCRIBED.items()))
    p.add_argument("name", nargs="?", default=None, choices=CHECKS, metavar="NAME",
                   help="one check, one of %(choices)s; default all")
    p.add_argument("--quick", action="store_true", help="small version (each well under a minute)")
    p.add_argument("--seed", type=option_types.seed, default=0, help="random seed, an integer >= 0 (default 0)")
    p.add_argument("--figures", default=None, metavar="DIR",
                   help=f"write PNG figures into DIR (default: ./{DEFAULT_FIGURE_DIR} for full runs, none "
                        "with --quick); needs the plot extra")
    p.set_defaults(func=run)


def run(args) -> int:
    from covsde.paper_checks import run_check
    figure_dir = figure_directory(args.figures, args.quick)
    names = [args.name] if args.name else list(CHECKS)
    failed = []
    for name in names:
        report = run_check(name, quick=args.quick, seed=args.seed,
                           figure_dir=None if figure_dir is None else str(figure_dir))
        print(report, flush=True)
        print()
        if not report.passed:
            failed.append(name)
    print(f"{len(names) - len(failed)} passed, {len(failed)} failed" +
          (f" ({', '.join(failed)})" if failed else ""))
    return 1 if failed else 0
