"""Checks shared by every solver: covariance matrices and random seeds.

One place decides what a valid covariance matrix and a valid seed are, so that every entry point
(SDE solvers, kernel ODE, finite networks, CLI) accepts and refuses the same things with the same
sentence.
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


def seed_sequence(seed) -> np.random.SeedSequence:
    """int >= 0, None, SeedSequence or Generator -> SeedSequence (a Generator is drawn from once)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=4).tolist())
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0):
        return np.random.SeedSequence(seed)
    raise InputError(f"seed must be a non-negative int, None, a numpy SeedSequence or Generator, got {seed!r}")
