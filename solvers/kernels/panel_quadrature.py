"""E[phi(Z_a) phi(Z_b)] by Gauss-Legendre panels placed from the variances and phi's features.

The rule for any plain activation (kinks, jumps, decaying envelopes, saturation, oscillation) at
input variances from 1e-4 to 1e4 and correlations up to |rho| = 1 - 1e-6. It uses the conditional
form (Z_a = sa u, Z_b = kappa Z_a + s v, kappa = rho sb / sa, s = sb sqrt(1 - rho^2), u, v iid N(0, 1)):

    F = E_u[ phi(sa u) g(sa u) ],    g(x) = E_v[ phi(kappa x + s v) ],

which stays accurate as rho -> +-1, where a tensor rule in (u, v) would need to resolve a
Gaussian of width s in a direction it does not know; at |rho| = 1 (s = 0) g(x) = phi(kappa x).

Both 1-D integrals are written in the argument of phi (x-space) with the Gaussian density as the
weight, over [c - 9 sigma, c + 9 sigma] (the weight beyond is < 3e-18 relative), and split into
panels of ``PANEL_NODES`` Gauss-Legendre nodes at the union of

- a Gaussian grid c + sigma j, j = -9, -6, ..., 9 (enough where phi is a polynomial, a constant or zero);
- phi's kinks and jumps (exact splits: the integrand is smooth inside each panel);
- a feature grid of spacing H (H = 2 h, or 8 h for entire phi of exponential type such as cos;
  h phi's shortest length scale) where phi is not simple: within ``feature_radius`` of its kinks
  and 0 (inf when it oscillates for ever);
- for the outer integral, the features of g: each kink k of phi gives a Gaussian grid of width
  s/|kappa| around k/kappa (g's smoothed kink), and phi's feature grid mapped by 1/kappa, unless
  s >= H and phi does not oscillate (g = phi * N(0, s^2) is then smooth on the scale s; for an
  oscillating phi the convolution damps the features but does not remove them).

Panels of 16 nodes on a width of 2h resolve functions analytic in a strip of half-width ~h/2
(tanh, sigmoid, softplus: Bernstein ellipse ratio ~3.4, error ~1e-17); on 8h entire functions of
exponential type (error ~(e 4 / 32)^32 ~ 1e-15); on 3 sigma the Gaussian (~1e-18). A grid needing more than ``PANEL_LIMIT`` panels
(phi varying on a scale far below sigma with no end, e.g. cos(1000 x) at variance 1e4) is refused
with InputError rather than returned inaccurate.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from covsde.derive import InputError

#: Gauss-Legendre nodes per panel.
PANEL_NODES = 16
#: Feature panel width in units of phi's length scale h: general, and entire of exponential type.
FEATURE_PANEL_SCALES = 2.0
EXPONENTIAL_TYPE_PANEL_SCALES = 8.0
#: Half-width of the Gaussian window, in standard deviations.
GAUSSIAN_HALF_WIDTH = 9
#: Most feature panels one window may need before the rule refuses.
PANEL_LIMIT = 20_000
#: Integrand evaluations per chunk (memory bound: a few arrays of this many float64).
_CHUNK = 1 << 21

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(PANEL_NODES)
#: The Gaussian grid, in standard deviations: panels of width 3 (the Gaussian is entire and grows like
#: e^{y^2/2} off the axis: 20 nodes on a half-width 1.5 leave ~1e-23).
_GRID = np.arange(-GAUSSIAN_HALF_WIDTH, GAUSSIAN_HALF_WIDTH + 1, 3, dtype=np.float64)


@dataclass(frozen=True)
class PanelLayout:
    """Where phi needs nodes, from :class:`covsde.derive.plain_activation.PlainActivation`.

    Attributes
    ----------
    kinks : ndarray, (k,)
        Points where phi or a derivative jumps.
    width : float
        Feature panel width H (x-space).
    radius : float
        Feature panels cover |x| <= radius (inf: everywhere).
    name : str
        The activation's name, for messages.
    """

    kinks: np.ndarray
    width: float
    radius: float
    name: str = "phi"


def panel_layout(kinks, feature_scale, feature_radius, exponential_type, name="phi") -> PanelLayout:
    """The layout for phi's kinks, length scale h, feature radius and type (see the module docstring)."""
    scales = EXPONENTIAL_TYPE_PANEL_SCALES if exponential_type else FEATURE_PANEL_SCALES
    return PanelLayout(np.asarray(kinks, dtype=np.float64), scales * float(feature_scale),
                       float(feature_radius), name)


def panel_pairs(phi, layout: PanelLayout, sa, sb, rho):
    """E[phi(Z_a) phi(Z_b)] for standard deviations sa, sb and correlation rho (arrays (P,)).

    Parameters
    ----------
    phi : callable
        Vectorised float64 numpy function.
    layout : PanelLayout
    sa, sb, rho : ndarray, (P,)
        rho within [-1, 1].

    Returns
    -------
    ndarray, (P,)
    """
    sa, sb, rho = (np.asarray(v, dtype=np.float64).ravel() for v in (sa, sb, rho))
    swap = sb > sa                                   # the wider variable outside (F is symmetric)
    sa, sb = np.where(swap, sb, sa), np.where(swap, sa, sb)
    out = np.empty(sa.size, dtype=np.float64)
    zero = sa == 0
    if zero.any():
        out[zero] = phi(np.zeros(1))[0] ** 2
    for p in np.flatnonzero(~zero):
        out[p] = _pair(phi, layout, sa[p], sb[p], rho[p])
    return out


def _feature_count(layout, sigma):
    """Feature grid points a window of half-width 9 sigma can hold."""
    if layout.radius == 0:
        return 0
    span = 2 * GAUSSIAN_HALF_WIDTH * sigma
    if np.isfinite(layout.radius):
        span = min(span, 2 * (layout.radius + np.max(np.abs(layout.kinks), initial=0.0)))
    count = int(np.ceil(span / layout.width)) + 2
    if count > PANEL_LIMIT:
        raise InputError(
            f"E[phi(Z_a) phi(Z_b)] for {layout.name} at standard deviation {sigma:.3g} needs {count} "
            f"quadrature panels of width {layout.width:.3g} (phi varies on that scale without end); "
            f"the limit is {PANEL_LIMIT}: use smaller variances or an activation with a closed form")
    return count


def _feature_points(layout, lo, hi, count, spacing, scale=1.0):
    """``count`` points of the grid of the given spacing within [lo, hi] and phi's feature region
    (|x| <= reach * scale; scale = 1/|kappa| for g's features), rows of lo, hi; points past the end
    are clipped onto it (zero-width panels)."""
    region = (layout.radius + np.max(np.abs(layout.kinks), initial=0.0)) * scale
    start = np.maximum(lo, -region)
    stop = np.maximum(np.minimum(hi, region), start)
    first = np.ceil(start / spacing)
    points = (first[:, None] + np.arange(count)[None, :]) * spacing
    return np.clip(points, start[:, None], stop[:, None])


def _nodes(breakpoints, center, sigma):
    """Gauss-Legendre nodes and weights x Gaussian density N(center, sigma^2) on the panels between
    sorted breakpoints (rows). Returns x, w of shape (rows, panels * PANEL_NODES)."""
    left, right = breakpoints[:, :-1], breakpoints[:, 1:]
    half = (right - left) / 2
    x = ((left + right) / 2)[:, :, None] + half[:, :, None] * _NODES
    z = (x - center[:, None, None]) / sigma[:, None, None]
    w = half[:, :, None] * _WEIGHTS * np.exp(-z * z / 2) / (np.sqrt(2 * np.pi) * sigma[:, None, None])
    rows = breakpoints.shape[0]
    return x.reshape(rows, -1), w.reshape(rows, -1)


def _window(center, sigma, layout, extra=()):
    """Sorted breakpoints (rows, K) covering [center - 9 sigma, center + 9 sigma] for centers (rows,)
    at one sigma: Gaussian grid, kinks, feature grid and ``extra`` columns (rows, e)."""
    lo, hi = center - GAUSSIAN_HALF_WIDTH * sigma, center + GAUSSIAN_HALF_WIDTH * sigma
    parts = [center[:, None] + sigma * _GRID[None, :]]
    if layout.kinks.size:
        parts.append(np.broadcast_to(layout.kinks[None, :], (center.size, layout.kinks.size)))
    count = _feature_count(layout, sigma)
    if count:
        parts.append(_feature_points(layout, lo, hi, count, layout.width))
    parts.extend(extra)
    points = np.clip(np.concatenate(parts, axis=1), lo[:, None], hi[:, None])
    return np.sort(points, axis=1)


def _inner(phi, layout, m, s):
    """g = E_v[phi(m + s v)] for centers m (N,) at one s > 0, chunked."""
    out = np.empty(m.size, dtype=np.float64)
    sigma = np.full(1, s)
    width = _GRID.size + layout.kinks.size + _feature_count(layout, s)
    rows = max(1, _CHUNK // (width * PANEL_NODES))
    for start in range(0, m.size, rows):
        center = m[start:start + rows]
        x, w = _nodes(_window(center, s, layout), center, np.broadcast_to(sigma, center.shape))
        out[start:start + rows] = np.einsum("ij,ij->i", phi(x), w)
    return out


def _pair(phi, layout, sa, sb, rho):
    kappa = rho * sb / sa
    s = sb * np.sqrt(max(1.0 - rho * rho, 0.0))
    extra = []
    if kappa != 0 and sb > 0:
        if layout.kinks.size:                     # g's smoothed kinks around k / kappa
            around = (layout.kinks[:, None] + s * _GRID[None, :]).ravel() / kappa
            extra.append(around[None, :])
        count = _feature_count(layout, sa * abs(kappa))
        if s >= layout.width and np.isfinite(layout.radius):
            count = 0                             # g = phi * N(0, s^2) is smooth on the scale s
        if count:                                 # phi's features seen through g(x) = G(kappa x)
            spacing = layout.width / abs(kappa)
            lo, hi = np.array([-GAUSSIAN_HALF_WIDTH * sa]), np.array([GAUSSIAN_HALF_WIDTH * sa])
            extra.append(_feature_points(layout, lo, hi, count, spacing, scale=1 / abs(kappa)))
    center = np.zeros(1)
    x, w = _nodes(_window(center, sa, layout, extra), center, np.full(1, sa))
    x, w = x[0], w[0]
    keep = w != 0
    x, w = x[keep], w[keep]
    if s == 0:
        g = phi(kappa * x)
    else:
        g = _inner(phi, layout, kappa * x, s)
    return float(np.dot(phi(x) * g, w))
