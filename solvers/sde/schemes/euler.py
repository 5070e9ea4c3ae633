"""Euler–Maruyama with the exact symmetric noise: V_new = V + b(V) Δt + L S Lᵀ (SPEC §1).

L Lᵀ = V and S = (ΔG + ΔGᵀ)/sqrt 2 the GOE increment (:mod:`covsde.solvers.sde.symmetric_noise`),
whose m(m+1)/2 normals make L S Lᵀ have covariance exactly Σ(V) Δt.  Weak order 1, strong order
1/2 (Kloeden & Platen 1992, §10.2, §14.1).  Driven by signs ±1 instead of normals
(``noise="rademacher"``) it is the simplified weak Euler scheme (Kloeden & Platen §14.1): weak
order 1, no strong order.  Compiled kernel for m = 1, 2:
:mod:`covsde.solvers.sde.compiled.euler_kernel`.
"""
from __future__ import annotations

import numpy as np

from covsde.solvers.sde.scheme import Scheme
from covsde.solvers.sde.symmetric_noise import (goe_from_normals, goe_normals_from_brownian, psd_factor,
                                                symmetric_noise_count)


class EulerMaruyama(Scheme):
    """V_new = V + b(V) Δt + L S Lᵀ, S symmetric Gaussian (SPEC §1 exact noise)."""

    name = "euler"
    weak_order = 1.0
    strong_order = 0.5
    noises = ("gaussian", "rademacher")

    def normal_count(self, m: int) -> int:
        return symmetric_noise_count(m)

    def normals_from_brownian(self, dG, dt):
        """z (m(m+1)/2, ...) for the matrix Brownian increment dG (..., m, m), iid N(0, dt)."""
        return np.moveaxis(goe_normals_from_brownian(dG, dt), -1, 0)

    def step(self, V, drift, dt: float, z):
        """One step.  V (P, m, m) PSD, z (m(m+1)/2, P) standard normals or, for the weak scheme,
        independent signs ±1.  Returns (V_new, failed (P,) bool)."""
        if V.shape[-1] == 2:
            return euler_step_2x2(V, drift, dt, z)
        B = drift(V)
        L, failed = psd_factor(V)
        S = goe_from_normals(np.moveaxis(z, 0, -1), dt)
        K = L @ S
        V_new = V + B * dt + K @ np.swapaxes(L, -1, -2)
        return 0.5 * (V_new + np.swapaxes(V_new, -1, -2)), failed

    def compiled_step(self, sde, m: int):
        """The numba Euler step for m = 1, 2 (:mod:`covsde.solvers.sde.compiled.euler_kernel`)."""
        from covsde.solvers.sde.compiled.compiled_steps import CompiledStep
        from covsde.solvers.sde.compiled.euler_kernel import compiled_euler_kernel
        return CompiledStep(compiled_euler_kernel(sde, m), euler_step_2x2_repair)


def euler_step_2x2(V, drift, dt, z):
    """Euler–Maruyama for m = 2 in closed form (Cholesky and L S Lᵀ written out).

    With L = [[l11, 0], [l21, l22]] and S = [[a, c], [c, b]]:
    (L S Lᵀ)_11 = V11 a, (L S Lᵀ)_12 = V12 a + l11 l22 c, (L S Lᵀ)_22 = l21² a + 2 l21 l22 c + l22² b.
    The fast path does not test V for PSD first: a singular or non-PSD V makes l21 or l22 nan,
    hence the new V22 nan, and only those paths are redone by the tolerant route.  Every operation
    is per path, so a path's numbers do not depend on its batch.
    """
    v11, v12, v22 = V[:, 0, 0], V[:, 0, 1], V[:, 1, 1]
    B = drift(V)
    out = np.empty_like(V)
    s2 = np.sqrt(2.0 * dt)
    with np.errstate(divide="ignore", invalid="ignore"):
        l11 = np.sqrt(v11)
        l21 = v12 / l11
        d = v22 - l21 * l21                # l22², the Schur complement
        lc = np.sqrt(d)
        lc *= z[1]
        lc *= np.sqrt(dt)                  # l22 c
        a = z[0] * s2
        one_a = a + 1.0
        np.add(v11 * one_a, B[:, 0, 0] * dt, out=out[:, 0, 0])
        n12 = out[:, 0, 1]
        np.add(v12 * one_a, B[:, 0, 1] * dt, out=n12)
        n12 += l11 * lc
        out[:, 1, 0] = n12
        lc *= 2.0
        a *= l21
        lc += a
        lc *= l21                          # l21² a + 2 l21 l22 c
        n22 = out[:, 1, 1]
        np.add(v22 + B[:, 1, 1] * dt, lc, out=n22)
        b = z[2] * s2
        b *= d
        n22 += b
    bad = np.isnan(n22)
    failed = np.zeros(V.shape[0], dtype=bool)
    if bad.any():                          # rare: singular or (slightly) non-PSD states
        out[bad], failed[bad] = euler_step_2x2_repair(V[bad], drift, dt, z[:, bad])
    return out, failed


def euler_step_2x2_repair(V, drift, dt, z):
    """The tolerant route: project non-PSD V (eigenvalue clipping), factor with zero pivots allowed."""
    L, failed = psd_factor(V)
    V = L @ np.swapaxes(L, -1, -2)
    S = goe_from_normals(np.moveaxis(z, 0, -1), dt)
    V_new = V + drift(V) * dt + L @ S @ np.swapaxes(L, -1, -2)
    return 0.5 * (V_new + np.swapaxes(V_new, -1, -2)), failed
