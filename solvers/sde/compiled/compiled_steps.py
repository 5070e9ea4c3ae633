"""The state of one chunk of paths under a scheme's compiled step (``backend="numba"``).

The numba twin of :class:`covsde.solvers.sde.numpy_steps.NumpySteps`.  The state is kept as rows
(V11, V12, V22) of a (3, P) array (or (V11,) for m = 1) so that the kernels' loops vectorise; it
is turned back into (P, m, m) matrices only when the driver needs them (saves, explosions, the
end).  The random numbers are drawn in NumPy from the per-block streams exactly as for the NumPy
backend (:mod:`covsde.solvers.random_streams`); Rademacher signs are unpacked by a compiled
byte → 8 signs table instead of ``np.unpackbits``.  A path whose compiled step gave nan (a singular
or non-PSD state) is redone by the scheme's NumPy route, as the NumPy backend does.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from covsde.solvers.random_streams import BLOCK, StepInputs

_SIGNS = []


@dataclass(frozen=True)
class CompiledStep:
    """A scheme's compiled step for one SDE and m (what ``Scheme.compiled_step`` returns).

    Attributes
    ----------
    kernel : numba function
        ``kernel(X, Y, z, dt, threshold) -> count`` (a merging scheme's kernel also takes
        ``lead, trail``): X, Y (3 or 1, P) rows (V11, V12, V22) of V now / after the step, z the
        step's inputs (rows, P); count = paths that need the driver's attention (trace not ≤
        threshold, a nan state, or for m = 1 a negative V before the step).
    repair : callable
        ``repair(V (n, m, m), drift, dt, z (rows, n)[, lead=, trail=]) -> (V_new, failed)``, the
        NumPy route for the paths whose compiled step gave nan.
    """

    kernel: object
    repair: object


def rows_from_matrices(V) -> np.ndarray:
    """(P, m, m) -> rows (V11, V12, V22) (3, P) for m = 2, (V11,) (1, P) for m = 1 (a copy)."""
    if V.shape[-1] == 2:
        return np.ascontiguousarray(V[:, (0, 0, 1), (0, 1, 1)].T)
    return V[:, 0, 0][None].copy()


def matrices_from_rows(X) -> np.ndarray:
    """Rows (V11, V12, V22) (3, P) or (V11,) (1, P) -> (P, m, m) symmetric matrices."""
    if X.shape[0] == 1:
        return X[0][:, None, None].copy()
    V = np.empty((X.shape[1], 2, 2))
    V[:, 0, 0], V[:, 0, 1], V[:, 1, 0], V[:, 1, 1] = X[0], X[1], X[1], X[2]
    return V


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


def _compiled_unpack(words, slices, z):
    """``signs_from_words`` by the compiled table (blocks of BLOCK paths from path 0)."""
    unpack, table = _sign_unpacker()
    unpack(words.astype("<u8", copy=False).view(np.uint8), BLOCK, z, table)


class CompiledSteps:
    """The state of one chunk of paths under a scheme's compiled step.

    Parameters
    ----------
    compiled : CompiledStep, from ``scheme.compiled_step(sde, m)``.
    scheme : the scheme (its ``normal_count``, ``sign_count`` and ``merges_half_steps``).
    V0 : (P, m, m) starting states.
    draws : BlockDraws, the chunk's random streams.
    noise : "gaussian" or "rademacher".
    drift : the NumPy drift (``sde.drift``), for the repaired paths.
    dt, threshold : step and explosion threshold.
    """

    def __init__(self, compiled, scheme, V0, draws, noise, drift, dt, threshold):
        m = V0.shape[-1]
        self.kernel, self.repair = compiled.kernel, compiled.repair
        self.m, self.drift, self.dt, self.threshold = m, drift, dt, threshold
        self.merging, self.pending = scheme.merges_half_steps, False
        self.X = rows_from_matrices(V0)
        self.Y = np.empty_like(self.X)
        self.active = np.arange(V0.shape[0])      # chunk rows still stepped (frozen paths leave it)
        self.compact = False
        signs = scheme.sign_count(m)
        unpack = _compiled_unpack if (signs or noise == "rademacher") else None
        if unpack is not None:
            _sign_unpacker()
        self.inputs = StepInputs(draws, scheme.normal_count(m), signs, noise, unpack=unpack)

    def step(self, output=True):
        """One step of every path (``output``: the state after it is saved or final, so a merging
        kernel must not run ahead into the next step's drift).  Returns (failed (P,) bool or None,
        whether a trace may have passed the threshold)."""
        z = self.inputs.draw()
        if self.compact:
            z = z[:, self.active]
        if self.merging:
            lead, trail = not self.pending, 0.5 if output else 1.0
            self.pending = not output
            count = self.kernel(self.X, self.Y, z, self.dt, self.threshold, lead, trail)
            repair = functools.partial(self.repair, lead=lead, trail=trail)
        else:
            count = self.kernel(self.X, self.Y, z, self.dt, self.threshold)
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
                        matrices_from_rows(self.X[:, rows]), self.drift, self.dt, z[:, rows])
                    self.Y[:, rows] = V_new[:, (0, 0, 1), (0, 1, 1)].T
        self.X, self.Y = self.Y, self.X
        return failed, bool(count)

    def matrices(self):
        """The current states of the active paths, (len(active), m, m)."""
        return matrices_from_rows(self.X)

    def previous(self):
        """The active paths' states before the last step (the kernels write the new state into a
        second array and the two are swapped, so that array still holds them)."""
        return matrices_from_rows(self.Y)

    def keep(self, rows):
        """Keep stepping only the active paths ``rows`` (bool over the active paths)."""
        self.X = np.ascontiguousarray(self.X[:, rows])
        self.Y = np.ascontiguousarray(self.Y[:, rows])
        self.active = self.active[rows]
        self.compact = True
