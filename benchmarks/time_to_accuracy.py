"""Benchmark 1 (the headline): weak error vs seconds, plain Euler vs Richardson-extrapolated Euler.

m = 2, V_0 = [[1, .3], [.3, 1]], T = 1, quantities E[V11_T], E[V12_T], E[ρ_T], for the shaped tanh
SDE and the ReLU-like one (c+ = 0, c- = -1; full run). One call of
:func:`solvers.richardson.richardson_expectation` runs Euler at N = 4 … 128 steps and the
extrapolation R(N) = 2 E f(Y^{2N}) - E f(Y^N) (weak order 2) at N = 4 … 64, all on the same
Brownian paths; the reference is the finest extrapolation R(64) and each error is measured path
by path against it (so its Monte Carlo noise is small; it is printed).

Time to accuracy ε = 1e-3 (per path; both methods need the same number of paths for the same
statistical error, so only the bias matters): N(ε) is the first N whose error is below ε with
2 standard errors to spare; beyond the measured N the error is extrapolated as C/N (Euler) or
C/N² (Richardson) from the finest level. Seconds = N(ε) × the measured cost per step
(``simulate_sde`` Euler per path-step at N = 128; ``richardson_expectation`` per path per base
step at N = 32, which runs 3N Euler steps on 2N steps of noise). Target: Richardson ≥ 5× faster than Euler.
"""
from __future__ import annotations

import numpy as np

from .report import BenchmarkReport, Ratio, at_least, print_table
from .timing import format_seconds, time_call

NUMBER = 1
TITLE = "Time to accuracy (weak error 1e-3)"
EPSILON = 1e-3
V0 = np.array([[1.0, 0.3], [0.3, 1.0]])
T = 1.0
BASE_STEPS = (4, 8, 16, 32, 64)
QUANTITIES = ("E[V11_T]", "E[V12_T]", "E[rho_T]")


def quantities(V):
    """(V11, V12, ρ) per path: (P, 3); ρ = 0 where a variance is 0 (a coarse Euler step can reach it)."""
    scale = np.sqrt(np.clip(V[:, 0, 0] * V[:, 1, 1], 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(scale > 0, np.clip(V[:, 0, 1] / np.where(scale > 0, scale, 1.0), -1.0, 1.0), 0.0)
    return np.stack([V[:, 0, 0], V[:, 0, 1], rho], axis=1)


def steps_to_accuracy(steps, error, standard_error, order, epsilon=EPSILON):
    """(N, how): steps needed for a weak error <= ε.

    "measured": the first N with |error| + 2 se <= ε there and at every finer N. Otherwise the
    error at the finest N is extrapolated as C / N^order (or the finest N is kept when its error
    is already below ε but not by 2 standard errors).
    """
    steps = np.asarray(steps, dtype=float)
    below = np.abs(error) + 2 * standard_error <= epsilon
    for i in range(len(steps)):
        if np.all(below[i:]):
            return steps[i], "measured"
    finest, size = steps[-1], abs(error[-1])
    if size <= epsilon:
        return finest, f"N = {finest:.0f}, within noise"
    return finest * (size / epsilon) ** (1 / order), f"extrapolated from N = {finest:.0f}"


def run(quick: bool) -> BenchmarkReport:
    from derive import derive_sde
    report = BenchmarkReport(NUMBER, "time_to_accuracy", TITLE)
    from solvers.covariance_sde import simulate_sde
    from solvers.richardson import richardson_expectation
    paths = 40_000 if quick else 400_000
    cases = [("tanh", derive_sde("tanh"))]
    if not quick:
        cases.append(("relu-like (c+ = 0, c- = -1)", derive_sde("relu", c_plus=0, c_minus=-1)))

    # cost per step, measured in this run at the finest step counts of the study (a coarse Euler step
    # is slower: it leaves the PSD cone more often and is repaired), m = 2, 20,000 paths
    probe_paths, euler_steps, richardson_steps = 20_000, 2 * BASE_STEPS[-1], BASE_STEPS[-2]
    euler_cost = time_call(lambda: simulate_sde(cases[0][1], V0, T, steps=euler_steps, paths=probe_paths,
                                                seed=1, progress=False),
                           repeat=3).best / (probe_paths * euler_steps)
    richardson_cost = time_call(lambda: richardson_expectation(cases[0][1], V0, T, quantities,
                                                               steps=richardson_steps, paths=probe_paths,
                                                               seed=1),
                                repeat=3).best / (probe_paths * richardson_steps)
    print(f"  cost per path per step: Euler (simulate_sde, N = {euler_steps}) {euler_cost * 1e9:.0f} ns; "
          f"Richardson (richardson_expectation, N = {richardson_steps}, per base step) "
          f"{richardson_cost * 1e9:.0f} ns ({richardson_cost / euler_cost:.2f}× Euler)")

    for label, sde in cases:
        result = richardson_expectation(sde, V0, T, quantities, steps=list(BASE_STEPS), paths=paths, seed=7)
        print(f"  {label}: {paths:,} paths, reference R({BASE_STEPS[-1]}); error ± standard error:")
        rows = []
        for j, n in enumerate(result.euler_steps):
            rows.append([f"Euler N = {n}", f"{format_seconds(n * euler_cost * 1e5)}"]
                        + [f"{result.euler_deviation[j, q]:+.2e} ± {result.euler_deviation_standard_error[j, q]:.0e}"
                           for q in range(len(QUANTITIES))])
        for i, n in enumerate(result.steps[:-1]):
            rows.append([f"Richardson N = {n}", f"{format_seconds(n * richardson_cost * 1e5)}"]
                        + [f"{result.deviation[i, q]:+.2e} ± {result.deviation_standard_error[i, q]:.0e}"
                           for q in range(len(QUANTITIES))])
        print_table(["scheme", "s / 10^5 paths", *QUANTITIES], rows)
        for q, name in enumerate(QUANTITIES):
            n_euler, how_euler = steps_to_accuracy(result.euler_steps, result.euler_deviation[:, q],
                                                   result.euler_deviation_standard_error[:, q], 1)
            n_rich, how_rich = steps_to_accuracy(result.steps[:-1], result.deviation[:-1, q],
                                                 result.deviation_standard_error[:-1, q], 2)
            if how_euler == "measured" and n_euler == result.euler_steps[0] and \
                    np.all(np.abs(result.euler_deviation[:, q]) < 3 * result.euler_deviation_standard_error[:, q]):
                print(f"    {name}: Euler is unbiased here (zero-drift diagonal: geometric Brownian motion)")
                continue
            t_euler, t_rich = n_euler * euler_cost, n_rich * richardson_cost
            ratio = t_euler / t_rich if np.isfinite(t_rich) else float("nan")
            print(f"    {name}: Euler needs N ≈ {n_euler:.0f} ({how_euler}), Richardson N ≈ {n_rich:.0f} "
                  f"({how_rich}): {format_seconds(t_euler * 1e5)} vs {format_seconds(t_rich * 1e5)} per 10^5 paths")
            report.ratios.append(Ratio(f"{label} {name}: Euler / Richardson time to weak error 1e-3", ratio,
                                       f"Euler N ≈ {n_euler:.0f} ({how_euler}) vs Richardson N ≈ {n_rich:.0f} "
                                       f"({how_rich}); {paths:,} paths", at_least(5)))
    print("  (the 'lie' scheme has weak order 1 like Euler and costs more per step (benchmark 3), "
          "so it is not faster to a given weak error)")
    return report


if __name__ == "__main__":
    from . import main_for
    raise SystemExit(main_for("time_to_accuracy"))
