"""The time loop of one chunk of paths: steps, saves, explosions (the work unit of ``simulate_sde``).

A chunk is a run of whole blocks of paths (:class:`covsde.solvers.random_streams.PathChunk`);
it is stepped from 0 to T by a stepper, :class:`covsde.solvers.sde.numpy_steps.NumpySteps` or,
with a scheme's compiled step, :class:`covsde.solvers.sde.compiled.compiled_steps.CompiledSteps`.
A path whose trace passes the explosion threshold (or becomes non-finite) is frozen at the state
that crossed and its working copy reset to I; reported states are projected onto the PSD cone.
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
    for n in range(1, task.steps + 1):
        failed, may_cross = state.step(output=n in outputs)
        if failed is not None and failed.any():
            projections += int(np.count_nonzero(failed & ~exploded))
        if may_cross:
            V = state.matrices()
            crossed = ~(np.trace(V, axis1=1, axis2=2) <= task.threshold)     # nan counts as crossed
            new = crossed & ~exploded
            frozen[new] = V[new]
            explosion_time[new] = n * dt
            exploded |= new
            state.reset(crossed)    # keeps frozen paths' working copies finite and cheap
        if n in save_slots:
            snapshot = psd_state(state.matrices(), exploded, frozen)
            for j in save_slots[n]:
                saved[:, j] = snapshot
        if bar is not None and n % report_every == 0:
            bar.update(P * report_every)
    if bar is not None:
        bar.update(P * (task.steps % report_every))
    return ChunkOutput(V=psd_state(state.matrices(), exploded, frozen), saved=saved, exploded=exploded,
                       explosion_time=explosion_time, projections=projections)


def psd_state(V, exploded, frozen):
    """The reported state: frozen values for exploded paths, PSD projection for the others."""
    out = np.where(exploded[:, None, None], frozen, V)
    live = ~exploded
    if live.any():
        L, failed = psd_factor(out[live])
        if failed.any():
            fixed = L[failed] @ np.swapaxes(L[failed], -1, -2)
            rows = np.flatnonzero(live)[failed]
            out[rows] = fixed
    return out
