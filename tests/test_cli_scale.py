"""covsde simulate --stream and covsde sweep from the command line: the numbers of the library calls."""
import json

import numpy as np
import pytest

from covsde.cli import main
from covsde.derive import derive_sde
from covsde.solvers import simulate_sde


def test_simulate_stream_prints_the_streamed_moments_and_saves_the_histograms(capsys, tmp_path):
    out = tmp_path / "stats.npz"
    code = main(["simulate", "tanh", "--paths", "5000", "--steps", "40", "--seed", "3", "--stream",
                 "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    result = simulate_sde(derive_sde("tanh"), np.array([[1, 0.3], [0.3, 1]]), 1.0, steps=40, paths=5000, seed=3,
                          reduce="statistics")
    rho_line = next(line for line in text.splitlines() if line.startswith("rho^12"))
    assert float(rho_line.split()[1]) == pytest.approx(result.mean["rho^12"], rel=1e-4)
    assert float(rho_line.split()[4]) == pytest.approx(result.quantile("rho^12", 0.5).value, rel=1e-4)
    assert "quantiles from histograms: rho to 0.001, log V to 0.01" in text
    saved = np.load(out)
    np.testing.assert_array_equal(saved["rho_histogram"], result.statistics.rho_histogram)
    assert saved["rho_histogram"].sum() == 5000


def test_sweep_command_writes_and_resumes_a_table(capsys, tmp_path):
    out = tmp_path / "grid.json"
    argv = ["sweep", "x + alpha*x**2", "--param", "alpha=-0.2:0.2:3", "--T", "0.5", "--paths", "4096",
            "--steps", "30", "--out", str(out)]
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "3 cells of 4096 paths (3 simulated, 0 read back" in first
    rows = json.loads(out.read_text())
    assert [row["alpha"] for row in rows] == [-0.2, 0.0, 0.2]
    assert main(argv) == 0
    assert "(0 simulated, 3 read back" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["--param", "alpha=1:2"], "START:STOP:COUNT"),
    (["--param", "alpha"], "NAME=VALUES"),
    (["--T", "0,1"], "positive"),
    (["--param", "alpha=0.1", "--out", "grid.txt"], "must end in"),
])
def test_sweep_command_refuses_bad_grids_in_one_line(capsys, argv, words):
    code = main(["sweep", "x + alpha*x**2", "--paths", "10", "--steps", "40", *argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and words in err[0]


def test_sweep_heat_map_needs_matplotlib_or_draws_the_grid(capsys, tmp_path):
    figure = tmp_path / "map.png"
    argv = ["sweep", "x + alpha*x**2", "--param", "alpha=-0.2,0.2", "--T", "0.5,1", "--paths", "4096",
            "--steps", "30", "--figure", str(figure)]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        code = main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "matplotlib" in err[0] and not figure.exists()
        return
    assert main(argv) == 0 and figure.stat().st_size > 0
