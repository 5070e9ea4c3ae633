"""``covsde check``: run the paper checks and print their claim-vs-measurement tables."""
from __future__ import annotations

import importlib

from covsde.derive.errors import InputError


def register(sub):
    from covsde.paper_checks import CHECKS
    p = sub.add_parser("check", help="reproduce the papers' claims (tables and figures)",
                       description="Run the paper checks: " + "; ".join(
                           f"{k}: {v[1]}" for k, v in CHECKS.items()))
    p.add_argument("name", nargs="?", default=None, metavar="NAME",
                   help=f"one check ({', '.join(CHECKS)}); default all")
    p.add_argument("--quick", action="store_true", help="small version (each well under a minute)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--figures", default=None, metavar="DIR",
                   help="write PNG figures here (default: paper_checks/figures for full runs, none with --quick)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from covsde.paper_checks import CHECKS, run_check
    names = [args.name] if args.name else list(CHECKS)
    if args.name and args.name not in CHECKS:
        raise InputError(f"unknown check {args.name!r}; available: {', '.join(CHECKS)}")
    figure_dir = args.figures
    if figure_dir is None and not args.quick:
        figure_dir = str(Path(importlib.import_module("paper_checks").__file__).parent / "figures")
    failed = []
    for name in names:
        report = run_check(name, quick=args.quick, seed=args.seed, figure_dir=figure_dir)
        print(report, flush=True)
        print()
        if not report.passed:
            failed.append(name)
    print(f"{len(names) - len(failed)} passed, {len(failed)} failed" +
          (f" ({', '.join(failed)})" if failed else ""))
    return 1 if failed else 0
