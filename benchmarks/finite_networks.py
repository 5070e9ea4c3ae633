"""Benchmark 2: the SDE and the exact covariance chain vs literal weight-matrix networks.

Shaped tanh MLP (a = 1, normalized), m = 2 inputs with V_0 = [[1, .3], [.3, 1]], depth d = n,
so T = d/n = 1 (SPEC §1). Three ways to get samples of V_T:

* ``simulate_mlp(method="weights")``: literal n×n weight matrices, O(n² m) per layer (baseline);
* ``simulate_mlp(method="chain")``: the exact covariance chain (same law), O(n m²) per layer;
* ``simulate_sde``: the n → ∞ limit, Euler–Maruyama with dt = 1/n (the network's own step).

Targets: chain vs weights ≥ 50× at n = d = 128 (and the ratio grows like n); the SDE
vs weights for 10,000 samples of V_T ≥ 1000×. Weight-matrix times are per network, measured on
a few networks and multiplied by 10,000 (the cost is linear in the number of networks). The full
run also checks the accuracy is the same: the KS distance of ρ_T to a fine-step reference run.
"""
from __future__ import annotations

import numpy as np

from covsde.verdict import at_least

from .report import BenchmarkReport, Ratio, print_table
from .timing import format_seconds, time_call

NUMBER = 2
TITLE = "SDE vs finite networks"
V0 = np.array([[1.0, 0.3], [0.3, 1.0]])
SAMPLES = 10_000


def _ks_distance(x, y):
    """Two-sample Kolmogorov–Smirnov distance sup |F_x - F_y|."""
    from scipy.stats import ks_2samp
    return float(ks_2samp(x, y).statistic)


def _correlation(V):
    from covsde.solvers.covariance_quantities import correlation
    return correlation(V)[:, 0, 1]


def run(quick: bool, figure_dir=None) -> BenchmarkReport:
    from covsde.solvers.networks.finite_mlp import simulate_mlp
    report = BenchmarkReport(NUMBER, "finite_networks", TITLE)
    widths = (32, 64, 128) if quick else (32, 64, 128, 256)
    repeat = 2 if quick else 3
    chain_networks = 200 if quick else 1000
    rows, per_network = [], {}
    for n in widths:
        weight_networks = max(2, int((4 if quick else 16) * (128 / n)))
        chain = time_call(lambda: simulate_mlp("tanh", V0=V0, width=n, depth=n, networks=chain_networks,
                                               seed=1, method="chain", layers=[-1]), repeat=repeat)
        weights = time_call(lambda: simulate_mlp("tanh", V0=V0, width=n, depth=n, networks=weight_networks,
                                                 seed=1, method="weights", layers=[-1]), repeat=repeat)
        c, w = chain.best / chain_networks, weights.best / weight_networks
        per_network[n] = (c, w, chain, weights)
        rows.append([n, f"{format_seconds(c)} (±{chain.spread:.0%})", f"{format_seconds(w)} (±{weights.spread:.0%})",
                     f"{w / c:.1f}"])
    print("  shaped tanh MLP, d = n, m = 2; time per network:")
    print_table(["n = d", "exact chain", "weight matrices", "weights / chain"], rows)
    growth = np.polyfit(np.log(widths), np.log([per_network[n][1] / per_network[n][0] for n in widths]), 1)[0]
    c128, w128, chain128, weights128 = per_network[128]
    report.ratios.append(Ratio("exact chain vs weight matrices, n = d = 128 (per network)", w128 / c128,
                               f"{format_seconds(c128)} (±{chain128.spread:.0%}) vs "
                               f"{format_seconds(w128)} (±{weights128.spread:.0%}) per network",
                               at_least(50)))
    report.ratios.append(Ratio(f"growth of that ratio with n (fitted exponent, n = {widths[0]}..{widths[-1]})",
                               growth, "ratio ∝ n^exponent; O(n² m)/O(n m²) predicts 1", unit=""))

    from covsde.solvers.sde.driver import simulate_sde
    from covsde.derive import derive_sde
    sde = derive_sde("tanh")
    n = 128
    best = None
    sde_rows = []
    for scheme in ("euler", "lie"):
        timing = time_call(lambda: simulate_sde(sde, V0, 1.0, steps=n, paths=SAMPLES, seed=2, scheme=scheme,
                                                progress=False), repeat=repeat + 1)
        sde_rows.append([scheme, str(timing)])
        if best is None or timing.best < best[1].best:
            best = (scheme, timing)
    weights_total = w128 * SAMPLES
    print(f"  {SAMPLES:,} samples of V_T (T = 1): weight matrices at n = d = 128 "
          f"{format_seconds(weights_total)} (= {format_seconds(w128)} × {SAMPLES:,}); "
          f"SDE with dt = 1/{n}:")
    print_table(["SDE scheme", "time for 10,000 paths"], sde_rows)
    report.ratios.append(Ratio(f"best SDE ({best[0]}, dt = 1/128) vs weight matrices n = d = 128, "
                               "10,000 samples of V_T", weights_total / best[1].best,
                               f"{best[1]} vs {format_seconds(weights_total)} (per-network × 10,000)",
                               at_least(1000)))
    if quick:
        print("  (KS accuracy check of the samples: full run only)")
        return report
    reference = simulate_sde(sde, V0, 1.0, steps=1024, paths=100_000, seed=3, scheme="euler", progress=False)
    network = simulate_mlp("tanh", V0=V0, width=n, depth=n, networks=SAMPLES, seed=4, method="chain",
                           layers=[-1]).final
    ours = simulate_sde(sde, V0, 1.0, steps=n, paths=SAMPLES, seed=5, scheme=best[0], progress=False).V
    critical = 1.358 * np.sqrt(1 / SAMPLES + 1 / reference.paths)
    ks_net = _ks_distance(_correlation(network), _correlation(reference.V))
    ks_sde = _ks_distance(_correlation(ours), _correlation(reference.V))
    print(f"  KS distance of rho_T to a reference (Euler, dt = 1/1024, 100,000 paths): "
          f"network n = d = 128 (exact chain, same law as weights) {ks_net:.4f}; "
          f"SDE {best[0]} dt = 1/128: {ks_sde:.4f}; 5% two-sample critical value {critical:.4f}")
    return report


if __name__ == "__main__":
    from . import main_for
    raise SystemExit(main_for("finite_networks"))
