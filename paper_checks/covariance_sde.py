"""Finite shaped MLPs against the Neural Covariance SDE at T = d/n = 1 (SPEC §1, §4).

Li, Nica & Roy 2022 (arXiv 2206.02768): the covariance V_l of a shaped MLP of width n and depth
d = T n converges in law, as n -> infinity, to the solution at time T of

    dV = b(V) dt + Sigma(V)^(1/2) dB,   Sigma^{ab,cd} = V^{ac} V^{bd} + V^{ad} V^{bc},

with the drift b derived symbolically (``derive_sde``). Two inputs with V_0 = [[1, .3], [.3, 1]]:

* ReLU-like (c+ = 0, c- = -1) and tanh (a = 1): finite networks (exact covariance chain,
  :func:`covsde.solvers.simulate_mlp`) at n = d in a grid of widths against SDE paths
  (:func:`covsde.solvers.sde.driver.simulate_sde`, Lie scheme). The two-sample Kolmogorov–Smirnov
  distance of rho_T = V^12/sqrt(V^11 V^22) and of log V_T^11 must fall below the critical value at
  level ``KS_ALPHA`` at the largest width, must not grow with n beyond Monte Carlo noise, and for
  log V^11 (where the finite-width bias is largest) must fall significantly from the smallest to
  the largest width. The noise scale of a KS distance is the standard deviation of the Kolmogorov
  law, ``KOLMOGOROV_SD`` * sqrt(1/N + 1/P), for N networks and P paths.
* ReLU-like only, two independent limits: rho_T has the density of its Fokker–Planck equation
  (:func:`covsde.solvers.sde.fokker_planck.correlation_density`), and each diagonal is a geometric Brownian
  motion, log V_T^11 ~ N(log V_0^11 - T, 2T) exactly (b^11 = nu(1) V^11 = 0). SDE paths and the
  widest networks are tested against both by one-sample KS.
* The unshaped ReLU network (s- = 0, i.e. c- = -sqrt(n): phi_s = max(x, 0), c = 2) beside the shaped
  one, like the paper's first figure: its correlation collapses to 1 with depth, following the
  infinite-width arc-cosine map rho -> 2 F_relu(rho) (Cho & Saul 2009), while the shaped network
  keeps a non-degenerate rho_T whose mean is the Fokker–Planck mean.

Reference (SPEC §1): n = d = 100, 2,000 networks vs 20,000 paths: KS of rho_T 0.025 (ReLU-like),
0.016 (tanh).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from covsde.derive import as_activation, derive_sde
from covsde.solvers import compare, correlation as correlation_matrix, simulate_mlp
from covsde.solvers.sde.driver import simulate_sde
from covsde.solvers.networks.finite_mlp import normalising_constant
from covsde.solvers.sde.fokker_planck import correlation_density
from covsde.solvers.kernels.gaussian_expectation import gaussian_kernel_map

from .report import KS_ALPHA, CheckReport, ks_critical_value, ks_noise_sd, pyplot, save_figure

V0 = np.array([[1.0, 0.3], [0.3, 1.0]])
RHO0 = 0.3
T = 1.0
#: Standard errors in every Monte Carlo tolerance.
Z = 4.0
#: Mean of the Kolmogorov distribution, sqrt(pi/2) ln 2 (the KS noise floor, for the figure).
KOLMOGOROV_MEAN = float(np.sqrt(np.pi / 2) * np.log(2))
#: (label, activation, parameters) of the two shaped networks.
CASES = (("relu-like", "relu", {"c_plus": 0, "c_minus": -1}), ("tanh", "tanh", {}))


@dataclass(frozen=True)
class Sizes:
    """Experiment sizes: widths n (= depth d), networks per width, SDE paths and steps."""

    widths: tuple
    networks: int
    paths: int
    steps: int
    unshaped_width: int
    unshaped_networks: int


def sizes(quick: bool) -> Sizes:
    if quick:
        return Sizes(widths=(8, 32), networks=3000, paths=12000, steps=200,
                     unshaped_width=32, unshaped_networks=2000)
    return Sizes(widths=(16, 32, 64, 128, 256), networks=8000, paths=40000, steps=200,
                 unshaped_width=128, unshaped_networks=4000)


def correlation(V):
    """rho = V^12 / sqrt(V^11 V^22) of (..., 2, 2) covariances."""
    return correlation_matrix(V)[..., 0, 1]


def plain_relu_correlations(rho0: float, depth: int) -> np.ndarray:
    """rho_0..rho_depth of the infinite-width plain ReLU network (c = 2): Q <- 2 F_relu(Q)."""
    F = gaussian_kernel_map("relu")
    Q = np.array([[1.0, rho0], [rho0, 1.0]])
    out = [rho0]
    for _ in range(depth):
        Q = 2.0 * F(Q)
        out.append(correlation(Q))
    return np.array(out)


def run(quick: bool = False, seed: int = 0, figure_dir=None) -> CheckReport:
    size = sizes(quick)
    N, P = size.networks, size.paths
    report = CheckReport("covariance_sde",
                         "finite shaped MLPs vs the Neural Covariance SDE at T = 1 (Li, Nica & Roy 2022)")
    report.settings = {"V0": "[[1, .3], [.3, 1]]", "T": T, "n = d": size.widths, "networks": N,
                       "SDE paths": P, "SDE": f"lie, {size.steps} steps", "KS level": KS_ALPHA}
    streams = iter(np.random.SeedSequence(seed).spawn(2 * len(CASES) * (len(size.widths) + 1) + 4))
    crit2 = ks_critical_value(N, P)
    noise = ks_noise_sd(N, P)
    panels = {}
    for label, name, params in CASES:
        sde = derive_sde(name, **params)
        act = as_activation(name, **params)
        paths = simulate_sde(sde, V0, T, steps=size.steps, paths=P, seed=next(streams), scheme="lie")
        ks = {"rho_T": [], "log V_T^11": []}
        for n in size.widths:
            net = simulate_mlp(act, V0=V0, width=n, depth=n, networks=N, seed=next(streams), layers=[-1])
            c = compare(net, paths)
            ks["rho_T"].append(c["rho^12"].ks_statistic)
            ks["log V_T^11"].append(c["log V^11"].ks_statistic)
        widest = net.final
        for quantity, values in ks.items():
            for i in range(1, len(values)):
                report.add(f"{label}: KS {quantity}, n={size.widths[i]} vs n={size.widths[i - 1]}",
                           values[i - 1], values[i], Z * np.sqrt(2) * noise, kind="at_most",
                           note="no growth beyond noise")
            report.add(f"{label}: KS {quantity}, n={size.widths[-1]} vs SDE", crit2, values[-1], 0.0,
                       kind="at_most", note=f"critical value, level {KS_ALPHA:g}")
        drop = ks["log V_T^11"][0] - ks["log V_T^11"][-1]
        report.add(f"{label}: KS log V_T^11 drop n={size.widths[0]} -> {size.widths[-1]}",
                   Z * np.sqrt(2) * noise, drop, 0.0, kind="at_least", note=f"> {Z:g} noise sd")
        panel = dict(net_rho=correlation(widest), net_logv=np.log(widest[:, 0, 0]),
                     sde_rho=correlation(paths.V), sde_logv=np.log(paths.V[:, 0, 0]), ks=ks)
        if name == "relu":
            panel.update(_relu_limits(report, sde, panel, N, P))
        panels[label] = panel

    unshaped = _unshaped_vs_shaped(report, size, streams)
    _figures(report, figure_dir, size, panels, unshaped)
    return report


def _relu_limits(report, sde, panel, N, P):
    """ReLU-like: SDE paths and widest networks vs the Fokker–Planck density and the exact GBM law."""
    fp = correlation_density(sde, RHO0, T)
    exact = stats.norm(np.log(V0[0, 0]) - T, np.sqrt(2 * T))
    for who, rho, logv, size in (("SDE paths", panel["sde_rho"], panel["sde_logv"], P),
                                 ("networks", panel["net_rho"], panel["net_logv"], N)):
        crit = ks_critical_value(size)
        report.add(f"relu-like: {who} rho_T vs Fokker-Planck (KS)", crit,
                   stats.kstest(rho, fp.cdf).statistic, 0.0, kind="at_most", note=f"critical, {size} samples")
        report.add(f"relu-like: {who} log V_T^11 vs N(-T, 2T) (KS)", crit,
                   stats.kstest(logv, exact.cdf).statistic, 0.0, kind="at_most", note=f"critical, {size} samples")
    return dict(fp=fp, exact=exact)


def _unshaped_vs_shaped(report, size, streams):
    """Mean correlation by depth: plain ReLU (collapses to 1) vs shaped ReLU-like (SDE mean)."""
    n, N = size.unshaped_width, size.unshaped_networks
    plain = as_activation("relu", c_plus=0, c_minus=-np.sqrt(n))      # s- = 1 - sqrt(n)/sqrt(n) = 0
    report.add("plain ReLU (c- = -sqrt(n)): normalising constant c", 2.0,
               normalising_constant(plain, n), 1e-12, note="max(x, 0), He scaling c = 2")
    shaped_label, shaped_name, shaped_params = CASES[0]
    shaped = as_activation(shaped_name, **shaped_params)
    rho_plain = correlation(simulate_mlp(plain, V0=V0, width=n, depth=n, networks=N, seed=next(streams)).V)
    rho_shaped = correlation(simulate_mlp(shaped, V0=V0, width=n, depth=n, networks=N, seed=next(streams)).V)
    layers = np.arange(n + 1)
    infinite = plain_relu_correlations(RHO0, n)
    fp = correlation_density(derive_sde(shaped_name, **shaped_params), RHO0, T, save_at=layers[1:] / n)
    fp_mean = np.concatenate([[RHO0], fp.saved_mass @ fp.rho])
    report.add(f"plain ReLU: mean rho at depth d = n = {n}", 0.95, float(rho_plain[:, -1].mean()), 0.0,
               kind="at_least", note=f"collapse; infinite-width map gives {infinite[-1]:.4f}")
    se = rho_shaped[:, -1].std(ddof=1) / np.sqrt(N)
    report.add(f"{shaped_label}: mean rho at depth d = n = {n} vs SDE", float(fp_mean[-1]),
               float(rho_shaped[:, -1].mean()), Z * se, note=f"Fokker-Planck mean; se {se:.2g}")
    return dict(n=n, layers=layers, rho_plain=rho_plain, rho_shaped=rho_shaped, infinite=infinite,
                fp_mean=fp_mean)


def _figures(report, figure_dir, size, panels, unshaped):
    plt = pyplot()
    if plt is None or figure_dir is None:
        return
    n_max = size.widths[-1]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    for row, (label, p) in zip(axes, panels.items()):
        ax = row[0]
        edges = np.linspace(-1, 1, 81)
        ax.hist(p["net_rho"], bins=edges, density=True, color="0.7",
                label=f"finite nets, n = d = {n_max} ({size.networks})")
        ax.hist(p["sde_rho"], bins=edges, density=True, histtype="step", color="C0", lw=1.5,
                label=f"SDE paths ({size.paths})")
        if "fp" in p:
            ax.plot(p["fp"].rho, p["fp"].density, "k--", lw=1.2, label="Fokker-Planck density")
        ax.set_xlim(-1, 1)
        ax.set_xlabel("output correlation rho_T")
        ax.set_ylabel("density")
        ax.set_title(f"{label}: rho_T, T = 1, rho_0 = {RHO0}")
        ax.legend(fontsize=8, loc="upper left")
        ax = row[1]
        lo, hi = np.percentile(p["sde_logv"], [0.1, 99.9])
        edges = np.linspace(lo, hi, 81)
        ax.hist(p["net_logv"], bins=edges, density=True, color="0.7",
                label=f"finite nets, n = d = {n_max} ({size.networks})")
        ax.hist(p["sde_logv"], bins=edges, density=True, histtype="step", color="C0", lw=1.5,
                label=f"SDE paths ({size.paths})")
        if "exact" in p:
            x = np.linspace(lo, hi, 400)
            ax.plot(x, p["exact"].pdf(x), "k--", lw=1.2, label="exact N(-T, 2T)")
        ax.set_xlabel("log V_T^11")
        ax.set_ylabel("density")
        ax.set_title(f"{label}: log V_T^11")
        ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    report.figures.append(save_figure(fig, figure_dir, "covariance_sde_densities"))

    fig, ax = plt.subplots(figsize=(6, 4.5))
    widths = np.array(size.widths)
    for (label, p), color in zip(panels.items(), ("C0", "C1")):
        ax.loglog(widths, p["ks"]["rho_T"], "o-", color=color, label=f"{label}: rho_T")
        ax.loglog(widths, p["ks"]["log V_T^11"], "s--", color=color, label=f"{label}: log V_T^11")
    N, P = size.networks, size.paths
    ax.axhline(ks_critical_value(N, P), color="k", lw=1, label=f"KS critical value ({KS_ALPHA:g})")
    ax.axhline(KOLMOGOROV_MEAN * np.sqrt(1 / N + 1 / P), color="0.5", ls=":", lw=1,
               label="mean KS of two samples of one law")
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xticks(widths, [str(n) for n in widths])
    ax.set_xlabel("width n = depth d")
    ax.set_ylabel("KS distance, finite nets vs SDE")
    ax.set_title(f"finite-width error at T = 1 ({N} nets, {P} paths)")
    ax.legend(fontsize=8)
    report.figures.append(save_figure(fig, figure_dir, "covariance_sde_ks"))

    u = unshaped
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    ax.plot(u["layers"], u["rho_plain"].mean(axis=0), "C3-", lw=2, label="plain ReLU, finite nets")
    ax.plot(u["layers"], u["infinite"], "k:", lw=1.5, label="plain ReLU, infinite width")
    ax.plot(u["layers"], u["rho_shaped"].mean(axis=0), "C0-", lw=2, label="shaped ReLU-like, finite nets")
    ax.plot(u["layers"], u["fp_mean"], "k--", lw=1.2, label="SDE mean (Fokker-Planck)")
    ax.set_xlabel(f"layer l (width n = {u['n']})")
    ax.set_ylabel("mean correlation rho_l")
    ax.set_ylim(0, 1.02)
    ax.set_title("correlation vs depth")
    ax.legend(fontsize=8)
    ax = axes[1]
    edges = np.linspace(-1, 1, 81)
    ax.hist(u["rho_plain"][:, -1], bins=edges, density=True, color="C3", alpha=0.6,
            label="plain ReLU")
    ax.hist(u["rho_shaped"][:, -1], bins=edges, density=True, color="C0", alpha=0.6,
            label="shaped ReLU-like (c+ = 0, c- = -1)")
    ax.set_yscale("log")
    ax.set_xlabel(f"rho at depth d = n = {u['n']}")
    ax.set_ylabel("density")
    ax.set_title("output correlation at d = n")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    report.figures.append(save_figure(fig, figure_dir, "covariance_sde_unshaped"))
