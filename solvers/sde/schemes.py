"""One-step schemes for the covariance SDE dV = b(V) dt + Σ(V)^{1/2} dB (SPEC §1).

Each scheme declares its weak and strong order and implements one ``step``; the driver
(:mod:`covsde.solvers.sde.driver`) owns the loop, the random numbers, saving and explosions.

A step takes standard normals ``z`` of shape (k, P), k = ``scheme.normal_count(m)``, leading axis
indexing the normals, so the driver can draw them per stream without copies.  A test can drive two
schemes (or two step sizes) with the same Brownian path: both are functions of a matrix Brownian
motion G with iid N(0, dt) entries, and ``normals_from_brownian(dG, dt)`` returns the z a scheme
needs for the increment dG.

Schemes
-------
``euler``  Euler–Maruyama with the exact symmetric noise L S Lᵀ (S = (dG + dGᵀ)/sqrt 2):
           weak order 1, strong order 1/2.  Driven by ±1 signs instead of normals it is the
           simplified weak Euler scheme (Kloeden & Platen §14.1): weak order 1, no strong order.
``lie``    Geometric (Lie-group) Euler.  With V = L Lᵀ, the zero-drift SDE is solved by
           V = L Lᵀ with dL = L (dH − (m/4) I dt), H = G/sqrt 2 (Itô), because then
           dV = L (dH + dHᵀ) Lᵀ + L dH dHᵀ Lᵀ − (m/2) V dt = L S Lᵀ.  In Stratonovich form
           dL = L ∘ (dH − ((m+1)/4) I dt), whose first Magnus step is
           L ← L expm(ΔH) e^{−(m+1)Δt/4}.  The scheme applies the drift in Euler form and then
           this multiplicative noise:

               W = V + b(V) Δt = L Lᵀ,   V_new = e^{−(m+1)Δt/2} (L A)(L A)ᵀ,   A = expm(ΔG/sqrt 2).

           V_new is PSD by construction (a congruence of W).  For m = 1 it is the exact
           log-normal step V_new = W exp(sqrt 2 ΔW − Δt), exact for the linear activation and
           strong order 1 with a drift (it agrees with Milstein to O(Δt^{3/2})); for m ≥ 2 the
           noise does not commute (Lévy areas are not sampled) so the strong order is 1/2;
           weak order 1 (E[V_new | V] = W + O(Δt²)).
``strang`` Weak order 2: Strang splitting D(Δt/2) ∘ N(Δt) ∘ D(Δt/2) of the drift flow D and
           the zero-drift (noise) flow N (Strang 1968; Ninomiya & Victoir 2008 for SDEs).  N takes
           one weak order 2 step V ← L N_Δ Lᵀ, N_Δ the Itô–Taylor expansion of the flow from I
           derived by SymPy (:mod:`covsde.derive.noise_flow_expansion`, Kloeden & Platen (14.2.7)); D
           is one explicit midpoint (RK2) step per half (sub-stepped where the drift is stiff);
           ``simulate_sde`` merges the trailing half-step with the next leading one, D(Δt/2) N D(Δt)
           N … D(Δt) N D(Δt/2), except before a saved or final state.  Local weak error O(Δt³),
           global O(Δt²).  Per step: k = m(m+1)/2 normals (the GOE increment, as Euler), 2k signs
           (the Lévy-area substitute) and two drift evaluations.
           Strong order 1/2 (the areas are not sampled path-wise); weak order 2.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from covsde.derive.errors import InputError

from covsde.solvers.sde.symmetric_noise import (goe_from_normals, goe_normals_from_brownian, psd_factor,
                              symmetric_noise_count)
from covsde.solvers.sde.weak_noise_flow import noise_flow_step


@dataclass(frozen=True)
class EulerMaruyama:
    """V_new = V + b(V) Δt + L S Lᵀ, S symmetric Gaussian (SPEC §1 exact noise)."""

    name: str = "euler"
    weak_order: float = 1.0
    strong_order: float = 0.5
    #: increments it accepts (:mod:`covsde.solvers.random_increments`); with "rademacher" it is the
    #: simplified weak Euler scheme: weak order 1, no strong order (Kloeden & Platen §14.1).
    noises: tuple = ("gaussian", "rademacher")

    @staticmethod
    def normal_count(m: int) -> int:
        return symmetric_noise_count(m)

    @staticmethod
    def normals_from_brownian(dG, dt):
        """z (m(m+1)/2, ...) for the matrix Brownian increment dG (..., m, m), iid N(0, dt)."""
        return np.moveaxis(goe_normals_from_brownian(dG, dt), -1, 0)

    def step(self, V, drift, dt: float, z):
        """One step.  V (P, m, m) PSD, z (m(m+1)/2, P) standard normals or, for the weak scheme,
        independent signs ±1.  Returns (V_new, failed (P,) bool)."""
        if V.shape[-1] == 2:
            return _euler_step_2x2(V, drift, dt, z)
        B = drift(V)
        L, failed = psd_factor(V)
        S = goe_from_normals(np.moveaxis(z, 0, -1), dt)
        K = L @ S
        V_new = V + B * dt + K @ np.swapaxes(L, -1, -2)
        return 0.5 * (V_new + np.swapaxes(V_new, -1, -2)), failed


def _euler_step_2x2(V, drift, dt, z):
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
        out[bad], failed[bad] = _euler_step_2x2_repair(V[bad], drift, dt, z[:, bad])
    return out, failed


def _euler_step_2x2_repair(V, drift, dt, z):
    """The tolerant route: project non-PSD V (eigenvalue clipping), factor with zero pivots allowed."""
    L, failed = psd_factor(V)
    V = L @ np.swapaxes(L, -1, -2)
    S = goe_from_normals(np.moveaxis(z, 0, -1), dt)
    V_new = V + drift(V) * dt + L @ S @ np.swapaxes(L, -1, -2)
    return 0.5 * (V_new + np.swapaxes(V_new, -1, -2)), failed


@dataclass(frozen=True)
class LieEuler:
    """Drift in Euler form, noise as the congruence V ← e^{−(m+1)Δt/2} (L A)(L A)ᵀ, A = expm(ΔG/√2)."""

    name: str = "lie"
    weak_order: float = 1.0
    strong_order: float = 0.5          # 1.0 for m = 1 (commutative noise)
    noises: tuple = ("gaussian",)

    @staticmethod
    def normal_count(m: int) -> int:
        return m * m

    @staticmethod
    def normals_from_brownian(dG, dt):
        """z (m², ...) for the matrix Brownian increment dG (..., m, m), iid N(0, dt)."""
        dG = np.asarray(dG, dtype=np.float64)
        flat = dG.reshape(dG.shape[:-2] + (-1,)) / np.sqrt(dt)
        return np.moveaxis(flat, -1, 0)

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


@dataclass(frozen=True)
class StrangSplitting:
    """Weak order 2: D(Δt/2) ∘ N(Δt) ∘ D(Δt/2), the drift flow D by explicit midpoint steps, the
    noise flow N by the SymPy-derived weak order 2 step L N_Δ Lᵀ (see the module docstring)."""

    name: str = "strang"
    weak_order: float = 2.0
    strong_order: float = 0.5
    noises: tuple = ("gaussian",)

    @staticmethod
    def normal_count(m: int) -> int:
        return symmetric_noise_count(m)

    @staticmethod
    def sign_count(m: int) -> int:
        """Signs ±1 per path-step for the Lévy-area substitute: 2 m(m+1)/2."""
        return 2 * symmetric_noise_count(m)

    @staticmethod
    def normals_from_brownian(dG, dt):
        """The k GOE normals for the increment dG (as Euler); the 2k area signs are not a function
        of dG (draw them, e.g. ``rng.choice([-1., 1.], ...)``, and stack them below)."""
        return EulerMaruyama.normals_from_brownian(dG, dt)

    #: the driver may merge the trailing drift half-step of one step with the leading half-step of
    #: the next (``lead=False`` after ``trail=1``): D(Δt/2) N D(Δt) N D(Δt) … N D(Δt/2), two drift
    #: evaluations per step instead of four; still local error O(Δt³) (one RK2 step of Δt)
    merges_half_steps: bool = True

    def step(self, V, drift, dt: float, z, lead: bool = True, trail: float = 0.5):
        """One step D(trail Δt) ∘ N(Δt) ∘ D(Δt/2 if lead else 0).  V (P, m, m), z (3k, P):
        k standard normals, then 2k signs ±1.  The defaults are the symmetric Strang step.
        Returns (V_new, failed (P,) bool)."""
        m = V.shape[-1]
        k = symmetric_noise_count(m)
        if z.shape[0] != 3 * k:
            raise InputError(f"scheme 'strang' needs 3 m(m+1)/2 = {3 * k} inputs per path-step, got {z.shape[0]}")
        if lead:
            V = midpoint_drift_step(V, drift, 0.5 * dt)
        V, failed = noise_flow_step(V, z[:k] * np.sqrt(dt), z[k:2 * k], z[2 * k:], dt)
        return midpoint_drift_step(V, drift, trail * dt), failed


#: A path whose drift would change V by more than this fraction of its size in one step takes
#: sub-steps: explicit RK2 is unstable for Δt |b'(V)| > 2, and a polynomial drift is stiff at the
#: large states a coarse step meets in the tails (sub-stepping only improves the local error).
STIFF_FRACTION = 0.5


def midpoint_drift_step(V, drift, dt: float):
    """Explicit midpoint (RK2) flow of dV/dt = b(V) over Δt: V + Δt b(V + Δt/2 b(V)), local error
    O(Δt³).  Paths with Δt ||b(V)|| > STIFF_FRACTION ||V|| (Frobenius; compared squared) take as
    many equal RK2 sub-steps (a power of 2, at most 2^12) as bring that ratio under STIFF_FRACTION."""
    B = drift(V)
    out = V + dt * drift(V + (0.5 * dt) * B)
    flat_v, flat_b = V.reshape(len(V), -1), B.reshape(len(B), -1)
    size2 = np.einsum("pi,pi->p", flat_v, flat_v)                # squared Frobenius norms
    change2 = (dt * dt) * np.einsum("pi,pi->p", flat_b, flat_b)
    stiff = ~(change2 <= STIFF_FRACTION ** 2 * size2)            # nan counts as stiff
    stiff &= np.isfinite(size2)
    if stiff.any():
        rows = np.flatnonzero(stiff)
        ratio = np.sqrt(change2[rows] / np.maximum(STIFF_FRACTION ** 2 * size2[rows], np.finfo(float).tiny))
        counts = np.minimum(2.0 ** np.ceil(np.log2(np.maximum(ratio, 1.0))), 4096.0)
        for count in np.unique(counts):
            sub = rows[counts == count]
            W, h = V[sub], dt / count
            for _ in range(int(count)):
                W = W + h * drift(W + (0.5 * h) * drift(W))
            out[sub] = W
    return out


SCHEMES = {"euler": EulerMaruyama(), "lie": LieEuler(), "strang": StrangSplitting()}


def get_scheme(scheme):
    """The scheme object for a name in SCHEMES (or a scheme object, returned as is)."""
    if isinstance(scheme, str):
        if scheme not in SCHEMES:
            raise InputError(f"unknown scheme {scheme!r}; choose one of {sorted(SCHEMES)}")
        return SCHEMES[scheme]
    if hasattr(scheme, "step") and hasattr(scheme, "normal_count"):
        return scheme
    raise InputError(f"scheme must be a name in {sorted(SCHEMES)} or a scheme object, got {scheme!r}")
