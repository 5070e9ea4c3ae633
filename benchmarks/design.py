"""Benchmark 10: the time of each ``covsde.design.solve`` (the README examples, DKS, and two Monte Carlo targets).

Every deterministic solve (mean ODE, Fokker-Planck, symbolic norm law, kernel ODE, TAT's composed
C-map) should take under 2 s, derivation included (each call derives its family afresh: no cache
warmed by an earlier call, ``warmup=0``); the finite-width prediction is not timed. The Monte Carlo
solves (finite-width correlation of a smooth activation, explosion probability by a finite T) are
timed too and show the standard error of their solution (delta method), with no time target.
"""
from __future__ import annotations

from covsde.verdict import at_most

from .report import BenchmarkReport, Ratio, print_table
from .timing import time_call

NUMBER = 10
TITLE = "Design solves"

#: (label, activation, target, options) of the deterministic solves.
DETERMINISTIC = (
    ("TAT leaky ReLU, C_f(0) = 0.9 at L = 100", "leaky_relu", "tat", {"eta": 0.9, "depth": 100}),
    ("ReLU-like c-, E[rho_1] = 0.5 (Fokker-Planck)", "relu", "finite-correlation", {"eta": 0.5}),
    ("ReLU-like c-, rho(1) = 0.5 (mean ODE)", "relu", "correlation", {"eta": 0.5}),
    ("beta of x + 0.1x^2 + beta x^3, stationary mean 0.8", "x + 0.1*x**2 + beta*x**3", "stationary-mean",
     {"value": 0.8}),
    ("ResNet branch scale, rho(1) = 0.8", "relu", "resnet-correlation", {"eta": 0.8}),
    ("DKS tanh, C_f'(1) = 1.5 at L = 10", "tanh", "dks", {"value": 1.5, "depth": 10}),
)
#: (label, activation, target, options) of the Monte Carlo solves.
MONTE_CARLO = (
    ("alpha of x + alpha x^2, E[rho_1] = 0.15 (2000 paths)", "x + alpha*x**2", "finite-correlation",
     {"eta": 0.15, "bounds": (0.0, 2.0), "paths": 2000, "steps": 100}),
    ("alpha of x + alpha x^2, P(explosion by T = 1) = 0.2 (2000 paths)", "x + alpha*x**2", "explosion",
     {"value": 0.2, "T": 1.0, "bounds": (0.3, 3.0), "paths": 2000, "steps": 200}),
)


def run(quick: bool, figure_dir=None) -> BenchmarkReport:
    from covsde.design import solve
    report = BenchmarkReport(NUMBER, "design", TITLE)
    rows = []
    for label, activation, target, options in DETERMINISTIC + (() if quick else MONTE_CARLO):
        results = []
        timing = time_call(lambda: results.append(solve(activation, target, predict=False, **options)),
                           repeat=1 if quick else 2, warmup=0)
        result = results[-1]
        se = result.standard_error
        rows.append([label, f"{result.free} = {result.value:.6g}", "" if se is None else f"{se:.2g}", str(timing)])
        monte_carlo = se is not None
        report.ratios.append(Ratio(
            f"design: {label}", timing.best,
            f"{timing}; {result.free} = {result.value:.6g}" + (f" ± {se:.2g} (standard error)" if monte_carlo else ""),
            None if monte_carlo else at_most(2.0), unit="s"))
    print_table(["solve", "solution", "standard error", "time (best)"], rows)
    return report


if __name__ == "__main__":
    from . import main_for
    raise SystemExit(main_for("design"))
