"""Benchmark 9: ``simulate_sde(workers=2)`` vs ``workers=1`` on 10^6 paths.

Shaped tanh, m = 2, Euler, dt = 1e-3, 200 steps (so that forking the pool and pickling the
results back, a fixed ~0.16 s, is small against the work). Paths are split into chunks that worker processes step
independently; the answer does not depend on ``workers``. Target on a 2-core machine: ≥ 1.8×.
Other programs running at the same time take cores away, so the same run also measures the
machine's parallel ceiling: a fixed pure-CPU job (drawing normals) done by one process, then
split over two forked processes. A ratio well below that ceiling is the solver's fault; a low
ceiling means the machine was busy (the load average is printed too).
"""
from __future__ import annotations

import os

import numpy as np

from covsde.verdict import at_least

from .report import BenchmarkReport, Ratio, print_table
from .timing import time_call

NUMBER = 9
TITLE = "Cores"
PATHS = 1_000_000
DT = 1e-3
V0 = np.array([[1.0, 0.3], [0.3, 1.0]])


def _cpu_job(rounds: int) -> float:
    """A pure-CPU job (normals into a cache-resident buffer); returns a checksum."""
    rng = np.random.default_rng(rounds)
    buffer = np.empty(1 << 15)
    for _ in range(rounds):
        rng.standard_normal(out=buffer)
    return float(buffer[0])


def parallel_ceiling(rounds: int, repeat: int):
    """(serial, parallel) Timing of 2 × ``rounds`` rounds: one process vs two forked processes."""
    import multiprocessing
    context = multiprocessing.get_context("fork")
    serial = time_call(lambda: (_cpu_job(rounds), _cpu_job(rounds)), repeat=repeat, warmup=0)
    with context.Pool(2) as pool:
        pool.map(_cpu_job, [1, 1])
        parallel = time_call(lambda: pool.map(_cpu_job, [rounds, rounds]), repeat=repeat, warmup=0)
    return serial, parallel


def run(quick: bool, figure_dir=None) -> BenchmarkReport:
    from covsde.derive import derive_sde
    report = BenchmarkReport(NUMBER, "cores", TITLE)
    from covsde.solvers.sde.driver import simulate_sde
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    sde = derive_sde("tanh")
    steps = 40 if quick else 200        # enough work per process to amortise fork + pickling (~0.16 s)
    repeat = 2 if quick else 3
    timings = {}
    for workers in (1, 2):
        timings[workers] = time_call(lambda: simulate_sde(sde, V0, steps * DT, steps=steps, paths=PATHS, seed=1,
                                                          workers=workers, progress=False),
                                     repeat=repeat, warmup=0)
    from covsde.solvers.sde.compiled.generated_drift import numba_available
    fast = {}
    if numba_available():               # the fastest path: 8× less work per process, same fixed cost
        for workers in (1, 2):
            fast[workers] = time_call(lambda: simulate_sde(sde, V0, steps * DT, steps=steps, paths=PATHS, seed=1,
                                                           workers=workers, noise="rademacher", backend="numba",
                                                           progress=False), repeat=repeat, warmup=1)
    serial, parallel = parallel_ceiling(200 if quick else 1000, repeat)
    ceiling = serial.best / parallel.best
    load = "{:.2f}".format(os.getloadavg()[0]) if hasattr(os, "getloadavg") else "n/a"
    print(f"  {PATHS:,} paths, {steps} steps, {cores} cores, load average now {load}:")
    print_table(["euler", "workers", "time", "ns / path-step"],
                [["gaussian, numpy (default)", w, str(t), f"{t.best / (PATHS * steps) * 1e9:.1f}"]
                 for w, t in timings.items()] +
                [["rademacher, numba", w, str(t), f"{t.best / (PATHS * steps) * 1e9:.1f}"] for w, t in fast.items()])
    print(f"  machine's parallel ceiling now (a pure-CPU job, 1 vs 2 processes): {ceiling:.2f}× "
          f"({serial} vs {parallel})")
    report.ratios.append(Ratio(f"workers=2 vs workers=1, 10^6 paths ({cores} cores)",
                               timings[1].best / timings[2].best,
                               f"{timings[1]} vs {timings[2]}; machine ceiling in this run {ceiling:.2f}×",
                               at_least(1.8)))
    if fast:
        report.ratios.append(Ratio("workers=2 vs workers=1, rademacher + numba (10^6 paths)",
                                   fast[1].best / fast[2].best, f"{fast[1]} vs {fast[2]}"))
    return report


if __name__ == "__main__":
    from . import main_for
    raise SystemExit(main_for("cores"))
