"""The unshaped DKS/TAT local maps of leaky ReLU, from covsde's own Gaussian kernel map.

DKS and TAT (Martens et al. 2021, arXiv 2110.01765, §3; Zhang et al. 2022, arXiv 2203.08120, §3)
describe an infinitely wide MLP layer by its local Q-map q -> E[phi(sqrt(q) z)^2] and C-map
c -> E[phi(u) phi(v)] / Q(1) for unit-variance (u, v) of correlation c, and the network by their
L-fold composition. For leaky ReLU with negative slope alpha, phi_alpha(x) = max(x, 0) + alpha min(x, 0)
= relu(x) - alpha relu(-x), times TAT's output scale sqrt(2/(1 + alpha^2)) (Zhang et al. 2022, §5):

    E[phi_alpha(u) phi_alpha(v)] = (1 + alpha^2) K(c) - 2 alpha K(-c),   K(c) = E[relu(u) relu(v)],

because (u, -v) has correlation -c. K comes from :func:`covsde.solvers.gaussian_kernel_map` for
"relu" (the arc-cosine kernel, Cho & Saul 2009), so

    C_alpha(c) = 2 [(1 + alpha^2) K(c) - 2 alpha K(-c)] / (1 + alpha^2),   Q_alpha(q) = q,

which is the closed form of Zhang et al. 2022, eq. (10) (SPEC §6): the tests compare the two.
TAT picks alpha with C_alpha composed L times sending 0 to eta (Zhang et al. 2022, §5, eq. (9)
with the maximal C value over subnetworks that of the whole network for a plain MLP).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def _relu_kernel_map():
    from covsde.solvers import gaussian_kernel_map
    return gaussian_kernel_map("relu")


def relu_kernel(c):
    """K(c) = E[relu(u) relu(v)] for unit variances and correlation c (covsde's kernel map)."""
    c = np.asarray(c, dtype=np.float64)
    return _relu_kernel_map().pairs(np.ones_like(c), np.ones_like(c), c)


def leaky_relu_c_map(c, negative_slope):
    """The local C-map of TAT's leaky ReLU (output scale sqrt(2/(1 + alpha^2))), elementwise."""
    c, alpha = np.broadcast_arrays(np.asarray(c, dtype=np.float64), np.asarray(negative_slope, dtype=np.float64))
    both = relu_kernel(np.stack([c, -c]))
    return 2.0 * ((1.0 + alpha**2) * both[0] - 2.0 * alpha * both[1]) / (1.0 + alpha**2)


def leaky_relu_q_map(q, negative_slope):
    """The local Q-map q -> (2/(1 + alpha^2)) E[phi_alpha(sqrt(q) z)^2] (= q: TAT's output scale)."""
    q, alpha = np.broadcast_arrays(np.asarray(q, dtype=np.float64), np.asarray(negative_slope, dtype=np.float64))
    F = _relu_kernel_map()
    return 2.0 * (1.0 + alpha**2) * F.pairs(q, q, q) / (1.0 + alpha**2)


def composed_c_map(c0, negative_slope, depth: int):
    """C_alpha composed ``depth`` times at c0 (alpha may be an array: one composition per slope)."""
    c = np.broadcast_to(np.asarray(c0, dtype=np.float64), np.shape(negative_slope)).copy()
    for _ in range(int(depth)):
        c = np.clip(leaky_relu_c_map(c, negative_slope), -1.0, 1.0)
    return c


def tat_negative_slope(eta: float, depth: int, c0: float = 0.0, *, rounds: int = 4, points: int = 255):
    """The slope alpha in [0, 1] with C_alpha^{(depth)}(c0) = eta, by vectorised multisection.

    The composed map decreases in alpha from its ReLU value (alpha = 0) to c0 (alpha = 1, the
    identity). Each round evaluates ``points`` slopes inside the bracket at once (one composition of
    arrays), so the cost is ``rounds`` compositions; the bracket shrinks by (points + 1) per round.

    Returns
    -------
    (alpha, achieved, reachable) with reachable = (c0, C_0^{(depth)}(c0)).
    """
    from covsde.derive import InputError
    ends = composed_c_map(c0, np.array([1.0, 0.0]), depth)
    reachable = (float(min(ends)), float(max(ends)))
    if not reachable[0] <= eta <= reachable[1]:
        raise InputError(f"no leaky-ReLU slope in [0, 1] reaches C(c0 = {c0:g}) = {eta:g} at depth {depth}: "
                         f"the reachable range is [{reachable[0]:.6g}, {reachable[1]:.6g}]")
    lo, hi = 0.0, 1.0                  # value(lo) >= eta >= value(hi)
    for _ in range(rounds):
        grid = np.linspace(lo, hi, points + 2)
        values = composed_c_map(c0, grid, depth)
        above = np.flatnonzero(values >= eta)
        i = int(above[-1]) if above.size else 0
        i = min(i, points)
        lo, hi = float(grid[i]), float(grid[i + 1])
        v_lo, v_hi = float(values[i]), float(values[i + 1])
    alpha = lo if v_lo == v_hi else lo + (v_lo - eta) / (v_lo - v_hi) * (hi - lo)
    return alpha, float(composed_c_map(c0, np.array([alpha]), depth)[0]), reachable
