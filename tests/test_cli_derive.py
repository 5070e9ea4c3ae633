"""The command line of the derivation: what a user types, its exit status and its output."""
import json
import subprocess
import sys

import pytest

from covsde.cli import main


def run_cli(*args):
    proc = subprocess.run([sys.executable, "-m", "covsde.cli", *args], capture_output=True, text=True,
                          timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


def test_derive_tanh_prints_the_papers_drift_and_verdict(capsys):
    assert main(["derive", "tanh"]) == 0
    out = capsys.readouterr().out
    # tanh: phi''(0) = 0, phi'''(0) = -2 -> b = -R(A + B - 2), k = -2 (Li, Nica & Roy 2022)
    assert "R*(-A - B + 2)" in out
    assert "stationary" in out and "Gamma(shape 1, rate 2)" in out


@pytest.mark.parametrize("name, k, regime", [
    ("tanh", "-2", "stationary"), ("atan", "-2", "stationary"), ("erf", "-2", "stationary"),
    ("sin", "-1", "vanishes"), ("sinh", "1", "explodes")])
def test_json_reference_values_of_k(capsys, name, k, regime):
    assert main(["derive", name, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["k"] == k and data["regime"] == regime and data["exponent"] == "1/2"


def test_json_explosion_probability_is_gammainc_for_sinh(capsys):
    from scipy.special import gammainc
    assert main(["stability", "sinh", "--V0", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["explosion_probability"] == pytest.approx(gammainc(2.0, 2.0), rel=1e-12)


def test_parameters_stay_symbolic_and_give_regions(capsys):
    assert main(["derive", "x + alpha*x**2 + beta*x**3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["k"] == "3*alpha**2 + 6*beta"
    assert data["regime"]["explodes"] == "3*alpha**2 + 6*beta > 0"
    assert main(["derive", "x + alpha*x**2 + beta*x**3", "--param", "alpha=1", "--param", "beta=-1",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["k"] == "-3" and data["regime"] == "stationary"


def test_relu_like_family_from_the_cli(capsys):
    assert main(["derive", "relu", "--c-plus", "0", "--c-minus", "-1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["family"] == "relu_like" and data["regime"] == "vanishes"


def test_latex_standalone_is_a_document(capsys):
    assert main(["derive", "tanh", "--latex", "--standalone"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(r"\documentclass") and r"\end{document}" in out


@pytest.mark.parametrize("args", [
    ["derive", "__import__('os').system('true')"],
    ["derive", "x.__class__"],
    ["derive", "x**2"],
    ["derive", "abs(x)"],
    ["derive", "tanh", "--a", "-1"],
    ["derive", "tanh", "--convention", "weird"],
    ["derive", "tanh", "--standalone"],
    ["derive", "relu", "--convention", "unnormalized"],
    ["stability", "sinh", "--V0", "-1"],
    ["derive", "tanh", "--param", "alpha"],
    ["derive"],
])
def test_bad_input_exits_2_with_one_line(args):
    code, out, err = run_cli(*args)
    assert code == 2, (args, out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_hostile_string_is_not_evaluated(tmp_path):
    marker = tmp_path / "pwned"
    code, _, err = run_cli("derive", f"__import__('os').system('touch {marker}')")
    assert code == 2 and not marker.exists()
