"""The command line on the activations people use: kinked ones derived, first-order kinks explained.

Each transcript is checked for the mathematics it prints (exponent, drift, norm law), not against a
stored copy: ELU's drift is sqrt(2/pi) R (1 - (sqrt(A) + sqrt(B))/2) (hand derivation in
tests/test_one_sided_engine.py), its exponent 1; SELU's slopes are PyTorch's lambda and lambda*alpha.
"""
from __future__ import annotations

import json

import pytest

from covsde.cli import main


def _run(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("spec", ["elu", "Piecewise((x, x > 0), (exp(x) - 1, True))", "celu"])
def test_elu_is_derived_with_exponent_one(capsys, spec):
    code, out, _ = _run(capsys, ["derive", spec, "--json"])
    assert code == 0
    report = json.loads(out)
    assert report["exponent"] == "1" and report["family"] == "kinked"
    assert report["drift"] == "sqrt(2)*R*(-sqrt(A)/2 - sqrt(B)/2 + 1)/sqrt(pi)"
    assert report["regime"] == "vanishes"          # p(0) = sqrt(2/pi) < 1


def test_elu_latex_has_the_one_sided_expansion(capsys):
    code, out, _ = _run(capsys, ["derive", "elu", "--latex"])
    assert code == 0 and r"\begin{cases}" in out and r"x > 0" in out and r"\sqrt{V^{ii}}" in out


def test_mish_is_smooth_with_phi_prime_3_over_5(capsys):
    code, out, _ = _run(capsys, ["derive", "mish"])
    # mish'(0) = tanh(log 2) = 3/5; k = (3/4 phi''^2 + phi''')/a^2 = 52/75
    assert code == 0 and "phi'(0) = 3/5" in out and "k                    52/75" in out


def test_slopes_with_curvature_are_derived(capsys):
    code, out, _ = _run(capsys, ["derive", "x + x**2/2", "--c-plus", "0", "--c-minus", "-1", "--json"])
    assert code == 0
    report = json.loads(out)
    assert report["exponent"] == "1/2" and report["c_minus"] == "-1"
    assert "acos(R/sqrt(A*B))" in report["drift"] and report["k"] == "3/4"   # the curvature's k
    code, out, _ = _run(capsys, ["derive", "x + x**2/2", "--c-plus", "0", "--c-minus", "-1", "--latex"])
    assert code == 0 and r"\frac{c_+ \max(x,0) + c_- \min(x,0)}{\sqrt{n}}" in out


@pytest.mark.parametrize("name, slopes", [("selu", "slope 1.050700987 for x > 0 and 1.758099341 for x < 0"),
                                          ("leaky_relu", "slope 1 for x > 0 and 1/100 for x < 0")])
def test_first_order_kinks_exit_2_and_name_the_relu_like_family(capsys, name, slopes):
    code, out, err = _run(capsys, ["derive", name])
    lines = err.strip().splitlines()
    assert code == 2 and out == "" and len(lines) == 1
    assert "first-order kink" in lines[0] and slopes in lines[0] and "covsde derive relu --c-plus 0" in lines[0]


def test_a_misspelt_activation_suggests_the_built_in(capsys):
    code, _, err = _run(capsys, ["derive", "elo"])
    assert code == 2 and "did you mean 'elu'?" in err and len(err.strip().splitlines()) == 1


def test_activations_table_lists_every_built_in(capsys):
    from covsde.derive.activation_library import BUILTIN_ACTIVATIONS
    code, out, _ = _run(capsys, ["activations"])
    rows = {line.split("|")[1].strip(): line for line in out.splitlines()[2:]}
    assert code == 0 and set(rows) == set(BUILTIN_ACTIVATIONS) - {"relu_like"}
    assert "| 1 |" in rows["elu"] and "no shaped limit" in rows["selu"] and "any (zero drift)" in rows["hardtanh"]


def test_simulate_elu_runs(capsys):
    code, out, _ = _run(capsys, ["simulate", "elu", "--paths", "200", "--steps", "50", "--seed", "1"])
    assert code == 0 and "rho^12" in out and "fraction exploded by T: 0" in out
