"""The outcome of :func:`covsde.solvers.simulate_sde`: final (and saved) states, explosions, settings."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from covsde.solvers.covariance_quantities import correlation


@dataclass
class SDEResult:
    """Outcome of :func:`covsde.solvers.simulate_sde`.

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
        return correlation(self.V)
