"""Deep linear networks: the output is a log-normal scale mixture of Gaussians (SPEC §3).

Bassetti, Ladelli & Rotondo 2024 (arXiv 2411.15267): a deep linear network of width N and depth L
(hidden layers h_0..h_L) with L/N -> alpha has, for one input with Gram K = |x|^2/n0, the output

    f = e^(xi/2) g,    g ~ N(0, K),    xi ~ N(-alpha, 2 alpha)  independent.

At finite size the law is exact too: given the network f ~ N(0, V_L), and V_L = K prod_{l=0}^{L} chi^2_N/N
(each hidden layer is one Wishart step), so

    kurtosis E f^4 / (E f^2)^2 = 3 (1 + 2/N)^(L+1)  ->  3 e^(2 alpha),
    dependence ratio E[f_1^2 f_2^2] / (E f_1^2 E f_2^2) = (1 + 2/N)^(L+1)  ->  e^(2 alpha)

for two outputs f_1, f_2 of one input (iid N(0, V_L) given the network: uncorrelated, dependent),
since E (chi^2_N/N)^2 = 1 + 2/N.

The check samples finite networks with :func:`covsde.solvers.networks.finite_linear.simulate_deep_linear` at
alpha in {0.25, 0.5, 1} and compares:

* sample kurtosis and dependence ratio with both formulas; standard errors by the delta method
  (influence functions) from the sample; the limit's tolerance adds the exact gap between the
  finite-size and the limit value;
* the output distribution with (a) the exact finite-size law, (b) the limit mixture and (c) the
  plain Gaussian N(0, K): Kolmogorov–Smirnov distances against the critical value at level 1 %,
  and the mean log-likelihood ratio per sample of the mixture over the Gaussian (> 4 standard errors).
  Distribution functions come from the characteristic function of log|f| (Gil-Pelaez inversion):
  E|f|^(iu) = K^(iu/2) E e^(iu S/2) 2^(iu/2) Gamma((1 + iu)/2) / sqrt(pi), S = xi in the limit and
  S = log prod chi^2_N/N with E (chi^2_N/N)^(iv) = (2/N)^(iv) Gamma(N/2 + iv) / Gamma(N/2) at finite N.
* that the limit mixture is the limit: the KS distance between the exact finite-size law and the
  mixture, at L = alpha N, falls like 1/N (N = 16..1024; deterministic; measured order).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import loggamma
from scipy.stats import kstest, kstwo, norm

from covsde.solvers.networks.finite_linear import simulate_deep_linear

from .report import CheckReport, pyplot, save_figure

ALPHAS = (0.25, 0.5, 1.0)
K = 1.5                 # input Gram |x|^2 / n0 (one input)
Z = 4.0                 # standard errors in every Monte Carlo tolerance
KS_LEVEL = 0.01


def mixing_law(alpha: float) -> tuple[float, float]:
    """Mean and variance of the log-variance xi of the limit mixture: N(-alpha, 2 alpha) (SPEC §3)."""
    return -alpha, 2.0 * alpha


def finite_kurtosis(width: int, depth: int) -> float:
    """E f^4 / (E f^2)^2 = 3 (1 + 2/N)^(L+1) for one output of a deep linear network (SPEC §3)."""
    return 3.0 * (1.0 + 2.0 / width) ** (depth + 1)


def mixture_density(x, alpha: float, K: float = K, nodes: int = 120):
    """Density of f = e^(xi/2) g, g ~ N(0, K), xi ~ mixing_law(alpha): Gauss–Hermite over xi."""
    mean, var = mixing_law(alpha)
    u, w = hermegauss(nodes)
    xi = mean + np.sqrt(var) * u
    sd = np.sqrt(K * np.exp(xi))
    x = np.asarray(x, dtype=np.float64)
    return (norm.pdf(x[..., None] / sd) / sd) @ (w / w.sum())


def _log_chi2_charfun(v, width: int):
    """E (chi^2_N/N)^(iv) = (2/N)^(iv) Gamma(N/2 + iv) / Gamma(N/2)."""
    return np.exp(1j * v * np.log(2.0 / width) + loggamma(width / 2 + 1j * v) - loggamma(width / 2))


def log_abs_output_cdf(y, log_variance_charfun, K: float = K, h: float = 0.05, U: float = 50.0):
    """P(log|f| <= y) for f = e^(S/2) g, g ~ N(0, K), by Gil-Pelaez inversion.

    ``log_variance_charfun(v)`` is E e^(iv S). The integrand Im(e^(-iuy) phi(u))/u is even and
    analytic in u, so the midpoint rule on [0, U] converges geometrically (aliasing needs
    2 pi / h larger than the range of log|f|).
    """
    u = np.arange(h / 2, U, h)
    phi = (log_variance_charfun(u / 2) * np.exp(1j * u * np.log(K) / 2 + 1j * u * np.log(2) / 2
                                                + loggamma((1 + 1j * u) / 2)) / np.sqrt(np.pi))
    y = np.atleast_1d(np.asarray(y, dtype=np.float64))
    integrand = np.imag(np.exp(-1j * np.outer(y, u)) * phi) / u
    return 0.5 - integrand.sum(axis=1) * h / np.pi


LOG_ABS_GRID = np.linspace(-16.0, 8.0, 2401)


@lru_cache(maxsize=64)
def _log_abs_table(kind, width, depth, mixing):
    """P(log|f| <= y) on LOG_ABS_GRID (cached; ``mixing`` keys the mixing law in use)."""
    if kind == "finite":
        charfun = lambda v: _log_chi2_charfun(v, width) ** (depth + 1)     # noqa: E731
    else:
        mean, var = mixing
        charfun = lambda v: np.exp(1j * v * mean - var * v * v / 2)        # noqa: E731
    return np.clip(log_abs_output_cdf(LOG_ABS_GRID, charfun), 0.0, 1.0)


def output_cdf(kind: str, alpha: float, width: int | None = None, depth: int | None = None):
    """The distribution function of one output as a callable, tabulated in log|x|.

    kind : "finite" (exact law at width N, depth L) or "mixture" (the limit with mixing_law).
    """
    if kind == "finite":
        G = _log_abs_table("finite", width, depth, None)
    else:
        G = _log_abs_table("mixture", None, None, tuple(mixing_law(alpha)))
    grid = LOG_ABS_GRID

    def cdf(x):
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(divide="ignore"):
            inner = np.interp(np.log(np.abs(x)), grid, G, left=0.0, right=1.0)
        return 0.5 + np.sign(x) * inner / 2
    cdf.table = (grid, G)
    return cdf


def finite_to_limit_distance(alpha: float, width: int) -> float:
    """sup_x |F_N(x) - F_mixture(x)| at depth L = alpha N (deterministic)."""
    depth = int(round(alpha * width))
    _, G_finite = output_cdf("finite", alpha, width, depth).table
    _, G_limit = output_cdf("mixture", alpha).table
    return float(np.max(np.abs(G_finite - G_limit)) / 2)


def kurtosis_with_se(f):
    """Sample kurtosis m4/m2^2 and its delta-method standard error."""
    m2, m4 = np.mean(f ** 2), np.mean(f ** 4)
    k = m4 / m2 ** 2
    influence = (f ** 4 - m4) / m2 ** 2 - 2 * m4 * (f ** 2 - m2) / m2 ** 3
    return k, influence.std(ddof=1) / np.sqrt(f.size)


def dependence_ratio_with_se(f1, f2):
    """E[f1^2 f2^2] / (E f1^2 E f2^2) and its delta-method standard error."""
    a, b = f1 ** 2, f2 ** 2
    ma, mb, mab = a.mean(), b.mean(), (a * b).mean()
    r = mab / (ma * mb)
    influence = (a * b - mab) / (ma * mb) - r * (a - ma) / ma - r * (b - mb) / mb
    return r, influence.std(ddof=1) / np.sqrt(a.size)


def _settings(quick: bool) -> dict:
    if quick:
        return dict(width=8, networks=60_000, order_widths=(32, 64, 128, 256))
    return dict(width=32, networks=200_000, order_widths=(16, 32, 64, 128, 256, 512, 1024))


def run(quick: bool = False, seed: int = 0, figure_dir=None) -> CheckReport:
    cfg = _settings(quick)
    N, networks = cfg["width"], cfg["networks"]
    report = CheckReport("deep_linear_mixture",
                         "deep linear nets: output = log-normal scale mixture of Gaussians (Bassetti et al. 2024)")
    report.settings = {"N": N, "alphas": ALPHAS, "networks": networks, "K": K,
                       "KS level": KS_LEVEL, "order widths": cfg["order_widths"]}
    streams = np.random.SeedSequence(seed).spawn(len(ALPHAS))
    critical = float(kstwo.ppf(1 - KS_LEVEL, networks))
    panels = []
    for alpha, stream in zip(ALPHAS, streams):
        L = int(round(alpha * N))
        sample = simulate_deep_linear(K=[[K]], width=N, depth=L, outputs=2, networks=networks, seed=stream)
        f1, f2 = sample.outputs[:, 0, 0], sample.outputs[:, 0, 1]
        tag = f"a={alpha:g} (L={L})"

        kurt, kurt_se = kurtosis_with_se(f1)
        finite, limit = finite_kurtosis(N, L), 3 * np.exp(2 * alpha)
        report.add(f"{tag} kurtosis vs 3(1+2/N)^(L+1)", finite, kurt, Z * kurt_se, note=f"se {kurt_se:.3g}")
        report.add(f"{tag} kurtosis vs 3e^(2a)", limit, kurt, Z * kurt_se + abs(finite - limit),
                   note=f"+ finite-size gap {abs(finite - limit):.3g}")
        ratio, ratio_se = dependence_ratio_with_se(f1, f2)
        report.add(f"{tag} E[f1^2 f2^2]/(E f1^2 E f2^2) vs (1+2/N)^(L+1)", finite / 3, ratio, Z * ratio_se,
                   note=f"se {ratio_se:.3g}")
        report.add(f"{tag} E[f1^2 f2^2]/(E f1^2 E f2^2) vs e^(2a)", limit / 3, ratio,
                   Z * ratio_se + abs(finite - limit) / 3, note="+ finite-size gap")

        finite_cdf, mixture_cdf = output_cdf("finite", alpha, N, L), output_cdf("mixture", alpha)
        gap = finite_to_limit_distance(alpha, N)
        ks_finite = kstest(f1, finite_cdf).statistic
        ks_mixture = kstest(f1, mixture_cdf).statistic
        ks_gauss = kstest(f1, norm(scale=np.sqrt(K)).cdf).statistic
        report.add(f"{tag} KS(sample, exact finite law)", critical, ks_finite, 0.0, kind="at_most",
                   note=f"KS critical value at {KS_LEVEL:g}")
        report.add(f"{tag} KS(sample, limit mixture)", critical + gap, ks_mixture, 0.0, kind="at_most",
                   note=f"critical + KS(finite law, mixture) = {gap:.2g}")
        report.add(f"{tag} KS(sample, Gaussian N(0,K))", critical, ks_gauss, 0.0, kind="at_least",
                   note="the plain Gaussian is rejected")
        llr = np.log(mixture_density(f1, alpha)) - norm.logpdf(f1, scale=np.sqrt(K))
        llr_se = llr.std(ddof=1) / np.sqrt(llr.size)
        report.add(f"{tag} log-lik per sample, mixture - Gaussian", Z * llr_se, float(llr.mean()), 0.0,
                   kind="at_least", note=f"> {Z:g} se = {Z * llr_se:.2g}")

        widths = cfg["order_widths"]
        gaps = np.array([finite_to_limit_distance(alpha, n) for n in widths])
        slopes = np.diff(np.log(gaps)) / np.diff(np.log(widths))
        report.add(f"{tag} KS(finite law, mixture) order in 1/N", -1.0, float(slopes[-1]),
                   float(abs(slopes[-1] - slopes[-2])) + 0.02,
                   note=f"N={widths[-1]}: {gaps[-1]:.2e}; tol = change of slope + 0.02")
        panels.append(dict(alpha=alpha, L=L, f=f1, kurt=kurt, kurt_se=kurt_se, ratio=ratio,
                           ratio_se=ratio_se, finite_cdf=finite_cdf, gaps=gaps))

    _figures(report, figure_dir, N, panels)
    return report


def _figures(report, figure_dir, N, panels):
    plt = pyplot()
    if plt is None or figure_dir is None:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4))
    for ax, p in zip(axes, panels):
        scale = np.sqrt(K)
        edges = np.linspace(-6 * scale, 6 * scale, 121)
        ax.hist(p["f"], bins=edges, density=True, color="0.75", label=f"finite nets (N={N}, L={p['L']})")
        x = np.linspace(edges[0], edges[-1], 1201)
        grid_x = np.linspace(edges[0], edges[-1], 4801)
        finite_pdf = np.gradient(p["finite_cdf"](grid_x), grid_x)
        ax.plot(grid_x, finite_pdf, "C2:", lw=2, label="exact finite-size law")
        ax.plot(x, mixture_density(x, p["alpha"]), "C0-", lw=1.5, label="limit: log-normal mixture")
        ax.plot(x, norm.pdf(x, scale=scale), "C3--", lw=1.2, label="Gaussian N(0, K)")
        ax.set_yscale("log")
        ax.set_ylim(1e-4, None)
        ax.set_xlabel("output f")
        ax.set_ylabel("density")
        ax.set_title(f"alpha = L/N = {p['alpha']:g}")
        ax.legend(fontsize=8)
    report.figures.append(save_figure(fig, figure_dir, "deep_linear_mixture_histogram"))

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    a = np.linspace(0, 1.05, 200)
    alphas = [p["alpha"] for p in panels]
    axes[0].plot(a, 3 * np.exp(2 * a), "k-", label="limit 3 e^(2 alpha)")
    axes[0].plot(a, [finite_kurtosis(N, int(round(x * N))) for x in a], "C1:",
                 label=f"finite 3 (1 + 2/N)^(L+1), N = {N}")
    axes[0].errorbar(alphas, [p["kurt"] for p in panels], yerr=[Z * p["kurt_se"] for p in panels],
                     fmt="o", capsize=4, label=f"finite networks ({Z:g} se)")
    axes[0].axhline(3, color="C3", ls="--", lw=1, label="Gaussian: 3")
    axes[0].set_xlabel("alpha = L/N")
    axes[0].set_ylabel("kurtosis E f^4 / (E f^2)^2")
    axes[0].legend(fontsize=8)
    axes[0].set_title("output kurtosis")
    axes[1].plot(a, np.exp(2 * a), "k-", label="limit e^(2 alpha)")
    axes[1].plot(a, [finite_kurtosis(N, int(round(x * N))) / 3 for x in a], "C1:",
                 label=f"finite (1 + 2/N)^(L+1), N = {N}")
    axes[1].errorbar(alphas, [p["ratio"] for p in panels], yerr=[Z * p["ratio_se"] for p in panels],
                     fmt="o", capsize=4, label=f"finite networks ({Z:g} se)")
    axes[1].axhline(1, color="C3", ls="--", lw=1, label="independent outputs: 1")
    axes[1].set_xlabel("alpha = L/N")
    axes[1].set_ylabel("E[f1^2 f2^2] / (E f1^2 E f2^2)")
    axes[1].legend(fontsize=8)
    axes[1].set_title("two outputs: uncorrelated but dependent")
    report.figures.append(save_figure(fig, figure_dir, "deep_linear_mixture_kurtosis"))
