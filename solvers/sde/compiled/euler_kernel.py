"""The Euler–Maruyama step for m = 1, 2 compiled with numba: drift, noise, update and explosion test fused.

The kernel of :class:`covsde.solvers.sde.schemes.euler.EulerMaruyama` (its ``compiled_step``).
The NumPy step (:func:`covsde.solvers.sde.schemes.euler.euler_step_2x2`) stays the reference: this
kernel does the same arithmetic in the same order, path by path, in one compiled loop, so for a
given seed the two backends agree up to floating-point rounding (for the built-in activations,
bit for bit).  The step for m = 2, with L = [[l11, 0], [l21, l22]] the Cholesky factor of V and
S = [[sqrt(2Δt) z0, sqrt(Δt) z1], [sqrt(Δt) z1, sqrt(2Δt) z2]] (SPEC §1, exact noise L S Lᵀ):

    V11 ← V11 (1 + a) + b11 Δt,                         a = sqrt(2Δt) z0,
    V12 ← V12 (1 + a) + b12 Δt + l11 l22 sqrt(Δt) z1,
    V22 ← V22 + b22 Δt + l21 (a l21 + 2 l22 sqrt(Δt) z1) + l22² sqrt(2Δt) z2;

for m = 1, V ← V + b(V, V, V) Δt + sqrt(2Δt) z V (with V clipped at 0 inside the square root).
b^{ab} = b(V^aa, V^bb, V^ab) is the derived drift (:mod:`.generated_drift`).  A path whose new
state is nan (a singular or non-PSD V: l22 = nan) is redone by the NumPy repair route
(:func:`covsde.solvers.sde.schemes.euler.euler_step_2x2_repair`, projection onto the PSD cone).
"""
from __future__ import annotations

import math

import numpy as np

from covsde.solvers.sde.compiled.generated_drift import cached_kernel


def compiled_euler_kernel(sde, m: int):
    """The compiled Euler step for ``sde`` at m = 1 or 2, cached per drift.

    ``kernel(X, Y, z, dt, threshold) -> count``: X, Y (3 or 1, P) rows of V now / after the step,
    z (k, P) the step's standard variables; count = number of paths that need the driver's
    attention (|trace| not ≤ threshold, a nan state, or for m = 1 a negative V before the step).
    Compiled here on a dummy path (about a second), so processes forked later inherit it.
    """
    return cached_kernel("euler", sde, m, _build_kernel)


def _build_kernel(drift, diagonal, m: int):
    import numba
    jit = numba.njit(error_model="numpy")

    if m == 2:
        @jit
        def kernel(X, Y, z, dt, threshold):
            s2, sdt = math.sqrt(2.0 * dt), math.sqrt(dt)
            count = 0
            for p in range(X.shape[1]):
                v11, v12, v22 = X[0, p], X[1, p], X[2, p]
                b11 = diagonal(v11)
                b12 = drift(v11, v22, v12)
                b22 = diagonal(v22)
                l11 = math.sqrt(v11)
                l21 = v12 / l11
                d = v22 - l21 * l21                       # l22², the Schur complement
                lc = math.sqrt(d) * z[1, p] * sdt         # l22 sqrt(dt) z1
                a = z[0, p] * s2
                one_a = a + 1.0
                n11 = v11 * one_a + b11 * dt
                n12 = v12 * one_a + b12 * dt + l11 * lc
                n22 = (v22 + b22 * dt) + (2.0 * lc + a * l21) * l21 + (z[2, p] * s2) * d
                Y[0, p] = n11
                Y[1, p] = n12
                Y[2, p] = n22
                trace = n11 + n22
                count += (not (abs(trace) <= threshold)) | (not (abs(n12) <= threshold))
            return count
    else:
        @jit
        def kernel(X, Y, z, dt, threshold):
            s2 = math.sqrt(2.0 * dt)
            count = 0
            for p in range(X.shape[1]):
                v = X[0, p]
                l = math.sqrt(max(v, 0.0))
                n = (v + diagonal(v) * dt) + (l * (z[0, p] * s2)) * l
                Y[0, p] = n
                count += (not (abs(n) <= threshold)) | (v < 0.0)
            return count
    k = m * (m + 1) // 2
    kernel(np.ones((k, 1)), np.empty((k, 1)), np.zeros((k, 1)), 1e-3, 1e8)
    return kernel
