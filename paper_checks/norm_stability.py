"""Exploding, vanishing and stationary norms: symbolic verdict vs finite networks and the SDE (SPEC §1).

One input, normalized convention: the squared norm V_l = (c/n)|phi_s(h_l)|^2 of a shaped MLP
converges (n -> infinity, l/n -> t) to

    dV = k V (V - 1) dt + sqrt(2) V dB,    k = (3/4 phi''(0)^2 + phi'''(0)) / a^2,

and ``derive_sde(...).stability`` classifies it (Li, Nica & Roy 2022 for "explodes iff k > 0";
the rest SPEC §1, from Y = 1/V and Dufresne's identity):

* k > 0, "explodes": P(explosion in finite time | V_0) = gammainc(1 + k, k V_0);
* -1 <= k <= 0, "vanishes": no explosion, V_t -> 0;
* k < -1, "stationary": no explosion, V_t -> Gamma(shape |k| - 1, rate |k|) in law.

For each activation (tanh, sin, gelu, silu, softplus, sinh and x + alpha x^2 + beta x^3 with
(alpha, beta) in each region) the check puts beside the symbolic verdict:

* finite networks (exact covariance chain, :func:`covsde.solvers.simulate_mlp`): the fraction whose V_l
  passes ``THRESHOLD`` by depth d = T n, at T = ``T_NETWORKS`` and several widths;
* the norm SDE (:func:`covsde.solvers.sde.scalar_sdes.simulate_norm`, drift ``sde.norm_drift``): the fraction
  of paths passing the same threshold by T, and by ``T_LONG``;
* the closed form for T -> infinity, ``sde.stability.explosion_probability(V_0)``.

What converges to what, and the tolerance each claim uses:

* the SDE fraction by T_LONG -> the closed form as T -> infinity and dt -> 0: Z binomial standard
  errors plus the measured time-step bias |f(dt) - f(2 dt)| (Euler in log V, weak order 1);
  the fraction by T = 1 is visibly below it (explosions still to come);
* finite networks at the same T -> the SDE fraction as n -> infinity, with an O(1/n) finite-width
  bias that is large here (a network has to pass V ~ s^2 = a^2 n, where the shaped expansion stops,
  before it reaches the threshold): the widest two widths are extrapolated, 2 f(n) - f(n/2), and
  compared with Z standard errors of that combination and of the SDE fraction;
* no explosion in the other regimes: zero networks and zero paths pass the threshold; with zero of
  N events the level-``KS_ALPHA`` upper confidence bound on the probability is -ln(alpha)/N;
* the law of V at d = T_LONG n: finite networks vs SDE paths (two-sample KS of log V), and for
  k < -1 both against the stationary Gamma law (one-sample KS), at level ``KS_ALPHA``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from covsde.derive import derive_sde
from covsde.solvers import simulate_mlp
from covsde.solvers.sde.scalar_sdes import simulate_norm

from .report import KS_ALPHA, ks_critical_value
from .report import CheckReport, pyplot, save_figure

V0 = 1.0
#: Finite networks vs the SDE at depth d = T_NETWORKS * n.
T_NETWORKS = 1.0
#: The long run: SDE fraction vs the T = infinity closed form; laws at d = T_LONG * n.
T_LONG = 10.0
#: V above it counts as exploded (the SDE hits 1e3 and does not explode with probability
#: 1 - gammainc(1 + k, 1e3 k) < 1e-300 for the k used here).
THRESHOLD = 1e3
Z = 4.0
POLYNOMIAL = "x + alpha*x**2 + beta*x**3"


@dataclass(frozen=True)
class Case:
    """One activation: label, text and parameters for ``derive_sde``, shaping constant a."""

    label: str
    activation: str
    a: float = 1.0
    params: tuple = ()


#: a < 1 for silu and softplus makes k = (3/4 phi2^2 + phi3)/a^2 four times larger, so that a
#: measurable fraction explodes by T = 1.
CASES = (
    Case("tanh", "tanh"),
    Case("sin", "sin"),
    Case("gelu", "gelu"),
    Case("silu (a=1/2)", "silu", 0.5),
    Case("softplus (a=1/2)", "softplus", 0.5),
    Case("sinh", "sinh"),
    Case("poly(.5, .1)", POLYNOMIAL, 1.0, (("alpha", 0.5), ("beta", 0.1))),
    Case("poly(0, -.1)", POLYNOMIAL, 1.0, (("alpha", 0.0), ("beta", -0.1))),
    Case("poly(0, -.5)", POLYNOMIAL, 1.0, (("alpha", 0.0), ("beta", -0.5))),
)


@dataclass(frozen=True)
class Sizes:
    """Experiment sizes.

    widths : widths n for the explosion fraction at d = T_NETWORKS n.
    long_width, long_networks : width and number of networks of the long run d = T_LONG n (the
        law of V). Smaller widths carry a visible finite-width bias over 10 n layers for k = -3
        (KS to the Gamma law 0.056 at n = 32, 0.037 at n = 64 (4000 nets, critical 0.031), 0.012 at
        n = 128); tanh (k = -2) passes at n = 64.
    long_run_polynomials : run the long-run networks for the polynomial cases too (their numpy
        activation is about 6x slower than tanh, so the quick mode leaves them to the SDE rows).
    """

    widths: tuple
    long_width: int
    long_networks: int
    long_run_polynomials: bool
    networks: int
    paths: int
    steps_per_unit: int


def sizes(quick: bool) -> Sizes:
    if quick:
        return Sizes(widths=(32, 64), long_width=128, long_networks=1000, long_run_polynomials=False,
                     networks=2000, paths=10000, steps_per_unit=200)
    return Sizes(widths=(32, 64, 128, 256), long_width=128, long_networks=2000, long_run_polynomials=True,
                 networks=4000, paths=40000, steps_per_unit=400)


def binomial_se(p: float, n: int) -> float:
    """Standard error of a fraction p of n independent trials."""
    return float(np.sqrt(max(p * (1 - p), 0.0) / n))


def crossed(V, threshold=THRESHOLD) -> np.ndarray:
    """(networks, layers) squared norms -> bool per network: passed the threshold (or overflowed)."""
    return np.any(~(V <= threshold), axis=1)


def fraction_by(result, T: float) -> float:
    """Fraction of SDE paths that passed the threshold by time T."""
    return float(np.mean(result.explosion_time <= T + 1e-12))


def run(quick: bool = False, seed: int = 0, figure_dir=None) -> CheckReport:
    size = sizes(quick)
    N, P = size.networks, size.paths
    report = CheckReport("norm_stability",
                         "exploding / vanishing / stationary norms: symbolic verdict vs networks and SDE")
    report.settings = {"V0": V0, "threshold": THRESHOLD, "T (networks vs SDE)": T_NETWORKS,
                       "T long": T_LONG, "widths": size.widths,
                       "long run": f"n={size.long_width}, {size.long_networks} nets",
                       "networks": N, "SDE paths": P, "SDE steps per unit time": size.steps_per_unit}
    streams = iter(np.random.SeedSequence(seed).spawn(len(CASES) * (len(size.widths) + 4)))
    exploding, long_runs = [], []
    for case in CASES:
        sde = derive_sde(case.activation, a=case.a, **dict(case.params))
        k, regime = float(sde.stability.k), sde.stability.regime
        tag = f"{case.label} [k={k:.3g}, {regime}]"
        steps = int(round(size.steps_per_unit * T_LONG))
        sde_seed = next(streams)
        sde_run = simulate_norm(sde, V0, T_LONG, steps=steps, paths=P, seed=sde_seed,
                                explosion_threshold=THRESHOLD)
        closed = float(sde.stability.explosion_probability(V0))
        if regime == "explodes":
            coarse = simulate_norm(sde, V0, T_LONG, steps=steps // 2, paths=P, seed=sde_seed,
                                   explosion_threshold=THRESHOLD)
            exploding.append(_explosion_claims(report, tag, case, sde, sde_run, coarse, closed, size, streams))
        else:
            long_runs.append(_no_explosion_claims(report, tag, case, sde, sde_run, closed, size, streams))
    _figures(report, figure_dir, size, exploding, long_runs)
    return report


def _explosion_claims(report, tag, case, sde, sde_run, coarse, closed, size, streams):
    """k > 0: SDE by T_LONG vs the closed form; networks (extrapolated in 1/n) vs SDE at T_NETWORKS."""
    N, P = size.networks, size.paths
    f_long = fraction_by(sde_run, T_LONG)
    dt_bias = abs(f_long - fraction_by(coarse, T_LONG))
    report.add(f"{tag}: SDE P(explode by T={T_LONG:g}) vs closed form", closed, f_long,
               Z * binomial_se(closed, P) + dt_bias,
               note=f"gammainc(1+k, k V0); dt bias {dt_bias:.1g}")
    f_sde = fraction_by(sde_run, T_NETWORKS)
    fractions = []
    for n in size.widths:
        net = simulate_mlp(sde.activation, V0=[[V0]], width=n, depth=int(round(T_NETWORKS * n)),
                           networks=N, seed=next(streams), a=case.a)
        fractions.append(float(np.mean(crossed(net.V[:, :, 0, 0]))))
    f_n, f_half = fractions[-1], fractions[-2]
    extrapolated = 2 * f_n - f_half
    se = np.sqrt(4 * binomial_se(f_n, N) ** 2 + binomial_se(f_half, N) ** 2 + binomial_se(f_sde, P) ** 2)
    # the extrapolation removes the O(1/n) finite-width term; what is left is estimated, as for any
    # Richardson step, by the size of the last correction |f(n) - f(n/2)|
    remainder = abs(f_n - f_half)
    report.add(f"{tag}: networks 2f(n)-f(n/2), n={size.widths[-1]}, vs SDE, T={T_NETWORKS:g}",
               f_sde, extrapolated, Z * se + remainder,
               note=f"f(n) = {', '.join(f'{f:.3f}' for f in fractions)}; T=inf: {closed:.3f}; "
                    f"+ remainder {remainder:.3f}")
    return dict(label=case.label, k=float(sde.stability.k), closed=closed, sde_run=sde_run,
                fractions=fractions, f_sde=f_sde, extrapolated=extrapolated)


def _no_explosion_claims(report, tag, case, sde, sde_run, closed, size, streams):
    """k <= 0: no network and no path passes the threshold; the law at T_LONG (and Gamma for k < -1)."""
    N, P = size.long_networks, size.paths
    n = size.long_width
    report.add(f"{tag}: SDE paths passing {THRESHOLD:g} by T={T_LONG:g}", closed, fraction_by(sde_run, T_LONG),
               -np.log(KS_ALPHA) / P, kind="at_most", note="bound -ln(alpha)/P")
    law = sde.stability.stationary_law
    if law is not None:
        report.add(f"{tag}: SDE paths V at T={T_LONG:g} vs Gamma law (KS)", ks_critical_value(P),
                   stats.kstest(sde_run.V, law.cdf).statistic, 0.0, kind="at_most",
                   note=f"Gamma(|k|-1, rate |k|), mean {law.mean():.3g}")
    result = dict(label=case.label, k=float(sde.stability.k), regime=sde.stability.regime, law=law,
                  net=None, sde=sde_run.V, n=n)
    if case.activation == POLYNOMIAL and not size.long_run_polynomials:
        return result
    net = simulate_mlp(sde.activation, V0=[[V0]], width=n, depth=int(round(T_LONG * n)), networks=N,
                       seed=next(streams), a=case.a)
    V = net.V[:, :, 0, 0]
    report.add(f"{tag}: networks passing {THRESHOLD:g} by d={T_LONG:g}n", closed, float(np.mean(crossed(V))),
               -np.log(KS_ALPHA) / N, kind="at_most", note=f"closed form {closed:g}; bound -ln(alpha)/N")
    final = np.where(np.isfinite(V[:, -1]), V[:, -1], np.inf)          # an overflow is a large V
    ks = stats.ks_2samp(np.log(final), np.log(sde_run.V)).statistic
    report.add(f"{tag}: log V, networks n={n} d={T_LONG:g}n vs SDE (KS)", ks_critical_value(N, P), ks, 0.0,
               kind="at_most", note=f"critical value, level {KS_ALPHA:g}")
    if law is not None:
        report.add(f"{tag}: networks V at d={T_LONG:g}n vs Gamma law (KS)", ks_critical_value(N),
                   stats.kstest(final, law.cdf).statistic, 0.0, kind="at_most",
                   note=f"n={n}; Gamma(|k|-1, rate |k|)")
    result["net"] = final
    return result


def _figures(report, figure_dir, size, exploding, long_runs):
    plt = pyplot()
    if plt is None or figure_dir is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    ax = axes[0]
    t = np.linspace(0, T_LONG, 201)
    for i, e in enumerate(exploding):
        color = f"C{i}"
        times = e["sde_run"].explosion_time
        ax.plot(t, [np.mean(times <= s) for s in t], color=color, lw=1.5,
                label=f"{e['label']} (k = {e['k']:.2f})")
        ax.axhline(e["closed"], color=color, ls="--", lw=1)
        ax.plot([T_NETWORKS], [e["fractions"][-1]], "o", color=color, mfc="none")
        ax.plot([T_NETWORKS], [e["extrapolated"]], "*", color=color, ms=9)
    ax.plot([], [], "k--", lw=1, label="closed form, T = infinity")
    ax.plot([], [], "ko", mfc="none", label=f"finite nets, n = {size.widths[-1]}, d = n")
    ax.plot([], [], "k*", label="finite nets, extrapolated 2f(n) - f(n/2)")
    ax.set_xlim(0, T_LONG)
    ax.set_xlabel("T = d / n")
    ax.set_ylabel(f"P(V passes {THRESHOLD:g} by T)")
    ax.set_title(f"explosion fraction, SDE paths ({size.paths}), V0 = {V0:g}")
    ax.legend(fontsize=7, loc="lower right")
    ax = axes[1]
    inv = 1.0 / np.array(size.widths)
    for i, e in enumerate(exploding):
        color = f"C{i}"
        ax.plot(inv, e["fractions"], "o-", color=color, label=e["label"])
        ax.plot([0], [e["f_sde"]], "s", color=color, ms=8)
    ax.plot([], [], "ks", label="SDE (n = infinity)")
    ax.set_xlim(left=-0.002)
    ax.set_xlabel("1 / n")
    ax.set_ylabel(f"fraction of networks passing {THRESHOLD:g} by d = n")
    ax.set_title(f"finite networks at T = {T_NETWORKS:g} vs SDE ({size.networks} nets per width)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    report.figures.append(save_figure(fig, figure_dir, "norm_stability_explosion"))

    long_runs = [r for r in long_runs if r["net"] is not None]
    if not long_runs:
        return
    fig, axes = plt.subplots(1, len(long_runs), figsize=(4.2 * len(long_runs), 4))
    for ax, r in zip(np.atleast_1d(axes), long_runs):
        net_label = f"finite nets, n = {r['n']}, d = {T_LONG:g}n"
        if r["law"] is not None:
            hi = float(r["law"].ppf(0.999))
            edges = np.linspace(0, hi, 61)
            ax.hist(r["net"], bins=edges, density=True, color="0.7", label=net_label)
            ax.hist(r["sde"], bins=edges, density=True, histtype="step", color="C0", lw=1.5,
                    label=f"SDE paths, T = {T_LONG:g}")
            x = np.linspace(1e-4, hi, 400)
            ax.plot(x, r["law"].pdf(x), "k--", lw=1.2, label="stationary Gamma law")
            ax.set_xlabel(f"V at T = {T_LONG:g}")
        else:
            logs = np.log(r["sde"])
            edges = np.linspace(*np.percentile(logs, [0.1, 99.9]), 61)
            ax.hist(np.log(r["net"]), bins=edges, density=True, color="0.7", label=net_label)
            ax.hist(logs, bins=edges, density=True, histtype="step", color="C0", lw=1.5,
                    label=f"SDE paths, T = {T_LONG:g}")
            ax.set_xlabel(f"log V at T = {T_LONG:g}")
        ax.set_ylabel("density")
        ax.set_title(f"{r['label']}: k = {r['k']:.3g}, {r['regime']}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    report.figures.append(save_figure(fig, figure_dir, "norm_stability_long_run"))
