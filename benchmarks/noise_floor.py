"""Benchmark 3: one Euler step of the covariance SDE vs the cost of its random numbers alone.

Shaped tanh (a = 1), m = 2, 100,000 paths. The floor of any Monte Carlo step is drawing its
m(m+1)/2 = 3 standard normals (the symmetric noise, SPEC §1); the target is a whole
``simulate_sde`` Euler path-step within 1.5× of that. The baseline is the plain vectorised
NumPy Euler–Maruyama step a user would write from SPEC §1: ``np.linalg.cholesky``, an m×m
matrix G of iid N(0, dt) (m² normals) and (L G Lᵀ + (L G Lᵀ)ᵀ)/sqrt(2), with the same drift.
"""
from __future__ import annotations

import numpy as np

from .report import BenchmarkReport, Ratio, at_most, print_table
from .timing import format_seconds, time_call

NUMBER = 3
TITLE = "Euler step vs noise floor"
PATHS = 100_000
DT = 1e-3   # the setting (T = 1, 1000 steps); T = steps * DT keeps every run at this dt
V0 = np.array([[1.0, 0.3], [0.3, 1.0]])


def plain_euler(sde, V0, T, *, steps, paths, seed):
    """The textbook vectorised Euler–Maruyama of dV = b dt + (L G Lᵀ + (L G Lᵀ)ᵀ)/sqrt(2) (SPEC §1)."""
    rng = np.random.default_rng(seed)
    m = V0.shape[-1]
    dt = T / steps
    V = np.broadcast_to(V0, (paths, m, m)).copy()
    for _ in range(steps):
        L = np.linalg.cholesky(V)
        G = rng.standard_normal((paths, m, m)) * np.sqrt(dt)
        K = L @ G @ np.swapaxes(L, -1, -2)
        V = V + sde.drift(V) * dt + (K + np.swapaxes(K, -1, -2)) / np.sqrt(2.0)
    return V


def run(quick: bool) -> BenchmarkReport:
    from derive import derive_sde
    report = BenchmarkReport(NUMBER, "noise_floor", TITLE)
    try:
        from solvers.covariance_sde import simulate_sde
    except ImportError as exc:
        report.skipped = f"solvers.covariance_sde.simulate_sde is not available yet ({exc})"
        return report
    sde = derive_sde("tanh")
    steps = 20 if quick else 100
    repeat = 3 if quick else 5
    path_steps = PATHS * steps
    k = V0.shape[0] * (V0.shape[0] + 1) // 2

    rng = np.random.default_rng(0)
    z = np.empty((k, PATHS))

    def normals_only():
        for _ in range(steps):
            rng.standard_normal(out=z)

    floor = time_call(normals_only, repeat=repeat)
    euler = time_call(lambda: simulate_sde(sde, V0, steps * DT, steps=steps, paths=PATHS, seed=1,
                                           scheme="euler", progress=False), repeat=repeat)
    lie = time_call(lambda: simulate_sde(sde, V0, steps * DT, steps=steps, paths=PATHS, seed=1,
                                         scheme="lie", progress=False), repeat=max(2, repeat - 2))
    plain = time_call(lambda: plain_euler(sde, V0, steps * DT, steps=steps, paths=PATHS, seed=1),
                      repeat=repeat)
    per = {name: t.best / path_steps for name, t in
           (("floor", floor), ("euler", euler), ("lie", lie), ("plain", plain))}
    print(f"  tanh, m = 2, {PATHS:,} paths, {steps} steps of dt = {DT:g}; per path-step (best of repeats):")
    print_table(["what", "ns / path-step", "× noise floor", "noise"],
                [["draw 3 normals alone (floor)", f"{per['floor'] * 1e9:.1f}", "1", f"±{floor.spread:.0%}"],
                 ["simulate_sde euler", f"{per['euler'] * 1e9:.1f}", f"{per['euler'] / per['floor']:.2f}",
                  f"±{euler.spread:.0%}"],
                 ["simulate_sde lie", f"{per['lie'] * 1e9:.1f}", f"{per['lie'] / per['floor']:.2f}",
                  f"±{lie.spread:.0%}"],
                 ["plain numpy Euler (baseline)", f"{per['plain'] * 1e9:.1f}",
                  f"{per['plain'] / per['floor']:.2f}", f"±{plain.spread:.0%}"]])
    ns = lambda key: f"{per[key] * 1e9:.1f} ns"   # noqa: E731
    report.ratios.append(Ratio(
        "Euler path-step / its 3 normals (100k paths, m = 2)", per["euler"] / per["floor"],
        f"{ns('euler')} vs {ns('floor')} per path-step (±{euler.spread:.0%}, ±{floor.spread:.0%})",
        at_most(1.5)))
    report.ratios.append(Ratio(
        "plain numpy Euler / simulate_sde Euler", per["plain"] / per["euler"],
        f"{ns('plain')} vs {ns('euler')} per path-step; whole run {format_seconds(euler.best)}"))
    return report


if __name__ == "__main__":
    from . import main_for
    raise SystemExit(main_for("noise_floor"))
