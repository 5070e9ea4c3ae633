"""Streaming reductions of SDE paths: per-chunk sufficient statistics, merged in chunk order.

``simulate_sde(..., reduce=StatisticsPlan(...))`` (or ``reduce="statistics"``) does not keep the
paths: each chunk of paths is folded, on the process that stepped it, into

* counts: paths, exploded paths, paths whose moment vector is finite (``n``);
* the mean and the co-moment matrix M = sum_i (x_i − mean)(x_i − mean)^T of the moment vector
  x = (V^ab for a <= b, then rho^ab for a < b) over the paths that did not explode;
* fixed-edge histograms of rho_T^ab (a < b) and log V_T^aa, with an underflow and an overflow bin
  (edges chosen up front, so that histograms of different chunks and runs add up);
* a histogram of the explosion times on fixed edges over [0, T],

and the chunks' statistics are merged in chunk order (:meth:`ChunkStatistics.merge`): counts and
histograms add; means and co-moments follow Chan, Golub & LeVeque (1979),

    n = n_a + n_b,  δ = mean_b − mean_a,  mean = mean_a + δ n_b / n,
    M = M_a + M_b + δ δ^T n_a n_b / n.

The chunks and their order depend only on ``paths`` and ``chunk``, and every reduction is
computed without BLAS (``numpy.einsum`` without ``optimize``, whose sums do not depend on the
number of threads), so the merged statistics are the same bit for bit whatever the executor, the
number of workers and the order in which chunks finish.  (A different ``chunk`` regroups the
sums and may change the last bits of means and covariances, never the counts.)

Quantiles and Kolmogorov–Smirnov distances are read off the merged histograms, with their
resolution: a quantile interpolated linearly inside its bin is within one bin width of the
sample quantile; the KS distance between two histograms on the same edges is computed at the
edges, where both empirical CDFs are known exactly, and the true KS statistic lies between it and
it plus the largest mass of one bin of either sample.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from covsde.derive.errors import InputError

from covsde.solvers.covariance_quantities import correlation
from covsde.solvers.input_validation import count

#: Default edges of the rho_T histograms: 2000 bins of width 1e-3 on [−1, 1].
RHO_EDGES = np.linspace(-1.0, 1.0, 2001)
#: Default edges of the log V_T histograms: 4000 bins of width 0.01 on [−20, 20].
LOG_V_EDGES = np.linspace(-20.0, 20.0, 4001)
#: Default number of bins of the explosion-time histogram on [0, T].
EXPLOSION_TIME_BINS = 100
#: Most bins a histogram may have (it is held once per chunk in flight).
MAX_BINS = 10 ** 6


def _edges(edges, name):
    edges = np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise InputError(f"{name} must be a strictly increasing 1-D array of at least 2 finite edges")
    if edges.size - 1 > MAX_BINS:
        raise InputError(f"{name} has {edges.size - 1} bins, more than {MAX_BINS}; use fewer bins")
    return edges


def histogram_counts(x, edges) -> np.ndarray:
    """Counts of the finite values of x in [under, bins..., over] for increasing ``edges`` (K + 1,):
    (K + 2,) int64.  Bin i (1..K) holds e_{i−1} <= x < e_i, the last one also x = e_K (as
    ``numpy.histogram``); bin 0 holds x < e_0, bin K + 1 holds x > e_K."""
    x = np.asarray(x, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    index = np.searchsorted(edges, x, side="right")
    index[x == edges[-1]] = edges.size - 1
    return np.bincount(index, minlength=edges.size + 1).astype(np.int64)


@dataclass(frozen=True)
class StatisticsPlan:
    """What a streaming run keeps: the histogram edges, chosen before any path is simulated.

    Parameters
    ----------
    rho_edges : increasing edges of the rho_T^ab histograms (default 2000 bins on [−1, 1]).
    log_v_edges : increasing edges of the log V_T^aa histograms (default 4000 bins on [−20, 20]).
    explosion_time_bins : bins of the explosion-time histogram on [0, T] (default 100).
    """

    rho_edges: np.ndarray = field(default_factory=lambda: RHO_EDGES)
    log_v_edges: np.ndarray = field(default_factory=lambda: LOG_V_EDGES)
    explosion_time_bins: int = EXPLOSION_TIME_BINS

    def __post_init__(self):
        object.__setattr__(self, "rho_edges", _edges(self.rho_edges, "rho_edges"))
        object.__setattr__(self, "log_v_edges", _edges(self.log_v_edges, "log_v_edges"))
        bins = count(self.explosion_time_bins, "explosion_time_bins")
        if bins > MAX_BINS:
            raise InputError(f"explosion_time_bins must be at most {MAX_BINS}, got {bins}")
        object.__setattr__(self, "explosion_time_bins", bins)

    def folder(self, T: float, m: int) -> "ChunkFolder":
        """The picklable folder of a run to time T with m inputs (what a worker applies to a chunk)."""
        return ChunkFolder(self.rho_edges, self.log_v_edges,
                           np.linspace(0.0, float(T), self.explosion_time_bins + 1), int(m))

    def held_bytes(self, m: int) -> int:
        """Bytes of one chunk's statistics (histograms and co-moments)."""
        pairs = m * (m - 1) // 2
        k = m * m
        return 8 * (pairs * (self.rho_edges.size + 1) + m * (self.log_v_edges.size + 1)
                    + self.explosion_time_bins + k * k + k + 8)


def as_plan(reduce) -> StatisticsPlan | None:
    """None (keep the paths), "statistics" (the default plan) or a StatisticsPlan."""
    if reduce is None or isinstance(reduce, StatisticsPlan):
        return reduce
    if isinstance(reduce, str) and reduce == "statistics":
        return StatisticsPlan()
    raise InputError(f"reduce must be None, 'statistics' or a StatisticsPlan, got {reduce!r}")


def quantity_names(m: int) -> list:
    """Names of the moment vector x: V^ab (a <= b), then rho^ab (a < b), 1-based."""
    names = [f"V^{a + 1}{b + 1}" for a in range(m) for b in range(a, m)]
    return names + [f"rho^{a + 1}{b + 1}" for a in range(m) for b in range(a + 1, m)]


@dataclass(frozen=True)
class ChunkFolder:
    """Folds one chunk's final states into :class:`ChunkStatistics` (runs on the worker)."""

    rho_edges: np.ndarray
    log_v_edges: np.ndarray
    time_edges: np.ndarray
    m: int

    def fold(self, V, exploded, explosion_time, projections: int = 0) -> "ChunkStatistics":
        """Statistics of final states V (P, m, m), exploded (P,) bool, explosion_time (P,)."""
        m = self.m
        live = V[~exploded]
        upper, strict = np.triu_indices(m), np.triu_indices(m, 1)
        rho = correlation(live)[:, strict[0], strict[1]]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_v = np.log(np.diagonal(live, axis1=1, axis2=2))
        x = np.concatenate([live[:, upper[0], upper[1]], rho], axis=1)
        x = x[np.all(np.isfinite(x), axis=1)]
        n = x.shape[0]
        mean = np.mean(x, axis=0) if n else np.zeros(x.shape[1])
        d = x - mean
        comoment = np.einsum("pi,pj->ij", d, d)
        times = explosion_time[exploded]
        return ChunkStatistics(
            paths=int(V.shape[0]), exploded=int(np.count_nonzero(exploded)), n=n, mean=mean,
            comoment=comoment,
            rho_histogram=np.stack([histogram_counts(rho[:, j], self.rho_edges) for j in range(rho.shape[1])])
            if rho.shape[1] else np.zeros((0, self.rho_edges.size + 1), np.int64),
            rho_undefined=np.count_nonzero(~np.isfinite(rho), axis=0).astype(np.int64),
            log_v_histogram=np.stack([histogram_counts(log_v[:, a], self.log_v_edges) for a in range(m)]),
            explosion_time_histogram=_time_counts(times, self.time_edges),
            projections=int(projections))


def _time_counts(times, edges) -> np.ndarray:
    """Counts of explosion times (grid times in (0, T]) in the bins of ``edges`` over [0, T]."""
    full = histogram_counts(times, edges)
    full[1] += full[0]
    full[-2] += full[-1]
    return full[1:-1]


@dataclass(frozen=True)
class ChunkStatistics:
    """Sufficient statistics of a set of paths (one chunk, or several merged in order)."""

    paths: int
    exploded: int
    n: int
    mean: np.ndarray              # (k,)
    comoment: np.ndarray          # (k, k)
    rho_histogram: np.ndarray     # (pairs, K_rho + 2)
    rho_undefined: np.ndarray     # (pairs,)
    log_v_histogram: np.ndarray   # (m, K_logV + 2)
    explosion_time_histogram: np.ndarray   # (K_t,)
    projections: int = 0

    def merge(self, other: "ChunkStatistics") -> "ChunkStatistics":
        """These paths followed by ``other``'s (Chan, Golub & LeVeque 1979; module docstring)."""
        n = self.n + other.n
        if n == 0:
            mean, comoment = self.mean, self.comoment + other.comoment
        else:
            delta = other.mean - self.mean
            mean = self.mean + delta * (other.n / n)
            comoment = self.comoment + other.comoment + np.einsum("i,j->ij", delta, delta) * (self.n * other.n / n)
        return ChunkStatistics(
            paths=self.paths + other.paths, exploded=self.exploded + other.exploded, n=n, mean=mean,
            comoment=comoment, rho_histogram=self.rho_histogram + other.rho_histogram,
            rho_undefined=self.rho_undefined + other.rho_undefined,
            log_v_histogram=self.log_v_histogram + other.log_v_histogram,
            explosion_time_histogram=self.explosion_time_histogram + other.explosion_time_histogram,
            projections=self.projections + other.projections)


@dataclass(frozen=True)
class HistogramQuantile:
    """A quantile read off a histogram: ``value`` is within ``resolution`` (its bin's width) of the
    sample quantile; ±inf when it falls in the underflow or overflow bin."""

    level: float
    value: float
    resolution: float


@dataclass(frozen=True)
class HistogramKS:
    """Kolmogorov–Smirnov distance of two samples seen through a histogram.

    ``statistic`` = max over the edges of |F_a − F_b| (both CDFs known exactly there), a lower
    bound of the two-sample KS statistic D; D <= statistic + ``resolution``, the largest mass of one
    bin of either sample.
    """

    statistic: float
    resolution: float
    n_a: int
    n_b: int


def cdf_at_edges(counts) -> np.ndarray:
    """Empirical CDF at the K + 1 edges from counts (K + 2,) with underflow and overflow bins."""
    total = counts.sum()
    return np.cumsum(counts)[:-1] / total


def histogram_quantile(counts, edges, level: float) -> HistogramQuantile:
    """The ``level`` quantile of the finite values counted in ``counts`` (K + 2,) on ``edges``
    (K + 1,), interpolated linearly inside its bin."""
    total = int(counts.sum())
    if total == 0:
        return HistogramQuantile(level, float("nan"), float("nan"))
    target = level * total
    cumulative = np.cumsum(counts)                # cumulative[i]: values in bins 0..i
    # the bin holding the target-th value (level 0: the first bin that holds a value)
    i = int(np.searchsorted(cumulative, target, side="left")) if target > 0 else int(np.argmax(counts > 0))
    if i == 0 and counts[0] > 0:
        return HistogramQuantile(level, -np.inf, float("inf"))
    if i >= edges.size:
        return HistogramQuantile(level, np.inf, float("inf"))
    i = max(i, 1)
    lo, hi = edges[i - 1], edges[i]
    before = cumulative[i - 1]
    inside = counts[i]
    fraction = 0.0 if inside == 0 else (target - before) / inside
    return HistogramQuantile(level, float(lo + np.clip(fraction, 0.0, 1.0) * (hi - lo)), float(hi - lo))


def histogram_ks(counts_a, counts_b) -> HistogramKS:
    """:class:`HistogramKS` of two histograms (K + 2,) on the same edges."""
    na, nb = int(counts_a.sum()), int(counts_b.sum())
    if na == 0 or nb == 0:
        return HistogramKS(float("nan"), float("nan"), na, nb)
    statistic = float(np.max(np.abs(cdf_at_edges(counts_a) - cdf_at_edges(counts_b))))
    resolution = float(max(np.max(counts_a / na), np.max(counts_b / nb)))
    return HistogramKS(statistic, resolution, na, nb)
