"""covsde benchmarks: speed against the alternatives, as ratios timed in one run.

Each module is one plain script with ``NUMBER`` (its row in the combined table), ``TITLE`` and
``run(quick: bool, figure_dir=None) -> BenchmarkReport`` (``figure_dir``: where to save a figure,
None for none); it prints its own table while it runs and can be run alone
(``python -m covsde.benchmarks.noise_floor --quick``). ``covsde bench [NAME] [--quick]`` runs them
in turn and prints the combined markdown table (:func:`covsde.benchmarks.report.markdown_table`).
"""
from __future__ import annotations


if __name__ != "covsde.benchmarks":  # `import benchmarks` from the repository root would load a second copy
    raise ImportError(f"'{__name__}' is the source folder of covsde.benchmarks; import it as "
                      f"'covsde.benchmarks' (install the project first: python -m pip install -e .)")


import importlib
import time

#: Benchmark names (``covsde bench NAME``), in the order of their NUMBER.
BENCHMARKS = ("time_to_accuracy", "finite_networks", "noise_floor", "sde_libraries", "scaling_in_m",
              "generated_drift", "kernel_ode", "derivation", "cores", "design", "streaming_memory",
              "dask_scaling")


def run_benchmark(name: str, quick: bool, figure_dir=None):
    """Import ``covsde.benchmarks.<name>``, run it, and return its BenchmarkReport (with its duration).

    ``figure_dir``: folder for the benchmark's figure, if it draws one (None: no figure).
    """
    if name not in BENCHMARKS:
        from covsde.derive.errors import InputError
        raise InputError(f"unknown benchmark {name!r}; available: {', '.join(BENCHMARKS)}")
    module = importlib.import_module(f"covsde.benchmarks.{name}")
    print(f"\n## {module.NUMBER}. {module.TITLE}  [{name}{', quick' if quick else ''}]", flush=True)
    start = time.perf_counter()
    report = module.run(quick=quick, figure_dir=figure_dir)
    report.seconds = time.perf_counter() - start
    if report.skipped:
        print(f"  skipped: {report.skipped}")
    for ratio in report.ratios:
        target = f"  target {ratio.target}: {ratio.verdict}" if ratio.target else ""
        print(f"  => {ratio.what}: {ratio.shown}{target}")
    print(f"  ({report.seconds:.1f} s)", flush=True)
    return report


def main_for(name: str, argv=None) -> int:
    """``python -m covsde.benchmarks.<name> [--quick] [--figures DIR]``: run one benchmark alone."""
    import argparse

    from covsde.figure_directory import DEFAULT_FIGURE_DIR, figure_directory
    parser = argparse.ArgumentParser(prog=f"python -m covsde.benchmarks.{name}")
    parser.add_argument("--quick", action="store_true", help="the short version")
    parser.add_argument("--figures", default=None, metavar="DIR",
                        help=f"write PNG figures into DIR (default: ./{DEFAULT_FIGURE_DIR} for full runs, "
                             "none with --quick)")
    args = parser.parse_args(argv)
    from covsde.derive.errors import InputError
    try:
        figure_dir = figure_directory(args.figures, args.quick)
    except InputError as exc:
        parser.exit(2, f"{parser.prog}: error: {exc}\n")
    run_benchmark(name, args.quick, figure_dir=figure_dir)
    return 0
