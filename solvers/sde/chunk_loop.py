"""The time loop of one chunk of paths: steps, saves, explosions (the work unit of ``simulate_sde``).

A chunk is a run of whole blocks of paths (:class:`covsde.solvers.random_streams.PathChunk`);
it is stepped from 0 to T by a stepper, :class:`covsde.solvers.sde.numpy_steps.NumpySteps` or,
with a scheme's compiled step, :class:`covsde.solvers.sde.compiled.compiled_steps.CompiledSteps`.
A path whose |trace| passes the explosion threshold (or whose state stops being finite) is frozen:
it keeps the state that crossed, or the last finite state before it when that state is not finite
(so no NaN reaches the results), and leaves the stepper's active set, so that it costs nothing
afterwards (its random numbers are still drawn, with its block's, so that the other paths' numbers
do not change).  Reported states of live paths are projected onto the PSD cone.  Floating-point
warnings of exploding paths are expected and handled here (they mark the paths as exploded), so
the loop runs under ``np.errstate(over/invalid/divide="ignore")``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from covsde.solvers.random_streams import PathChunk
from covsde.solvers.sde.numpy_steps import NumpySteps
from covsde.solvers.sde.symmetric_noise import psd_factor


@dataclass
class ChunkTask:
    """What a process needs to step one chunk (picklable)."""

    paths: PathChunk
    V0: np.ndarray          # (paths in chunk or 1, m, m)
    T: float
    steps: int
    save_idx: np.ndarray | None
    threshold: float
    scheme: object
    noise: str


@dataclass
class ChunkOutput:
    V: np.ndarray
    saved: np.ndarray | None
    exploded: np.ndarray
    explosion_time: np.ndarray
    projections: int


@dataclass(frozen=True)
class ChunkWork:
    """The work applied to every chunk of a run: step it, then (optionally) fold it (picklable).

    ``sde`` travels to other processes by pickling (a derived SDE as its specification,
    :mod:`covsde.derive.sde_specification`); ``backend="numba"`` builds the scheme's compiled step
    where the chunk runs (cached per drift and process); ``folder`` (a
    :class:`covsde.solvers.sde.streaming_statistics.ChunkFolder`) turns the chunk's paths into
    sufficient statistics on the worker, so that only those travel back.
    """

    sde: object
    backend: str = "numpy"
    folder: object = None

    def __call__(self, task: ChunkTask, bar=None):
        compiled = None
        if self.backend == "numba":
            compiled = task.scheme.compiled_step(self.sde, task.V0.shape[-1])
        out = run_chunk(task, self.sde, compiled, bar)
        if self.folder is None:
            return out
        return self.folder.fold(out.V, out.exploded, out.explosion_time, out.projections)


def run_chunk(task: ChunkTask, sde, compiled=None, bar=None) -> ChunkOutput:
    """Step one chunk of paths from 0 to T (``compiled``: the scheme's CompiledStep, or None for NumPy)."""
    P = task.paths.size
    m = task.V0.shape[-1]
    dt = task.T / task.steps
    draws = task.paths.draws()
    V0 = np.broadcast_to(task.V0, (P, m, m))
    if compiled is None:
        state = NumpySteps(task.scheme, sde.drift, V0, draws, task.noise, dt, task.threshold)
    else:
        from covsde.solvers.sde.compiled.compiled_steps import CompiledSteps
        state = CompiledSteps(compiled, task.scheme, V0, draws, task.noise, sde.drift, dt, task.threshold)
    frozen = np.zeros((P, m, m))
    exploded = np.zeros(P, dtype=bool)
    explosion_time = np.full(P, np.inf)
    projections = 0
    saved = None
    save_slots = {}
    if task.save_idx is not None:
        saved = np.empty((P, len(task.save_idx), m, m))
        for j, n in enumerate(task.save_idx):
            save_slots.setdefault(int(n), []).append(j)
    if 0 in save_slots:
        for j in save_slots[0]:
            saved[:, j] = V0
    report_every = max(1, 2_000_000 // P)
    outputs = set(save_slots) | {task.steps}      # steps after which the true state is needed
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for n in range(1, task.steps + 1):
            if state.active.size:                 # (once every path is frozen nothing is stepped)
                failed, may_cross = state.step(output=n in outputs)
                if failed is not None and failed.any():
                    projections += int(np.count_nonzero(failed))
                if may_cross:
                    _freeze_crossed(state, task.threshold, n * dt, frozen, exploded, explosion_time)
            if n in save_slots:
                snapshot = psd_state(state, frozen)
                for j in save_slots[n]:
                    saved[:, j] = snapshot
            if bar is not None and n % report_every == 0:
                bar.update(P * report_every)
        if bar is not None:
            bar.update(P * (task.steps % report_every))
        final = psd_state(state, frozen)
    return ChunkOutput(V=final, saved=saved, exploded=exploded, explosion_time=explosion_time,
                       projections=projections)


def _freeze_crossed(state, threshold, time, frozen, exploded, explosion_time):
    """Freeze the active paths whose |trace| passed ``threshold`` or whose state is not finite:
    record the crossing state (the last finite one when it is not finite) and drop them."""
    V = state.matrices()
    crossed = ~(np.abs(np.trace(V, axis1=1, axis2=2)) <= threshold)     # nan counts as crossed
    crossed |= ~np.all(np.isfinite(V), axis=(1, 2))
    if not crossed.any():
        return
    rows = state.active[crossed]
    states = V[crossed]
    finite = np.all(np.isfinite(states), axis=(1, 2))
    if not finite.all():       # the state before this step passed the same test: it is finite
        states[~finite] = state.previous()[crossed][~finite]
    frozen[rows] = states
    explosion_time[rows] = time
    exploded[rows] = True
    state.keep(~crossed)


def psd_state(state, frozen):
    """The reported states of the chunk (P, m, m): frozen values for exploded paths, the live
    paths' states projected onto the PSD cone."""
    out = frozen.copy()
    if state.active.size:
        V = state.matrices()
        out[state.active] = V
        L, failed = psd_factor(V)
        if failed.any():
            out[state.active[failed]] = L[failed] @ np.swapaxes(L[failed], -1, -2)
    return out
