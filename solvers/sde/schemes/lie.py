"""Geometric (Lie-group) Euler: drift in Euler form, then the multiplicative noise as a congruence.

With V = L Lᵀ, the zero-drift SDE is solved by V = L Lᵀ with dL = L (dH − (m/4) I dt),
H = G/sqrt 2 (Itô), because then dV = L (dH + dHᵀ) Lᵀ + L dH dHᵀ Lᵀ − (m/2) V dt = L S Lᵀ.  In
Stratonovich form dL = L ∘ (dH − ((m+1)/4) I dt), whose first Magnus step is
L ← L expm(ΔH) e^{−(m+1)Δt/4}.  The scheme applies the drift in Euler form and then this
multiplicative noise:

    W = V + b(V) Δt = L Lᵀ,   V_new = e^{−(m+1)Δt/2} (L A)(L A)ᵀ,   A = expm(ΔG/sqrt 2).

V_new is PSD by construction (a congruence of W).  For m = 1 it is the exact log-normal step
V_new = W exp(sqrt 2 ΔW − Δt), exact for the linear activation and strong order 1 with a drift (it
agrees with Milstein to O(Δt^{3/2})); for m ≥ 2 the noise does not commute (Lévy areas are not
sampled) so the strong order is 1/2; weak order 1 (E[V_new | V] = W + O(Δt²)).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

from covsde.solvers.sde.scheme import Scheme
from covsde.solvers.sde.step_size import drift_rate, max_dt_of_rate
from covsde.solvers.sde.symmetric_noise import psd_factor


class LieEuler(Scheme):
    """Drift in Euler form, noise as the congruence V ← e^{−(m+1)Δt/2} (L A)(L A)ᵀ, A = expm(ΔG/√2)."""

    name = "lie"
    weak_order = 1.0
    strong_order = 0.5          # 1.0 for m = 1 (commutative noise)

    def normal_count(self, m: int) -> int:
        return m * m

    def normals_from_brownian(self, dG, dt):
        """z (m², ...) for the matrix Brownian increment dG (..., m, m), iid N(0, dt)."""
        dG = np.asarray(dG, dtype=np.float64)
        flat = dG.reshape(dG.shape[:-2] + (-1,)) / np.sqrt(dt)
        return np.moveaxis(flat, -1, 0)

    def max_stable_dt(self, sde, V0) -> float:
        """1 / drift rate at V0: the noise is an exact congruence (PSD for any Δt), the drift an
        explicit Euler step W = V + b(V) Δt, which leaves the PSD cone (and is projected to a
        singular state) once Δt |Db| passes 1 — e.g. V ≡ 0 for tanh at Δt = 1e4."""
        return max_dt_of_rate(drift_rate(sde.drift, V0))

    def step(self, V, drift, dt: float, z):
        """One step.  V (P, m, m) PSD, z (m², P).  Returns (V_new, failed (P,) bool)."""
        m = V.shape[-1]
        W = V + drift(V) * dt
        L, failed = psd_factor(W)
        if m == 1:
            growth = np.exp(np.sqrt(2.0 * dt) * z[0] - dt)
            return (L[:, 0, 0] ** 2 * growth)[:, None, None], failed
        X = np.moveaxis(z, 0, -1).reshape(V.shape) * np.sqrt(dt / 2.0)
        shrink = np.exp(-(m + 1) * dt / 2.0)
        if m == 2:
            return _congruence_2x2(L, _expm_2x2(X), shrink), failed
        K = L @ scipy.linalg.expm(X)
        V_new = shrink * (K @ np.swapaxes(K, -1, -2))
        return 0.5 * (V_new + np.swapaxes(V_new, -1, -2)), failed


def _congruence_2x2(L, A, shrink):
    """shrink · (L A)(L A)ᵀ for lower-triangular L, written out (symmetric by construction)."""
    l11, l21, l22 = L[:, 0, 0], L[:, 1, 0], L[:, 1, 1]
    k11 = l11 * A[:, 0, 0]
    k12 = l11 * A[:, 0, 1]
    k21 = l21 * A[:, 0, 0] + l22 * A[:, 1, 0]
    k22 = l21 * A[:, 0, 1] + l22 * A[:, 1, 1]
    out = np.empty_like(L)
    out[:, 0, 0] = shrink * (k11 * k11 + k12 * k12)
    out[:, 0, 1] = shrink * (k11 * k21 + k12 * k22)
    out[:, 1, 0] = out[:, 0, 1]
    out[:, 1, 1] = shrink * (k21 * k21 + k22 * k22)
    return out


def _expm_2x2(X):
    """expm of 2×2 matrices in closed form: X = τI + N, N² = δI, expm X = e^τ (f(δ) I + g(δ) N)."""
    tau = 0.5 * (X[..., 0, 0] + X[..., 1, 1])
    N = X.copy()
    N[..., 0, 0] -= tau
    N[..., 1, 1] -= tau
    delta = N[..., 0, 0] ** 2 + N[..., 0, 1] * N[..., 1, 0]
    s = np.sqrt(np.abs(delta))
    pos = delta >= 0
    f = np.where(pos, np.cosh(s), np.cos(s))
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(s > 1e-8, np.where(pos, np.sinh(s), np.sin(s)) / s, 1.0 + delta / 6.0)
    E = g[..., None, None] * N
    E[..., 0, 0] += f
    E[..., 1, 1] += f
    return np.exp(tau)[..., None, None] * E
