"""Weak order 2: Strang splitting D(Δt/2) ∘ N(Δt) ∘ D(Δt/2) of the drift flow D and the noise flow N.

Strang (1968); Ninomiya & Victoir (2008) for SDEs.  N takes one weak order 2 step V ← L N_Δ Lᵀ,
N_Δ the Itô–Taylor expansion of the zero-drift flow from I derived by SymPy
(:mod:`covsde.derive.noise_flow_expansion`, Kloeden & Platen (14.2.7); the step:
:mod:`covsde.solvers.sde.weak_noise_flow`); D is one explicit midpoint (RK2) step per half
(sub-stepped where the drift is stiff, :func:`midpoint_drift_step`).  ``simulate_sde`` merges the
trailing half-step with the next leading one, D(Δt/2) N D(Δt) N … D(Δt) N D(Δt/2), except before
a saved or final state.  Local weak error O(Δt³), global O(Δt²).  Per step: k = m(m+1)/2 normals
(the GOE increment, as Euler), 2k signs (the Lévy-area substitute) and two drift evaluations.
Strong order 1/2 (the areas are not sampled path-wise); weak order 2.  Compiled kernel for
m = 1, 2: :mod:`covsde.solvers.sde.compiled.strang_kernel`.
"""
from __future__ import annotations

import numpy as np

from covsde.derive.errors import InputError

from covsde.solvers.sde.scheme import Scheme
from covsde.solvers.sde.step_size import drift_rate, max_dt_of_rate, noise_rate
from covsde.solvers.sde.symmetric_noise import goe_normals_from_brownian, symmetric_noise_count
from covsde.solvers.sde.weak_noise_flow import noise_flow_step


class StrangSplitting(Scheme):
    """Weak order 2: D(Δt/2) ∘ N(Δt) ∘ D(Δt/2), the drift flow D by explicit midpoint steps, the
    noise flow N by the SymPy-derived weak order 2 step L N_Δ Lᵀ (see the module docstring)."""

    name = "strang"
    weak_order = 2.0
    strong_order = 0.5
    #: the driver may merge the trailing drift half-step of one step with the leading half-step of
    #: the next (``lead=False`` after ``trail=1``): D(Δt/2) N D(Δt) N D(Δt) … N D(Δt/2), two drift
    #: evaluations per step instead of four; still local error O(Δt³) (one RK2 step of Δt)
    merges_half_steps = True

    def normal_count(self, m: int) -> int:
        return symmetric_noise_count(m)

    def sign_count(self, m: int) -> int:
        """Signs ±1 per path-step for the Lévy-area substitute: 2 m(m+1)/2."""
        return 2 * symmetric_noise_count(m)

    def normals_from_brownian(self, dG, dt):
        """The k GOE normals for the increment dG (as Euler); the 2k area signs are not a function
        of dG (draw them, e.g. ``rng.choice([-1., 1.], ...)``, and stack them below)."""
        return np.moveaxis(goe_normals_from_brownian(dG, dt), -1, 0)

    def max_stable_dt(self, sde, V0) -> float:
        """1 / max(m + 1, drift rate / MAX_SUBSTEPS) at V0: the noise flow is a polynomial (weak
        order 2) in sqrt(Δt) z, which leaves the PSD cone as Euler's noise does once (m + 1) Δt
        passes 1; the drift is sub-stepped (up to MAX_SUBSTEPS RK2 steps per half-step), so only a
        drift MAX_SUBSTEPS times faster than the step limits it."""
        return max_dt_of_rate(max(noise_rate(V0.shape[-1]), drift_rate(sde.drift, V0) / MAX_SUBSTEPS))

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

    def compiled_step(self, sde, m: int):
        """The numba Strang step for m = 1, 2 (:mod:`covsde.solvers.sde.compiled.strang_kernel`);
        paths it cannot take are redone by :meth:`step`."""
        from covsde.solvers.sde.compiled.compiled_steps import CompiledStep
        from covsde.solvers.sde.compiled.strang_kernel import compiled_strang_kernel
        return CompiledStep(compiled_strang_kernel(sde, m), self.step)


#: A path whose drift would change V by more than this fraction of its size in one step takes
#: sub-steps: explicit RK2 is unstable for Δt |b'(V)| > 2, and a polynomial drift is stiff at the
#: large states a coarse step meets in the tails (sub-stepping only improves the local error).
STIFF_FRACTION = 0.5
#: Most RK2 sub-steps one drift half-step takes.
MAX_SUBSTEPS = 4096


def midpoint_drift_step(V, drift, dt: float):
    """Explicit midpoint (RK2) flow of dV/dt = b(V) over Δt: V + Δt b(V + Δt/2 b(V)), local error
    O(Δt³).  Paths with Δt ||b(V)|| > STIFF_FRACTION ||V|| (Frobenius; compared squared) take as
    many equal RK2 sub-steps (a power of 2, at most MAX_SUBSTEPS = 2^12) as bring that ratio under
    STIFF_FRACTION; a path whose state stops being finite stops sub-stepping (:func:`_midpoint_substeps`)."""
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
        counts = np.minimum(2.0 ** np.ceil(np.log2(np.maximum(ratio, 1.0))), float(MAX_SUBSTEPS))
        for count in np.unique(counts):
            sub = rows[counts == count]
            out[sub] = _midpoint_substeps(V[sub], drift, dt / count, int(count))
    return out


#: Sub-steps between two looks for paths whose state stopped being finite.
_FINITE_CHECK_EVERY = 8


def _midpoint_substeps(W, drift, h: float, count: int):
    """``count`` RK2 steps of size h for each path of W (n, m, m).  A path whose state is no longer
    finite (its drift flow blew up inside the step: b ~ V² explodes in a time 1/(kV) far below a
    coarse Δt) stays non-finite (inf + x is inf or nan), so it leaves the loop at once: the state
    returned for it is non-finite as before, without up to MAX_SUBSTEPS more drift evaluations
    (which made Strang ~30x slower than Euler on exploding SDEs).  The other paths' arithmetic
    is unchanged (every operation is per path)."""
    out = W
    live = None                                   # indices of W still stepped (None: all)
    for i in range(count):
        W = W + h * drift(W + (0.5 * h) * drift(W))
        if (i + 1) % _FINITE_CHECK_EVERY == 0 and i + 1 < count:
            finite = np.isfinite(W.reshape(len(W), -1)).all(axis=1)
            if not finite.all():
                if live is None:
                    out, live = W.copy(), np.arange(len(W))
                out[live] = W
                live, W = live[finite], W[finite]
                if not live.size:
                    return out
    if live is None:
        return W
    out[live] = W
    return out
