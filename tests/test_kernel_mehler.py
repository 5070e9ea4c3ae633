"""Mehler's expansion of F_phi (rule="mehler"): against closed forms, an independent fine 2-D
trapezoidal rule, mpmath quadrature, and the ResNet kernel ODE solved with the 2-D rule."""
from __future__ import annotations

import functools
import math
import sys

import numpy as np
import pytest

import covsde.solvers.kernels.resnet_kernel  # noqa: F401  (the module, shadowed by the function in solvers/__init__)
from covsde.solvers.kernels.gaussian_expectation import _mehler_coefficients, gaussian_kernel_map, kernel_map
from covsde.solvers.kernels.resnet_kernel import resnet_kernel


def _gram_with_hard_pairs(seed, scale):
    """Gram matrix of 6 random inputs in R^4 plus: a duplicate (rho = 1), a negated copy (rho = -1),
    and inputs at correlation 0.95 and -0.93 with input 0 (beyond the series' |rho| <= 0.9)."""
    x = np.random.default_rng(seed).normal(size=(6, 4))
    direction = np.random.default_rng(seed + 1).normal(size=4)
    direction -= direction @ x[0] / (x[0] @ x[0]) * x[0]
    unit0, unit1 = x[0] / np.linalg.norm(x[0]), direction / np.linalg.norm(direction)
    near = 1.3 * np.linalg.norm(x[0]) * (0.95 * unit0 + np.sqrt(1 - 0.95 ** 2) * unit1)
    anti = 0.8 * np.linalg.norm(x[0]) * (-0.93 * unit0 + np.sqrt(1 - 0.93 ** 2) * unit1)
    inputs = np.vstack([x, x[2], -x[3], near, anti])
    return scale * inputs @ inputs.T / 4


@pytest.mark.parametrize("spec", ["tanh", "gelu", "sin"])
@pytest.mark.parametrize("seed,scale", [(3, 0.6), (5, 1.5)])
def test_mehler_matches_fine_two_dimensional_trapezoid(spec, seed, scale):
    Q = _gram_with_hard_pairs(seed, scale)
    s = np.sqrt(np.diag(Q))
    rho = Q / np.outer(s, s)
    assert np.any(np.abs(rho - 1) < 1e-12) and np.any(np.abs(rho + 1) < 1e-12)
    assert np.any((np.abs(rho) > 0.9) & (np.abs(rho) < 0.99)) and np.any(rho < -0.5)
    mehler = kernel_map(spec, Q, rule="mehler")
    reference = kernel_map(spec, Q, rule="trapezoid", degree=256)   # 65536-node tensor rule
    np.testing.assert_allclose(mehler, reference, rtol=0, atol=1e-10)
    assert np.array_equal(mehler, mehler.T)


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["tanh", "sin"])
def test_mehler_matches_mpmath_on_single_pairs(spec):
    """rho = -0.85, 0.95 (series), 0.99 (2-D rule) and a duplicate input (1-D rule); ~30 s a pair for
    tanh on 2 cores (gelu's Mehler series is checked against the 65536-node tensor rule above; its
    mpmath pairs took another 95 s of the suite's 15-minute budget)."""
    qaa = np.array([0.7, 1.0, 1.2, 1.1])
    qbb = np.array([2.0, 1.0, 0.8, 1.1])
    qab = np.array([-0.85, 0.95, 0.99, 1.0]) * np.sqrt(qaa * qbb)
    qab[-1] = qaa[-1]
    mehler = gaussian_kernel_map(spec, rule="mehler").pairs(qaa, qbb, qab)
    reference = gaussian_kernel_map(spec, precision="mpmath").pairs(qaa, qbb, qab)
    np.testing.assert_allclose(mehler, reference, rtol=0, atol=1e-10)


def test_mehler_coefficients_of_sin_match_closed_form():
    """E[sin(s u) He_k(u)] / sqrt(k!) = (-1)^((k-1)/2) exp(-s^2/2) s^k / sqrt(k!) for odd k, 0 for even k
    (the Hermite generating function E[exp(i s u) He_k(u)] = (i s)^k exp(-s^2/2))."""
    sigmas = np.array([0.3, 1.0, 2.5])
    c = _mehler_coefficients(np.sin, sigmas)
    k = np.arange(c.shape[1])
    log_factorial = np.array([math.lgamma(j + 1) for j in k])
    magnitude = np.exp(-sigmas[:, None] ** 2 / 2 + k * np.log(sigmas[:, None]) - log_factorial / 2)
    exact = np.where(k % 2 == 1, (-1.0) ** ((k - 1) // 2), 0.0) * magnitude
    np.testing.assert_allclose(c, exact, rtol=0, atol=1e-14)


def test_mehler_falls_back_where_the_series_has_not_converged():
    """tanh(4x) at variance 3 has Hermite coefficients decaying like exp(-0.23 sqrt(2k)): the tail bound
    rejects the series at rho = 0.97 and the pair goes to the 2-D rule (here at 400 nodes a side)."""
    Q = np.array([[3.0, 0.97 * 3.0], [0.97 * 3.0, 3.0]])
    c = _mehler_coefficients(gaussian_kernel_map("tanh(4*x)", rule="mehler")._phi, np.array([np.sqrt(3.0)]))
    last = np.max(np.abs(c[0, -2:]))                   # tanh is odd: every even coefficient vanishes
    assert last ** 2 * 0.97 ** 160 / 0.03 > 1e-13 * np.sum(c ** 2)    # the series has not converged
    mehler = kernel_map("tanh(4*x)", Q, rule="mehler", degree=400)
    reference = kernel_map("tanh(4*x)", Q, rule="trapezoid", degree=600)
    np.testing.assert_allclose(mehler, reference, rtol=0, atol=1e-10)


def test_sin_by_mehler_matches_closed_form_at_all_correlations():
    """E[sin Z_a sin Z_b] = exp(-(Q^aa + Q^bb)/2) sinh(Q^ab), for the Gram matrix with rho = +-1, 0.95, -0.93."""
    Q = _gram_with_hard_pairs(7, 2.0)
    d = np.diag(Q)
    exact = np.exp(-(d[:, None] + d[None, :]) / 2) * np.sinh(Q)
    np.testing.assert_allclose(kernel_map("sin", Q, rule="mehler"), exact, rtol=0, atol=1e-13)


def test_default_rules():
    assert gaussian_kernel_map("tanh").rule == "mehler"
    assert gaussian_kernel_map("sinh").rule == "hermite"        # exponential growth keeps Gauss–Hermite
    assert gaussian_kernel_map("x + 0.1*x**2").rule == "hermite"


@pytest.mark.slow
def test_tanh_ode_with_mehler_matches_ode_with_two_dimensional_rule(monkeypatch):
    x = np.random.default_rng(8).normal(size=(50, 10))
    Q0 = 0.4 * x @ x.T / 10     # variances <= 1.6 up to t = 1, where the 64-node 2-D rule is accurate
    new = resnet_kernel("tanh", Q0, t=1.0, rtol=1e-11, atol=1e-13)
    module = sys.modules["covsde.solvers.kernels.resnet_kernel"]
    monkeypatch.setattr(module, "gaussian_kernel_map",
                        functools.partial(gaussian_kernel_map, rule="trapezoid"))
    old = module.resnet_kernel("tanh", Q0, t=1.0, rtol=1e-11, atol=1e-13)
    assert new.success and old.success
    np.testing.assert_allclose(new.q, old.q, rtol=0, atol=1e-9)
