"""Monte Carlo driver for the Neural Covariance SDE dV = b(V) dt + Σ(V)^{1/2} dB (SPEC §1).

Li, Nica, Roy (2022), arXiv 2206.02768: the covariance of a shaped MLP of width n and depth d
converges, as n, d → ∞ with d/n → T, to this SDE at time T.  ``simulate_sde`` checks its input,
splits the paths into chunks of whole random-stream blocks (:mod:`covsde.solvers.random_streams`),
steps each chunk with the chosen scheme (:mod:`covsde.solvers.sde.chunk_loop`; schemes register
themselves, :mod:`covsde.solvers.sde.scheme`), optionally on several processes
(:mod:`covsde.solvers.sde.process_pool`), and collects an :class:`SDEResult`.  It names no scheme.

Random streams.  Paths are grouped in blocks of ``BLOCK`` paths; block i draws its normals (or
Rademacher signs) from its own stream ``SeedSequence(seed).spawn(n_blocks)[i]``, in a fixed order.
Every operation of a step is per path, so the numbers of a path depend only on the seed and its
index: the result is the same whatever ``chunk`` and ``workers`` are.

Guards.  Before anything is allocated the run's memory (every array held at once) and path-steps
are estimated and checked against :mod:`covsde.solvers.resource_limits`, and the step against the
scheme's stable range at V0 (:mod:`covsde.solvers.sde.step_size`): a step far outside it is refused
with the step count that would be sound (``check_step=False`` runs it anyway).
"""
from __future__ import annotations

import numpy as np

from covsde.derive.errors import InputError

from covsde.solvers.input_validation import (count, covariance_per_path, positive_number, positive_time,
                                            save_steps, sde_with)
from covsde.solvers.random_streams import BLOCK, block_count, check_noise, path_chunks, paths_per_chunk
from covsde.solvers.resource_limits import (DOUBLE, GENERATOR_BYTES, STREAM_BYTES, check_memory,
                                            check_path_steps, vectorised_steps)
from covsde.solvers.chunk_executor import as_executor, chunks_in_flight, executor_workers, results_in_order
from covsde.solvers.sde.chunk_loop import ChunkTask, ChunkWork
from covsde.solvers.sde.progress_bar import ProgressBar
from covsde.solvers.sde.scheme import registered_schemes
from covsde.solvers.sde.schemes import get_scheme
from covsde.solvers.sde.sde_result import SDEResult, StreamingResult
from covsde.solvers.sde.streaming_statistics import as_plan
from covsde.solvers.sde.step_size import check_step as check_step_size

#: How a step is computed: the schemes' NumPy ``step`` (the reference) or their compiled kernel.
BACKENDS = ("numpy", "numba")
#: Default paths per chunk: 4 blocks; 16384 paths × 2×2 float64 = 512 KiB per state array.
DEFAULT_CHUNK = 4 * BLOCK
#: (P, m, m) arrays a chunk of P paths holds at once while stepping (state, last state, frozen
#: states, the drift and the scheme's temporaries, the reported copy), counted for the memory check.
CHUNK_WORKING_ARRAYS = 12


def simulate_sde(sde, V0, T, *, steps, paths, seed=None, save_at=None, scheme="euler", workers=1,
                 chunk=None, explosion_threshold=1e8, progress=None, noise="gaussian",
                 backend="numpy", check_step=True, executor=None, reduce=None):
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
    scheme : a registered scheme's name (``covsde.solvers.SCHEMES``) or a
        :class:`covsde.solvers.sde.scheme.Scheme` object.  Built in: "euler" (Euler–Maruyama,
        weak 1, strong 1/2), "lie" (geometric, PSD by construction) or "strang" (weak order 2:
        Strang splitting with the SymPy-derived weak order 2 noise flow; the drift half-steps of
        consecutive steps are merged except before a saved or final state, so a state saved at t
        is exactly the final state of a run to t, and adding save times changes later states by
        the scheme's local error); see :mod:`covsde.solvers.sde.schemes`.
    workers : local processes (:mod:`covsde.solvers.sde.process_pool`: fork where it exists,
        else spawn; ``COVSDE_START_METHOD`` chooses); the answer does not depend on it.
    executor : any ``concurrent.futures.Executor`` (or a ``dask.distributed.Client``) to run the
        chunks on instead (:mod:`covsde.solvers.chunk_executor`); the SDE and the tasks are
        pickled (a derived SDE as its specification).  The answer is the same bit for bit on
        every executor: chunks are seeded by index and merged in chunk order.
    chunk : paths per chunk (rounded up to a multiple of ``BLOCK``); bounds memory.
    explosion_threshold : a path whose |trace(V)| passes it (or whose state stops being finite)
        is frozen, flagged as exploded and no longer stepped; it reports the state that crossed,
        or, when that state is not finite, the last finite state before it (never NaN).
    progress : True, False, or None (a bar on stderr for runs over ~2 s when stderr is a tty).
    noise : "gaussian" (default) or "rademacher" (for schemes that declare it: "euler").
        "rademacher" is the *simplified weak Euler scheme* (Kloeden & Platen 1992, §14.1): each
        standard normal of the step is replaced by an independent sign ±1, which has the same
        first three moments, so the scheme keeps weak order 1 — laws and expectations E[f(V_T)]
        converge at rate Δt, as with Gaussian increments — but its paths are not Brownian paths
        and do not converge path-wise (no strong order): use it for distributions and
        expectations, not for pathwise coupling.  As with Gaussian Euler, V can leave the PSD
        cone near singular states; those path-steps are repaired by projection and counted in
        ``projections``.  It is several times cheaper: 64 signs come from one 64-bit random word
        (see :mod:`covsde.solvers.random_streams`).
    backend : "numpy" (default, the reference) or "numba": the scheme's compiled step for
        m = 1, 2 (schemes with a ``compiled_step``: "euler", "strang"; needs ``pip install
        numba``), its drift generated by ``sde.compiled_drift()``.  Same random numbers, same
        arithmetic: for a seed the result equals the NumPy backend's up to floating-point
        rounding.  The first call per SDE compiles (about a second).
    check_step : True (default): refuse (``InputError``) a step dt = T/steps far outside the
        scheme's stable range at V0, dt > ``scheme.max_stable_dt(sde, V0)`` (a step that changes V
        by more than its own size: :mod:`covsde.solvers.sde.step_size`), naming the step count
        that would be sound (dt ≤ 0.1 max_stable_dt).  False: run it anyway (for experts studying
        a scheme's failure); the result's message still says how far outside the step is.

    reduce : None (default: keep every path, an :class:`SDEResult`), ``"statistics"`` or a
        :class:`covsde.solvers.sde.streaming_statistics.StatisticsPlan`: fold each chunk into
        sufficient statistics on the worker and return a :class:`StreamingResult` (counts, means
        and covariances of V and rho, fixed-edge histograms of rho_T and log V_T, explosion
        counts and times), whose memory does not grow with ``paths``.  Not with ``save_at``.
        The statistics are the same bit for bit for any executor and workers at a given ``chunk``.

    Returns
    -------
    SDEResult, or StreamingResult with ``reduce``

    Raises
    ------
    InputError
        For invalid arguments, a step far outside the stable range, or a run whose memory or
        path-steps pass the limits of :mod:`covsde.solvers.resource_limits` (checked before
        anything is allocated).
    """
    sde_with(sde, "drift")
    T = positive_time(T)
    steps, paths = count(steps, "steps"), count(paths, "paths")
    scheme_obj = get_scheme(scheme)
    V0 = covariance_per_path(V0, paths)
    check_noise(noise)
    if noise not in scheme_obj.noises:
        takers = [name for name, s in registered_schemes().items() if noise in s.noises]
        raise InputError(f"noise={noise!r} is not available for scheme={scheme_obj.name!r} (schemes that "
                         f"take it: {takers}); use noise={scheme_obj.noises[0]!r} with this scheme")
    if backend not in BACKENDS:
        raise InputError(f"backend must be one of {list(BACKENDS)}, got {backend!r}")
    workers = count(workers, "workers")
    executor = as_executor(executor)
    plan = as_plan(reduce)
    explosion_threshold = positive_number(explosion_threshold, "explosion_threshold", allow_inf=True)
    chunk = paths_per_chunk(chunk, DEFAULT_CHUNK)
    idx, save_times = save_steps(save_at, T, steps)
    if plan is not None and idx is not None:
        raise InputError("save_at keeps paths, which a streaming run (reduce=...) does not; "
                         "use reduce=None for saved states, or one streaming run per save time")
    m = V0.shape[-1]
    placed = workers if executor is None else executor_workers(executor)     # None: the executor does not say
    in_flight = chunks_in_flight(-(-paths // chunk), placed, on_executor=executor is not None)
    _check_resources(paths, steps, m, chunk, placed or workers, 0 if idx is None else len(idx),
                     scheme_obj.normal_count(m) + scheme_obj.sign_count(m), plan, in_flight)
    step_note = check_step_size("simulate_sde", scheme_obj.name, scheme_obj.max_stable_dt(sde, V0), T, steps,
                                check=bool(check_step))
    if backend == "numba":
        compiled = scheme_obj.compiled_step(sde, m)       # compiled now (and cached), before any fork
        if compiled is None:
            have = [name for name, s in registered_schemes().items() if s.has_compiled_step]
            raise InputError(f"backend='numba' has no compiled step for scheme={scheme_obj.name!r} "
                             f"(schemes with one: {have}); use backend='numpy'")
    seq, chunks = path_chunks(seed, paths, chunk)
    tasks = [ChunkTask(part, V0[part.start:part.stop] if V0.shape[0] > 1 else V0, T, steps, idx,
                       explosion_threshold, scheme_obj, noise) for part in chunks]
    work = ChunkWork(sde, backend, None if plan is None else plan.folder(T, m))
    bar = ProgressBar(paths * steps, progress)
    serial = executor is None and (workers == 1 or len(tasks) == 1)
    if serial:   # the bar advances inside the chunks
        outputs = ((task, work(task, bar)) for task in tasks)
    else:
        outputs = results_in_order(work, tasks, executor=executor, workers=workers)

    label = scheme_obj.name + ("" if noise == "gaussian" else f", {noise} noise") + \
        ("" if backend == "numpy" else f", {backend}")
    settings = dict(T=T, steps=steps, paths=paths, scheme=scheme_obj.name, seed=seq.entropy, workers=workers,
                    chunk=chunk, explosion_threshold=float(explosion_threshold), noise=noise, backend=backend)
    if plan is not None:
        merged = None
        for task, out in outputs:
            merged = out if merged is None else merged.merge(out)
            if not serial:
                bar.update(task.paths.size * steps)
        bar.close()
        message = _summary(paths, steps, T, label, merged.exploded / paths, merged.projections, step_note)
        return StreamingResult(statistics=merged, plan=plan, m=m, message=message + " (streaming statistics)",
                               **settings)

    V = np.empty((paths, m, m))
    saved = None if idx is None else np.empty((paths, len(idx), m, m))
    exploded = np.zeros(paths, dtype=bool)
    explosion_time = np.full(paths, np.inf)
    projections = 0
    for task, out in outputs:
        sl = slice(task.paths.start, task.paths.stop)
        V[sl], exploded[sl], explosion_time[sl] = out.V, out.exploded, out.explosion_time
        if saved is not None:
            saved[sl] = out.saved
        projections += out.projections
        if not serial:
            bar.update(task.paths.size * steps)
    bar.close()
    message = _summary(paths, steps, T, label, float(np.mean(exploded)), projections, step_note)
    return SDEResult(V=V, saved=saved, save_at=save_times, exploded=exploded,
                     explosion_time=explosion_time, projections=projections, message=message, **settings)


def _summary(paths, steps, T, label, fraction, projections, step_note) -> str:
    """The one-line message of a run."""
    message = (f"{paths} paths, {steps} steps of dt = {T / steps:.3g} ({label}): "
               f"{fraction:.2%} exploded by T = {T:g}")
    if projections:
        message += f"; {projections} path-steps projected onto PSD (try more steps)"
    if step_note:
        message += f"; {step_note}"
    return message


def _check_resources(paths, steps, m, chunk, workers, saves, rows_per_step, plan, in_flight):
    """Refuse a run whose arrays or path-steps pass :mod:`covsde.solvers.resource_limits`.

    A streaming run (``plan``) holds no array per path: its memory is the random streams, the
    working arrays of the chunks in flight and their statistics."""
    size = min(chunk, paths)
    chunks = -(-paths // chunk)
    held = min(workers, chunks)
    matrix = m * m * DOUBLE
    kept = 0 if plan is not None else paths
    in_flight += 1                 # and the merged statistics
    check_memory("simulate_sde", [
        (kept * matrix, f"the final states V (paths, m, m) of {paths:.3g} paths"),
        (kept * saves * matrix, f"the saved states (paths, {saves}, m, m) of {paths:.3g} paths"),
        (kept * (DOUBLE + 1), f"the explosion flags and times of {paths:.3g} paths"),
        (0 if plan is None else in_flight * plan.held_bytes(m),
         f"the streaming statistics of {in_flight} chunk(s)"),
        (block_count(paths) * STREAM_BYTES, f"the random streams of {block_count(paths):.3g} blocks of paths"),
        (held * size * (CHUNK_WORKING_ARRAYS * matrix + saves * matrix + rows_per_step * DOUBLE
                        + GENERATOR_BYTES / BLOCK),
         f"the working arrays of {held} chunk(s) of {size} paths"),
    ], "use fewer paths (or fewer save_at times, or a smaller chunk)")
    check_path_steps("simulate_sde", vectorised_steps(steps * chunks, size), f"{steps:.3g} steps of "
                     f"{paths:.3g} paths", "use fewer paths or steps")
