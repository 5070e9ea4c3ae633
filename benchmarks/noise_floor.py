"""Benchmark 3: one Euler step of the covariance SDE vs the cost of its random numbers alone.

Shaped tanh (a = 1), m = 2, 100,000 paths. The floor of any Monte Carlo step is drawing its
m(m+1)/2 = 3 standard normals (the symmetric noise, SPEC §1); the target is a whole
``simulate_sde`` Euler path-step within 1.5× of that (met by the compiled ``backend="numba"``, whose
fused step costs a few ns on top of the normals). The weak scheme (``noise="rademacher"``) replaces
the normals by signs ±1, 64 per random 64-bit word; its floor is drawing those words. The baseline is the plain vectorised
NumPy Euler–Maruyama step a user would write from SPEC §1: ``np.linalg.cholesky``, an m×m
matrix G of iid N(0, dt) (m² normals) and (L G Lᵀ + (L G Lᵀ)ᵀ)/sqrt(2), with the same drift;
and the same written elementwise for m = 2 (closed-form Cholesky, still m² normals).
"""
from __future__ import annotations

import numpy as np

from covsde.verdict import at_most

from .report import BenchmarkReport, Ratio, print_table
from .timing import format_seconds, time_call

NUMBER = 3
TITLE = "Euler step vs noise floor"
PATHS = 100_000
DT = 1e-3   # the reference setting (T = 1, 1000 steps); T = steps * DT keeps every run at this dt
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


def plain_euler_2x2(sde, V0, T, *, steps, paths, seed):
    """The same step for m = 2 written elementwise: closed-form Cholesky, G with m² = 4 normals."""
    rng = np.random.default_rng(seed)
    dt = T / steps
    V = np.broadcast_to(V0, (paths, 2, 2)).copy()
    root2 = np.sqrt(2.0)
    for _ in range(steps):
        g11, g12, g21, g22 = rng.standard_normal((4, paths)) * np.sqrt(dt)
        v11, v12, v22 = V[:, 0, 0], V[:, 0, 1], V[:, 1, 1]
        l11 = np.sqrt(v11)
        l21 = v12 / l11
        l22 = np.sqrt(v22 - l21 * l21)
        row2_first, row2_second = l21 * g11 + l22 * g21, l21 * g12 + l22 * g22      # (L G)_2·
        k11 = l11 * l11 * g11
        k12 = l11 * (g11 * l21 + g12 * l22)
        k21 = row2_first * l11
        k22 = row2_first * l21 + row2_second * l22
        B = sde.drift(V)
        new = np.empty_like(V)
        new[:, 0, 0] = v11 + B[:, 0, 0] * dt + root2 * k11
        new[:, 0, 1] = new[:, 1, 0] = v12 + B[:, 0, 1] * dt + (k12 + k21) / root2
        new[:, 1, 1] = v22 + B[:, 1, 1] * dt + root2 * k22
        V = new
    return V


def run(quick: bool, figure_dir=None) -> BenchmarkReport:
    from covsde.derive import derive_sde
    report = BenchmarkReport(NUMBER, "noise_floor", TITLE)
    from covsde.solvers.sde.driver import simulate_sde
    from covsde.solvers.random_streams import sign_word_count
    from covsde.solvers.sde.compiled.generated_drift import numba_available
    sde = derive_sde("tanh")
    steps = 20 if quick else 100
    repeat = 3 if quick else 5
    path_steps = PATHS * steps
    k = V0.shape[0] * (V0.shape[0] + 1) // 2

    rng = np.random.default_rng(0)
    z = np.empty((k, PATHS))
    words = sign_word_count(k, PATHS)

    def normals_only():
        for _ in range(steps):
            rng.standard_normal(out=z)

    def sign_bits_only():
        for _ in range(steps):
            rng.bit_generator.random_raw(words)

    def simulate(noise, backend, scheme="euler"):
        return lambda: simulate_sde(sde, V0, steps * DT, steps=steps, paths=PATHS, seed=1, scheme=scheme,
                                    noise=noise, backend=backend, progress=False)

    timings = {"floor": time_call(normals_only, repeat=repeat),
               "bits": time_call(sign_bits_only, repeat=repeat),
               "euler": time_call(simulate("gaussian", "numpy"), repeat=repeat),
               "euler_signs": time_call(simulate("rademacher", "numpy"), repeat=repeat),
               "lie": time_call(simulate("gaussian", "numpy", "lie"), repeat=max(2, repeat - 2)),
               "plain": time_call(lambda: plain_euler(sde, V0, steps * DT, steps=steps, paths=PATHS, seed=1),
                                  repeat=repeat),
               "plain2": time_call(lambda: plain_euler_2x2(sde, V0, steps * DT, steps=steps, paths=PATHS,
                                                           seed=1), repeat=repeat)}
    if numba_available():
        timings["numba"] = time_call(simulate("gaussian", "numba"), repeat=repeat)
        timings["numba_signs"] = time_call(simulate("rademacher", "numba"), repeat=repeat)
    else:
        report.skipped = "numba not installed (pip install numba, or the `fast` extra): compiled rows skipped"
    per = {name: t.best / path_steps for name, t in timings.items()}
    labels = [("floor", "draw 3 normals alone (Gaussian floor)", "floor"),
              ("bits", "draw 3 sign bits alone (Rademacher floor, random_raw)", "bits"),
              ("euler", "simulate_sde euler, gaussian, numpy (default)", "floor"),
              ("numba", "simulate_sde euler, gaussian, numba", "floor"),
              ("euler_signs", "simulate_sde euler, rademacher, numpy", "bits"),
              ("numba_signs", "simulate_sde euler, rademacher, numba", "bits"),
              ("lie", "simulate_sde lie, numpy", "floor"),
              ("plain", "plain numpy Euler, np.linalg (baseline)", "floor"),
              ("plain2", "plain numpy Euler, elementwise 2×2, 4 normals", "floor")]
    print(f"  tanh, m = 2, {PATHS:,} paths, {steps} steps of dt = {DT:g}; per path-step (best of repeats):")
    print_table(["what", "ns / path-step", "× its noise floor", "noise"],
                [[label, f"{per[key] * 1e9:.1f}", f"{per[key] / per[floor]:.2f}", f"±{timings[key].spread:.0%}"]
                 for key, label, floor in labels if key in per])
    ns = lambda key: f"{per[key] * 1e9:.1f} ns"   # noqa: E731
    best = "numba" if "numba" in per else "euler"
    report.ratios.append(Ratio(
        f"Gaussian Euler path-step ({'numba' if best == 'numba' else 'numpy'}) / its 3 normals "
        "(100k paths, m = 2)", per[best] / per["floor"],
        f"{ns(best)} vs {ns('floor')} per path-step (±{timings[best].spread:.0%}, ±{timings['floor'].spread:.0%})",
        at_most(1.5)))
    report.ratios.append(Ratio(
        "Gaussian Euler path-step, numpy backend (default) / its 3 normals", per["euler"] / per["floor"],
        f"{ns('euler')} vs {ns('floor')} per path-step"))
    signs = "numba_signs" if "numba_signs" in per else "euler_signs"
    report.ratios.append(Ratio(
        "Rademacher (weak) Euler path-step / drawing its 3 sign bits", per[signs] / per["bits"],
        f"{ns(signs)} vs {ns('bits')} per path-step; vs the 3 normals: {per[signs] / per['floor']:.2f}×"))
    report.ratios.append(Ratio(
        "plain numpy Euler (np.linalg) / simulate_sde Euler (numpy, gaussian)", per["plain"] / per["euler"],
        f"{ns('plain')} vs {ns('euler')} per path-step; whole run {format_seconds(timings['euler'].best)}"))
    report.ratios.append(Ratio(
        "plain elementwise 2×2 Euler (4 normals) / simulate_sde Euler (numpy, gaussian)",
        per["plain2"] / per["euler"], f"{ns('plain2')} vs {ns('euler')} per path-step"))
    return report


if __name__ == "__main__":
    from . import main_for
    raise SystemExit(main_for("noise_floor"))
