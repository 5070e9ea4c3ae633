"""Is the step Δt = T/steps inside a scheme's stable range at V0?  Rates of change and the check.

A one-step scheme is only meaningful while one step changes the state by less than its own size.
For dV = b(V) dt + Σ(V)^{1/2} dB two rates (per unit time) measure how fast V changes at V0:

``drift_rate(drift, V0)``
    r_b = max(‖Db(V0)‖, ‖b(V0)‖_F / ‖V0‖_F): the drift's Jacobian, estimated by forward
    differences along rank-one PSD directions d dᵀ (every e_i and e_i ± e_j for m ≤ 6; e_i,
    e_i ± e_{i+1}, V0 and the matrix of ones for larger m), and its relative size.  The Jacobian is
    what an explicit drift step feels: on a mode with rate −λ, Euler multiplies by 1 − λΔt, which
    overshoots the fixed point for λΔt > 1 and diverges for λΔt > 2 (the explicit Euler stability
    limit); the relative size covers states far from a fixed point (b ~ V² for sinh).
``noise_rate(m)``
    r_Σ = m + 1: with V = L Lᵀ, an Euler noise step is L S Lᵀ, S a GOE increment whose
    eigenvalues have variance (m + 1) Δt on average (E‖S‖²_F = m(m + 1) Δt over m eigenvalues), and
    V + L S Lᵀ leaves the PSD cone when an eigenvalue of S passes −1: a 1/sqrt(r_Σ Δt)-standard-
    deviation event.  (Equivalently E‖L S Lᵀ‖²_F / ‖V‖²_F = ((tr V)² / ‖V‖²_F + 1) Δt
    ≤ (m + 1) Δt.)

Each scheme declares which rates limit it in :meth:`covsde.solvers.sde.scheme.Scheme.max_stable_dt`
(Euler: both; Lie: the drift only, its noise is an exact congruence; Strang: the noise flow, its
drift being sub-stepped): the stable range is Δt ≤ max_stable_dt = 1/r, i.e. Δt·r ≤ 1.

Bounds, and why (tests/test_solver_guards.py measures both):

* **sound**: Δt·r ≤ ``SOUND_STEP_RATE`` = 0.1.  A noise step leaves the PSD cone as a ≥ 3-σ
  event (m = 1: probability Φ(−sqrt 10) = 8e-4 per step), a drift mode's one-step factor 1 − λΔt
  is within 0.5 % of e^{−λΔt}.  The refusal message asks for the step count that reaches it.
* **stable range**: Δt·r ≤ 1.  Beyond it a run is *far outside* what the scheme can do — the
  drift overshoots (and past 2 diverges: the mean-reverting test SDE explodes although its exact
  solution never does), noise steps leave the PSD cone at most path-steps (V degenerates to 0) —
  and ``simulate_sde`` refuses it unless ``check_step=False``.  Between the two the run is done and
  its message says how far the step is from a sound one.
"""
from __future__ import annotations

import math

import numpy as np

from covsde.derive.errors import InputError

from covsde.solvers.input_validation import MAX_COUNT

#: Δt·r at or below which a step is sound (see the module docstring).
SOUND_STEP_RATE = 0.1
#: Doubles of perturbed states evaluated at once by :func:`drift_rate`.
_DRIFT_PROBE_DOUBLES = 2 ** 20
#: Relative size of the forward-difference perturbation.
_PROBE_STEP = 1e-6


def noise_rate(m: int) -> float:
    """r_Σ = m + 1: the eigenvalue variance per unit time of the GOE increment S (module docstring)."""
    return float(m + 1)


def probe_directions(V0) -> np.ndarray:
    """Unit rank-one PSD directions d dᵀ / ‖d‖² (k, m, m) along which :func:`drift_rate` differentiates."""
    m = V0.shape[-1]
    eye = np.eye(m)
    vectors = [eye[i] for i in range(m)]
    pairs = [(i, j) for i in range(m) for j in range(i + 1, m)] if m <= 6 else \
        [(i, i + 1) for i in range(m - 1)]
    for i, j in pairs:
        vectors += [eye[i] + eye[j], eye[i] - eye[j]]
    directions = [np.outer(v, v) / (v @ v) for v in vectors]
    if m > 6:
        directions.append(np.ones((m, m)) / m)
    return np.array(directions)


def drift_rate(drift, V0) -> float:
    """r_b = max over the paths' V0 of max(‖Db(V0)‖, ‖b(V0)‖_F / ‖V0‖_F) (module docstring).

    Parameters
    ----------
    drift : b, (..., m, m) -> (..., m, m), NumPy.
    V0 : (P, m, m) symmetric PSD starting states (distinct ones are probed once).

    Non-finite drift values are left out (a drift that is not finite at V0 gives no rate).
    """
    V0 = np.asarray(V0, dtype=np.float64)
    m = V0.shape[-1]
    flat = V0.reshape(-1, m * m)
    distinct = np.unique(flat, axis=0) if flat.shape[0] > 1 else flat
    V0 = distinct.reshape(-1, m, m)
    directions = probe_directions(V0)
    extra_dirs = directions.shape[0]
    per_path = (extra_dirs + 2) * m * m
    chunk = max(1, _DRIFT_PROBE_DOUBLES // per_path)
    rate = 0.0
    with np.errstate(all="ignore"):
        for start in range(0, V0.shape[0], chunk):
            V = V0[start:start + chunk]
            size = np.sqrt(np.einsum("pij,pij->p", V, V))
            scale = np.maximum(np.max(np.abs(V), axis=(1, 2)), 1.0)
            eps = _PROBE_STEP * scale
            probes = V[:, None] + eps[:, None, None, None] * directions[None]
            stack = np.concatenate([V[:, None], probes], axis=1).reshape(-1, m, m)
            values = np.asarray(drift(stack), dtype=np.float64).reshape(V.shape[0], extra_dirs + 1, m, m)
            base = values[:, 0]
            change = (values[:, 1:] - base[:, None]) / eps[:, None, None, None]
            jacobian = np.sqrt(np.einsum("pkij,pkij->pk", change, change))
            relative = np.where(size > 0, np.sqrt(np.einsum("pij,pij->p", base, base)) / np.where(size > 0, size, 1.0),
                                np.nan)
            candidates = np.concatenate([jacobian, relative[:, None]], axis=1)
            finite = candidates[np.isfinite(candidates)]
            if finite.size:
                rate = max(rate, float(finite.max()))
    return rate


def max_dt_of_rate(rate: float) -> float:
    """The stable range's largest step 1/r (inf for r = 0: nothing limits the step)."""
    return 1.0 / rate if rate > 0 else math.inf


def sound_steps(T: float, max_dt: float) -> float:
    """Steps that make Δt·r ≤ SOUND_STEP_RATE, r = 1/max_dt: ceil(T / (SOUND_STEP_RATE max_dt))
    (a float: it may pass any feasible count, or be inf)."""
    if not math.isfinite(max_dt):
        return 1.0
    need = T / (SOUND_STEP_RATE * max_dt) * (1 - 1e-12)
    return float(max(1, math.ceil(need))) if math.isfinite(need) else math.inf


def _steps_advice(need: float) -> str:
    """'use steps >= N', or, when no count of steps fits a float64 run, 'use a smaller T'."""
    if need <= MAX_COUNT:
        return f"use steps >= {int(need)} (dt*rate <= {SOUND_STEP_RATE}, a sound step)"
    return f"a sound step needs {need:.3g} steps, beyond any run; use a smaller T"


def check_step(caller: str, scheme_name: str, max_dt: float, T: float, steps: int, *,
               check: bool = True, what: str = "V0") -> str:
    """Refuse (InputError) a step T/steps beyond the stable range Δt ≤ max_dt (unless ``check`` is
    False); return a note for the result's message when the step is stable but not sound, else ''."""
    dt = T / steps
    if not math.isfinite(max_dt) or dt <= SOUND_STEP_RATE * max_dt:
        return ""
    ratio = dt / max_dt                         # Δt·r
    need = sound_steps(T, max_dt)
    if ratio > 1.0 and check:
        raise InputError(
            f"{caller}: dt = T/steps = {dt:.3g} is far outside the stable range of scheme {scheme_name!r} at "
            f"{what} (dt <= {max_dt:.3g}: its fastest rate of change there, {1 / max_dt:.3g} per unit time, "
            f"would change V by {ratio:.3g} times its size in one step); {_steps_advice(need)}, or "
            f"check_step=False to run it anyway")
    advice = f"steps >= {int(need)} would be sound" if need <= MAX_COUNT else _steps_advice(need)
    return (f"dt*rate = {ratio:.2g} at {what} is above the sound {SOUND_STEP_RATE} "
            f"({'outside the stable range, run with check_step=False' if ratio > 1 else 'inside the stable range'}); "
            f"{advice}")
