"""`covsde simulate` and `covsde compare` as a user runs them, checked against exact laws."""
import numpy as np
import pytest

from covsde.cli import main
from covsde.simulate_command import parse_matrix
from covsde.derive.errors import InputError


def test_simulate_relu_like_saves_lognormal_diagonal(tmp_path, capsys):
    # ReLU-like: nu(1) = 0, so log V_T^11 ~ N(log V0 - T, 2T) exactly (SPEC §1)
    out = tmp_path / "run.npz"
    T, paths = 0.5, 20000
    assert main(["simulate", "relu", "--T", str(T), "--V0", "1,0.3;0.3,1", "--paths", str(paths),
                 "--steps", "200", "--seed", "3", "--out", str(out), "--scheme", "lie"]) == 0
    text = capsys.readouterr().out
    assert "fraction exploded by T: 0" in text and "rho^12" in text
    data = np.load(out)
    logv = np.log(data["V"][:, 0, 0])
    se_mean = np.sqrt(2 * T / paths)
    assert abs(logv.mean() - (-T)) < 5 * se_mean + 0.01   # + O(dt) scheme bias
    assert abs(logv.var() / (2 * T) - 1) < 5 * np.sqrt(2 / paths) + 0.02


def test_simulate_strang_numba_relu_like_diagonal_is_lognormal(tmp_path, capsys):
    # the weak order 2 scheme at 16 steps: E V_T^11 = V0 and E (V_T^11)^2 = e^(2T) V0^2 (GBM, SPEC §1);
    # its local moments are exact to O(dt^3), so the bias at dt = 1/32 is far below 5 standard errors
    pytest.importorskip("numba")
    out = tmp_path / "run.npz"
    T, paths = 0.5, 40000
    assert main(["simulate", "relu", "--T", str(T), "--V0", "1,0.3;0.3,1", "--paths", str(paths),
                 "--steps", "16", "--seed", "3", "--out", str(out), "--scheme", "strang",
                 "--backend", "numba"]) == 0
    assert "strang" in capsys.readouterr().out
    v = np.load(out)["V"][:, 0, 0]
    assert abs(v.mean() - 1) < 5 * v.std() / np.sqrt(paths)
    assert abs((v ** 2).mean() - np.exp(2 * T)) < 5 * (v ** 2).std() / np.sqrt(paths)


def test_simulate_linear_keeps_the_mean(capsys):
    # zero drift: E[V_T] = V_0 (martingale)
    assert main(["simulate", "linear", "--T", "0.5", "--V0", "2,0.5;0.5,1", "--paths", "40000",
                 "--steps", "50", "--seed", "1"]) == 0
    rows = {line.split()[0]: float(line.split()[1]) for line in capsys.readouterr().out.splitlines()
            if line.startswith(("V^", "rho^"))}
    # Var V11_T = V0^2 (e^{2T} - 1) for the one-input GBM dV = sqrt(2) V dB
    se = 2 * np.sqrt(np.expm1(1.0) / 40000)
    assert abs(rows["V^11"] - 2.0) < 5 * se


def test_compare_prints_ks_table_for_shaped_relu(capsys):
    assert main(["compare", "relu", "--width", "32", "--depth", "32", "--networks", "400",
                 "--paths", "4000", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    line = [l for l in out.splitlines() if l.startswith("rho^12")][0]
    ks = float(line.split()[1])
    # KS critical value at alpha = 0.001 for samples of 400 and 4000
    crit = 1.95 * np.sqrt((400 + 4000) / (400 * 4000))
    assert ks < crit


@pytest.mark.parametrize("text", ["1,2;2,1", "1,0.3;0.2,1", "1,0.3", "a,b;c,d", "1,nan;nan,1"])
def test_bad_V0_is_refused(text):
    with pytest.raises(InputError):
        parse_matrix(text)


@pytest.mark.parametrize("args", [["simulate", "tanh", "--T", "0"], ["simulate", "tanh", "--paths", "0"],
                                  ["simulate", "tanh", "--steps", "-1"], ["simulate", "tanh", "--scheme", "x"],
                                  ["compare", "tanh", "--width", "0"]])
def test_bad_simulation_settings_exit_2(args, capsys):
    assert main(args) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
