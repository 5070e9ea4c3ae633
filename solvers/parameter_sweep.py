"""Parameter sweeps: a grid over activation parameters × V0 × T, one streaming simulation per cell.

``sweep(activation, params={"alpha": values}, V0=[...], T=[...], steps=..., paths=...)`` runs, for
every cell of the grid (parameters varying slowest, then V0, then T), the streaming simulation
``simulate_sde(sde.subs(cell parameters), V0, T, reduce=plan)``
(:mod:`covsde.solvers.sde.streaming_statistics`) and collects one row per cell: the cell, the
settings, the fraction exploded, means and standard deviations of V^ab and rho^ab, and
histogram quantiles of rho^ab and log V^aa with their resolution.

Seeds.  Cell i of the grid is simulated with ``SeedSequence(seed).spawn(cells)[i]``: a cell's
numbers depend only on the seed, the grid and its index, never on the executor, the workers or
which cells were computed before.

Where.  Each cell is one task (:mod:`covsde.solvers.chunk_executor`): on ``executor`` (any
``concurrent.futures.Executor`` or a ``dask.distributed.Client``), on ``workers`` local
processes, or here.  A worker derives the cell's SDE itself (cached per process,
:mod:`covsde.derive.sde_specification`), so only the cell's description travels.

Files and resume.  With ``out`` the table is rewritten (atomically) after every cell, as JSON
(``.json``, always available), CSV (``.csv``, the standard library's writer) or Parquet
(``.parquet``, needs pandas and pyarrow).  Run the same sweep again with the same ``out`` and the
cells already written are read back instead of simulated (``resume=True``), so an interrupted
sweep continues where it stopped.  A file written by a sweep with other settings is refused.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import os
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from covsde.derive.errors import InputError

from covsde.solvers.chunk_executor import as_executor, results_in_order
from covsde.solvers.input_validation import count, positive_time, symmetric_psd
from covsde.solvers.random_streams import seed_sequence
from covsde.solvers.sde.streaming_statistics import StatisticsPlan, as_plan

#: Table formats by file extension.
FORMATS = (".json", ".csv", ".parquet")
#: Quantile levels reported per cell.
LEVELS = (0.05, 0.5, 0.95)
#: Columns that describe the run rather than the cell; a resumed file must agree on them.
SETTING_COLUMNS = ("activation", "convention", "steps", "paths", "seed", "scheme", "noise", "backend",
                   "chunk", "explosion_threshold", "cells")


def matrix_text(V) -> str:
    """An (m, m) matrix as covsde's command line writes it: "1,0.3;0.3,1" (repr of each float)."""
    return ";".join(",".join(repr(float(x)) for x in row) for row in np.asarray(V))


@dataclass(frozen=True)
class SweepCell:
    """One cell: its index in the grid, parameter values, V0 and T (picklable: a task)."""

    index: int
    values: tuple          # ((name, value), ...)
    V0: np.ndarray
    T: float


@dataclass(frozen=True)
class SweepCellWork:
    """Simulates one cell and returns its row (runs on the worker; picklable)."""

    activation: str
    a: object
    convention: str
    settings: dict
    plan: StatisticsPlan
    root_entropy: object
    cells: int

    def __call__(self, cell: SweepCell) -> dict:
        from covsde.solvers.sde.driver import simulate_sde
        sde = cell_sde(self.activation, self.a, self.convention, cell.values)
        seed = np.random.SeedSequence(self.root_entropy).spawn(self.cells)[cell.index]
        s = self.settings
        result = simulate_sde(sde, cell.V0, cell.T, steps=s["steps"], paths=s["paths"], seed=seed,
                              scheme=s["scheme"], noise=s["noise"], backend=s["backend"], chunk=s["chunk"],
                              explosion_threshold=s["explosion_threshold"], check_step=s["check_step"],
                              reduce=self.plan)
        return cell_row(cell, result)


@lru_cache(maxsize=64)
def base_sde(activation: str, a, convention: str):
    """The SDE of the sweep's activation with its parameters symbolic (derived once per process)."""
    from covsde.derive import derive_sde
    return derive_sde(activation, a=a, convention=convention)


@lru_cache(maxsize=256)
def cell_sde(activation: str, a, convention: str, values: tuple):
    """The SDE of one cell: the base SDE with the cell's parameter values (cached per process)."""
    sde = base_sde(activation, a, convention)
    return sde.subs(dict(values)) if values else sde


def cell_row(cell: SweepCell, result) -> dict:
    """The tidy row of a cell's :class:`~covsde.solvers.sde.sde_result.StreamingResult`."""
    row = {name: value for name, value in cell.values}
    row.update({"V0": matrix_text(cell.V0), "T": float(cell.T), "cell": cell.index,
                "fraction_exploded": float(result.fraction_exploded), "live_paths": int(result.statistics.n)})
    for name, value in result.mean.items():
        row[f"mean {name}"] = float(value)
    for name, value in result.std.items():
        row[f"std {name}"] = float(value)
    m = result.m
    names = [f"rho^{a + 1}{b + 1}" for a in range(m) for b in range(a + 1, m)] + \
            [f"log V^{a + 1}{a + 1}" for a in range(m)]
    for name in names:
        for level in LEVELS:
            q = result.quantile(name, level)
            row[f"q{int(round(100 * level)):02d} {name}"] = float(q.value)
        row[f"resolution {name}"] = float(q.resolution)
    return row


@dataclass(frozen=True, repr=False)
class SweepResult:
    """Outcome of :func:`sweep`: one row per cell (dicts of plain numbers and strings), in grid order.

    Attributes
    ----------
    rows : list of dict
    parameters : names of the swept parameters (columns of the rows).
    computed, resumed : cells simulated by this call, and cells read back from ``out``.
    out : the file written, or None.
    message : one line summary.
    """

    rows: list
    parameters: tuple
    computed: int
    resumed: int
    out: str | None = None
    message: str = field(default="")

    @property
    def columns(self) -> list:
        return list(self.rows[0]) if self.rows else []

    def column(self, name: str) -> np.ndarray:
        """One column as an array (grid order)."""
        if name not in self.columns:
            raise InputError(f"unknown column {name!r}; columns: {self.columns}")
        return np.array([row[name] for row in self.rows])

    def to_pandas(self):
        """The table as a pandas DataFrame (needs pandas)."""
        try:
            import pandas
        except ImportError:
            raise InputError("to_pandas needs pandas: pip install pandas") from None
        return pandas.DataFrame(self.rows)

    def heatmap(self, path, value: str = "q50 rho^12"):
        """Write a heat map of column ``value`` over the first two axes of the grid that vary
        (parameters, then V0, then T) to ``path`` (needs matplotlib); returns ``path``."""
        return sweep_heatmap(self, path, value)

    def __repr__(self) -> str:
        return f"SweepResult(cells={len(self.rows)}, parameters={list(self.parameters)}, " \
               f"computed={self.computed}, resumed={self.resumed}, out={self.out!r})"


def sweep(activation, *, params=None, V0, T, steps: int, paths: int, seed=0, a=1, convention="normalized",
          scheme="euler", noise="gaussian", backend="numpy", chunk=None, explosion_threshold=1e8,
          check_step=True, plan=None, executor=None, workers=1, out=None, resume=True,
          progress=None) -> SweepResult:
    """Run a grid of streaming simulations of the covariance SDE (module docstring).

    Parameters
    ----------
    activation : str
        A built-in name or an expression in x with parameters (e.g. ``"x + alpha*x**2"``), as
        :func:`covsde.derive.derive_sde` takes it; ``"relu"`` sweeps c_plus, c_minus.
    params : dict name -> sequence of values, optional
        The parameter grid (activation parameters, ``a``, or c_plus/c_minus for relu).
    V0 : (m, m) matrix or a sequence of them; T : float or a sequence.
    steps, paths, seed, scheme, noise, backend, chunk, explosion_threshold, check_step : as
        :func:`covsde.solvers.simulate_sde`, for every cell (``seed``: the sweep's root seed).
    plan : StatisticsPlan or None (the default edges).
    executor, workers : where the cells run (one task per cell); the rows do not depend on it.
    out : path of the table (.json, .csv or .parquet), rewritten after every cell; None: no file.
    resume : read back the cells already in ``out`` instead of simulating them again.
    progress : True prints one line per cell on stderr.

    Returns
    -------
    SweepResult
    """
    if not isinstance(activation, str):
        raise InputError(f"sweep takes the activation as text (a name or an expression in x), got "
                         f"{type(activation).__name__}")
    steps, paths = count(steps, "steps"), count(paths, "paths")
    workers = count(workers, "workers")
    executor = as_executor(executor)
    plan = as_plan(plan) or StatisticsPlan()
    grid = _parameter_grid(params)
    V0s = _matrices(V0)
    Ts = [positive_time(t) for t in (T if isinstance(T, (list, tuple, np.ndarray)) else [T])]
    if not Ts:
        raise InputError("T must be a time or a non-empty list of times")
    root = seed_sequence(seed)
    base = base_sde(activation, a, convention)
    _check_parameters(base, [name for name, _ in grid])
    names = tuple(name for name, _ in grid)
    combos = list(itertools.product(*[values for _, values in grid])) if grid else [()]
    cells = [SweepCell(i, tuple(zip(names, combo)), V, t)
             for i, (combo, V, t) in enumerate(itertools.product(combos, V0s, Ts))]
    settings = {"activation": activation, "convention": convention, "steps": steps, "paths": paths,
                "seed": str(root.entropy), "scheme": scheme, "noise": noise, "backend": backend,
                "chunk": chunk, "explosion_threshold": float(explosion_threshold), "cells": len(cells)}
    fmt = _format(out)
    done = _read_rows(out, fmt, settings) if (out is not None and resume) else {}
    work = SweepCellWork(activation, a, convention, dict(settings, check_step=bool(check_step)), plan,
                         root.entropy, len(cells))
    rows = {index: row for index, row in done.items() if index < len(cells)}
    todo = [cell for cell in cells if cell.index not in rows]
    for cell, row in results_in_order(work, todo, executor=executor, workers=workers):
        rows[cell.index] = row
        if out is not None:
            _write_rows(out, fmt, [dict(settings, **rows[i]) for i in sorted(rows)])
        if progress:
            import sys
            print(f"sweep: cell {cell.index + 1}/{len(cells)} done", file=sys.stderr)
    ordered = [rows[i] for i in range(len(cells))]
    return SweepResult(rows=ordered, parameters=names, computed=len(todo), resumed=len(cells) - len(todo),
                       out=None if out is None else str(out),
                       message=f"{len(cells)} cells of {paths} paths ({len(todo)} simulated"
                               + ("" if out is None else f", {len(cells) - len(todo)} read back from {out}") + ")")


def sweep_heatmap(result: SweepResult, path, value: str = "q50 rho^12"):
    """A heat map of ``value`` over the first two varying axes of a sweep (needs matplotlib)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("the heat map needs matplotlib: pip install matplotlib (or the covsde 'plot' extra)") from None
    axes = [name for name in (*result.parameters, "V0", "T") if len({row[name] for row in result.rows}) > 1]
    axes = (axes + ["T", "V0"])[:2] if len(axes) < 2 else axes[:2]
    x_values = sorted({row[axes[0]] for row in result.rows}, key=_sort_key)
    y_values = sorted({row[axes[1]] for row in result.rows}, key=_sort_key)
    grid = np.full((len(y_values), len(x_values)), np.nan)
    for row in result.rows:        # other axes: the last cell wins (sweep two axes for a clean map)
        grid[y_values.index(row[axes[1]]), x_values.index(row[axes[0]])] = row[value]
    fig, ax = plt.subplots(figsize=(6, 4))
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(x_values)), [str(v) for v in x_values], rotation=90, fontsize=6)
    ax.set_yticks(range(len(y_values)), [str(v) for v in y_values], fontsize=6)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
    fig.colorbar(image, label=value)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _sort_key(value):
    return (0, value, "") if isinstance(value, (int, float)) else (1, 0.0, str(value))


def _parameter_grid(params) -> list:
    if params is None:
        return []
    if not isinstance(params, dict):
        raise InputError(f"params must be a dict name -> list of values, got {type(params).__name__}")
    grid = []
    for name, values in params.items():
        try:
            values = None if isinstance(values, str) else np.atleast_1d(np.asarray(values, dtype=np.float64))
        except (TypeError, ValueError):
            values = None
        if values is None or values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
            raise InputError(f"params[{name!r}] must be a non-empty list of finite numbers")
        grid.append((str(name), tuple(float(v) for v in values.tolist())))
    return grid


def _matrices(V0) -> list:
    """V0 as a list of symmetric PSD (m, m) matrices of one size: one matrix, or a list of them."""
    try:
        array = np.asarray(V0, dtype=np.float64)
    except (TypeError, ValueError):            # matrices of different sizes
        array = None
    if array is not None and array.ndim == 2:
        items = [array]
    elif array is not None and array.ndim == 3 and array.shape[0] > 0:
        items = list(array)
    elif array is None and isinstance(V0, (list, tuple)) and V0:
        items = list(V0)
    else:
        raise InputError("V0 must be an (m, m) matrix or a non-empty list of them")
    matrices = [symmetric_psd(V, "V0") for V in items]
    if len({V.shape for V in matrices}) > 1:
        raise InputError("every V0 of a sweep must have the same size m")
    return matrices


def _check_parameters(base, names):
    known = {s.name for s in base.parameters} | {"a"}
    if base.family == "relu_like":
        known |= {"c_plus", "c_minus"}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(f"{base.activation.name} has no parameter(s) {unknown}; its parameters are "
                         f"{sorted(known)}")
    missing = sorted({s.name for s in base.parameters} - set(names))
    if missing:
        raise InputError(f"the activation's parameters {missing} need values: give each a list in params")


def _format(out):
    if out is None:
        return None
    ext = os.path.splitext(str(out))[1].lower()
    if ext not in FORMATS:
        raise InputError(f"the sweep table must end in one of {list(FORMATS)}, got {out!r}")
    if ext == ".parquet":
        try:
            import pandas  # noqa: F401
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError("a .parquet table needs pandas and pyarrow (pip install pandas pyarrow); "
                             "use .csv or .json") from None
    return ext


def _read_rows(out, fmt, settings) -> dict:
    """{cell index: row} of a table written by the same sweep; {} when there is none."""
    if not os.path.exists(out):
        return {}
    if fmt == ".json":
        with open(out) as handle:
            rows = json.load(handle)
    elif fmt == ".csv":
        with open(out, newline="") as handle:
            rows = [{k: _from_text(v) for k, v in row.items()} for row in csv.DictReader(handle)]
    else:
        import pandas
        rows = [{k: _from_parquet(v) for k, v in row.items()}
                for row in pandas.read_parquet(out).to_dict("records")]
    done = {}
    for row in rows:
        other = {k: row.get(k) for k in SETTING_COLUMNS}
        mine = {k: settings[k] for k in SETTING_COLUMNS}
        if fmt == ".csv":              # text cells: compare what the text reads back as
            mine = {k: _from_text(_to_text(v)) for k, v in mine.items()}
        if other != mine:
            changed = sorted(k for k in SETTING_COLUMNS if other[k] != mine[k])
            raise InputError(f"{out} holds a sweep with other settings ({', '.join(changed)}); "
                             "use another file, or resume=False to overwrite it")
        done[int(row["cell"])] = {k: v for k, v in row.items() if k not in SETTING_COLUMNS}
    return done


def _from_parquet(value):
    """A parquet cell as the Python value the sweep wrote: numpy scalars as Python numbers, and the
    missing values (None in an all-number column comes back as NaN) as None."""
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and value != value else value


def _to_text(value) -> str:
    return "" if value is None else repr(value) if isinstance(value, float) else str(value)


def _from_text(text):
    if text == "":
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _write_rows(out, fmt, rows) -> None:
    """Write the table atomically (a temporary file renamed over ``out``)."""
    tmp = f"{out}.partial"
    if fmt == ".json":
        with open(tmp, "w") as handle:
            json.dump(rows, handle, indent=1)
    elif fmt == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _to_text(v) for k, v in row.items()})
        with open(tmp, "w", newline="") as handle:
            handle.write(buffer.getvalue())
    else:
        import pandas
        pandas.DataFrame(rows).to_parquet(tmp)
    os.replace(tmp, out)
