"""Weak second order from Euler: Richardson extrapolation of E[f(V_T)] on one Brownian path.

Euler–Maruyama has weak order 1 (Talay & Tubaro 1990): for smooth f and drift,
E f(Y^{dt}_T) = E f(V_T) + C dt + O(dt²), so the extrapolation

    R(dt) = 2 E f(Y^{dt/2}_T) - E f(Y^{dt}_T) = E f(V_T) + O(dt²)

has weak order 2 (Talay & Tubaro 1990, Stoch. Anal. Appl. 8:483). Here the covariance SDE of
SPEC §1 is stepped with the Euler scheme of :mod:`covsde.solvers.sde.schemes.euler` (exact symmetric
noise L S Lᵀ) at every step count needed, all driven by ONE Brownian path per sample: the noise of
a coarse step is the sum of the fine steps' noise inside it
(:class:`covsde.solvers.random_streams.CoupledNormals`). The coupling does not change any
expectation but makes the coarse and fine estimates nearly equal path by path, so R(dt) costs
about the variance of a plain Euler estimate instead of 5 times it (4 Var_fine + Var_coarse
for independent runs), and the change between successive step counts is measured precisely.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from covsde.derive.errors import InputError

from covsde.solvers import result_display as display
from covsde.solvers.input_validation import (count, covariance_per_path, positive_number, positive_time, real_array,
                                            sde_with)
from covsde.solvers.random_streams import BLOCK, CoupledNormals, block_count, path_chunks, paths_per_chunk
from covsde.solvers.resource_limits import DOUBLE, STREAM_BYTES, check_memory, check_path_steps, vectorised_steps
from covsde.solvers.sde.step_size import check_step as check_step_size
from covsde.solvers.sde.schemes import get_scheme
from covsde.solvers.sde.symmetric_noise import psd_factor

#: Components of a vector-valued f shown per step count in the notebook table.
RICHARDSON_TABLE_COMPONENTS = 4


@dataclass(frozen=True, repr=False)
class RichardsonEstimate:
    """Richardson-extrapolated Euler estimates of E[f(V_T)] at several step counts.

    Attributes
    ----------
    steps : (k,) int array
        Base step counts N (the extrapolation uses Euler with N and 2N steps).
    value : (k, ...) array
        R(T/N) = 2 mean f(Y^{2N}) - mean f(Y^N): weak error O(N^-2).
    standard_error : (k, ...) array
        Monte Carlo standard error of ``value``.
    change : (k - 1, ...) array
        value[i] - value[i + 1]: how much the estimate moved when N grew to steps[i + 1]
        (computed path by path on the shared Brownian paths, so it is nearly free of Monte Carlo noise).
    change_standard_error : (k - 1, ...) array
    deviation, deviation_standard_error : (k, ...) arrays
        value[i] - value[-1], measured path by path: the error of each estimate against the finest
        one, the reference of a time-to-accuracy study.
    euler_steps : (j,) int array
        Every Euler step count that was run (the union of N and 2N).
    euler_value, euler_standard_error : (j, ...) arrays
        The plain Euler estimates mean f(Y^{N}) (weak error O(1/N)), same paths.
    euler_deviation, euler_deviation_standard_error : (j, ...) arrays
        euler_value[j] - value[-1], measured path by path.
    T : float
    paths : int
    seed : int
        SeedSequence entropy (pass it as ``seed`` to reproduce the run).
    message : str
        One line summary.

    A path that explodes makes E f(V_T) undefined and :func:`richardson_expectation` raises, so
    there is no ``fraction_exploded``.  Notebooks show the settings and, per step count, the
    estimate, its standard error and its deviation from the finest estimate
    (:mod:`covsde.solvers.result_display`).
    """

    steps: np.ndarray
    value: np.ndarray
    standard_error: np.ndarray
    change: np.ndarray
    change_standard_error: np.ndarray
    deviation: np.ndarray
    deviation_standard_error: np.ndarray
    euler_steps: np.ndarray
    euler_value: np.ndarray
    euler_standard_error: np.ndarray
    euler_deviation: np.ndarray
    euler_deviation_standard_error: np.ndarray
    T: float
    paths: int
    seed: object
    message: str

    def _settings(self) -> dict:
        return {"paths": self.paths, "T": self.T, "steps": [int(n) for n in self.steps],
                "seed": self.seed}

    def __repr__(self) -> str:
        return display.settings_repr("RichardsonEstimate", self._settings() | {"message": self.message})

    def _repr_html_(self) -> str:
        rows = []
        for kind, steps, value, error, deviation in (
                ("Richardson", self.steps, self.value, self.standard_error, self.deviation),
                ("Euler", self.euler_steps, self.euler_value, self.euler_standard_error,
                 self.euler_deviation)):
            for i, n in enumerate(steps):
                flat = (value[i].ravel(), error[i].ravel(), deviation[i].ravel())
                components = min(flat[0].size, RICHARDSON_TABLE_COMPONENTS)
                for j in range(components):
                    label = f"{kind} N={int(n)}" + ("" if flat[0].size == 1 else f" [{j}]")
                    rows.append((label, flat[0][j], flat[1][j], flat[2][j]))
        header = ("estimate", "value", "standard error", "minus finest Richardson")
        return display.html_report("RichardsonEstimate", self.message, self._settings(), [(header, rows)])


class _Moments:
    """Running sums of a (P, q) sample for its mean and standard error."""

    def __init__(self, shape):
        self.n, self.total, self.squares = 0, np.zeros(shape), np.zeros(shape)

    def add(self, x):
        self.n += x.shape[0]
        self.total += x.sum(axis=0)
        self.squares += np.einsum("p...,p...->...", x, x)

    def mean(self):
        return self.total / self.n

    def standard_error(self):
        mean = self.mean()
        variance = np.clip(self.squares / self.n - mean**2, 0.0, None) * self.n / max(self.n - 1, 1)
        return np.sqrt(variance / self.n)


def richardson_expectation(sde, V0, T, f, *, steps, paths, seed=None, chunk=None,
                           explosion_threshold=1e8, check_step=True) -> RichardsonEstimate:
    """Estimate E[f(V_T)] for dV = b(V) dt + Σ(V)^{1/2} dB with weak order 2 (SPEC §1).

    R(T/N) = 2 E f(Y^{2N}) - E f(Y^N), Y^N the Euler–Maruyama solution with N steps
    (Talay & Tubaro 1990); all step counts share each path's Brownian motion.

    Parameters
    ----------
    sde : object with ``drift(V)``, V (..., m, m) -> (..., m, m), e.g. ``derive.derive_sde(...)``.
    V0 : (m, m) symmetric PSD (or (paths, m, m)).
    T : float
        Final time.
    f : callable
        V (P, m, m) -> (P,) or (P, q...): the quantity whose mean is wanted, e.g.
        ``lambda V: V[:, 0, 1]``.
    steps : int or sequence of int
        Base step counts N; every N must divide the largest 2N (e.g. [4, 8, 16]).
    paths : int
        Number of sampled Brownian paths.
    seed : int, None, SeedSequence or Generator
        Paths are drawn in blocks of ``BLOCK`` paths, block i from
        ``SeedSequence(seed).spawn(blocks)[i]``: the result does not depend on ``chunk``.
    chunk : int, optional
        Paths held in memory at once (rounded up to a multiple of BLOCK).
    explosion_threshold : float
        A path whose trace passes it (or becomes non-finite) makes the expectation undefined.
    check_step : bool
        True (default): refuse when the *finest* step T/(2 max N) is far outside Euler's stable
        range at V0 (``Scheme.max_stable_dt``, :mod:`covsde.solvers.sde.step_size`).  Coarser
        levels are only compared with it, and their errors are what ``change`` and ``deviation``
        report, so they are not checked.  False: run anyway.

    Returns
    -------
    RichardsonEstimate

    Raises
    ------
    InputError
        For invalid arguments, when a path explodes before T (E f(V_T) is then not defined), when
        the finest step is far outside the stable range, or when the run's memory or path-steps
        pass the limits of :mod:`covsde.solvers.resource_limits`.
    """
    sde_with(sde, "drift")
    if not callable(f):
        raise InputError(f"f must be a function of V (paths, m, m), got {type(f).__name__}")
    T = positive_time(T)
    try:
        raw = np.atleast_1d(np.asarray(steps))
    except (TypeError, ValueError):
        raw = np.empty((0, 0))
    if raw.ndim != 1 or raw.size == 0 or not np.issubdtype(raw.dtype, np.integer) or np.any(raw < 1) \
            or np.any(raw > np.iinfo(np.int64).max // 4):
        raise InputError(f"steps must be a positive integer or a list of them, got {steps!r}")
    base = np.unique([count(int(n), "steps") for n in raw]).astype(np.int64)
    levels = np.unique(np.concatenate([base, 2 * base]))
    finest = int(levels[-1])
    if np.any(finest % levels):
        raise InputError(f"every step count must divide the finest grid {finest}; use step counts "
                         "that double, e.g. steps=[4, 8, 16]")
    paths = count(paths, "paths")
    V0 = covariance_per_path(V0, paths)
    chunk = paths_per_chunk(chunk, 4 * BLOCK)
    explosion_threshold = positive_number(explosion_threshold, "explosion_threshold", allow_inf=True)
    scheme = get_scheme("euler")
    m = V0.shape[-1]
    k = scheme.normal_count(m)
    size = min(chunk, paths)
    check_memory("richardson_expectation", [
        (size * (3 * len(levels) + 4) * m * m * DOUBLE,
         f"the states of {len(levels)} step counts for a chunk of {size} paths"),
        (size * (len(levels) + 2) * k * DOUBLE, f"the coupled normals of a chunk of {size} paths"),
        (block_count(paths) * STREAM_BYTES, f"the random streams of {block_count(paths):.3g} blocks of paths"),
    ], "use a smaller chunk or fewer step counts")
    check_path_steps("richardson_expectation", vectorised_steps(float(levels.sum()) * -(-paths // chunk), size),
                     f"{paths:.3g} paths at step counts {levels.tolist()}", "use fewer paths or smaller step counts")
    check_step_size("richardson_expectation", scheme.name, scheme.max_stable_dt(sde, V0), T, finest,
                    check=bool(check_step))
    seq, chunks = path_chunks(seed, paths, chunk)
    position = {int(level): i for i, level in enumerate(levels)}

    euler = richardson = change = deviation = euler_deviation = None
    exploded = 0
    for part in chunks:
        start, stop = part.start, part.stop
        normals = CoupledNormals(part.draws(), k, levels, finest)
        finals, bad = _euler_levels(scheme, sde, V0[start:stop] if V0.shape[0] > 1 else V0,
                                    stop - start, T, levels, normals, explosion_threshold)
        exploded += int(np.count_nonzero(bad))
        values = np.stack([_evaluate(f, V, stop - start) for V in finals])          # (levels, P, q...)
        extrapolated = np.stack([2 * values[position[2 * n]] - values[position[n]] for n in base])
        if euler is None:
            q = values.shape[2:]
            euler = [_Moments(q) for _ in levels]
            richardson = [_Moments(q) for _ in base]
            change = [_Moments(q) for _ in base[:-1]]
            deviation = [_Moments(q) for _ in base]
            euler_deviation = [_Moments(q) for _ in levels]
        for moments, x in zip(euler, values):
            moments.add(x)
        for moments, x in zip(richardson, extrapolated):
            moments.add(x)
        for i, moments in enumerate(change):
            moments.add(extrapolated[i] - extrapolated[i + 1])
        for moments, x in zip(deviation, extrapolated):
            moments.add(x - extrapolated[-1])
        for moments, x in zip(euler_deviation, values):
            moments.add(x - extrapolated[-1])
    if exploded:
        raise InputError(f"{exploded} of {paths} paths exploded before T = {T:g}, so E[f(V_T)] is not "
                         "defined; use simulate_sde and sde.stability.explosion_probability instead")
    stack = lambda moments, what: np.stack([getattr(x, what)() for x in moments]) if moments else \
        np.empty((0,) + euler[0].total.shape)   # noqa: E731
    return RichardsonEstimate(steps=base, value=stack(richardson, "mean"),
                              standard_error=stack(richardson, "standard_error"),
                              change=stack(change, "mean"), change_standard_error=stack(change, "standard_error"),
                              deviation=stack(deviation, "mean"),
                              deviation_standard_error=stack(deviation, "standard_error"),
                              euler_steps=levels, euler_value=stack(euler, "mean"),
                              euler_standard_error=stack(euler, "standard_error"),
                              euler_deviation=stack(euler_deviation, "mean"),
                              euler_deviation_standard_error=stack(euler_deviation, "standard_error"),
                              T=T, paths=paths, seed=seq.entropy,
                              message=f"R(T/N) = 2 E f(Y^2N) - E f(Y^N) for N = {', '.join(map(str, base))} "
                                      f"from Euler on {paths} shared Brownian paths, T = {T:g}")


def _euler_levels(scheme, sde, V0, P, T, levels, normals, threshold):
    """Euler at every step count in ``levels`` on shared Brownian paths (``normals``: the
    CoupledNormals of these levels); returns (finals, exploded).

    An Euler step can leave the PSD cone by O(dt) near singular V; the final states are projected
    back (eigenvalue clipping), so that f sees covariance matrices.
    """
    m = V0.shape[-1]
    states = [np.array(np.broadcast_to(V0, (P, m, m))) for _ in levels]
    bad = np.zeros(P, dtype=bool)
    with np.errstate(invalid="ignore", over="ignore"):
        for ready in normals:
            for i, step_normals in ready:
                states[i], _ = scheme.step(states[i], sde.drift, T / levels[i], step_normals)
                crossed = ~(np.trace(states[i], axis1=1, axis2=2) <= threshold)
                if crossed.any():
                    bad |= crossed
                    states[i][crossed] = np.eye(m)
    for i, V in enumerate(states):      # report PSD states, as simulate_sde does
        L, failed = psd_factor(V)
        if failed.any():
            V[failed] = L[failed] @ np.swapaxes(L[failed], -1, -2)
    return states, bad


def _evaluate(f, V, P):
    out = real_array(f(V), "f(V)")
    if out.ndim == 0 or out.shape[0] != P:
        raise InputError(f"f must map V of shape (paths, m, m) to one value per path, shape (paths, ...); "
                         f"got shape {out.shape}")
    return out
