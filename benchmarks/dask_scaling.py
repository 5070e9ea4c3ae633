"""Benchmark 12: Dask workers, Dask vs the local process pool, and sweep throughput.

Shaped tanh, m = 2, Euler, T = 1, streaming statistics (``reduce="statistics"``).  Chunks are
independent seeded tasks whose results (a few kB of statistics) are merged in chunk order, so the
work scales with the workers until the merge (per chunk) or the scheduler (per task, ~1 ms for
Dask) is the bottleneck.  Measured in one run, on ``dask.distributed.LocalCluster`` with one
thread per worker process (:func:`covsde.solvers.dask_cluster.local_cluster`):

* 2 vs 1 Dask workers on ``PATHS`` paths (target ≥ 1.7× on a machine with 2 free cores);
* Dask (2 workers) vs the local pool (``workers=2``) at equal workers (target ≤ 1.15×);
* a sweep of ``CELLS`` cells × ``CELL_PATHS`` paths: cells per second with 1 and 2 local workers.

Full: 10^7 paths, 200 steps; 200 cells × 10^5 paths, 200 steps (long on 2 cores: hours);
quick: 2·10^5 paths, 20 steps; 8 cells × 10^4 paths, 20 steps.  ``--paths``, ``--steps``,
``--cells``, ``--cell-paths`` set them, ``--repeat`` the timed runs of each placement (default 2, the
best is kept) (``python -m covsde.benchmarks.dask_scaling``).  Needs the
dask extra; skipped without it.
"""
from __future__ import annotations

import os
import pickle

import numpy as np

from covsde.verdict import at_least, at_most

from .report import BenchmarkReport, Ratio, print_table
from .timing import time_call

NUMBER = 12
TITLE = "Dask and sweeps"
V0 = np.array([[1.0, 0.3], [0.3, 1.0]])
FULL = dict(paths=10 ** 7, steps=200, cells=200, cell_paths=10 ** 5)
QUICK = dict(paths=2 * 10 ** 5, steps=20, cells=8, cell_paths=10 ** 4)


def run(quick: bool, figure_dir=None, repeat: int = 2, **sizes) -> BenchmarkReport:
    report = BenchmarkReport(NUMBER, "dask_scaling", TITLE)
    try:
        import distributed
    except ImportError:
        report.skipped = "dask is not installed (pip install 'covsde[dask]')"
        return report
    import logging
    logging.getLogger("distributed").setLevel(logging.ERROR)
    from covsde.derive import derive_sde
    from covsde.solvers import simulate_sde, sweep
    from covsde.solvers.dask_cluster import local_cluster
    size = dict(QUICK if quick else FULL, **{k: v for k, v in sizes.items() if v is not None})
    paths, steps = size["paths"], size["steps"]
    sde = derive_sde("tanh")

    def streaming(**where):
        return simulate_sde(sde, V0, 1.0, steps=steps, paths=paths, seed=1, reduce="statistics", progress=False,
                            check_step=False, **where)

    timings = {}
    for workers in (1, 2):
        with local_cluster(workers) as cluster, distributed.Client(cluster) as client:
            # every worker derives and compiles the SDE once, untimed: client.run reaches each worker (a
            # short warm-up run would reach only the workers its few chunks land on)
            blob = pickle.dumps(sde)
            client.run(lambda: pickle.loads(blob).drift(V0))
            simulate_sde(sde, V0, 1.0, seed=0, steps=2, paths=4096, reduce="statistics", executor=client,
                         check_step=False)
            timings[f"dask {workers}"] = time_call(lambda: streaming(executor=client), repeat=repeat, warmup=0)
    timings["local pool 2"] = time_call(lambda: streaming(workers=2), repeat=repeat, warmup=0)
    timings["one process"] = time_call(lambda: streaming(), repeat=repeat, warmup=0)
    load = "{:.2f}".format(os.getloadavg()[0]) if hasattr(os, "getloadavg") else "n/a"
    print(f"  {paths:.0e} paths, {steps} steps, streaming; load average now {load}:")
    print_table(["where", "time", "ns / path-step"],
                [[k, str(t), f"{t.best / (paths * steps) * 1e9:.0f}"] for k, t in timings.items()])
    report.ratios.append(Ratio(f"Dask 2 vs 1 workers, {paths:.0e} paths", timings["dask 1"].best / timings["dask 2"].best,
                               f"{timings['dask 1']} vs {timings['dask 2']}", at_least(1.7)))
    report.ratios.append(Ratio("Dask (2 workers) vs local pool (workers=2): time ratio",
                               timings["dask 2"].best / timings["local pool 2"].best,
                               f"{timings['dask 2']} vs {timings['local pool 2']}", at_most(1.15)))

    cells = size["cells"]
    alphas = np.linspace(-0.5, 0.5, cells).tolist()
    rates = {}
    for workers in (1, 2):
        timing = time_call(lambda: sweep("x + alpha*x**2", params={"alpha": alphas}, V0=V0, T=1.0, steps=steps,
                                         paths=size["cell_paths"], seed=1, workers=workers, check_step=False),
                           repeat=1, warmup=0)
        rates[workers] = (cells / timing.best, timing)
    print(f"  sweep of {cells} cells x {size['cell_paths']:.0e} paths, {steps} steps:")
    print_table(["workers", "time", "cells / s"], [[w, str(t), f"{r:.3g}"] for w, (r, t) in rates.items()])
    for workers, (rate, timing) in rates.items():
        report.ratios.append(Ratio(f"sweep cells per second, {workers} worker(s), {size['cell_paths']:.0e} paths a cell",
                                   rate, str(timing), unit=" /s"))
    return report


if __name__ == "__main__":
    import argparse
    parser = argparse.ArgumentParser(prog="python -m covsde.benchmarks.dask_scaling")
    parser.add_argument("--quick", action="store_true", help="the short version")
    for name in ("paths", "steps", "cells", "cell-paths"):
        parser.add_argument(f"--{name}", type=lambda s: int(float(s)), default=None)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each placement (the best is kept)")
    args = parser.parse_args()
    result = run(args.quick, repeat=args.repeat, paths=args.paths, steps=args.steps, cells=args.cells, cell_paths=args.cell_paths)
    for ratio in result.ratios:
        print(f"  => {ratio.what}: {ratio.shown}" + (f"  target {ratio.target}: {ratio.verdict}" if ratio.target else ""))
    if result.skipped:
        print(f"  skipped: {result.skipped}")
