"""Kinked activations: finite shaped networks against the SDE the one-sided engine derives.

Two activations with different Taylor expansions on the two sides of 0:

* ELU, phi(x) = x (x > 0), e^x - 1 (x < 0): phi''(0+) = 0, phi''(0-) = 1, so the O(1/s) term of
  c E[phi_s phi_s] - R survives, the critical shaping is s = n (exponent 1, not 1/2) and the drift
  b = sqrt(2/pi) V^ij (1 - (sqrt(V^ii) + sqrt(V^jj))/2) is not polynomial in V;
* leaky slopes plus curvature, phi_n(x) = s phi(x/s) + (c+ max(x,0) + c- min(x,0))/sqrt(n) with
  phi(x) = x + x^2/4 - x^3/2, c+ = 0, c- = -1, s = sqrt(n): the drift has the arc-cosine terms of the
  ReLU-like family, the curvature's polynomial and their cross terms in sqrt(V^ii).

Finite networks (exact covariance chain, :func:`covsde.solvers.simulate_mlp`) at n = d (T = 1)
against SDE paths: the two-sample KS distance of rho_T and of log V_T^11 must fall below the
critical value at level ``KS_ALPHA``. The norm verdicts (Feller's test in powers of sqrt(v)) are
checked against long runs of the norm SDE: the stationary mean of ELU at a = 1/2 (p(0) = 2 sqrt(2/pi)
> 1: stationary; sqrt(V) is Gamma-distributed) and, for x + x^2/2 with the slopes (k = 3/4 > 0:
explodes), the probability of explosion from V0 = 1 against the fraction of paths exploded.
"""
from __future__ import annotations

import numpy as np

from covsde.derive import as_activation, derive_sde
from covsde.solvers import compare, correlation as correlation_matrix, simulate_mlp
from covsde.solvers.sde.driver import simulate_sde
from covsde.solvers.sde.scalar_sdes import simulate_norm

from .report import KS_ALPHA, CheckReport, ks_critical_value, pyplot, save_figure

V0 = np.array([[1.0, 0.3], [0.3, 1.0]])
T = 1.0
#: Standard errors in every Monte Carlo tolerance.
Z = 4.0
ELU = "elu"
#: (label, activation, parameters).
CASES = (("elu", ELU, {}), ("leaky + curvature", "x + x**2/4 - x**3/2", {"c_plus": 0, "c_minus": -1}))
#: (label, activation, parameters) of the norm verdicts: one stationary, one exploding.
VERDICTS = (("elu, a = 1/2", ELU, {"a": 0.5}), ("x + x^2/2 with slopes (0, -1)", "x + x**2/2",
                                               {"c_plus": 0, "c_minus": -1}))
#: Horizon of the norm-SDE runs for the verdicts (by then almost every path has exploded or vanished).
VERDICT_T = 40.0


def run(quick: bool = False, seed: int = 0, figure_dir=None) -> CheckReport:
    width = 64 if quick else 256
    N, P = (600, 6000) if quick else (3000, 20000)
    steps = 200
    report = CheckReport("kinked_activations",
                         "kinked activations (ELU; leaky slopes + curvature): finite networks vs the "
                         "one-sided engine's SDE")
    report.settings = {"V0": "[[1, .3], [.3, 1]]", "T": T, "n = d": width, "networks": N, "SDE paths": P,
                       "SDE": f"lie, {steps} steps", "KS level": KS_ALPHA}
    streams = iter(np.random.SeedSequence(seed).spawn(2 * len(CASES) + len(VERDICTS)))
    crit = ks_critical_value(N, P)
    panels = {}
    for label, spec, params in CASES:
        sde = derive_sde(spec, **params)
        act = as_activation(spec, **params)
        paths = simulate_sde(sde, V0, T, steps=steps, paths=P, seed=next(streams), scheme="lie")
        net = simulate_mlp(act, V0=V0, width=width, depth=width, networks=N, seed=next(streams),
                           layers=[-1], exponent=sde.exponent)
        c = compare(net, paths)
        for quantity, key in (("rho_T", "rho^12"), ("log V_T^11", "log V^11")):
            report.add(f"{label}: KS {quantity}, n = d = {width} vs SDE (exponent {sde.exponent})", crit,
                       c[key].ks_statistic, 0.0, kind="at_most", note=f"critical value, level {KS_ALPHA:g}")
        panels[label] = dict(net=correlation_matrix(net.final)[:, 0, 1],
                             sde=correlation_matrix(paths.V)[:, 0, 1])
    for label, spec, params in VERDICTS:
        _verdict(report, label, derive_sde(spec, **params), next(streams), quick)
    _figure(report, figure_dir, panels, width)
    return report


def _verdict(report, label, sde, seed, quick):
    """The symbolic norm verdict against norm-SDE paths over a long horizon."""
    paths = 4000 if quick else 20000
    run = simulate_norm(sde, 1.0, VERDICT_T, steps=4000, paths=paths, seed=seed)
    regime = sde.stability.regime
    if regime == "explodes":
        p = float(sde.stability.explosion_probability(1.0))
        measured = float(np.mean(run.exploded))
        se = np.sqrt(p * (1 - p) / paths)
        report.add(f"{label}: P(explosion | V0 = 1), Feller in sqrt(v) vs norm SDE by t = {VERDICT_T:g}",
                   p, measured, Z * se + 0.01, note="explodes; 4 SE + 0.01 for explosions after the horizon")
    else:
        mean = sde.stability.stationary_mean
        V = run.V[~run.exploded]
        se = float(np.std(V) / np.sqrt(V.size))
        report.add(f"{label}: stationary mean vs norm SDE at t = {VERDICT_T:g} ({regime})", mean,
                   float(np.mean(V)), Z * se + 0.005, note="4 SE + 0.005 (Euler bias of the log scheme)")


def _figure(report, figure_dir, panels, width):
    plt = pyplot()
    if plt is None or figure_dir is None:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.2))
    for ax, (label, panel) in zip(np.atleast_1d(axes), panels.items()):
        bins = np.linspace(-1, 1, 41)
        ax.hist(panel["sde"], bins=bins, density=True, alpha=0.5, label="SDE")
        ax.hist(panel["net"], bins=bins, density=True, histtype="step", lw=1.5, label=f"networks n = d = {width}")
        ax.set_title(label)
        ax.set_xlabel(r"$\rho_T$")
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = save_figure(fig, figure_dir, "kinked_activations")
    if path:
        report.figures.append(path)
