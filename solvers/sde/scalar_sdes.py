"""Fast 1-D solvers: the one-input norm SDE and the ReLU-like correlation SDE (SPEC §1).

Norm SDE (one input): dV = b(V) dt + sqrt(2) V dB, b = ``sde.norm_drift``; for smooth activations,
normalized convention, b(V) = k V(V − 1) (Li, Nica, Roy 2022; SPEC §1 "The norm").
Correlation SDE (ReLU-like): dρ = μ(ρ) dt + (1 − ρ²) dW, μ(ρ) = ν(ρ) − ρ(1 − ρ²)/2 =
``sde.correlation_drift`` (SPEC §1, by Itô's formula on ρ = V^{12}/sqrt(V^{11}V^{22})).

Random streams are organised as for every solver (:mod:`covsde.solvers.random_streams`): one
stream per block of ``BLOCK`` paths, so a seed gives the same numbers whatever the chunking.

Guards, as :func:`covsde.solvers.simulate_sde`: memory and path-steps are checked before anything
is allocated (:mod:`covsde.solvers.resource_limits`), and a step far outside the scheme's stable
range at the starting value is refused (``check_step=False`` runs it anyway); the rates of change
(per unit time) that set that range are, with Δt·rate ≤ 1 the stable range and ≤ 0.1 a sound step
(:mod:`covsde.solvers.sde.step_size`):

- norm, "log_euler": |d/dY (b(e^Y) e^{−Y})| = |b'(V0) − b(V0)/V0|, the drift's Jacobian in Y = log V
  (the noise sqrt(2) dW is added exactly);
- norm, "euler": max(|b'(V0)|, |b(V0)|/V0, 2), the drift's and the noise's (σ(V) = sqrt(2) V,
  σ'² = 2: a step leaves V > 0 when sqrt(2Δt) z < −1);
- correlation: max(|μ'(ρ0)|, σ'(ρ0)² = 4ρ0², σ(ρ0)² = (1 − ρ0²)²), the drift's Jacobian, the
  multiplicative noise's rate and the noise variance per unit time against the half-width 1 of
  [−1, 1] (a step whose noise is that wide is clipped at the ends instead of diffusing).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from covsde.derive.errors import InputError

from covsde.solvers import result_display as display
from covsde.solvers.chunk_executor import results_in_order
from covsde.solvers.input_validation import count, positive_number, positive_time, real_number, sde_with
from covsde.solvers.random_streams import BLOCK, block_count, path_chunks
from covsde.solvers.resource_limits import DOUBLE, STREAM_BYTES, check_memory, check_path_steps, vectorised_steps
from covsde.solvers.sde.step_size import check_step as check_step_size, max_dt_of_rate

#: Paths stepped together (a multiple of BLOCK).
CHUNK = 16 * BLOCK
#: Lowest log V kept: V = e^Y stays a normal positive double (vanishing paths stay finite).
LOG_FLOOR = np.log(np.finfo(np.float64).tiny)
#: (paths,) float64 arrays a chunk holds at once while stepping (state, last state, normals,
#: frozen values, explosion times, drift temporaries), for the memory check.
CHUNK_WORKING_ARRAYS = 10


@dataclass(frozen=True, repr=False)
class NormResult:
    """Outcome of :func:`simulate_norm`.

    Attributes
    ----------
    V : (paths,) V at T; an exploded path keeps the value that crossed the threshold.
    exploded : (paths,) bool; explosion_time : (paths,) first grid time above the threshold, inf
        where none.
    T, steps, paths, scheme, explosion_threshold : the settings used.
    seed : the SeedSequence entropy (pass it as ``seed`` to reproduce the run).
    message : one line summary.

    Notebooks show the settings and the mean, std and 5/50/95 % quantiles of V_T and log V_T
    over the paths that did not explode (:mod:`covsde.solvers.result_display`).
    """

    V: np.ndarray
    exploded: np.ndarray
    explosion_time: np.ndarray
    T: float
    steps: int
    paths: int
    scheme: str
    seed: object
    explosion_threshold: float
    message: str = ""

    @property
    def fraction_exploded(self) -> float:
        return float(np.mean(self.exploded))

    def _settings(self) -> dict:
        return {"paths": self.paths, "T": self.T, "steps": self.steps, "scheme": self.scheme,
                "seed": self.seed, "fraction_exploded": self.fraction_exploded}

    def __repr__(self) -> str:
        return display.settings_repr("NormResult", self._settings() | {"message": self.message})

    def _repr_html_(self) -> str:
        kept = self.V[~self.exploded]
        with np.errstate(divide="ignore"):
            samples = {"V": kept, "log V": np.log(kept)}
        settings = self._settings() | {"dt": self.T / self.steps,
                                       "explosion_threshold": self.explosion_threshold}
        return display.html_report("NormResult", self.message, settings,
                                   [display.statistics_table(samples)])


@dataclass(frozen=True, repr=False)
class CorrelationResult:
    """Outcome of :func:`simulate_correlation`.

    Attributes
    ----------
    rho : (paths,) ρ at T.
    clipped : number of path-steps put back into [−1, 1].
    T, steps, paths : the settings used.
    seed : the SeedSequence entropy (pass it as ``seed`` to reproduce the run).
    message : one line summary.

    ρ lives in [−1, 1]: no path explodes.  Notebooks show the settings and the mean, std and
    5/50/95 % quantiles of ρ_T (:mod:`covsde.solvers.result_display`).
    """

    rho: np.ndarray
    clipped: int
    T: float
    steps: int
    paths: int
    seed: object
    message: str = ""

    def _settings(self) -> dict:
        return {"paths": self.paths, "T": self.T, "steps": self.steps, "seed": self.seed,
                "clipped": self.clipped}

    def __repr__(self) -> str:
        return display.settings_repr("CorrelationResult", self._settings() | {"message": self.message})

    def _repr_html_(self) -> str:
        settings = self._settings() | {"dt": self.T / self.steps}
        return display.html_report("CorrelationResult", self.message, settings,
                                   [display.statistics_table({"rho": self.rho})])


def simulate_norm(sde, V0, T, *, steps, paths, seed=None, explosion_threshold=1e8,
                  scheme="log_euler", check_step=True, executor=None, workers=1) -> NormResult:
    """Simulate the one-input norm SDE dV = b(V) dt + sqrt(2) V dB (SPEC §1).

    Schemes
    -------
    "log_euler" (default): Euler–Maruyama for Y = log V, which by Itô's formula solves
        dY = (b(V)/V − 1) dt + sqrt(2) dW.  V = e^Y > 0 always; for b = 0 the step is exact
        (geometric Brownian motion); weak order 1, strong order 1.
    "euler": Euler–Maruyama on V itself (weak 1, strong 1/2), kept for comparison; V is clipped at 0.

    Parameters
    ----------
    sde : object with ``norm_drift(v)`` (e.g. ``derive.derive_sde(...)``).
    V0 : positive float, the initial squared norm |x|²/n0.
    T, steps, paths, seed : as :func:`covsde.solvers.simulate_sde`.
    explosion_threshold : V above it (or not finite) counts as exploded; the path is frozen at
        that step and reports the value that crossed, or the last finite value before it when
        that one is not finite (never NaN or inf).
    check_step : True (default) refuses a step far outside the scheme's stable range at V0 (the
        module docstring), naming the sound step count; False runs it anyway.
    executor, workers : where the chunks of paths run (any ``concurrent.futures.Executor``, a Dask
        ``Client``, or ``workers`` local processes; :mod:`covsde.solvers.chunk_executor`); the
        numbers do not depend on it.

    Returns
    -------
    NormResult with V (paths,), exploded (paths,), explosion_time (paths,; inf where none).
    """
    sde_with(sde, "norm_drift")
    T, steps, paths = positive_time(T), count(steps, "steps"), count(paths, "paths")
    workers = count(workers, "workers")
    V0 = positive_number(V0, "V0 (the norm SDE's initial squared norm)")
    if scheme not in ("log_euler", "euler"):
        raise InputError(f"unknown scheme {scheme!r} for the norm SDE; choose 'log_euler' or 'euler'")
    explosion_threshold = positive_number(explosion_threshold, "explosion_threshold", allow_inf=True)
    if not explosion_threshold > V0:
        raise InputError(f"explosion_threshold must exceed V0 = {V0}, got {explosion_threshold}")
    _check_resources("simulate_norm", paths, steps, 3)
    rate = _norm_step_rate(sde.norm_drift, V0, scheme)
    note = check_step_size("simulate_norm", scheme, max_dt_of_rate(rate), T, steps, check=bool(check_step))
    seq, chunks = path_chunks(seed, paths, CHUNK)
    V = np.empty(paths)
    exploded = np.zeros(paths, dtype=bool)
    explosion_time = np.full(paths, np.inf)
    work = NormChunkWork(sde, scheme, V0, T / steps, steps, explosion_threshold)
    for part, (v, ex, te) in results_in_order(work, chunks, executor=executor, workers=workers):
        V[part.start:part.stop], exploded[part.start:part.stop], explosion_time[part.start:part.stop] = v, ex, te
    frac = float(np.mean(exploded))
    message = f"{paths} paths, {steps} steps ({scheme}): {frac:.2%} exploded by T = {T:g}"
    return NormResult(V=V, exploded=exploded, explosion_time=explosion_time, T=T, steps=steps,
                      paths=paths, scheme=scheme, seed=seq.entropy,
                      explosion_threshold=float(explosion_threshold),
                      message=message + (f"; {note}" if note else ""))


def simulate_correlation(sde, rho0, T, *, steps, paths, seed=None, check_step=True, executor=None,
                         workers=1) -> CorrelationResult:
    """Simulate the ReLU-like correlation SDE dρ = μ(ρ) dt + (1 − ρ²) dW on [−1, 1] (SPEC §1).

    Euler–Maruyama in ρ (weak order 1), with ρ clipped to [−1, 1] after each step.  Leaving the
    interval needs (1 − ρ²)|ΔW| > 1 − |ρ|, i.e. |ΔW| > 1/2 near the ends: for dt ≤ 1e−2 a
    5-standard-deviation event, counted in ``clipped``.  μ = ``sde.correlation_drift``.

    Parameters
    ----------
    sde : a ReLU-like ``derive_sde`` object.
    rho0 : initial correlation in [−1, 1].
    T, steps, paths, seed : as :func:`covsde.solvers.simulate_sde`.
    check_step : True (default) refuses a step far outside the stable range at rho0 (the module
        docstring), naming the sound step count; False runs it anyway.
    executor, workers : as :func:`simulate_norm`; the numbers do not depend on them.
    """
    sde_with(sde, "correlation_drift")
    T, steps, paths = positive_time(T), count(steps, "steps"), count(paths, "paths")
    workers = count(workers, "workers")
    rho0 = real_number(rho0, "rho0")
    if not -1.0 <= rho0 <= 1.0:
        raise InputError(f"rho0 must lie in [-1, 1], got {rho0}")
    _check_resources("simulate_correlation", paths, steps, 1)
    rate = _correlation_step_rate(sde.correlation_drift, rho0)
    note = check_step_size("simulate_correlation", "euler", max_dt_of_rate(rate), T, steps,
                           check=bool(check_step), what="rho0")
    seq, chunks = path_chunks(seed, paths, CHUNK)
    dt = T / steps
    rho = np.empty(paths)
    clipped = 0
    work = CorrelationChunkWork(sde, rho0, dt, steps)
    for part, (r, count_clipped) in results_in_order(work, chunks, executor=executor, workers=workers):
        rho[part.start:part.stop] = r
        clipped += count_clipped
    return CorrelationResult(rho=rho, clipped=clipped, T=T, steps=steps, paths=paths, seed=seq.entropy,
                             message=f"{paths} paths, {steps} steps of dt = {dt:.3g}; "
                                     f"{clipped} path-steps clipped to [-1, 1]" + (f"; {note}" if note else ""))


@dataclass(frozen=True)
class NormChunkWork:
    """One chunk of paths of the norm SDE (a :class:`~covsde.solvers.random_streams.PathChunk`):
    (V (P,), exploded (P,), explosion_time (P,)).  Picklable (a derived SDE travels as its
    specification), so chunks run on any executor."""

    sde: object
    scheme: str
    V0: float
    dt: float
    steps: int
    threshold: float

    def __call__(self, part):
        sde, dt, steps, V0, explosion_threshold = self.sde, self.dt, self.steps, self.V0, self.threshold
        sq = np.sqrt(2.0 * dt)
        log_thr = np.log(explosion_threshold)
        P, draws = part.size, part.draws()
        z = np.empty(P)
        frozen = np.zeros(P)
        ex = np.zeros(P, dtype=bool)
        te = np.full(P, np.inf)
        # overflow and nan of exploding paths are expected: they are flagged and frozen below
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.scheme == "log_euler":
                Y = np.full(P, np.log(V0))
                for n in range(1, steps + 1):
                    draws.normals(z)
                    v = np.exp(Y)
                    last = Y.copy()
                    Y += (sde.norm_drift(v) / v - 1.0) * dt + sq * z
                    np.maximum(Y, LOG_FLOOR, out=Y)
                    crossed = ~(Y <= log_thr) | ~np.isfinite(Y)
                    if crossed.any():
                        new = crossed & ~ex
                        value = np.exp(Y[new])
                        value = np.where(np.isfinite(value), value, np.exp(last[new]))
                        frozen[new] = value
                        te[new] = n * dt
                        ex |= new
                        Y[crossed] = 0.0
                v_end = np.exp(Y)
            else:
                v = np.full(P, V0)
                for n in range(1, steps + 1):
                    draws.normals(z)
                    last = v.copy()
                    v += sde.norm_drift(v) * dt + sq * v * z
                    np.maximum(v, 0.0, out=v)
                    crossed = ~(v <= explosion_threshold) | ~np.isfinite(v)
                    if crossed.any():
                        new = crossed & ~ex
                        frozen[new] = np.where(np.isfinite(v[new]), v[new], last[new])
                        te[new] = n * dt
                        ex |= new
                        v[crossed] = 1.0
                v_end = v
        return np.where(ex, frozen, v_end), ex, te


@dataclass(frozen=True)
class CorrelationChunkWork:
    """One chunk of paths of the correlation SDE: (rho (P,), clipped path-steps).  Picklable."""

    sde: object
    rho0: float
    dt: float
    steps: int

    def __call__(self, part):
        sq = np.sqrt(self.dt)
        P, draws = part.size, part.draws()
        z = np.empty(P)
        r = np.full(P, self.rho0)
        clipped = 0
        for _ in range(self.steps):
            draws.normals(z)
            r += self.sde.correlation_drift(r) * self.dt + (1.0 - r * r) * sq * z
            out = np.abs(r) > 1.0
            if out.any():
                clipped += int(np.count_nonzero(out))
                np.clip(r, -1.0, 1.0, out=r)
        return r, clipped


def _check_resources(caller, paths, steps, per_path_arrays):
    """Refuse a run whose arrays or path-steps pass :mod:`covsde.solvers.resource_limits`."""
    size = min(CHUNK, paths)
    check_memory(caller, [
        (paths * per_path_arrays * DOUBLE, f"the results of {paths:.3g} paths"),
        (block_count(paths) * STREAM_BYTES, f"the random streams of {block_count(paths):.3g} blocks of paths"),
        (size * CHUNK_WORKING_ARRAYS * DOUBLE, f"the working arrays of a chunk of {size} paths"),
    ], "use fewer paths")
    check_path_steps(caller, vectorised_steps(steps * -(-paths // CHUNK), size),
                     f"{steps:.3g} steps of {paths:.3g} paths", "use fewer paths or steps")


def _derivative(f, x: float, lo: float = -np.inf, hi: float = np.inf) -> float:
    """f'(x) by a central difference (one-sided at the ends of [lo, hi]); nan where f is not finite."""
    h = 1e-6 * max(1.0, abs(x))
    left, right = max(x - h, lo), min(x + h, hi)
    with np.errstate(all="ignore"):
        values = np.asarray(f(np.array([left, right])), dtype=np.float64)
    return float((values[1] - values[0]) / (right - left))


def _norm_step_rate(norm_drift, V0: float, scheme: str) -> float:
    """The rate of change at V0 that sets the norm schemes' stable range (module docstring)."""
    with np.errstate(all="ignore"):
        b = float(np.asarray(norm_drift(np.array([V0])), dtype=np.float64)[0])
    slope = _derivative(norm_drift, V0, lo=0.0)
    rates = [abs(slope - b / V0)] if scheme == "log_euler" else [abs(slope), abs(b) / V0, 2.0]
    rates = [r for r in rates if np.isfinite(r)]
    return max(rates, default=0.0)


def _correlation_step_rate(correlation_drift, rho0: float) -> float:
    """max(|μ'(ρ0)|, 4ρ0², (1 − ρ0²)²): the correlation scheme's rate at ρ0 (module docstring)."""
    slope = abs(_derivative(correlation_drift, rho0, lo=-1.0, hi=1.0))
    rates = [r for r in (slope, 4 * rho0 ** 2, (1 - rho0 ** 2) ** 2) if np.isfinite(r)]
    return max(rates, default=0.0)
