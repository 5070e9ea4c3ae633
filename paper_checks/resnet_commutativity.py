"""ResNet kernels: the width and depth limits commute (SPEC §2; Hayou & Yang 2023, arXiv 2302.00453).

Finite ResNets Y_l = Y_{l-1} + alpha_{l,L} W_l phi(Y_{l-1}) / sqrt(n) (relu and tanh, plain phi,
two inputs with Gram matrix Q0) are sampled with the exact covariance chain of
:func:`covsde.solvers.networks.finite_resnet.simulate_resnet` over a grid of widths n and depths L, with
uniform branches alpha = 1/sqrt(L). Their kernel q_L is compared with the solution q(1) of the
ODE dq/dt = F_phi(q) (:func:`covsde.solvers.kernels.resnet_kernel.resnet_kernel`) in two ways:

* the L2 error of one network, e(n, L) = sqrt(E ||q_L - q(1)||_F^2) / ||q(1)||_F: what
  "q_L -> q(1) in probability" is about. It has an O(1/L) part (the infinite-width recursion is
  the Euler scheme of the ODE) and an O(n^-1/2) part (the kernel of one network fluctuates around
  its mean with variance O(1/n), at any depth: depth alone does not concentrate, width does).
  The three routes - width first (n = n_max, L growing), depth first (L = L_max, n growing) and
  jointly (n = L) - must each show a falling error; the heat map shows e over the (n, L) grid.
* the error of the mean kernel, ||mean_i q_L^i - q(1)||_F / ||q(1)||_F: at the largest grid
  point it must be below the recursion's O(1/L) error (estimated as 2 |q_2L - q_L| from the
  recursion alone), plus the O(1/n) width bias (the mean's distance to the recursion at the
  smallest width, plus 4 se, times n_min / n), plus 4 Monte Carlo standard errors.

Standard errors come from the sample: for the mean kernel, sqrt(sum_ab Var(q^ab) / N) / ||q(1)||
(the RMS size of the Monte Carlo error of the Frobenius norm); for e, the delta method on the
mean of the squared errors. Each grid point uses its own independent seed.

A decreasing branch schedule alpha_l = l^-beta with beta = 3/4 has sum_l alpha_l^2 < zeta(3/2):
the kernel stays bounded as L grows. Since E[phi(Z)^2] <= c q for Z ~ N(0, q) (c = 1/2 for relu,
exactly; c = 1 for tanh, as tanh(x)^2 <= x^2), q_L^aa <= q_0^aa exp(c zeta(2 beta)) at every L.
Finite networks follow the infinite-width recursion at every L; beta = 1/2 (sum alpha^2 = H_L,
divergent) passes the same bound.
"""
from __future__ import annotations

import numpy as np
from scipy.special import zeta

from covsde.solvers.networks.finite_resnet import simulate_resnet
from covsde.solvers.kernels.resnet_kernel import resnet_kernel, resnet_kernel_recursion

from .report import CheckReport, pyplot, save_figure

#: Gram matrix of the two inputs, q_0 = <x_a, x_b> / n0.
Q0 = np.array([[1.0, 0.4], [0.4, 0.7]])
ACTIVATIONS = ("relu", "tanh")
#: c with E[phi(Z)^2] <= c E[Z^2]: relu exactly 1/2, tanh 1 (tanh(x)^2 <= x^2).
SECOND_MOMENT_BOUND = {"relu": 0.5, "tanh": 1.0}
BETA = 0.75
Z = 4.0     # standard errors in every Monte Carlo tolerance


def _settings(quick: bool) -> dict:
    if quick:
        return dict(widths=(16, 64, 256), depths=(1, 4, 16, 64, 256), networks=200, corner_networks=1000,
                    wide_width=16384, wide_depths=(1, 2, 4),
                    schedule_width=64, schedule_depths=(16, 64, 256), schedule_networks=200)
    return dict(widths=(16, 64, 256, 1024), depths=(1, 4, 16, 64, 256, 1024), networks=400, corner_networks=1600,
                wide_width=65536, wide_depths=(1, 2, 4, 8, 16),
                schedule_width=256, schedule_depths=(16, 64, 256, 1024), schedule_networks=400)


def kernel_errors(q: np.ndarray, reference: np.ndarray, target: np.ndarray) -> dict:
    """Errors of sampled kernels q (N, m, m) against ``target``; ``reference`` normalises.

    Returns the L2 error of one network ``rms`` = sqrt(mean_i ||q_i - target||^2) / ||reference||
    with its delta-method standard error ``rms_se``, and the error of the mean kernel ``mean`` =
    ||mean_i q_i - target|| / ||reference|| with ``mean_se`` = sqrt(sum_ab Var q^ab / N) / ||reference||
    (Frobenius norms).
    """
    N = q.shape[0]
    scale = np.linalg.norm(reference)
    squared = np.sum((q - target) ** 2, axis=(1, 2)) / scale ** 2
    rms = np.sqrt(squared.mean())
    rms_se = squared.std(ddof=1) / np.sqrt(N) / (2 * rms)
    mean = np.linalg.norm(q.mean(axis=0) - target) / scale
    mean_se = np.sqrt(q.var(axis=0, ddof=1).sum() / N) / scale
    return dict(rms=rms, rms_se=rms_se, mean=mean, mean_se=mean_se)


def _route_claims(report, label, points, grid):
    """Claims that the L2 error falls along a route of grid points."""
    e = np.array([grid[p]["rms"] for p in points])
    se = np.array([grid[p]["rms_se"] for p in points])
    rises = (e[1:] - e[:-1]) / np.hypot(se[1:], se[:-1])
    report.add(f"{label}: largest rise between steps [se]", Z, float(rises.max()), 0.0, kind="at_most",
               note="monotone within standard errors")
    report.add(f"{label}: last error", float(e[0] - Z * np.hypot(se[0], se[-1])), float(e[-1]), 0.0,
               kind="at_most", note=f"first {e[0]:.4g}, falls by > {Z:g} se")


def _schedule_depth_scales(beta):
    """alpha(s) for resnet_kernel_recursion at depth L so that alpha_{l,L} = l^-beta."""
    return lambda L: (lambda s: np.sqrt(L) * (s * L) ** (-beta))


def run(quick: bool = False, seed: int = 0, figure_dir=None) -> CheckReport:
    cfg = _settings(quick)
    report = CheckReport("resnet_commutativity",
                         "ResNet kernel: width and depth limits commute, dq/dt = F(q) (Hayou & Yang 2023)")
    widths, depths, N = cfg["widths"], cfg["depths"], cfg["networks"]
    report.settings = {"Q0": Q0.tolist(), "widths": widths, "depths": depths, "networks": N,
                       "networks at (n_max, L_max)": cfg["corner_networks"],
                       "width first": f"n = {cfg['wide_width']}, L = {cfg['wide_depths']}",
                       "schedule": f"alpha_l = l^-{BETA}, n = {cfg['schedule_width']}"}
    streams = iter(np.random.SeedSequence(seed).spawn(2 * (len(widths) + 1) * len(depths) + 64))
    n_max, L_max, n_min = widths[-1], depths[-1], widths[0]
    n_wide = cfg["wide_width"]
    results = {}
    for act in ACTIVATIONS:
        ode = resnet_kernel(act, Q0).q
        all_depths = sorted(set(depths) | set(cfg["wide_depths"]))
        recursion = {L: resnet_kernel_recursion(act, Q0, depth=L) for L in all_depths}
        rec_error = {L: np.linalg.norm(recursion[L] - ode) / np.linalg.norm(ode) for L in all_depths}
        grid = {}
        cells = [(n, L) for n in widths for L in depths] + [(n_wide, L) for L in cfg["wide_depths"]]
        for n, L in cells:
            count = cfg["corner_networks"] if (n, L) == (n_max, L_max) else N
            q = simulate_resnet(act, Q0=Q0, width=n, depth=L, networks=count, seed=next(streams),
                                layers=[L]).final
            grid[n, L] = kernel_errors(q, ode, ode)
            grid[n, L]["vs_recursion"] = kernel_errors(q, recursion[L], recursion[L])["mean"]

        # infinite width (the width-first limit taken exactly): Euler error O(1/L)
        deep = [L for L in depths if L >= 16]
        slopes = np.diff(np.log([rec_error[L] for L in deep])) / np.diff(np.log(deep))
        report.add(f"{act} n=inf recursion vs ODE: order in 1/L", -1.0, float(slopes[-1]),
                   float(abs(slopes[-1] - slopes[-2])) + 1e-3,
                   note=f"L={deep[-1]}: {rec_error[deep[-1]]:.2e}; tol = change of slope (O(1/L^2))")

        routes = {"width first (n=%d, L up)" % n_wide: [(n_wide, L) for L in cfg["wide_depths"]],
                  "depth first (L=%d, n up)" % L_max: [(n, L_max) for n in widths],
                  "jointly (n = L)": [(n, n) for n in widths if n in depths]}
        for label, points in routes.items():
            _route_claims(report, f"{act} {label}", points, grid)

        # depth first: the error is the O(1/n) fluctuation of one network, so n e^2 is constant
        (n1, n2) = widths[-2:]
        mse1, mse2 = grid[n1, L_max]["rms"] ** 2, grid[n2, L_max]["rms"] ** 2
        rel1 = 2 * grid[n1, L_max]["rms_se"] / grid[n1, L_max]["rms"]
        rel2 = 2 * grid[n2, L_max]["rms_se"] / grid[n2, L_max]["rms"]
        slope = np.log(mse2 / mse1) / np.log(n2 / n1)
        slope_se = np.hypot(rel1, rel2) / np.log(n2 / n1)
        # tolerance: Monte Carlo, plus the O(1/n) correction to the variance (n_1 e^2 vs n_2 e^2
        # differ by a relative O(1/n_1)), plus the recursion's squared bias at L_max
        report.add(f"{act} depth first: slope of e^2 in n (fluctuations O(1/n))", -1.0, float(slope),
                   float(Z * slope_se + 1.0 / n1 / np.log(n2 / n1) + rec_error[L_max] ** 2 / mse2),
                   note=f"n={n1}..{n2}")

        # mean kernel at the largest grid point: O(1/L) + O(1/n) + Monte Carlo. The O(1/L) Euler
        # error of the recursion is estimated from the recursion alone (Richardson: q_L - q(1) =
        # C/L + O(1/L^2), so |q_L - q(1)| ~ 2 |q_2L - q_L|), not from the ODE under test.
        euler = 2 * np.linalg.norm(resnet_kernel_recursion(act, Q0, depth=2 * L_max) - recursion[L_max]) \
            / np.linalg.norm(recursion[L_max])
        corner = grid[n_max, L_max]
        small = grid[n_min, L_max]
        width_bias = (small["vs_recursion"] + Z * small["mean_se"]) * n_min / n_max
        report.add(f"{act} mean kernel at n={n_max}, L={L_max} vs ODE", euler + width_bias,
                   float(corner["mean"]), float(Z * corner["mean_se"]), kind="at_most",
                   note=f"O(1/L) {euler:.1e} + O(1/n) bound {width_bias:.1e} + {Z:g} se")
        results[act] = dict(grid=grid, rec_error=rec_error, ode=ode)

    schedule = _decreasing_schedule(report, cfg, streams, results)
    _figures(report, figure_dir, widths, depths, results, schedule)
    return report


def _decreasing_schedule(report, cfg, streams, results):
    """alpha_l = l^-beta, beta = 3/4: bounded kernel; beta = 1/2: unbounded (SPEC §2)."""
    n, depths, N = cfg["schedule_width"], cfg["schedule_depths"], cfg["schedule_networks"]
    widths = cfg["widths"]
    bound_sum = zeta(2 * BETA)
    scales = _schedule_depth_scales(BETA)
    curves = {}
    for act in ACTIVATIONS:
        bound = np.exp(SECOND_MOMENT_BOUND[act] * bound_sum)
        # O(1/n) width bias of the mean, bounded from the grid's smallest width (uniform branches)
        small = results[act]["grid"][widths[0], cfg["depths"][-1]]
        width_bias = (small["vs_recursion"] + Z * small["mean_se"]) * widths[0] / n
        recursion, finite, finite_se, z_scores = [], [], [], []
        for L in depths:
            rec = resnet_kernel_recursion(act, Q0, depth=L, alpha=scales(L))
            alpha = np.arange(1, L + 1) ** (-BETA)
            q = simulate_resnet(act, Q0=Q0, width=n, depth=L, alpha=alpha, networks=N,
                                seed=next(streams), layers=[L]).final
            err = kernel_errors(q, rec, rec)
            recursion.append(np.diag(rec) / np.diag(Q0))
            finite.append(np.diag(q.mean(axis=0)) / np.diag(Q0))
            finite_se.append(np.sqrt(np.diag(q.var(axis=0, ddof=1)) / N) / np.diag(Q0))
            z_scores.append((err["mean"] - width_bias) / err["mean_se"])
        recursion, finite, finite_se = map(np.array, (recursion, finite, finite_se))
        report.add(f"{act} alpha_l=l^-{BETA}: recursion q_L^aa/q_0^aa, max over L", float(bound),
                   float(recursion.max()), 0.0, kind="at_most",
                   note=f"bound exp({SECOND_MOMENT_BOUND[act]:g} zeta({2 * BETA:g}))")
        report.add(f"{act} alpha_l=l^-{BETA}: finite q_L^aa/q_0^aa, max over L", float(bound),
                   float((finite - Z * finite_se).max()), 0.0, kind="at_most",
                   note=f"n={n}, mean - {Z:g} se")
        report.add(f"{act} alpha_l=l^-{BETA}: finite mean vs recursion, max over L [se]", Z,
                   float(max(z_scores)), 0.0, kind="at_most", note="after the O(1/n) bias bound")
        divergent = [np.diag(resnet_kernel_recursion(act, Q0, depth=L, alpha=_schedule_depth_scales(0.5)(L)))
                     / np.diag(Q0) for L in depths]
        if act == "relu":   # q_L^aa = q_0^aa prod_l (1 + 1/(2l)) ~ sqrt(L) / Gamma(3/2): unbounded
            report.add(f"{act} alpha_l=l^-1/2 (sum diverges): recursion at L={depths[-1]}", float(bound),
                       float(np.max(divergent[-1])), 0.0, kind="at_least", note="passes the beta=3/4 bound")
        curves[act] = dict(recursion=recursion, finite=finite, finite_se=finite_se,
                           divergent=np.array(divergent), bound=bound, depths=np.array(depths),
                           uniform=np.diag(results[act]["ode"]) / np.diag(Q0), width=n)
    return curves


def _figures(report, figure_dir, widths, depths, results, schedule):
    plt = pyplot()
    if plt is None or figure_dir is None:
        return
    from matplotlib.colors import LogNorm

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    for ax, act in zip(axes, ACTIVATIONS):
        grid = results[act]["grid"]
        E = np.array([[grid[n, L]["rms"] for L in depths] for n in widths])
        image = ax.imshow(E, origin="lower", cmap="viridis", norm=LogNorm(), aspect="auto")
        for i in range(len(widths)):
            for j in range(len(depths)):
                ax.text(j, i, f"{100 * E[i, j]:.1f}%", ha="center", va="center", fontsize=7,
                        color="w" if E[i, j] < np.sqrt(E.min() * E.max()) else "k")
        ax.set_xticks(range(len(depths)), [str(L) for L in depths])
        ax.set_yticks(range(len(widths)), [str(n) for n in widths])
        ax.set_xlabel("depth L")
        ax.set_ylabel("width n")
        ax.set_title(f"{act}: L2 error of q_L vs ODE q(1)")
        fig.colorbar(image, ax=ax, label="sqrt(E||q_L - q(1)||^2) / ||q(1)||")
    report.figures.append(save_figure(fig, figure_dir, "resnet_commutativity_heatmap"))

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    for ax, act in zip(axes, ACTIVATIONS):
        grid, rec_error = results[act]["grid"], results[act]["rec_error"]
        L_max = depths[-1]
        n_wide = max(n for (n, L) in grid)
        wide = sorted(L for (n, L) in grid if n == n_wide)
        for label, xs, points, marker in (
                (f"width first: n={n_wide}, x = L", wide, [(n_wide, L) for L in wide], "o-"),
                (f"depth first: L={L_max}, x = n", widths, [(n, L_max) for n in widths], "s-"),
                ("jointly: x = n = L", [n for n in widths if n in depths],
                 [(n, n) for n in widths if n in depths], "^-")):
            e = np.array([grid[p]["rms"] for p in points])
            se = np.array([grid[p]["rms_se"] for p in points])
            ax.errorbar(xs, e, yerr=Z * se, fmt=marker, capsize=3, label=label)
        every = sorted(rec_error)
        ax.loglog(every, [rec_error[L] for L in every], "k--", label="n = inf (recursion), x = L")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("n or L along the route")
        ax.set_ylabel("relative error vs ODE at t = 1")
        ax.set_title(f"{act}: three routes to the limit (bars: {Z:g} se)")
        ax.legend(fontsize=8)
    report.figures.append(save_figure(fig, figure_dir, "resnet_commutativity_routes"))

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    for ax, act in zip(axes, ACTIVATIONS):
        c = schedule[act]
        ax.plot(c["depths"], c["recursion"][:, 0], "o-", label=f"recursion, alpha_l = l^-{BETA}")
        ax.errorbar(c["depths"], c["finite"][:, 0], yerr=Z * c["finite_se"][:, 0], fmt="x", capsize=3,
                    ms=9, label=f"finite networks (n={c['width']})")
        ax.plot(c["depths"], c["divergent"][:, 0], "s:", label="recursion, alpha_l = l^-1/2")
        ax.axhline(c["uniform"][0], color="g", lw=1, label="uniform 1/sqrt(L): ODE q(1)")
        ax.axhline(c["bound"], color="k", ls="--", lw=1, label="bound exp(c zeta(2 beta))")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("depth L")
        ax.set_ylabel("q_L^11 / q_0^11")
        ax.set_title(f"{act}: decreasing branch scales")
        ax.legend(fontsize=8, loc="center right")
    report.figures.append(save_figure(fig, figure_dir, "resnet_commutativity_schedule"))
