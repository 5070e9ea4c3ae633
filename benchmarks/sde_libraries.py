"""Benchmark 4: ``simulate_sde`` vs generic SDE libraries, at equal accuracy.

Equal accuracy means the same scheme and step: Euler–Maruyama, dt = 1e-3, shaped tanh, m = 2,
V_0 = [[1, .3], [.3, 1]]. Each library integrates the state (V11, V12, V22) with the same drift
(lambdified from ``sde.drift_expr``, not retyped) and the same exact noise: for V = L Lᵀ,
dV = L S Lᵀ with S symmetric Gaussian (SPEC §1), written as a 3×3 diffusion matrix acting on
3 independent Brownian motions ("general" noise).

* torchsde (``pip install torch==2.13.0 torchsde``): batched, float64, ``method="euler"``;
* sdeint (``pip install sdeint``): one path per call, ``itoEuler``.

Ours is timed with the default Gaussian NumPy Euler and, where numba is installed, the compiled
step with Gaussian and with Rademacher increments (the simplified weak Euler scheme: same weak
order 1 as every Euler here, so the same accuracy for laws and expectations at the same dt; it has
no strong order, which none of these comparisons uses). The headline ratio is for the fastest.

A library that is not installed is skipped with a line saying how to install it (the optional
``bench`` extra). Targets: ≥ 30× faster than torchsde, ≥ 1000× faster than sdeint (per path-step).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .report import BenchmarkReport, Ratio, at_least, print_table
from .timing import format_seconds, time_call

NUMBER = 4
TITLE = "Against generic SDE libraries"
DT = 1e-3
V0 = np.array([[1.0, 0.3], [0.3, 1.0]])


def _pairwise_drift(sde):
    """b(A, B, R) from the symbolic drift, as arithmetic that works on numpy floats and torch tensors."""
    from derive import A, B, R
    return sp.lambdify((A, B, R), sde.drift_expr, modules=[{"sqrt": np.sqrt}, "math"])


def _noise_matrix(v11, v12, v22, sqrt, zeros_like, stack):
    """3×3 g with d(V11, V12, V22) = g dW, W 3 standard Brownian motions: the rows of L S Lᵀ.

    L = [[l11, 0], [l21, l22]] (Cholesky), S = [[sqrt2 dW1, dW2], [dW2, sqrt2 dW3]]:
    (L S Lᵀ)_11 = l11² sqrt2 dW1, (L S Lᵀ)_12 = l11 l21 sqrt2 dW1 + l11 l22 dW2,
    (L S Lᵀ)_22 = l21² sqrt2 dW1 + 2 l21 l22 dW2 + l22² sqrt2 dW3.
    """
    root2 = 2.0 ** 0.5
    l11 = sqrt(v11)
    l21 = v12 / l11
    l22 = sqrt(v22 - l21 * l21)
    zero = zeros_like(v11)
    return stack([stack([root2 * v11, zero, zero]),
                  stack([root2 * l11 * l21, l11 * l22, zero]),
                  stack([root2 * l21 * l21, 2.0 * l21 * l22, root2 * l22 * l22])])


def _time_torchsde(sde, paths, steps, repeat):
    import torch
    import torchsde
    torch.set_num_threads(1)
    b = _pairwise_drift(sde)

    class CovarianceSDE(torch.nn.Module):
        noise_type = "general"
        sde_type = "ito"

        def f(self, t, y):
            v11, v12, v22 = y[:, 0], y[:, 1], y[:, 2]
            return torch.stack([b(v11, v11, v11), b(v11, v22, v12), b(v22, v22, v22)], dim=1)

        def g(self, t, y):
            v11, v12, v22 = y[:, 0], y[:, 1], y[:, 2]
            G = _noise_matrix(v11, v12, v22, torch.sqrt, torch.zeros_like, lambda xs: torch.stack(xs, 0))
            return G.permute(2, 0, 1)          # (paths, 3 state, 3 noise)

    model = CovarianceSDE()
    y0 = torch.tensor([[V0[0, 0], V0[0, 1], V0[1, 1]]], dtype=torch.float64).repeat(paths, 1)
    ts = torch.tensor([0.0, steps * DT], dtype=torch.float64)
    torch.manual_seed(0)

    def solve():
        with torch.no_grad():
            return torchsde.sdeint(model, y0, ts, method="euler", dt=DT)
    return time_call(solve, repeat=repeat), torch.__version__


def _time_sdeint(sde, paths, steps, repeat):
    import sdeint
    b = _pairwise_drift(sde)

    def f(y, t):
        return np.array([b(y[0], y[0], y[0]), b(y[0], y[2], y[1]), b(y[2], y[2], y[2])])

    def G(y, t):
        return _noise_matrix(y[0], y[1], y[2], np.sqrt, np.zeros_like, np.array)

    y0 = np.array([V0[0, 0], V0[0, 1], V0[1, 1]])
    tspan = np.linspace(0.0, steps * DT, steps + 1)
    rng = np.random.default_rng(0)

    def solve():
        for _ in range(paths):
            sdeint.itoEuler(f, G, y0, tspan, generator=rng)
    return time_call(solve, repeat=repeat, warmup=0)


def run(quick: bool) -> BenchmarkReport:
    from derive import derive_sde
    report = BenchmarkReport(NUMBER, "sde_libraries", TITLE)
    from solvers.covariance_sde import simulate_sde
    sde = derive_sde("tanh")
    repeat = 2 if quick else 3
    steps = 50 if quick else 200
    paths = 20_000 if quick else 50_000
    from solvers.compiled_euler import numba_available
    variants = [("gaussian", "numpy")]
    if numba_available():
        variants += [("gaussian", "numba"), ("rademacher", "numba")]
    else:
        variants += [("rademacher", "numpy")]
    rows, ours = [], {}
    for noise, backend in variants:
        timing = time_call(lambda: simulate_sde(sde, V0, steps * DT, steps=steps, paths=paths, seed=1,
                                                noise=noise, backend=backend, progress=False), repeat=repeat)
        ours[noise, backend] = timing.best / (paths * steps)
        rows.append([f"covsde simulate_sde euler, {noise}, {backend}", f"{paths:,} × {steps}",
                     f"{ours[noise, backend] * 1e9:.1f} ns", str(timing), ""])
    best = min(ours, key=ours.get)
    ours_per, plain_per = ours[best], ours["gaussian", "numpy"]
    best_name = f"{best[0]}, {best[1]}"
    skipped = []
    try:
        torch_timing, torch_version = _time_torchsde(sde, paths, steps, repeat)
    except ImportError:
        skipped.append("torchsde not installed (pip install torch==2.13.0 torchsde, or the `bench` extra)")
    else:
        per = torch_timing.best / (paths * steps)
        rows.append([f"torchsde euler, general noise, float64 (torch {torch_version})", f"{paths:,} × {steps}",
                     f"{per * 1e9:.1f} ns", str(torch_timing), f"{per / ours_per:.1f}"])
        report.ratios.append(Ratio(f"torchsde / simulate_sde ({best_name}), Euler dt = 1e-3 (per path-step)",
                                   per / ours_per, f"{per * 1e9:.0f} ns vs {ours_per * 1e9:.1f} ns per path-step",
                                   at_least(30)))
        report.ratios.append(Ratio("torchsde / simulate_sde (gaussian, numpy: the default)", per / plain_per,
                                   f"{per * 1e9:.0f} ns vs {plain_per * 1e9:.1f} ns per path-step"))
    try:
        import sdeint  # noqa: F401
    except ImportError:
        skipped.append("sdeint not installed (pip install sdeint, or the `bench` extra)")
    else:
        sdeint_paths = 10 if quick else 50
        timing = _time_sdeint(sde, sdeint_paths, steps, repeat=repeat)
        per = timing.best / (sdeint_paths * steps)
        rows.append(["sdeint itoEuler (one path per call)", f"{sdeint_paths:,} × {steps}",
                     f"{per * 1e9:.0f} ns", str(timing), f"{per / ours_per:.0f}"])
        report.ratios.append(Ratio(f"sdeint / simulate_sde ({best_name}), Euler dt = 1e-3 (per path-step)",
                                   per / ours_per, f"{format_seconds(per)} vs {ours_per * 1e9:.1f} ns per path-step",
                                   at_least(1000)))
        report.ratios.append(Ratio("sdeint / simulate_sde (gaussian, numpy: the default)", per / plain_per,
                                   f"{format_seconds(per)} vs {plain_per * 1e9:.1f} ns per path-step"))
    try:
        import diffrax  # noqa: F401
    except ImportError:
        skipped.append("diffrax not installed (needs jax)")
    else:
        skipped.append("diffrax is installed but not benchmarked yet")
    print(f"  Euler–Maruyama, dt = {DT:g}, tanh, m = 2 (state V11, V12, V22, 3 Brownian motions):")
    for row in rows[:len(variants)]:
        row[4] = f"{float(row[2].split()[0]) * 1e-9 / ours_per:.2f}"
    print_table(["solver", "paths × steps", "per path-step", "time", f"× covsde ({best_name})"], rows)
    report.skipped = "; ".join(skipped) or None
    return report


if __name__ == "__main__":
    from . import main_for
    raise SystemExit(main_for("sde_libraries"))
