"""Checks shared by every solver: covariance matrices, counts and times.

One place decides what a valid covariance matrix, count (steps, paths, width, …) and time are, so
that every entry point (SDE solvers, kernel ODE, finite networks, CLI) accepts and refuses the same
things with the same sentence.  Seeds are checked where they become random streams
(:func:`covsde.solvers.random_streams.seed_sequence`).
"""
from __future__ import annotations

import numbers

import numpy as np

from covsde.derive.errors import InputError

#: Relative tolerances: asymmetry allowed before refusing, and negative eigenvalue allowed (round-off).
SYMMETRY_TOL = 1e-12
PSD_TOL = 1e-10


def symmetric_psd(V, name: str = "V0", *, stacked: bool = False) -> np.ndarray:
    """V as float64, exactly symmetrised, after checking it is a finite symmetric PSD matrix.

    Parameters
    ----------
    V : array_like, (m, m) (a scalar is read as 1×1), or (..., m, m) when ``stacked``
    name : str
        How the error message calls it (e.g. ``"V0"``, ``"--V0"``, ``"Q0"``).

    Raises
    ------
    InputError
        One sentence naming what is wrong: shape, non-finite entries, asymmetry, or the
        smallest eigenvalue when V is not positive semi-definite.
    """
    try:
        V = np.array(V, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric (m, m) matrix") from None
    if V.ndim == 0:
        V = V.reshape(1, 1)
    if (V.ndim != 2 and not (stacked and V.ndim > 2)) or V.shape[-1] != V.shape[-2] or V.shape[-1] == 0:
        raise InputError(f"{name} must be a square (m, m) matrix"
                         f"{' (or a stack of them)' if stacked else ''}, got shape {V.shape}")
    if not np.all(np.isfinite(V)):
        raise InputError(f"{name} has non-finite entries; give a finite symmetric PSD matrix")
    scale = max(1.0, float(np.max(np.abs(V))))
    if np.max(np.abs(V - np.swapaxes(V, -1, -2))) > SYMMETRY_TOL * scale:
        raise InputError(f"{name} is not symmetric; give a symmetric matrix (e.g. (V + V.T)/2)")
    V = (V + np.swapaxes(V, -1, -2)) / 2
    smallest = float(np.linalg.eigvalsh(V).min())
    if smallest < -PSD_TOL * scale * V.shape[-1]:
        raise InputError(f"{name} is not positive semi-definite (smallest eigenvalue {smallest:.3g}); "
                         "give a covariance matrix")
    return V


def covariance_per_path(V0, paths: int, name: str = "V0") -> np.ndarray:
    """V0 (m, m) or one per path (paths, m, m), symmetric PSD -> (paths or 1, m, m) float64."""
    V0 = symmetric_psd(V0, name, stacked=True)
    if V0.ndim > 3:
        raise InputError(f"{name} must be a square m×m matrix or (paths, m, m), got shape {V0.shape}")
    if V0.ndim == 3 and V0.shape[0] != paths:
        raise InputError(f"{name} holds {V0.shape[0]} matrices but paths = {paths}; "
                         f"give one {name} or one per path")
    return V0 if V0.ndim == 3 else V0[None]


def count(value, name: str, minimum: int = 1) -> int:
    """An integer >= minimum (an integral float such as 1e5 counts), as int; else InputError."""
    integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        integral = True
    if not integral or value < minimum:
        what = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        raise InputError(f"{name} must be {what}, got {value!r}")
    return int(value)


def positive_time(T, name: str = "T") -> float:
    """A finite time > 0 as float; else InputError."""
    try:
        T = float(T)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a positive time, got {T!r}") from None
    if not (np.isfinite(T) and T > 0):
        raise InputError(f"{name} must be a positive time, got {T}")
    return T


def save_steps(save_at, T: float, steps: int):
    """Requested save times in [0, T] -> (step indices (k,), the times on the grid of ``steps`` steps);
    (None, None) when ``save_at`` is None."""
    if save_at is None:
        return None, None
    times = np.atleast_1d(np.asarray(save_at, dtype=np.float64))
    if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times < 0) or np.any(times > T * (1 + 1e-12)):
        raise InputError(f"save_at must be times in [0, T] = [0, {T}]")
    idx = np.rint(times / T * steps).astype(np.int64)
    return idx, idx * (T / steps)
