"""The weak order 2 Strang step for m = 1, 2 compiled with numba.

The kernel of :class:`covsde.solvers.sde.schemes.strang.StrangSplitting` (its ``compiled_step``).
The NumPy scheme stays the reference; this kernel does the same arithmetic path by path in one
compiled loop:

    V ← D(Δt/2) V (if ``lead``),   V ← L N_Δ Lᵀ,   V ← D(trail Δt) V,

D an explicit midpoint step (sub-stepped where Δt² ||b(V)||² > STIFF_FRACTION² ||V||², as
:func:`covsde.solvers.sde.schemes.strang.midpoint_drift_step`, and like it stopping the sub-steps of
a path whose state is no longer finite), L = [[l11, 0], [l21, l22]] the
Cholesky factor and N_Δ the weak order 2 noise flow from the identity.  Nothing is retyped and no
SymPy is imported here: the drift comes from ``sde.compiled_drift()`` (:mod:`.generated_drift`)
and N_Δ from ``noise_flow_expansion(m).numeric("math")`` (:mod:`covsde.derive.noise_flow_expansion`
through :mod:`covsde.derive.codegen`), both compiled by ``numba.njit``.  Random inputs are drawn
by the driver exactly as for the NumPy backend (k normals, then 2k signs per path-step), so for a
seed the two backends agree up to rounding.  A path whose state after the first drift half-step is
not PSD beyond rounding (the states :func:`covsde.solvers.sde.symmetric_noise.psd_factor`
projects) is redone by the NumPy step.
"""
from __future__ import annotations

import math

import numpy as np

from covsde.derive.noise_flow_expansion import noise_flow_expansion

from covsde.solvers.sde.compiled.generated_drift import cached_kernel
from covsde.solvers.sde.schemes.strang import STIFF_FRACTION
from covsde.solvers.sde.symmetric_noise import PSD_TOLERANCE


def compiled_strang_kernel(sde, m: int):
    """``kernel(X, Y, z, dt, threshold, lead, trail) -> count`` for the Strang step, as the compiled
    Euler kernel: X, Y (3 or 1, P) rows (V11, V12, V22) now / after; z (3k, P) normals then signs;
    ``lead`` applies the leading drift half-step, ``trail`` is the trailing drift step in units of
    dt (0.5, or 1 when it also takes the next step's leading half); count = paths whose new trace
    is not ≤ threshold in absolute value or whose state is nan.  Compiled on a dummy path, cached per drift."""
    return cached_kernel("strang", sde, m, _compiled)


def _compiled(drift, diagonal, m: int):
    kernel = _build(drift, diagonal, m)
    k = m * (m + 1) // 2
    kernel(np.ones((k, 1)), np.empty((k, 1)), np.zeros((3 * k, 1)), 1e-3, 1e8, True, 0.5)
    return kernel


def _build(drift, diagonal, m: int):
    import numba
    jit = numba.njit(error_model="numpy")
    flow = numba.njit(error_model="numpy", inline="always")(noise_flow_expansion(m).numeric("math"))
    stiff2 = STIFF_FRACTION ** 2
    psd_tolerance = PSD_TOLERANCE

    if m == 2:
        @numba.njit(error_model="numpy", inline="always")
        def rk2(v11, v12, v22, h):
            b11, b12, b22 = diagonal(v11), drift(v11, v22, v12), diagonal(v22)
            u11, u12, u22 = v11 + (0.5 * h) * b11, v12 + (0.5 * h) * b12, v22 + (0.5 * h) * b22
            return (v11 + h * diagonal(u11), v12 + h * drift(u11, u22, u12),
                    v22 + h * diagonal(u22), b11, b12, b22)

        @numba.njit(error_model="numpy", inline="always")
        def stiff(v11, v12, v22, b11, b12, b22, h):
            """Δt² ||b||² > STIFF_FRACTION² ||V||² with ||V|| finite (branch-free)."""
            size2 = v11 * v11 + v12 * v12 + v12 * v12 + v22 * v22
            change2 = (h * h) * (b11 * b11 + b12 * b12 + b12 * b12 + b22 * b22)
            return (not (change2 <= stiff2 * size2)) & (size2 < math.inf)

        @numba.njit(error_model="numpy")
        def substeps(v11, v12, v22, h):
            """The stiff path's half-step: 2^j equal RK2 sub-steps (rare; scalar)."""
            b11, b12, b22 = diagonal(v11), drift(v11, v22, v12), diagonal(v22)
            size2 = v11 * v11 + v12 * v12 + v12 * v12 + v22 * v22
            change2 = (h * h) * (b11 * b11 + b12 * b12 + b12 * b12 + b22 * b22)
            ratio = math.sqrt(change2 / max(stiff2 * size2, 2.2250738585072014e-308))
            count = 2.0 ** math.ceil(math.log2(max(ratio, 1.0))) if ratio <= 4096.0 else 4096.0
            n11, n12, n22, sub = v11, v12, v22, h / count
            for _ in range(int(count)):
                n11, n12, n22, _b11, _b12, _b22 = rk2(n11, n12, n22, sub)
                if not math.isfinite(n11 + n12 + n22):     # blown up: it stays non-finite
                    break
            return n11, n12, n22

        @jit
        def kernel(X, Y, z, dt, threshold, lead, trail):
            # branch-free passes over all paths (they vectorise), then the rare stiff paths
            P = X.shape[1]
            h, sdt = 0.5 * dt, math.sqrt(dt)
            W = np.empty((3, P))
            flag = np.empty(P, dtype=np.bool_)
            if lead:
                half_step_pass(X, W, flag, h)                    # leading drift half-step
            else:
                W[:] = X
            for p in range(P):                                   # noise flow L N Lᵀ, in place
                v11, v12, v22 = W[0, p], W[1, p], W[2, p]
                # the Cholesky factor exactly as psd_factor takes it; a state
                # it would project (not PSD beyond rounding) gets nan here and the NumPy route
                det = v11 * v22 - v12 * v12
                scale = max(abs(v11), abs(v22))
                bad = (v11 < 0.0) | (v22 < 0.0) | (det < -psd_tolerance * scale * scale) | (det != det)
                l11 = math.sqrt(abs(v11))
                l21 = v12 / l11 if l11 > 0.0 else 0.0
                l22 = math.sqrt(max(v22 - l21 * l21, 0.0))
                n11, n12, n22 = flow(z[0, p] * sdt, z[1, p] * sdt, z[2, p] * sdt, z[3, p], z[4, p], z[5, p],
                                     z[6, p], z[7, p], z[8, p], dt)
                a = l21 * n11 + l22 * n12
                b = l21 * n12 + l22 * n22
                W[0, p] = math.nan if bad else l11 * l11 * n11
                W[1, p] = math.nan if bad else l11 * (l21 * n11 + l22 * n12)
                W[2, p] = math.nan if bad else a * l21 + b * l22
            half_step_pass(W, Y, flag, trail * dt)               # trailing drift step
            count = 0
            for p in range(P):
                count += (not (abs(Y[0, p] + Y[2, p]) <= threshold)) | (not (abs(Y[1, p]) <= threshold))
            return count

        @numba.njit(error_model="numpy")
        def half_step_pass(A, B, flag, h):
            """B = D(h) A for every path: one RK2 step (vectorised pass), sub-steps where stiff."""
            any_stiff = False
            for p in range(A.shape[1]):
                x11, x12, x22 = A[0, p], A[1, p], A[2, p]
                n11, n12, n22, b11, b12, b22 = rk2(x11, x12, x22, h)
                f = stiff(x11, x12, x22, b11, b12, b22, h)
                flag[p] = f
                any_stiff |= f
                B[0, p], B[1, p], B[2, p] = n11, n12, n22
            if any_stiff:
                for p in range(A.shape[1]):
                    if flag[p]:
                        B[0, p], B[1, p], B[2, p] = substeps(A[0, p], A[1, p], A[2, p], h)

        return kernel

    @numba.njit(error_model="numpy", inline="always")
    def half_step_1(v, h):
        b = diagonal(v)
        u = v + (0.5 * h) * b
        n = v + h * diagonal(u)
        size2, change2 = v * v, (h * h) * (b * b)
        if not (change2 <= stiff2 * size2) and math.isfinite(size2):
            ratio = math.sqrt(change2 / max(stiff2 * size2, 2.2250738585072014e-308))
            count = 2.0 ** math.ceil(math.log2(max(ratio, 1.0))) if ratio <= 4096.0 else 4096.0
            n, sub = v, h / count
            for _ in range(int(count)):
                u = n + (0.5 * sub) * diagonal(n)
                n = n + sub * diagonal(u)
                if not math.isfinite(n):                     # blown up: it stays non-finite
                    break
        return n

    @jit
    def kernel(X, Y, z, dt, threshold, lead, trail):
        sdt = math.sqrt(dt)
        count = 0
        for p in range(X.shape[1]):
            v = half_step_1(X[0, p], 0.5 * dt) if lead else X[0, p]
            l = math.sqrt(max(v, 0.0))
            n = flow(z[0, p] * sdt, z[1, p], z[2, p], dt)[0]
            v = half_step_1(l * n * l, trail * dt)
            Y[0, p] = v
            count += (not (abs(v) <= threshold)) | (v != v)
        return count
    return kernel
