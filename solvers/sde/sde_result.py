"""The outcome of :func:`covsde.solvers.simulate_sde`: final (and saved) states, explosions, settings."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from covsde.solvers import result_display as display
from covsde.solvers.covariance_quantities import correlation


@dataclass(frozen=True, repr=False)
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

    Notebooks show a table of the settings and of the mean, std and 5/50/95 % quantiles of
    V^ab and rho^ab over the paths that did not explode (:mod:`covsde.solvers.result_display`).
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
    def m(self) -> int:
        """Number of inputs (V is m × m)."""
        return int(self.V.shape[-1])

    @property
    def fraction_exploded(self) -> float:
        return float(np.mean(self.exploded))

    @property
    def correlation(self):
        """ρ^{αβ} = V^{αβ}/sqrt(V^{αα}V^{ββ}) at T, (paths, m, m); nan where a diagonal is 0."""
        return correlation(self.V)

    # ------------------------------------------------------------------ display
    def _settings(self) -> dict:
        return {"paths": self.paths, "m": self.m, "T": self.T, "steps": self.steps,
                "scheme": self.scheme, "noise": self.noise, "backend": self.backend,
                "seed": self.seed, "fraction_exploded": self.fraction_exploded}

    def __repr__(self) -> str:
        return display.settings_repr("SDEResult", self._settings() | {"message": self.message})

    def _repr_html_(self) -> str:
        settings = self._settings() | {"dt": self.dt, "explosion_threshold": self.explosion_threshold,
                                       "projections": self.projections}
        samples = display.covariance_samples(self.V, keep=~self.exploded)
        return display.html_report("SDEResult", self.message, settings,
                                   [display.statistics_table(samples)])
