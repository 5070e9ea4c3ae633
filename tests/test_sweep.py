"""Sweeps: every cell is the streaming simulation it names, seeded by its index, and a sweep resumes.

A cell's row must equal the streaming run simulate_sde(sde.subs(cell), V0, T, seed=child i) done
by hand; the same sweep on local processes gives the same rows; an interrupted sweep (a file
holding some cells) computes only the missing cells and ends with the rows of an uninterrupted
one; a file from other settings is refused.  Mathematics: a cell with zero drift (x + alpha x^2 at
alpha = 0, ReLU-like with c+ = c-) keeps E V_T = V0; the ReLU-like drift nu(rho) sqrt(AB) >= 0 raises
E V^12.
"""
import json

import numpy as np
import pytest

from covsde.derive import derive_sde
from covsde.derive.errors import InputError
from covsde.solvers import simulate_sde, sweep
from covsde.solvers.parameter_sweep import LEVELS

GRID = dict(params={"alpha": [-0.2, 0.0, 0.2]}, V0=[[1.0, 0.3], [0.3, 1.0]], T=[0.5, 1.0], steps=30,
            paths=4096, seed=7)


@pytest.fixture(scope="module")
def reference():
    return sweep("x + alpha*x**2", **GRID)


def test_each_cell_is_the_streaming_run_it_names(reference):
    assert [(r["alpha"], r["T"]) for r in reference.rows] == [(a, t) for a in (-0.2, 0.0, 0.2) for t in (0.5, 1.0)]
    cell = 3                                           # alpha = 0, T = 1
    seed = np.random.SeedSequence(7).spawn(6)[cell]
    sde = derive_sde("x + alpha*x**2").subs(alpha=0.0)
    by_hand = simulate_sde(sde, np.array(GRID["V0"]), 1.0, steps=30, paths=4096, seed=seed, reduce="statistics")
    row = reference.rows[cell]
    assert row["mean rho^12"] == by_hand.mean["rho^12"] and row["std V^11"] == by_hand.std["V^11"]
    assert row["q50 rho^12"] == by_hand.quantile("rho^12", 0.5).value
    assert row["resolution rho^12"] == pytest.approx(1e-3)
    assert {f"q{int(100 * q):02d} log V^22" for q in LEVELS} <= set(row)


def test_zero_drift_cell_keeps_the_mean_covariance(reference):
    """alpha = 0 is the linear network: V is a martingale, E V_T = V0 (SPEC §1)."""
    for row in reference.rows:
        if row["alpha"] == 0.0:
            for name, target in (("V^11", 1.0), ("V^12", 0.3)):
                assert abs(row[f"mean {name}"] - target) <= 5 * row[f"std {name}"] / np.sqrt(row["live_paths"])


def test_rows_equal_on_local_processes(reference):
    assert sweep("x + alpha*x**2", workers=2, **GRID).rows == reference.rows


@pytest.mark.parametrize("suffix", [".json", ".csv", ".parquet"])
def test_an_interrupted_sweep_resumes_from_the_cells_written(tmp_path, reference, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pandas")
        pytest.importorskip("pyarrow")
    out = tmp_path / f"table{suffix}"
    first = sweep("x + alpha*x**2", out=out, **{**GRID, "T": [0.5, 1.0]})
    assert first.computed == 6 and first.rows == reference.rows
    # keep the first two cells only, as if the sweep had been stopped after them
    if suffix == ".json":
        rows = json.loads(out.read_text())
        out.write_text(json.dumps(rows[:2]))
    elif suffix == ".parquet":
        import pandas
        pandas.read_parquet(out).iloc[:2].to_parquet(out)
    else:
        lines = out.read_text().splitlines(keepends=True)
        out.write_text("".join(lines[:3]))
    again = sweep("x + alpha*x**2", out=out, **GRID)
    assert (again.computed, again.resumed) == (4, 2)
    assert again.rows == reference.rows
    with pytest.raises(InputError, match="other settings"):
        sweep("x + alpha*x**2", out=out, **{**GRID, "paths": 8192})


def test_bad_sweeps_are_refused():
    with pytest.raises(InputError, match="need values"):
        sweep("x + alpha*x**2", V0=np.eye(2), T=1.0, steps=10, paths=10)
    with pytest.raises(InputError, match="no parameter"):
        sweep("tanh", params={"beta": [1.0]}, V0=np.eye(2), T=1.0, steps=10, paths=10)
    with pytest.raises(InputError, match="must end in"):
        sweep("tanh", V0=np.eye(2), T=1.0, steps=10, paths=10, out="table.txt")
    with pytest.raises(InputError, match="same size"):
        sweep("tanh", V0=[np.eye(2), np.eye(3)], T=1.0, steps=10, paths=10)


def test_relu_sweeps_its_shaping_constants():
    """b^12 = nu(rho) sqrt(V^11 V^22) with nu = (c+ - c-)^2/(2 pi)(sqrt(1 - rho^2) - rho acos rho) >= 0:
    zero for c+ = c- (E V^12_T = 0.3), and dE V^12/dt = nu(0.3) = 0.0915 at t = 0 for c- = -1."""
    result = sweep("relu", params={"c_minus": [-1.0, 0.0]}, V0=[[1.0, 0.3], [0.3, 1.0]], T=0.5, steps=20,
                   paths=16384, seed=1)
    shaped, flat = result.rows
    assert (shaped["c_minus"], flat["c_minus"]) == (-1.0, 0.0)
    for row in (shaped, flat):
        row["error"] = row["std V^12"] / np.sqrt(row["live_paths"])
    assert abs(flat["mean V^12"] - 0.3) <= 5 * flat["error"]
    assert shaped["mean V^12"] - 0.3 >= 3 * shaped["error"]


def test_sweep_inputs_of_the_wrong_kind_are_refused():
    with pytest.raises(InputError, match="non-empty list of finite numbers"):
        sweep("x + alpha*x**2", params={"alpha": ["a", "b"]}, V0=np.eye(2), T=1.0, steps=10, paths=10)
    with pytest.raises(InputError, match="non-empty list of finite numbers"):
        sweep("x + alpha*x**2", params={"alpha": []}, V0=np.eye(2), T=1.0, steps=10, paths=10)
    with pytest.raises(InputError, match="V0 must be"):
        sweep("tanh", V0=[], T=1.0, steps=10, paths=10)
