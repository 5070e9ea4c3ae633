"""Monte Carlo driver for the Neural Covariance SDE dV = b(V) dt + Σ(V)^{1/2} dB (SPEC §1).

Li, Nica, Roy (2022), arXiv 2206.02768: the covariance of a shaped MLP of width n and depth d
converges, as n, d → ∞ with d/n → T, to this SDE at time T.  ``simulate_sde`` steps many paths
with a scheme of :mod:`covsde.solvers.sde.schemes`, in chunks of bounded memory, optionally over several
processes.

Random streams.  Paths are grouped in blocks of ``BLOCK`` paths; block i draws its normals (or
Rademacher signs, :mod:`covsde.solvers.random_increments`) from its own stream
``SeedSequence(seed).spawn(n_blocks)[i]``, in a fixed order.  Every operation of a
step is per path, so the numbers of a path depend only on the seed and its index: the result is
the same whatever ``chunk`` and ``workers`` are.
"""
from __future__ import annotations

import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from covsde.derive.errors import InputError

from covsde.solvers.input_validation import seed_sequence, symmetric_psd
from covsde.solvers.random_increments import (check_noise, draw_normals, draw_sign_words, sign_word_count,
                               signs_from_words)
from covsde.solvers.sde.schemes import get_scheme
from covsde.solvers.sde.symmetric_noise import psd_factor

BACKENDS = ("numpy", "numba")

#: Paths per random stream (the unit of reproducibility).
BLOCK = 4096
#: Default paths per chunk: 4 blocks; 16384 paths × 2×2 float64 = 512 KiB per state array.
DEFAULT_CHUNK = 4 * BLOCK


@dataclass
class SDEResult:
    """Outcome of :func:`simulate_sde`.

    Attributes
    ----------
    V : (paths, m, m) V at T; an exploded path keeps its state at the step that crossed.
    saved : (paths, len(save_at), m, m) or None; V at the times ``save_at``.
    save_at : (k,) the save times actually used (the grid points nearest the requested ones).
    exploded : (paths,) bool, trace(V) passed ``explosion_threshold`` (or became non-finite) by T.
    explosion_time : (paths,) first grid time the threshold was passed, inf where none.
    projections : number of path-steps whose state was not PSD and was projected onto the PSD
        cone by eigenvalue clipping (Euler can leave it by O(dt) near singular V).
    T, steps, paths, scheme, seed, workers, chunk, explosion_threshold, noise, backend : the
        settings used;
        ``seed`` is the SeedSequence entropy, enough to reproduce the run.
    message : one line summary.
    """

    V: np.ndarray
    saved: np.ndarray | None
    save_at: np.ndarray | None
    exploded: np.ndarray
    explosion_time: np.ndarray
    projections: int
    T: float
    steps: int
    paths: int
    scheme: str
    seed: object
    workers: int
    chunk: int
    explosion_threshold: float
    noise: str = "gaussian"
    backend: str = "numpy"
    message: str = field(default="")

    @property
    def dt(self) -> float:
        return self.T / self.steps

    @property
    def fraction_exploded(self) -> float:
        return float(np.mean(self.exploded))

    @property
    def correlation(self):
        """ρ^{αβ} = V^{αβ}/sqrt(V^{αα}V^{ββ}) at T, (paths, m, m); nan where a diagonal is 0."""
        d = np.sqrt(np.diagonal(self.V, axis1=-2, axis2=-1))
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.V / (d[..., :, None] * d[..., None, :])


def as_seed_sequence(seed) -> np.random.SeedSequence:
    """int, None, SeedSequence or Generator -> SeedSequence (a Generator is consumed once)."""
    return seed_sequence(seed)


def validate_covariance(V0, paths: int):
    """V0 (m, m) or (paths, m, m), symmetric PSD float64 -> (paths or 1, m, m) array."""
    V0 = symmetric_psd(V0, "V0", stacked=True)
    if V0.ndim > 3:
        raise InputError(f"V0 must be a square m×m matrix or (paths, m, m), got shape {V0.shape}")
    if V0.ndim == 3 and V0.shape[0] != paths:
        raise InputError(f"V0 holds {V0.shape[0]} matrices but paths = {paths}; give one V0 or one per path")
    return V0 if V0.ndim == 3 else V0[None]


def _validate_run(T, steps, paths):
    if not np.isfinite(T) or T <= 0:
        raise InputError(f"T must be a positive time, got {T}")
    if int(steps) != steps or steps < 1:
        raise InputError(f"steps must be a positive integer, got {steps}")
    if int(paths) != paths or paths < 1:
        raise InputError(f"paths must be a positive integer, got {paths}")


def save_indices(save_at, T: float, steps: int):
    """Requested save times -> (step indices, times on the grid).  Times must lie in [0, T]."""
    if save_at is None:
        return None, None
    times = np.atleast_1d(np.asarray(save_at, dtype=np.float64))
    if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times < 0) or np.any(times > T * (1 + 1e-12)):
        raise InputError(f"save_at must be times in [0, T] = [0, {T}]")
    idx = np.rint(times / T * steps).astype(np.int64)
    return idx, idx * (T / steps)


def simulate_sde(sde, V0, T, *, steps, paths, seed=None, save_at=None, scheme="euler", workers=1,
                 chunk=None, explosion_threshold=1e8, progress=None, noise="gaussian",
                 backend="numpy") -> SDEResult:
    """Simulate paths of the covariance SDE dV = b(V) dt + Σ(V)^{1/2} dB (SPEC §1).

    Parameters
    ----------
    sde : object with ``drift(V)``, V (..., m, m) -> (..., m, m) (e.g. ``derive.derive_sde(...)``).
    V0 : (m, m) symmetric PSD, or (paths, m, m).
    T : final time (depth-to-width ratio d/n).
    steps : number of time steps, dt = T/steps.
    paths : number of independent paths.
    seed : int, None, SeedSequence or Generator.
    save_at : times in [0, T] at which to keep V (snapped to the grid), or None.
    scheme : "euler" (Euler–Maruyama, weak 1, strong 1/2), "lie" (geometric, PSD by
        construction) or "strang" (weak order 2: Strang splitting with the SymPy-derived weak
        order 2 noise flow; the drift half-steps of consecutive steps are merged except before a
        saved or final state, so a state saved at t is exactly the final state of a run to t, and
        adding save times changes later states by the scheme's local error); see
        :mod:`covsde.solvers.sde.schemes`; or a scheme object.
    workers : processes (``ProcessPoolExecutor``); the answer does not depend on it.
    chunk : paths per chunk (rounded up to a multiple of ``BLOCK``); bounds memory.
    explosion_threshold : a path whose trace(V) passes it is frozen and flagged as exploded.
    progress : True, False, or None (a bar on stderr for runs over ~2 s when stderr is a tty).
    noise : "gaussian" (default) or "rademacher" (``scheme="euler"`` only).  "rademacher" is the
        *simplified weak Euler scheme* (Kloeden & Platen 1992, §14.1): each standard normal of the
        step is replaced by an independent sign ±1, which has the same first three moments, so the
        scheme keeps weak order 1 — laws and expectations E[f(V_T)] converge at rate Δt, as with
        Gaussian increments — but its paths are not Brownian paths and do not converge path-wise
        (no strong order): use it for distributions and expectations, not for pathwise coupling.
        As with Gaussian Euler, V can leave the PSD cone near singular states; those path-steps are
        repaired by projection and counted in ``projections``.  It is several times cheaper:
        64 signs come from one 64-bit random word (see :mod:`covsde.solvers.random_increments`).
    backend : "numpy" (default, the reference) or "numba": the Euler or Strang step for m = 1, 2
        compiled with numba (:mod:`covsde.solvers.sde.compiled_euler`; needs ``pip install numba``), its drift
        generated from ``sde.drift_expr``.  Same random numbers, same arithmetic: for a seed the
        result equals the NumPy backend's up to floating-point rounding.  The first call per
        SDE compiles (about a second).

    Returns
    -------
    SDEResult
    """
    _validate_run(T, steps, paths)
    steps, paths, T = int(steps), int(paths), float(T)
    scheme_obj = get_scheme(scheme)
    V0 = validate_covariance(V0, paths)
    check_noise(noise)
    if noise not in getattr(scheme_obj, "noises", ("gaussian",)):
        raise InputError(f"noise={noise!r} is available for scheme='euler' only (a weak scheme); "
                         f"use noise='gaussian' with scheme={scheme_obj.name!r}")
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    if int(workers) != workers or workers < 1:
        raise InputError(f"workers must be a positive integer, got {workers}")
    if not explosion_threshold > 0:
        raise InputError(f"explosion_threshold must be positive, got {explosion_threshold}")
    chunk = DEFAULT_CHUNK if chunk is None else int(chunk)
    if chunk < 1:
        raise InputError(f"chunk must be a positive number of paths, got {chunk}")
    chunk = -(-chunk // BLOCK) * BLOCK
    idx, save_times = save_indices(save_at, T, steps)
    m = V0.shape[-1]
    kernel = None
    if backend == "numba":
        if scheme_obj.name not in ("euler", "strang"):
            raise InputError(f"backend='numba' compiles the 'euler' and 'strang' schemes only; use "
                             f"backend='numpy' for scheme={scheme_obj.name!r}")
        if scheme_obj.name == "euler":
            from covsde.solvers.sde.compiled_euler import compiled_euler_kernel
            kernel = compiled_euler_kernel(sde, m)       # compiled now, before any fork
        else:
            from covsde.solvers.sde.compiled_strang import compiled_strang_kernel
            kernel = compiled_strang_kernel(sde, m)
    seq = as_seed_sequence(seed)
    n_blocks = -(-paths // BLOCK)
    streams = seq.spawn(n_blocks)
    blocks_per_chunk = chunk // BLOCK
    tasks = []
    for first in range(0, n_blocks, blocks_per_chunk):
        last = min(first + blocks_per_chunk, n_blocks)
        start, stop = first * BLOCK, min(last * BLOCK, paths)
        V0_chunk = V0[start:stop] if V0.shape[0] > 1 else V0
        tasks.append(_ChunkTask(start, stop, V0_chunk, streams[first:last], T, steps, idx,
                                explosion_threshold, scheme_obj, noise))

    V = np.empty((paths, m, m))
    saved = None if idx is None else np.empty((paths, len(idx), m, m))
    exploded = np.zeros(paths, dtype=bool)
    explosion_time = np.full(paths, np.inf)
    projections = 0
    bar = _ProgressBar(paths * steps, progress)

    def collect(task, out):
        nonlocal projections
        sl = slice(task.start, task.stop)
        V[sl], exploded[sl], explosion_time[sl] = out.V, out.exploded, out.explosion_time
        if saved is not None:
            saved[sl] = out.saved
        projections += out.projections

    workers = int(workers)
    if workers == 1 or len(tasks) == 1:
        for task in tasks:
            collect(task, _run_chunk(task, sde, kernel, bar))
    else:
        with _worker_pool(sde, kernel, min(workers, len(tasks))) as pool:
            futures = [(task, pool.submit(_run_chunk_in_worker, task)) for task in tasks]
            for task, fut in futures:
                collect(task, fut.result())
                bar.update((task.stop - task.start) * steps)
    bar.close()

    frac = float(np.mean(exploded))
    label = scheme_obj.name + ("" if noise == "gaussian" else f", {noise} noise") + \
        ("" if backend == "numpy" else f", {backend}")
    message = (f"{paths} paths, {steps} steps of dt = {T / steps:.3g} ({label}): "
               f"{frac:.2%} exploded by T = {T:g}")
    if projections:
        message += f"; {projections} path-steps projected onto PSD (try more steps)"
    return SDEResult(V=V, saved=saved, save_at=save_times, exploded=exploded,
                     explosion_time=explosion_time, projections=projections, T=T, steps=steps,
                     paths=paths, scheme=scheme_obj.name, seed=seq.entropy, workers=workers,
                     chunk=chunk, explosion_threshold=float(explosion_threshold), noise=noise,
                     backend=backend, message=message)


@dataclass
class _ChunkTask:
    start: int
    stop: int
    V0: np.ndarray
    streams: list
    T: float
    steps: int
    save_idx: np.ndarray | None
    threshold: float
    scheme: object
    noise: str


@dataclass
class _ChunkOutput:
    V: np.ndarray
    saved: np.ndarray | None
    exploded: np.ndarray
    explosion_time: np.ndarray
    projections: int


def _run_chunk(task: _ChunkTask, sde, kernel=None, bar=None) -> _ChunkOutput:
    """Step one chunk of paths from 0 to T (``kernel``: the compiled Euler step, or None for NumPy)."""
    P = task.stop - task.start
    m = task.V0.shape[-1]
    dt = task.T / task.steps
    gens = [np.random.Generator(np.random.PCG64(s)) for s in task.streams]
    slices = [slice(i * BLOCK, min((i + 1) * BLOCK, P)) for i in range(len(gens))]
    V0 = np.broadcast_to(task.V0, (P, m, m))
    if kernel is None:
        state = _NumpySteps(task.scheme, sde.drift, V0, task.noise, dt, task.threshold)
    else:
        from covsde.solvers.sde.compiled_euler import CompiledEulerSteps
        if task.scheme.name == "strang":
            from covsde.solvers.sde.compiled_strang import numpy_repair
            state = CompiledEulerSteps(kernel, V0, task.noise, sde.drift, dt, task.threshold, BLOCK,
                                       signs=task.scheme.sign_count(m), repair=numpy_repair, merging=True)
        else:
            state = CompiledEulerSteps(kernel, V0, task.noise, sde.drift, dt, task.threshold, BLOCK)
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
        failed, may_cross = state.step(gens, slices, output=n in outputs)
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
            snapshot = _psd_state(state.matrices(), exploded, frozen)
            for j in save_slots[n]:
                saved[:, j] = snapshot
        if bar is not None and n % report_every == 0:
            bar.update(P * report_every)
    if bar is not None:
        bar.update(P * (task.steps % report_every))
    return _ChunkOutput(V=_psd_state(state.matrices(), exploded, frozen), saved=saved, exploded=exploded,
                        explosion_time=explosion_time, projections=projections)


class _NumpySteps:
    """The state of one chunk of paths under a NumPy scheme (the reference backend)."""

    def __init__(self, scheme, drift, V0, noise, dt, threshold):
        P, m = V0.shape[0], V0.shape[-1]
        self.scheme, self.drift, self.dt, self.threshold = scheme, drift, dt, threshold
        self.V = np.array(V0)
        # normals (or, for noise="rademacher", signs) first, then the scheme's own signs (strang)
        self.normals = scheme.normal_count(m)
        signs = getattr(scheme, "sign_count", lambda m: 0)(m)
        self.z = np.empty((self.normals + signs, P))
        self.signs = signs + (self.normals if noise == "rademacher" else 0)
        self.words = None
        if self.signs:
            self.words = np.zeros((-(-P // BLOCK), sign_word_count(self.signs, BLOCK)), dtype=np.uint64)
        self.eye = np.eye(m)
        self.merging = getattr(scheme, "merges_half_steps", False)
        self.pending = False          # the state already holds the next step's leading half-step

    def step(self, gens, slices, output=True):
        """One step of every path (``output``: the state after it is saved or final, so a merging
        scheme must not run ahead into the next step).  Returns (failed (P,) bool, whether a trace
        may have passed the threshold)."""
        k = self.z.shape[0]
        if self.signs < k:
            draw_normals(gens, slices, self.z[:k - self.signs])
        if self.signs:
            draw_sign_words(gens, slices, self.signs, self.words)
            signs_from_words(self.words, slices, self.z[k - self.signs:])
        if self.merging:
            self.V, failed = self.scheme.step(self.V, self.drift, self.dt, self.z, lead=not self.pending,
                                              trail=0.5 if output else 1.0)
            self.pending = not output
        else:
            self.V, failed = self.scheme.step(self.V, self.drift, self.dt, self.z)
        top = np.trace(self.V, axis1=1, axis2=2).max()
        return failed, not top <= self.threshold          # nan-safe: a nan max fails the test

    def matrices(self):
        return self.V

    def reset(self, rows):
        self.V[rows] = self.eye


def _psd_state(V, exploded, frozen):
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


# ---------------------------------------------------------------- processes
_FORKED_SDE = None
_FORKED_KERNEL = None


def _worker_pool(sde, kernel, workers):
    """A process pool whose children inherit ``sde`` and the compiled ``kernel`` by fork
    (lambdified closures and numba functions do not pickle)."""
    global _FORKED_SDE, _FORKED_KERNEL
    if "fork" not in multiprocessing.get_all_start_methods():
        raise InputError("workers > 1 needs the 'fork' start method, not available here; use workers=1")
    _FORKED_SDE, _FORKED_KERNEL = sde, kernel
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


def _run_chunk_in_worker(task):
    return _run_chunk(task, _FORKED_SDE, _FORKED_KERNEL)


# ---------------------------------------------------------------- progress
class _ProgressBar:
    """tqdm if importable, else a carriage-return line; shown only once a run passes ~2 s."""

    def __init__(self, total: int, enabled):
        if enabled is None:
            enabled = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        self.enabled, self.total, self.done = bool(enabled), total, 0
        self.t0 = time.perf_counter()
        self.bar = None

    def update(self, n: int):
        if not self.enabled:
            return
        self.done += n
        elapsed = time.perf_counter() - self.t0
        if elapsed < 2.0:
            return
        if self.bar is None:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=self.total, initial=self.done, unit="path-step",
                                unit_scale=True, file=sys.stderr)
                return
            except ImportError:
                self.bar = False
        if self.bar:
            self.bar.update(n)
        else:
            frac = min(self.done / self.total, 1.0)
            eta = elapsed * (1 - frac) / max(frac, 1e-12)
            sys.stderr.write(f"\rsimulate_sde: {frac:6.1%}  {elapsed:6.1f} s elapsed, ~{eta:.0f} s left")
            sys.stderr.flush()

    def close(self):
        if not self.enabled:
            return
        if self.bar:
            self.bar.close()
        elif self.bar is False:
            sys.stderr.write("\n")
            sys.stderr.flush()
