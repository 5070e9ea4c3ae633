"""DKS for smooth activations (Martens et al. 2021): the four conditions checked by scipy quadrature of the
transformed activation, and the parameters compared with the dks package."""
import numpy as np
import pytest
from scipy.integrate import quad

from covsde.derive import InputError
from covsde.design import solve


def gaussian_mean(f):
    return quad(lambda z: f(z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi), -12, 12, epsabs=1e-13, limit=200)[0]


@pytest.mark.parametrize("zeta, depth", [(1.5, 10), (2.0, 50)])
def test_dks_tanh_meets_the_four_conditions_by_quadrature(zeta, depth):
    p = solve("tanh", "dks", value=zeta, depth=depth).parameters
    a, b, d, g = p["input_scale"], p["input_shift"], p["output_shift"], p["output_scale"]
    phi = lambda x: g * (np.tanh(a * x + b) + d)
    dphi = lambda x: g * a / np.cosh(a * x + b) ** 2
    Q = lambda q: gaussian_mean(lambda z: phi(np.sqrt(q) * z) ** 2)
    assert Q(1.0) == pytest.approx(1.0, abs=1e-9)                                   # Q(1) = 1
    assert gaussian_mean(phi) == pytest.approx(0.0, abs=1e-9)                       # C(0) = E[phi]^2 = 0
    h = 1e-4
    assert (Q(1 + h) - Q(1 - h)) / (2 * h) == pytest.approx(1.0, abs=1e-6)          # Q'(1) = 1
    assert gaussian_mean(lambda z: dphi(z) ** 2) == pytest.approx(zeta ** (1 / depth), abs=1e-9)   # C'(1)


def test_dks_tanh_parameters_agree_with_the_dks_package():
    dks = pytest.importorskip("dks.base.activation_transform", reason="the dks package is not installed")
    with np.errstate(over="ignore"):        # the package's own tanh derivative overflows cosh far out
        expected = dks._get_activations_params(["tanh"], method="DKS", dks_params={"c_slope_1_target": 1.5},
                                               max_slope_func=lambda x: x ** 10)["tanh"]
    ours = solve("tanh", "dks", value=1.5, depth=10).parameters
    for name in ("input_scale", "input_shift", "output_shift", "output_scale"):
        assert ours[name] == pytest.approx(float(expected[name]), rel=1e-7), name


def test_dks_refuses_a_slope_target_at_most_one_and_the_relu_family():
    with pytest.raises(InputError, match="must exceed 1"):
        solve("tanh", "dks", value=1.0)
    with pytest.raises(InputError, match="smooth activations"):
        solve("relu", "dks", value=1.5)
