"""The outcome of :func:`covsde.solvers.simulate_sde`: final (and saved) states, explosions, settings."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from covsde.derive.errors import InputError
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


@dataclass(frozen=True, repr=False)
class StreamingResult:
    """Outcome of :func:`covsde.solvers.simulate_sde` with ``reduce=``: statistics, not paths.

    Attributes
    ----------
    statistics : :class:`covsde.solvers.sde.streaming_statistics.ChunkStatistics`
        The chunks' sufficient statistics merged in chunk order: counts, the mean and co-moment
        of x = (V^ab (a <= b), rho^ab (a < b)) over the paths that did not explode, histograms
        of rho_T^ab and log V_T^aa, the histogram of explosion times.
    plan : the :class:`~covsde.solvers.sde.streaming_statistics.StatisticsPlan` (histogram edges).
    m : number of inputs.
    T, steps, paths, scheme, seed, workers, chunk, explosion_threshold, noise, backend : the
        settings used (``seed``: the SeedSequence entropy).
    message : one line summary.

    Memory does not grow with ``paths``: quantiles and KS distances come from the histograms,
    with their resolution (:meth:`quantile`, :meth:`ks_distance`).
    """

    statistics: object
    plan: object
    m: int
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
    def exploded(self) -> int:
        """Number of paths that exploded by T."""
        return self.statistics.exploded

    @property
    def fraction_exploded(self) -> float:
        return self.statistics.exploded / self.paths

    @property
    def projections(self) -> int:
        return self.statistics.projections

    @property
    def names(self) -> list:
        """Names of the entries of :attr:`mean` and :attr:`covariance`."""
        from covsde.solvers.sde.streaming_statistics import quantity_names
        return quantity_names(self.m)

    @property
    def mean(self) -> dict:
        """Mean of each V^ab and rho^ab over the paths that did not explode (and are finite)."""
        return dict(zip(self.names, self.statistics.mean.tolist()))

    @property
    def covariance(self) -> np.ndarray:
        """(k, k) covariance (1/n) M of x = (V^ab, rho^ab) over the n finite live paths (order: :attr:`names`)."""
        n = self.statistics.n
        return self.statistics.comoment / n if n else np.full_like(self.statistics.comoment, np.nan)

    @property
    def std(self) -> dict:
        """Standard deviation (1/n) of each V^ab and rho^ab."""
        return dict(zip(self.names, np.sqrt(np.diagonal(self.covariance)).tolist()))

    @property
    def explosion_time_edges(self) -> np.ndarray:
        return np.linspace(0.0, self.T, self.plan.explosion_time_bins + 1)

    def histogram(self, name: str):
        """(counts (K + 2,) with underflow and overflow bins, edges (K + 1,)) of "rho^ab" or "log V^aa"."""
        kind, a, b = _parse_quantity(name, self.m)
        if kind == "rho":
            pairs = [(i, j) for i in range(self.m) for j in range(i + 1, self.m)]
            return self.statistics.rho_histogram[pairs.index((a, b))], self.plan.rho_edges
        return self.statistics.log_v_histogram[a], self.plan.log_v_edges

    def quantile(self, name: str, level: float):
        """The ``level`` quantile of "rho^ab" or "log V^aa" from its histogram
        (:class:`~covsde.solvers.sde.streaming_statistics.HistogramQuantile`: value and resolution)."""
        from covsde.solvers.sde.streaming_statistics import histogram_quantile
        from covsde.solvers.input_validation import real_number
        level = real_number(level, "level")
        if not 0.0 <= level <= 1.0:
            raise InputError(f"level must lie in [0, 1], got {level}")
        counts, edges = self.histogram(name)
        return histogram_quantile(counts, edges, level)

    def ks_distance(self, other, name: str):
        """KS distance of "rho^ab" or "log V^aa" to ``other``: a StreamingResult with the same
        edges, or a sample (1-D array of values) binned on these edges
        (:class:`~covsde.solvers.sde.streaming_statistics.HistogramKS`: statistic and resolution)."""
        from covsde.solvers.sde.streaming_statistics import histogram_counts, histogram_ks
        counts, edges = self.histogram(name)
        if isinstance(other, StreamingResult):
            other_counts, other_edges = other.histogram(name)
            if other_edges.shape != edges.shape or not np.array_equal(other_edges, edges):
                raise InputError("the two streaming results have different histogram edges; "
                                 "give both runs the same StatisticsPlan")
        else:
            other_counts = histogram_counts(np.asarray(other, dtype=np.float64), edges)
        return histogram_ks(counts, other_counts)

    def _settings(self) -> dict:
        return {"paths": self.paths, "m": self.m, "T": self.T, "steps": self.steps,
                "scheme": self.scheme, "noise": self.noise, "backend": self.backend,
                "seed": self.seed, "fraction_exploded": self.fraction_exploded}

    def __repr__(self) -> str:
        return display.settings_repr("StreamingResult", self._settings() | {"message": self.message})


def _parse_quantity(name, m):
    """("rho", a, b) for "rho^ab" (a < b), ("logV", a, a) for "log V^aa" (0-based)."""
    text = str(name).replace(" ", "")
    for kind, prefix in (("rho", "rho^"), ("logV", "logV^")):
        if text.startswith(prefix) and len(text) == len(prefix) + 2 and text[-2:].isdigit():
            a, b = int(text[-2]) - 1, int(text[-1]) - 1
            if kind == "rho" and 0 <= a < b < m or kind == "logV" and 0 <= a == b < m:
                return kind, a, b
    raise InputError(f"unknown quantity {name!r}; use 'rho^ab' (a < b) or 'log V^aa' with inputs 1..{m}")
