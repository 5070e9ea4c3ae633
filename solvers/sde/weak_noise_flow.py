"""One weak order 2 step of the zero-drift covariance flow: V ← L N_Δ Lᵀ.

N_Δ is the expansion of :mod:`covsde.derive.noise_flow_expansion` (SymPy-derived, generated as
numpy code by ``NoiseFlowExpansion.numeric``), the flow started at the identity; by congruence
(chol(L N Lᵀ) = L chol(N)) the flow from V = L Lᵀ is L N_Δ Lᵀ with the same Brownian increments,
so one fixed expansion serves every state.  The first order of N_Δ is the GOE increment S of the
Euler scheme, so on a shared Brownian path this step and Euler's L S Lᵀ agree to first order (the
coupling the benchmarks use).
"""
from __future__ import annotations

import numpy as np

from covsde.solvers.sde.symmetric_noise import psd_factor


def flow_increment(w, x, y, dt: float, m: int):
    """The k = m(m+1)/2 upper-triangle entries of N_Δ, each (P,).

    w (k, P): Brownian increments ΔW^j = sqrt(dt) z_j; x, y (k, P): area variables (signs ±1).
    """
    from covsde.derive.noise_flow_expansion import noise_flow_expansion
    return noise_flow_expansion(m).numeric("numpy")(*w, *x, *y, dt)


def noise_flow_step(V, w, x, y, dt: float):
    """L N_Δ Lᵀ for V (P, m, m) PSD; returns (V_new (P, m, m) symmetric, failed (P,) bool).

    ``failed`` flags states that were not PSD and were projected before factorisation.
    """
    P, m = V.shape[0], V.shape[-1]
    entries = flow_increment(w, x, y, dt, m)
    L, failed = psd_factor(V)
    if m == 2:
        n11, n12, n22 = (np.broadcast_to(e, (P,)) for e in entries)
        l11, l21, l22 = L[:, 0, 0], L[:, 1, 0], L[:, 1, 1]
        # L N Lᵀ with L = [[l11, 0], [l21, l22]]
        a = l21 * n11 + l22 * n12                      # (L N)_21
        b = l21 * n12 + l22 * n22                      # (L N)_22
        out = np.empty_like(V)
        out[:, 0, 0] = l11 * l11 * n11
        out[:, 0, 1] = l11 * (l21 * n11 + l22 * n12)
        out[:, 1, 0] = out[:, 0, 1]
        out[:, 1, 1] = a * l21 + b * l22
        return out, failed
    N = np.empty((P, m, m))
    iu, ju = np.triu_indices(m)
    for e, i, j in zip(entries, iu, ju):
        N[:, i, j] = e
        N[:, j, i] = e
    out = L @ N @ np.swapaxes(L, -1, -2)
    return 0.5 * (out + np.swapaxes(out, -1, -2)), failed
