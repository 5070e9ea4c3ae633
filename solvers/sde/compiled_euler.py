"""Euler–Maruyama for m = 1, 2 compiled with numba: drift, noise, update and explosion test fused.

The optional fast path behind ``simulate_sde(..., backend="numba")``.  The NumPy step
(:func:`covsde.solvers.sde.schemes._euler_step_2x2`) stays the reference: this module does the same
arithmetic in the same order, path by path, in one compiled loop, so for a given seed the two
backends agree up to floating-point rounding.  The random numbers are still drawn in NumPy from the
per-block streams (:mod:`covsde.solvers.random_increments`); Rademacher signs are unpacked by a compiled
byte → 8 signs table instead of ``np.unpackbits``.

The drift is generated, not retyped: ``sympy.lambdify((A, B, R), sde.drift_expr, modules="math")``
compiled by ``numba.njit`` (b^{ab} = b(V^aa, V^bb, V^ab), SPEC §1).  The step for m = 2, with
L = [[l11, 0], [l21, l22]] the Cholesky factor of V and S = [[sqrt(2Δt) z0, sqrt(Δt) z1],
[sqrt(Δt) z1, sqrt(2Δt) z2]] (SPEC §1, exact noise L S Lᵀ):

    V11 ← V11 (1 + a) + b11 Δt,                         a = sqrt(2Δt) z0,
    V12 ← V12 (1 + a) + b12 Δt + l11 l22 sqrt(Δt) z1,
    V22 ← V22 + b22 Δt + l21 (a l21 + 2 l22 sqrt(Δt) z1) + l22² sqrt(2Δt) z2;

for m = 1, V ← V + b(V, V, V) Δt + sqrt(2Δt) z V (with V clipped at 0 inside the square root).

The state is kept as rows (V11, V12, V22) of a (3, P) array so that the loop vectorises; it is
turned back into (P, m, m) matrices only when the driver needs them (saves, explosions, the end).
A path whose new state is nan (a singular or non-PSD V: l22 = nan) is redone by the NumPy repair
route (projection onto the PSD cone), exactly as the NumPy backend does.
"""
from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from covsde.derive.errors import InputError

from covsde.solvers.random_increments import draw_normals, draw_sign_words, sign_word_count
from covsde.solvers.sde.schemes import _euler_step_2x2_repair as euler_step_2x2_repair

_KERNELS: dict = {}
_SIGNS = []


def numba_available() -> bool:
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def compiled_euler_kernel(sde, m: int):
    """The compiled Euler step for ``sde`` at m = 1 or 2, cached per drift expression.

    ``kernel(X, Y, z, dt, threshold) -> count``: X, Y (3 or 1, P) rows of V now / after the step,
    z (k, P) the step's standard variables; count = number of paths that need the driver's
    attention (trace not ≤ threshold, a nan state, or for m = 1 a negative V before the step).
    Compiled here on a dummy path (about a second), so processes forked later inherit it.
    """
    expr, drift, diagonal_zero = generated_drift(sde, m)
    key = ("euler", sp.srepr(expr), m)
    if key not in _KERNELS:
        kernel = _build_kernel(drift, m, diagonal_zero)
        k = m * (m + 1) // 2
        kernel(np.ones((k, 1)), np.empty((k, 1)), np.zeros((k, 1)), 1e-3, 1e8)
        _KERNELS[key] = kernel
    return _KERNELS[key]


def generated_drift(sde, m: int):
    """(drift expression, pure-Python drift b(A, B, R) for numba, whether b(a, a, a) = 0 for a > 0)
    of ``sde``, checked for the compiled backends: numba installed, m = 1 or 2, a symbolic drift
    without free parameters.

    The function is ``sympy.lambdify`` with the math module and the numpy backend's evaluation
    order (:func:`covsde.derive.lambdified.broadcast_friendly`), so that both backends round identically.
    """
    if not numba_available():
        raise InputError("backend='numba' needs numba: pip install numba (or the covsde 'fast' extra)")
    if m not in (1, 2):
        raise InputError(f"backend='numba' supports m = 1 and 2, got m = {m}; use backend='numpy'")
    expr = getattr(sde, "drift_expr", None)
    if expr is None:
        raise InputError("backend='numba' generates the drift from sde.drift_expr; "
                         "give an SDE from derive.derive_sde or use backend='numpy'")
    from covsde.derive import A, B, R
    free = sorted(s.name for s in sp.sympify(expr).free_symbols - {A, B, R})
    if free:
        raise InputError(f"the SDE has free parameters {free}; give them values first (sde.subs(...))")
    key = ("drift", sp.srepr(expr))
    if key not in _KERNELS:
        a = sp.Symbol("a", positive=True)
        # where b(a, a, a) is identically 0 for a > 0 (ReLU-like: nu(1) = 0) the kernels skip its
        # evaluation on the diagonal; the generic formula gives exactly 0.0 there too (acos(1) = 0)
        _KERNELS["diagonal zero", sp.srepr(expr)] = sp.simplify(expr.subs({A: a, B: a, R: a})) == 0
        from sympy.printing.pycode import PythonCodePrinter
        from covsde.derive.lambdified import broadcast_friendly
        ordered = broadcast_friendly(expr, ((A,), (B,)))
        _KERNELS[key] = sp.lambdify((A, B, R), ordered, modules="math", cse=True,
                                    printer=PythonCodePrinter({"order": "none", "fully_qualified_modules": False}))
    return expr, _KERNELS[key], _KERNELS["diagonal zero", sp.srepr(expr)]


def diagonal_drift(drift, diagonal_zero: bool):
    """The compiled b(a, a, a): 0.0 for a > 0 where the drift vanishes there identically."""
    import numba
    if diagonal_zero:
        @numba.njit(error_model="numpy", inline="always")
        def diagonal(a):
            return 0.0 if a > 0.0 else drift(a, a, a)
    else:
        @numba.njit(error_model="numpy", inline="always")
        def diagonal(a):
            return drift(a, a, a)
    return diagonal


def _build_kernel(drift_function, m: int, diagonal_zero: bool = False):
    import numba
    jit = numba.njit(error_model="numpy")
    drift = numba.njit(error_model="numpy", inline="always")(drift_function)
    diagonal = diagonal_drift(drift, diagonal_zero)

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
                count += (not (trace <= threshold)) | (n12 != n12)
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
                count += (not (n <= threshold)) | (v < 0.0)
            return count
    return kernel


def _sign_unpacker():
    """Compiled byte → 8 signs unpacking (built once): the numba twin of ``signs_from_words``."""
    if not _SIGNS:
        import numba
        table = np.array([[2.0 * ((b >> t) & 1) - 1.0 for t in range(8)] for b in range(256)])

        @numba.njit(error_model="numpy")
        def unpack(sign_bytes, block, z, table):
            k, P = z.shape
            for blk in range((P + block - 1) // block):
                start = blk * block
                n = min(block, P - start)
                row = sign_bytes[blk]
                for j in range(k):
                    base = j * n
                    if base % 8 == 0 and n % 8 == 0:
                        for c in range(n // 8):
                            signs = table[row[(base >> 3) + c]]
                            out = start + 8 * c
                            for t in range(8):
                                z[j, out + t] = signs[t]
                    else:
                        for q in range(n):
                            i = base + q
                            z[j, start + q] = table[row[i >> 3], i & 7]

        unpack(np.zeros((1, 8), dtype=np.uint8), 4, np.empty((1, 3)), table)
        _SIGNS.extend([unpack, table])
    return _SIGNS


class CompiledEulerSteps:
    """The state of one chunk of paths under a compiled step (Euler, or Strang with ``signs``).

    Parameters
    ----------
    kernel : from :func:`compiled_euler_kernel` (or :func:`covsde.solvers.sde.compiled_strang.compiled_strang_kernel`).
    V0 : (P, m, m) starting states.
    noise : "gaussian" or "rademacher".
    drift : the NumPy drift (``sde.drift``), for the rare repaired paths.
    dt, threshold, block : step, explosion threshold, paths per random stream.
    signs : extra ±1 rows after the normals (Strang's Lévy-area substitute), drawn as the NumPy
        driver draws them (:mod:`covsde.solvers.random_increments`).
    repair : repair(V (n, m, m), drift, dt, z (rows, n)) -> (V_new, failed), the NumPy route for
        paths whose compiled step gave nan (singular or non-PSD states); Euler's by default.
    merging : the kernel takes (lead, trail) and merges drift half-steps across steps (Strang).
    """

    def __init__(self, kernel, V0, noise, drift, dt, threshold, block, signs=0, repair=None, merging=False):
        P, m = V0.shape[0], V0.shape[-1]
        self.kernel, self.m, self.noise, self.drift = kernel, m, noise, drift
        self.dt, self.threshold, self.block = dt, threshold, block
        self.repair = euler_step_2x2_repair if repair is None else repair
        self.merging, self.pending = merging, False
        rows = (0, 0, 1), (0, 1, 1)
        self.X = np.ascontiguousarray(V0[:, rows[0], rows[1]].T) if m == 2 else V0[:, 0, 0][None].copy()
        self.Y = np.empty_like(self.X)
        k = self.X.shape[0]
        self.z = np.empty((k + signs, P))
        self.signs = signs + (k if noise == "rademacher" else 0)
        self.words = None
        if self.signs:
            self.words = np.zeros((-(-P // block), sign_word_count(self.signs, block)), dtype=np.uint64)
            self.unpack, self.table = _sign_unpacker()

    def step(self, gens, slices, output=True):
        """One step of every path (``output``: see the NumPy driver; a merging kernel runs ahead
        into the next step's drift unless the state after this step is needed).  Returns
        (failed (P,) bool or None, whether a trace may have passed the threshold)."""
        rows_ = self.z.shape[0]
        if self.signs < rows_:
            draw_normals(gens, slices, self.z[:rows_ - self.signs])
        if self.signs:
            draw_sign_words(gens, slices, self.signs, self.words)
            self.unpack(self.words.astype("<u8", copy=False).view(np.uint8), self.block,
                        self.z[rows_ - self.signs:], self.table)
        if self.merging:
            lead, trail = not self.pending, 0.5 if output else 1.0
            self.pending = not output
            count = self.kernel(self.X, self.Y, self.z, self.dt, self.threshold, lead, trail)
            repair = functools.partial(self.repair, lead=lead, trail=trail)
        else:
            count = self.kernel(self.X, self.Y, self.z, self.dt, self.threshold)
            repair = self.repair
        failed = None
        if count:
            if self.m == 1:
                failed = self.X[0] < 0.0
            else:
                rows = np.flatnonzero(np.isnan(self.Y).any(axis=0))
                if rows.size:              # rare: singular or non-PSD states, the NumPy way
                    failed = np.zeros(self.X.shape[1], dtype=bool)
                    V_new, failed[rows] = repair(
                        _matrices(self.X[:, rows]), self.drift, self.dt, self.z[:, rows])
                    self.Y[:, rows] = V_new[:, (0, 0, 1), (0, 1, 1)].T
        self.X, self.Y = self.Y, self.X
        return failed, bool(count)

    def matrices(self):
        """The current states, (P, m, m)."""
        return _matrices(self.X)

    def reset(self, rows):
        """Set the paths ``rows`` (bool or index) to V = I."""
        self.X[0, rows] = 1.0
        if self.m == 2:
            self.X[1, rows] = 0.0
            self.X[2, rows] = 1.0


def _matrices(X):
    """Rows (V11, V12, V22) (3, P) or (V11,) (1, P) -> (P, m, m) symmetric matrices."""
    if X.shape[0] == 1:
        return X[0][:, None, None].copy()
    V = np.empty((X.shape[1], 2, 2))
    V[:, 0, 0], V[:, 0, 1], V[:, 1, 0], V[:, 1, 1] = X[0], X[1], X[1], X[2]
    return V
