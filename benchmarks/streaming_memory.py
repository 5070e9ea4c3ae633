"""Benchmark 11: peak resident memory of streaming statistics vs raw paths, as paths grow.

Shaped tanh, m = 2, Euler, T = 1.  Each run is a fresh Python process (so that its peak resident
set, ``ru_maxrss``, is its own): ``simulate_sde(..., reduce="statistics")`` keeps sufficient
statistics of each chunk (:mod:`covsde.solvers.sde.streaming_statistics`) and should stay flat,
while the raw route holds V_T (paths × 32 bytes), the explosion flags and times (9 bytes a path)
and grows linearly.  Memory does not depend on the number of steps (nothing per step is kept),
time does: the default here is ``STEPS`` steps; ``--steps 200`` gives the target setting (the
step-size guard is off: a coarse step changes the numbers, not the memory).

Sizes: quick 10^5 and 10^6 paths; full 10^6 and 10^7; 10^8 (streaming only: the raw route would
hold 4 GB) only with ``--huge`` or ``COVSDE_BENCH_HUGE=1`` — one process takes about
paths × steps × 100–130 ns (43 min at 200 steps, measured: peak 138 MB).  Target: streaming peak below 1 GB at
every size, and its growth from the smallest to the largest size under 1.2×.

    python -m covsde.benchmarks.streaming_memory [--quick] [--huge] [--steps N]
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from covsde.verdict import at_most

from .report import BenchmarkReport, Ratio, print_table

NUMBER = 11
TITLE = "Streaming memory"
#: Steps per path by default (memory does not depend on them).
STEPS = 20
#: Environment variable that adds the 10^8-path run.
HUGE_VARIABLE = "COVSDE_BENCH_HUGE"

_CHILD = """
import json, resource, sys, time
import numpy as np
from covsde.derive import derive_sde
from covsde.solvers import simulate_sde
paths, steps, stream = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "stream"
sde = derive_sde("tanh")
sde.drift(np.eye(2))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
result = simulate_sde(sde, np.array([[1.0, 0.3], [0.3, 1.0]]), 1.0, steps=steps, paths=paths, seed=1,
                      reduce="statistics" if stream else None, progress=False, check_step=False)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"peak_mb": peak / 1024, "baseline_mb": before / 1024, "seconds": seconds}))
"""


def measure(paths: int, steps: int, stream: bool) -> dict:
    """Peak RSS (MB), the interpreter's RSS before the run (MB) and seconds of one run in a fresh process."""
    done = subprocess.run([sys.executable, "-c", _CHILD, str(paths), str(steps), "stream" if stream else "raw"],
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the {paths}-path run failed: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool, figure_dir=None, huge: bool | None = None, steps: int | None = None) -> BenchmarkReport:
    report = BenchmarkReport(NUMBER, "streaming_memory", TITLE)
    huge = os.environ.get(HUGE_VARIABLE) == "1" if huge is None else huge
    steps = (2 if quick else STEPS) if steps is None else steps
    sizes = [10 ** 5, 10 ** 6] if quick else [10 ** 6, 10 ** 7]
    rows, peaks = [], {"stream": {}, "raw": {}}
    for paths in sizes + ([10 ** 8] if huge else []):
        for route in ("stream", "raw"):
            if route == "raw" and paths > 10 ** 7:
                continue
            m = measure(paths, steps, route == "stream")
            peaks[route][paths] = m["peak_mb"]
            rows.append([f"{paths:.0e}", route, f"{m['peak_mb']:.0f} MB", f"{m['baseline_mb']:.0f} MB",
                         f"{m['seconds']:.1f} s"])
            print_table(["paths", "route", "peak RSS", "RSS before the run", "time"], rows[-1:])
    print(f"  tanh, m = 2, T = 1, {steps} steps; every run a fresh process:")
    print_table(["paths", "route", "peak RSS", "RSS before the run", "time"], rows)
    small, large = min(peaks["stream"]), max(peaks["stream"])
    report.ratios.append(Ratio(f"streaming peak RSS, {large:.0e} vs {small:.0e} paths",
                               peaks["stream"][large] / peaks["stream"][small],
                               f"{peaks['stream'][large]:.0f} MB vs {peaks['stream'][small]:.0f} MB", at_most(1.2)))
    report.ratios.append(Ratio(f"streaming peak RSS at {large:.0e} paths (MB)", peaks["stream"][large],
                               f"{steps} steps", at_most(1024), unit=" MB"))
    raw_small, raw_large = min(peaks["raw"]), max(peaks["raw"])
    report.ratios.append(Ratio(f"raw-path peak RSS, {raw_large:.0e} vs {raw_small:.0e} paths",
                               peaks["raw"][raw_large] / peaks["raw"][raw_small],
                               f"{peaks['raw'][raw_large]:.0f} MB vs {peaks['raw'][raw_small]:.0f} MB"))
    if not huge:
        report.skipped = f"10^8 paths: run with --huge or {HUGE_VARIABLE}=1 (long on a small machine)"
    return report


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(prog="python -m covsde.benchmarks.streaming_memory")
    parser.add_argument("--quick", action="store_true", help="10^5 and 10^6 paths, 2 steps")
    parser.add_argument("--huge", action="store_true", help="also 10^8 paths (streaming only)")
    parser.add_argument("--steps", type=int, default=None, help=f"steps per path (default {STEPS}; 2 quick)")
    args = parser.parse_args()
    from . import run_benchmark  # noqa: F401  (prints like the other benchmarks)
    result = run(args.quick, huge=args.huge or None, steps=args.steps)
    for ratio in result.ratios:
        print(f"  => {ratio.what}: {ratio.shown}" + (f"  target {ratio.target}: {ratio.verdict}" if ratio.target else ""))
    if result.skipped:
        print(f"  skipped: {result.skipped}")
