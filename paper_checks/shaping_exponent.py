"""Critical shaping exponent for activations with phi''(0) = phi'''(0) = 0 (SPEC §1, general order).

For phi = x - x^5/5 the first non-vanishing term of n (c E[phi_s(x) phi_s(y)] - R) is of order
s^-4, so the critical shaping is s = n^(1/4) and the drift is b = 6R - 3R(A^2 + B^2)
(normalized, a = 1). The check measures n (c E - R) by 2-D Gauss–Hermite quadrature of the
shaped activation itself (no Taylor expansion, no Wick algebra) at growing n, for three exponents:
- s = n^(1/4): converges to the symbolic drift (extrapolated in 1/n);
- s = n^(1/2): vanishes like 1/n (the linear, zero-drift limit);
- s = n^(1/6): diverges like n^(1/3).
A second, non-polynomial activation x exp(-x^4) (also phi'' = phi''' = 0 at 0) is checked the same way.
"""
from __future__ import annotations

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from covsde.derive import as_activation, derive_sde

from .report import CheckReport, pyplot, save_figure

A0, B0, R0 = 1.2, 0.8, 0.3
NODES = 80


def covariance_gap(phi, n: float, exponent: float, A=A0, B=B0, R=R0, nodes=NODES) -> float:
    """n (c E[phi_s(x) phi_s(y)] - R), (x, y) ~ N(0, [[A, R], [R, B]]), c^-1 = E[phi_s(w)^2].

    phi_s(x) = s phi(x/s), s = n**exponent; 2-D Gauss–Hermite (probabilists') quadrature.
    """
    u, w = hermegauss(nodes)
    w = w / w.sum()
    s = n ** exponent
    shaped = lambda z: s * phi(z / s)
    x = np.sqrt(A) * u[:, None]
    y = R / np.sqrt(A) * u[:, None] + np.sqrt(B - R * R / A) * u[None, :]
    E = np.sum(w[:, None] * w[None, :] * shaped(x) * shaped(y))
    c = 1.0 / np.sum(w * shaped(u) ** 2)
    return n * (c * E - R)


def _slope(ns, values):
    return np.polyfit(np.log(ns), np.log(np.abs(values)), 1)[0]


def run(quick: bool = False, seed: int = 0, figure_dir=None) -> CheckReport:
    report = CheckReport("shaping_exponent", "critical shaping s = a n^(1/q) when phi''(0) = phi'''(0) = 0")
    ns = np.logspace(5 if quick else 4, 7 if quick else 8, 3 if quick else 5)
    report.settings = {"V": f"A={A0}, B={B0}, R={R0}", "n": f"{ns[0]:.0e}..{ns[-1]:.0e}",
                       "quadrature": f"{NODES}x{NODES} Gauss-Hermite"}
    curves = {}
    for text in ("x - x**5/5", "x*exp(-x**4)"):
        sde = derive_sde(text)
        phi = as_activation(text).numpy()
        q = sde.order
        report.add(f"{text}: critical exponent 1/q", 0.25, float(sde.exponent), 0.0,
                   note="derived symbolically")
        predicted = float(sde.pairwise_drift_function()(A0, B0, R0))
        at_critical = np.array([covariance_gap(phi, n, 1.0 / q) for n in ns])
        # error O(n^-1) (next even order): Richardson on the last two points
        r = ns[-1] / ns[-2]
        extrapolated = (r * at_critical[-1] - at_critical[-2]) / (r - 1)
        # quadrature is exact to rounding for these smooth integrands; the tolerance is the size of
        # the last Richardson correction plus float64 cancellation in c E - R (1e-16 n / |R|)
        tol = abs(extrapolated - at_critical[-1]) + 50 * np.finfo(float).eps * ns[-1]
        report.add(f"{text}: n(cE-R) at s=n^(1/{q}) -> drift", predicted, extrapolated, max(tol, 1e-6),
                   note=f"b = {sde.drift_expr}")
        faster = np.array([covariance_gap(phi, n, 0.5) for n in ns])
        slower = np.array([covariance_gap(phi, n, 1.0 / (q + 2)) for n in ns])
        # slopes: n^(1 - 4/2) = n^-1 at s = n^(1/2), fitted where n (c E - R) ~ 1/n is still far
        # above float64 cancellation (n <= 1e6); n^(1 - 4/6) = n^(1/3) at s = n^(1/6), fitted on the
        # last two widths (the next order is n^(-2/3) smaller)
        clean = ns <= 1.01e6
        report.add(f"{text}: slope at s=n^(1/2) (zero-drift limit)", 1 - q / 2,
                   _slope(ns[clean], faster[clean]), 0.02)
        report.add(f"{text}: slope at s=n^(1/{q + 2}) (divergent)", 1 - q / (q + 2),
                   _slope(ns[-2:], slower[-2:]), 0.02)
        curves[text] = (predicted, at_critical, faster, slower, q)

    plt = pyplot()
    if plt is not None and figure_dir is not None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        for ax, (text, (pred, crit, fast, slow, q)) in zip(axes, curves.items()):
            ax.loglog(ns, np.abs(crit), "o-", label=f"s = n^(1/{q}) (critical)")
            clean = ns <= 1.01e6   # beyond, n (c E - R) ~ 1/n sinks below float64 cancellation
            ax.loglog(ns[clean], np.abs(fast[clean]), "s-", label="s = n^(1/2) (→ 0 like 1/n)")
            ax.loglog(ns, np.abs(slow), "^-", label=f"s = n^(1/{q + 2})")
            ax.axhline(abs(pred), color="k", ls="--", lw=1, label=f"|symbolic drift| = {abs(pred):.4g}")
            ax.set_xlabel("width n")
            ax.set_ylabel("|n (c E[phi_s phi_s] - R)|")
            ax.set_title(f"phi = {text}")
            ax.legend(fontsize=8)
        report.figures.append(save_figure(fig, figure_dir, "shaping_exponent"))
    return report
