"""Two-sample comparison of covariance samples: KS and Wasserstein-1 of rho and log V.

Used to judge finite networks against SDE paths (SPEC §4): for correlations
rho^{ab} = V^{ab} / sqrt(V^{aa} V^{bb}) and log-variances log V^{aa}, the two-sample
Kolmogorov–Smirnov statistic with its p-value (``scipy.stats.ks_2samp``) and the Wasserstein-1
distance (``scipy.stats.wasserstein_distance``), with the sample sizes used.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from covsde.derive.errors import InputError

from covsde.solvers import result_display as display
from covsde.solvers.covariance_quantities import correlation
from covsde.solvers.input_validation import count, real_array

QUANTITIES = ("rho", "logV", "V")


@dataclass(frozen=True, repr=False)
class QuantityComparison:
    """One row: a scalar quantity compared between two samples.

    ``n_a``, ``n_b`` count the finite values used; ``dropped_a``, ``dropped_b`` the non-finite
    ones left out (exploded networks or paths, log of a vanished variance).
    """

    name: str
    ks_statistic: float
    ks_pvalue: float
    wasserstein: float
    mean_a: float
    mean_b: float
    n_a: int
    n_b: int
    dropped_a: int = 0
    dropped_b: int = 0

    @property
    def message(self) -> str:
        """One line: the statistics of this row."""
        return (f"{self.name}: KS {self.ks_statistic:.4g} (p = {self.ks_pvalue:.3g}), "
                f"W1 {self.wasserstein:.4g}, means {self.mean_a:.4g} vs {self.mean_b:.4g} "
                f"({self.n_a} vs {self.n_b} values)")

    def __repr__(self) -> str:
        return display.settings_repr("QuantityComparison", {
            "name": self.name, "ks_statistic": self.ks_statistic, "ks_pvalue": self.ks_pvalue,
            "wasserstein": self.wasserstein, "mean_a": self.mean_a, "mean_b": self.mean_b,
            "n_a": self.n_a, "n_b": self.n_b, "dropped_a": self.dropped_a, "dropped_b": self.dropped_b})

    def _repr_html_(self) -> str:
        return display.html_report("QuantityComparison", self.message, {},
                                   [(COMPARISON_HEADER, [_comparison_row(self)])])


#: Columns of a comparison table (HTML).
COMPARISON_HEADER = ("quantity", "KS", "p-value", "W1", "mean A", "mean B", "n A", "n B",
                     "dropped A", "dropped B")


def _comparison_row(r: QuantityComparison) -> tuple:
    return (r.name, r.ks_statistic, r.ks_pvalue, r.wasserstein, r.mean_a, r.mean_b, r.n_a, r.n_b,
            r.dropped_a, r.dropped_b)


@dataclass(frozen=True, repr=False)
class SampleComparison:
    """All rows of a comparison; index by name, e.g. ``result["rho^12"]``."""

    rows: tuple

    @property
    def message(self) -> str:
        """One line: the largest KS statistic and where it is."""
        rows = [r for r in self.rows if np.isfinite(r.ks_statistic)]
        if not rows:
            return f"{len(self.rows)} quantities compared, none with finite values in both samples"
        worst = max(rows, key=lambda r: r.ks_statistic)
        return (f"{len(self.rows)} quantities compared; largest KS statistic {worst.ks_statistic:.4g} "
                f"({worst.name}, p = {worst.ks_pvalue:.3g})")

    def __repr__(self) -> str:
        return display.settings_repr("SampleComparison", {"quantities": self.names,
                                                          "message": self.message})

    def _repr_html_(self) -> str:
        return display.html_report("SampleComparison", self.message, {},
                                   [(COMPARISON_HEADER, [_comparison_row(r) for r in self.rows])])

    def __getitem__(self, name: str) -> QuantityComparison:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"{name!r}; available: {[r.name for r in self.rows]}")

    @property
    def names(self) -> list:
        return [row.name for row in self.rows]

    def __str__(self) -> str:
        header = (f"{'quantity':<10} {'KS':>7} {'p-value':>9} {'W1':>9} {'mean A':>10} "
                  f"{'mean B':>10} {'n A':>8} {'n B':>8}")
        lines = [header, "-" * len(header)]
        for r in self.rows:
            lines.append(f"{r.name:<10} {r.ks_statistic:7.4f} {r.ks_pvalue:9.3g} {r.wasserstein:9.4g} "
                         f"{r.mean_a:10.4g} {r.mean_b:10.4g} {r.n_a:8d} {r.n_b:8d}")
        dropped = [f"{r.name}: {r.dropped_a} A, {r.dropped_b} B" for r in self.rows
                   if r.dropped_a or r.dropped_b]
        if dropped:
            lines.append("non-finite values left out: " + "; ".join(dropped))
        return "\n".join(lines)


def final_covariances(samples) -> np.ndarray:
    """(N, m, m) covariances from an array or a result object (its last recorded layer).

    Accepts an (N, m, m) array, an object with ``.final`` (finite-network results), or an
    object with ``.V`` of shape (N, m, m) or (N, layers, m, m) (the last layer is used).
    """
    if isinstance(samples, np.ndarray) or isinstance(samples, (list, tuple)):
        V = real_array(samples, "covariance samples")
    elif hasattr(samples, "final"):
        V = real_array(samples.final, "covariance samples")
    elif hasattr(samples, "V"):
        V = real_array(samples.V, "covariance samples")
        if V.ndim == 4:
            V = V[:, -1]
    else:
        raise InputError(f"cannot read covariances from {type(samples).__name__}; "
                         "give an (N, m, m) array or a result with .V")
    if V.ndim != 3 or V.shape[1] != V.shape[2] or V.shape[0] < 1:
        raise InputError(f"covariance samples must have shape (N, m, m), got {V.shape}")
    return V


def scalar_quantities(V: np.ndarray, quantities=("rho", "logV"), inputs=None) -> dict:
    """Named scalar samples from covariances V (N, m, m): {"rho^12": (N,), "log V^11": (N,), ...}.

    ``inputs`` (0-based) selects which inputs enter; default all when m <= 3, else the first two.
    Names use 1-based input numbers as in the papers.
    """
    m = V.shape[1]
    if inputs is None:
        inputs = range(m) if m <= 3 else range(min(m, 2))
    if not isinstance(inputs, (list, tuple, range, np.ndarray)):
        raise InputError(f"inputs must be a list of input indices in 0..{m - 1}, got {inputs!r}")
    inputs = list(np.ravel(inputs)) if isinstance(inputs, np.ndarray) else list(inputs)
    if any(isinstance(i, (bool, np.bool_)) or not isinstance(i, numbers.Integral) or not (0 <= i < m)
           for i in inputs):
        raise InputError(f"inputs must be indices in 0..{m - 1}, got {inputs}")
    if isinstance(quantities, str):
        quantities = (quantities,)
    if not isinstance(quantities, (list, tuple)) or not quantities:
        raise InputError(f"quantities must be a non-empty list taken from {list(QUANTITIES)}, got {quantities!r}")
    quantities = list(quantities)
    unknown = [q for q in quantities if not isinstance(q, str) or q not in QUANTITIES]
    if unknown:
        raise InputError(f"unknown quantities {unknown}; choose from {list(QUANTITIES)}")
    out = {}
    diag = np.diagonal(V, axis1=1, axis2=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        for q in quantities:
            if q == "rho":
                rho = correlation(V)
                for x, a in enumerate(inputs):
                    for b in inputs[x + 1:]:
                        out[f"rho^{a + 1}{b + 1}"] = rho[:, a, b]
            elif q == "logV":
                for a in inputs:
                    out[f"log V^{a + 1}{a + 1}"] = np.log(diag[:, a])
            else:
                for x, a in enumerate(inputs):
                    for b in inputs[x:]:
                        out[f"V^{a + 1}{b + 1}"] = V[:, a, b]
    return out


def compare(samples_a, samples_b, *, quantities=("rho", "logV"), inputs=None, executor=None,
            workers=1) -> SampleComparison:
    """KS statistic, KS p-value and Wasserstein-1 of rho^{ab} and log V^{aa} between two samples.

    Parameters
    ----------
    samples_a, samples_b : (N, m, m) arrays or result objects
        E.g. finite networks (``simulate_mlp(...)``, last recorded layer) and SDE paths
        (``simulate_sde(...).V``). Both must have the same m.
    quantities : sequence of {"rho", "logV", "V"}
        Correlations rho^{ab} (a < b), log V^{aa}, raw entries V^{ab}.
    inputs : sequence of int, optional
        Inputs to include (0-based); default all when m <= 3, else the first two.
    executor, workers : where the rows are computed (one task per quantity; any
        ``concurrent.futures.Executor``, a Dask ``Client`` or ``workers`` local processes,
        :mod:`covsde.solvers.chunk_executor`); the rows come back in order, unchanged.

    Returns
    -------
    SampleComparison
        One :class:`QuantityComparison` per quantity; ``print`` it for a table.
    """
    A = final_covariances(samples_a)
    B = final_covariances(samples_b)
    if A.shape[1:] != B.shape[1:]:
        raise InputError(f"the samples have different numbers of inputs: {A.shape[1:]} vs {B.shape[1:]}")
    qa = scalar_quantities(A, quantities, inputs)
    qb = scalar_quantities(B, quantities, inputs)
    from covsde.solvers.chunk_executor import results_in_order
    tasks = [(name, xa, qb[name]) for name, xa in qa.items()]
    rows = [row for _, row in results_in_order(compare_quantity, tasks, executor=executor,
                                               workers=count(workers, "workers"))]
    return SampleComparison(rows=tuple(rows))


def compare_quantity(task) -> QuantityComparison:
    """One row of :func:`compare` from the task (name, xa (N_a,), xb (N_b,)) (picklable)."""
    name, xa, xb = task
    fa, fb = xa[np.isfinite(xa)], xb[np.isfinite(xb)]
    if fa.size == 0 or fb.size == 0:
        nan = float("nan")
        return QuantityComparison(name, nan, nan, nan, nan, nan, int(fa.size), int(fb.size),
                                  int(xa.size - fa.size), int(xb.size - fb.size))
    from scipy import stats  # lazy: scipy.stats costs ~1 s to import (CLI start-up)
    ks = stats.ks_2samp(fa, fb)
    return QuantityComparison(
        name=name, ks_statistic=float(ks.statistic), ks_pvalue=float(ks.pvalue),
        wasserstein=float(stats.wasserstein_distance(fa, fb)),
        mean_a=float(fa.mean()), mean_b=float(fb.mean()), n_a=int(fa.size), n_b=int(fb.size),
        dropped_a=int(xa.size - fa.size), dropped_b=int(xb.size - fb.size))
