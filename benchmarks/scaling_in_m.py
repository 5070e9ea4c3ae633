"""Benchmark 5: cost of one Euler path-step as the number of inputs m grows.

Shaped tanh, V_0 = 0.5 I + 0.5 (all correlations 1/2), ``simulate_sde`` Euler, dt = 1e-3. The exact
symmetric noise L S Lᵀ (SPEC §1) costs O(m³) per path-step (Cholesky and two m×m products);
the m(m+1)/2-dimensional square root of Σ would cost O(m⁶). The exponent is the least-squares
slope of log(time per path-step) against log m over m = 8..64. Target: ≤ 3.2.
"""
from __future__ import annotations

import numpy as np

from covsde.verdict import at_most

from .report import BenchmarkReport, Ratio, print_table
from .timing import format_seconds, time_call

NUMBER = 5
TITLE = "Scaling in m"
DT = 1e-3


def run(quick: bool, figure_dir=None) -> BenchmarkReport:
    from covsde.derive import derive_sde
    report = BenchmarkReport(NUMBER, "scaling_in_m", TITLE)
    from covsde.solvers.sde.driver import simulate_sde
    sde = derive_sde("tanh")
    sizes = (2, 4, 8, 16, 32, 64)
    budget = 2e7 if quick else 1e8      # path-steps × m³ per timed run
    rows, per_step = [], []
    for m in sizes:
        V0 = 0.5 * np.eye(m) + 0.5
        paths = int(np.clip(budget / (5 * m**3), 256, 20_000))
        steps = 5
        timing = time_call(lambda: simulate_sde(sde, V0, steps * DT, steps=steps, paths=paths, seed=1,
                                                progress=False), repeat=3 if quick else 5)
        per = timing.best / (paths * steps)
        per_step.append(per)
        rows.append([m, paths, format_seconds(per), f"±{timing.spread:.0%}",
                     f"{per / per_step[0]:.3g}"])
    print(f"  simulate_sde Euler, tanh, dt = {DT:g}, {5} steps; time per path-step:")
    print_table(["m", "paths", "per path-step", "noise", "× m = 2"], rows)
    fit = [i for i, m in enumerate(sizes) if m >= 8]
    exponent = np.polyfit(np.log([sizes[i] for i in fit]), np.log([per_step[i] for i in fit]), 1)[0]
    local = [np.log(per_step[i + 1] / per_step[i]) / np.log(2) for i in range(len(sizes) - 1)]
    print("  local exponents between successive m: " + ", ".join(f"{e:.2f}" for e in local))
    report.ratios.append(Ratio("fitted exponent of time per path-step in m, m = 8..64", exponent,
                               f"m = 8: {format_seconds(per_step[2])}, m = 64: {format_seconds(per_step[-1])} "
                               "per path-step", at_most(3.2), unit=""))
    return report


if __name__ == "__main__":
    from . import main_for
    raise SystemExit(main_for("scaling_in_m"))
