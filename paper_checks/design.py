"""Design targets checked in finite networks and against DKS/TAT (Martens et al. 2021; Zhang et al. 2022).

1. TAT's leaky-ReLU slope alpha(L) for C_f(0) = 0.9 at depth L = 100, from covsde's kernel map,
   against the ``dks`` package (or, when it is not installed, the composed closed form of Zhang et
   al. 2022, eq. (10)); DKS's input scale and shift for tanh against the package when it is installed.
2. sqrt(L) (1 - alpha(L)) approaches the shaped ReLU-like design |c-| with rho(1) = 0.9 of the mean
   ODE as L grows (SPEC §6): the gap shrinks at every step of L.
3. At finite width the finite-width design (E[rho_T] = eta under the SDE, target 2) beats the
   infinite-width one (rho(T) = eta of the mean ODE, target 1) on finite networks: eta = 0.5 at
   T = d/n = 4, n = 64, exact covariance chain (and literal weights in the full run).
4. The stationary-mean design of x + 0.1 x^2 + beta x^3 is the long-run mean of the norm SDE, and
   x + alpha x^2 is refused for it.
5. The ResNet branch scale for rho(1) = 0.6 in wide finite ResNets.
"""
from __future__ import annotations

import numpy as np

from covsde.derive import InputError, as_activation, derive_sde

from .report import CheckReport, pyplot, save_figure

ETA_TAT, DEPTH_TAT = 0.9, 100


def _tat_reference(eta, depth):
    """(slope, source) from the dks package, else from the closed-form C-map composed (bisection)."""
    try:
        from dks.base.activation_transform import _get_activations_params

        def whole_network(x, local_map):
            for _ in range(depth):
                x = local_map(x)
            return x
        params = _get_activations_params(["leaky_relu"], method="TAT", tat_params={"c_val_0_target": eta},
                                         subnet_max_func=whole_network)
        return float(params["leaky_relu"]["negative_slope"]), "dks package"
    except ImportError:
        pass

    def composed(alpha):
        c = 0.0
        for _ in range(depth):
            c = ((1 - alpha) ** 2 * (np.sqrt(1 - c * c) + (np.pi - np.arccos(c)) * c) / np.pi
                 + 2 * alpha * c) / (1 + alpha**2)
        return c
    from scipy.optimize import brentq
    return float(brentq(lambda a: composed(a) - eta, 0.0, 1.0, xtol=1e-14)), "Zhang et al. 2022 eq. (10), bisection"


def _dks_reference():
    """The dks package's DKS parameters for tanh, zeta = 1.5, L = 10 (None when it is not installed)."""
    try:
        from dks.base.activation_transform import _get_activations_params
    except ImportError:
        return None
    with np.errstate(over="ignore"):
        params = _get_activations_params(["tanh"], method="DKS", dks_params={"c_slope_1_target": 1.5},
                                         max_slope_func=lambda x: x ** 10)["tanh"]
    return {name: float(value) for name, value in params.items()}


def _network_rho(c_minus, width, depth, networks, seed, method):
    from covsde.solvers import correlation, simulate_mlp
    samples = simulate_mlp(as_activation("relu", c_plus=0, c_minus=c_minus), V0=np.eye(2), width=width,
                           depth=depth, networks=networks, seed=seed, layers=[-1], method=method)
    rho = correlation(samples.V[:, -1])[:, 0, 1]
    return float(rho.mean()), float(rho.std(ddof=1) / np.sqrt(rho.size))


def run(quick: bool = False, seed: int = 0, figure_dir=None) -> CheckReport:
    from covsde.design import solve
    from covsde.design.unshaped_maps import tat_negative_slope
    from covsde.solvers import simulate_norm, simulate_resnet
    report = CheckReport("design", "design targets: DKS/TAT, the shaped limit, and finite networks")

    # 1. TAT slope against dks
    ours = solve("leaky_relu", "tat", eta=ETA_TAT, depth=DEPTH_TAT, width=DEPTH_TAT)
    reference, source = _tat_reference(ETA_TAT, DEPTH_TAT)
    report.add(f"TAT leaky-ReLU slope, C_f(0) = {ETA_TAT} at L = {DEPTH_TAT}", reference, ours.value, 1e-7,
               note=f"reference: {source} (solved to 1e-8)")
    dks_reference = _dks_reference()
    if dks_reference is not None:
        mine = solve("tanh", "dks", value=1.5, depth=10).parameters
        for name in ("input_scale", "input_shift"):
            report.add(f"DKS tanh {name}, C_f'(1) = 1.5 at L = 10", dks_reference[name], mine[name],
                       1e-7 * abs(dks_reference[name]), note="reference: dks package")

    # 2. sqrt(L)(1 - alpha(L)) -> shaped constant
    shaped = abs(solve("relu", "correlation", eta=ETA_TAT, T=1.0, predict=False).value)
    depths = (30, 100, 300) if quick else (30, 100, 300, 1000, 3000)
    scaled = [np.sqrt(L) * (1 - tat_negative_slope(ETA_TAT, L)[0]) for L in depths]
    gaps = [abs(s - shaped) for s in scaled]
    for L, previous, gap in zip(depths[1:], gaps[:-1], gaps[1:]):
        report.add(f"|sqrt(L)(1 - alpha(L)) - |c-|| shrinks, L = {L}", previous, gap, 0.0, kind="at_most",
                   note=f"sqrt(L)(1 - alpha) = {scaled[depths.index(L)]:.4f}, |c-| = {shaped:.4f}")

    # 3. finite-width vs infinite-width design on finite networks
    eta, T, width = 0.5, 4.0, 64
    depth = int(T * width)
    networks = 800 if quick else 3000
    infinite = solve("relu", "correlation", eta=eta, T=T, width=width)
    finite = solve("relu", "finite-correlation", eta=eta, T=T)
    net_inf = _network_rho(infinite.value, width, depth, networks, seed + 1, "chain")
    net_fin = _network_rho(finite.value, width, depth, networks, seed + 2, "chain")
    report.add(f"finite-width design: E rho on finite nets (n = {width}, T = {T:g}, chain)", eta, net_fin[0],
               4 * net_fin[1], note=f"c- = {finite.value:.4f}, {networks} networks, tolerance 4 SE")
    report.add("|error| finite-width design - |error| infinite-width design", 0.0,
               abs(net_fin[0] - eta) - abs(net_inf[0] - eta), 0.0, kind="at_most",
               note=f"infinite-width c- = {infinite.value:.4f}: nets {net_inf[0]:.4f} ± {net_inf[1]:.4f}, "
                    f"SDE predicts {infinite.prediction.mean:.4f}")
    rows = {"infinite-width design": (infinite.achieved, infinite.prediction.mean, net_inf),
            "finite-width design": (None, finite.achieved, net_fin)}
    if not quick:
        net_w = _network_rho(finite.value, width, depth, 400, seed + 3, "weights")
        report.add(f"finite-width design: E rho on finite nets (n = {width}, T = {T:g}, weights)", eta, net_w[0],
                   4 * net_w[1], note="400 networks with literal weight matrices, tolerance 4 SE")

    # 4. norm law
    norm = solve("x + 0.1*x**2 + beta*x**3", "stationary-mean", value=0.8, predict=False)
    sde = derive_sde("x + 0.1*x**2 + beta*x**3", beta=norm.value)
    paths = 1000 if quick else 4000
    V = simulate_norm(sde, 0.8, 20.0, steps=4000, paths=paths, seed=seed + 4).V
    report.add("stationary mean 0.8: long-run mean of the norm SDE (T = 20)", 0.8, float(V.mean()),
               4 * float(V.std(ddof=1) / np.sqrt(V.size)) + 0.005,
               note=f"beta = {norm.value:.6f}; tolerance 4 SE + log-Euler bias 0.005")
    try:
        solve("x + alpha*x**2", "stationary-mean", value=0.8)
        refused = 0.0
    except InputError:
        refused = 1.0
    report.add("x + alpha*x**2 refused for stationary mean 0.8 (k = 3 alpha^2 >= 0)", 1.0, refused, 0.0)

    # 5. ResNet branch scale
    resnet = solve("relu", "resnet-correlation", eta=0.6, predict=False)
    n = 128 if quick else 256
    q = simulate_resnet("relu", Q0=np.eye(2), width=n, depth=n, alpha=resnet.value / np.sqrt(n),
                        networks=100 if quick else 200, seed=seed + 5, layers=[-1]).q[:, -1]
    rho = q[:, 0, 1] / np.sqrt(q[:, 0, 0] * q[:, 1, 1])
    se = float(rho.std(ddof=1) / np.sqrt(rho.size))
    report.add(f"ResNet branch scale for rho(1) = 0.6: finite ResNets n = L = {n}", 0.6, float(rho.mean()),
               4 * se + 0.012, note=f"scale {resnet.value:.4f}; tolerance 4 SE + 2 % (SPEC §2 at n = L = 256)")
    rows["ResNet scale"] = (resnet.achieved, None, (float(rho.mean()), se))
    report.settings = {"TAT": f"eta = {ETA_TAT}, L = {DEPTH_TAT}", "MLP": f"eta = {eta}, T = {T:g}, n = {width}, "
                       f"{networks} networks", "seed": seed}

    plt = pyplot()
    if plt is not None and figure_dir is not None:
        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
        names = list(rows)
        x = np.arange(len(names))
        targets = [eta, eta, 0.6]
        left.scatter(x, targets, marker="_", s=900, color="k", label="target")
        inf_vals = [r[0] if r[0] is not None else np.nan for r in rows.values()]
        sde_vals = [r[1] if r[1] is not None else np.nan for r in rows.values()]
        left.scatter(x - 0.15, inf_vals, marker="o", label="infinite width (mean ODE / kernel ODE)")
        left.scatter(x, sde_vals, marker="s", label="finite-width SDE prediction")
        left.errorbar(x + 0.15, [r[2][0] for r in rows.values()], yerr=[2 * r[2][1] for r in rows.values()],
                      fmt="^", label="finite networks (± 2 SE)")
        left.set_xticks(x, names, fontsize=8)
        left.set_ylabel("E[rho] at the output")
        left.set_title(f"target vs achieved (MLP: n = {width}, T = {T:g})")
        left.legend(fontsize=7, loc="center")
        right.semilogx(depths, scaled, "o-", label="TAT: sqrt(L) (1 - alpha(L))")
        right.axhline(shaped, color="k", ls="--", lw=1, label=f"shaped design |c-| = {shaped:.3f}")
        right.set_xticks(depths, [str(L) for L in depths])
        right.minorticks_off()
        right.set_xlabel("depth L")
        right.set_title(f"TAT leaky ReLU, C_f(0) = {ETA_TAT}")
        right.legend(fontsize=8)
        report.figures.append(save_figure(fig, figure_dir, "design"))
    return report
