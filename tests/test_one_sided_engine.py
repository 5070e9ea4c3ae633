"""The one-sided Taylor engine for kinked activations, checked against mathematics done another way.

- half-space Gaussian moments against mpmath's 2-D quadrature over the quadrant;
- the ReLU-like drift (now an output of the engine) against SPEC §1's nu(rho) (Li, Nica & Roy 2022,
  Thm 3.9), typed here from the paper;
- each new drift against n (c E[phi_s(u) phi_s(v)] - R) computed by adaptive quadrature split at the
  kinks (not the engine's moments), Richardson-extrapolated in n with the convergence order the
  expansion predicts;
- the critical exponent confirmed by showing that the wrong one diverges;
- the norm law in sqrt(v) against closed forms of the stationary mean and an independent Feller integral.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate

from covsde.derive import ActivationError, as_activation, derive_sde
from covsde.derive.activation_parser import X
from covsde.derive.half_space_moments import half_space_moment

ELU = sp.Piecewise((X, X > 0), (sp.exp(X) - 1, True))
CELU2 = sp.Piecewise((X, X > 0), (2 * (sp.exp(X / 2) - 1), True))


# ------------------------------------------------------------------ half-space moments
@pytest.mark.parametrize("k, su, l, sv", [(0, 1, 0, 1), (1, 1, 1, 1), (2, 1, 2, -1), (1, 0, 2, -1),
                                          (3, -1, 1, 1), (2, -1, 0, 0), (4, 1, 3, -1)])
@pytest.mark.parametrize("A, B, R", [(1.3, 0.7, 0.4), (0.5, 2.0, -0.9), (1.0, 1.0, 0.999)])
def test_half_space_moments_match_quadrature(k, su, l, sv, A, B, R):
    """E[u^k 1{su u > 0} v^l 1{sv v > 0}] against mpmath.quad of the bivariate density."""
    ap, bp = sp.symbols("A B", positive=True)
    r = sp.Symbol("R", real=True)
    exact = float(half_space_moment(k, su, l, sv, ap, bp, r).subs({ap: A, bp: B, r: R}))
    reference = _quadrant_quadrature(k, su, l, sv, A, B, R)
    assert exact == pytest.approx(reference, rel=1e-8, abs=1e-10)


def _quadrant_quadrature(k, su, l, sv, A, B, R):
    """The same moment by nested adaptive quadrature in whitened coordinates u = sqrt(A) z1,
    v = R/sqrt(A) z1 + sqrt(B - R^2/A) z2, the inner integral split where v changes sign."""
    l11, l21 = math.sqrt(A), R / math.sqrt(A)
    l22 = math.sqrt(B - R * R / A)
    gauss = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731

    def inner(z1):
        cut = -l21 * z1 / l22
        pieces = {1: [(cut, 12)], -1: [(-12, cut)], 0: [(-12, cut), (cut, 12)]}[sv]
        f = lambda z2: (l21 * z1 + l22 * z2) ** l * gauss(z2)  # noqa: E731
        return sum(integrate.quad(f, max(lo, -12), min(hi, 12), epsabs=1e-13, epsrel=1e-12, limit=200)[0]
                   for lo, hi in pieces if min(hi, 12) > max(lo, -12))
    outer = {1: [(0, 12)], -1: [(-12, 0)], 0: [(-12, 0), (0, 12)]}[su]
    return sum(integrate.quad(lambda z1: (l11 * z1) ** k * gauss(z1) * inner(z1), lo, hi,
                              epsabs=1e-13, epsrel=1e-12, limit=200)[0] for lo, hi in outer)


# ------------------------------------------------------------------ the ReLU-like family
@pytest.mark.parametrize("c_plus, c_minus", [(0, -1), (0.5, -0.7), (-0.3, 1.2)])
def test_relu_like_drift_is_an_output_of_the_engine_equal_to_the_paper(c_plus, c_minus):
    sde = derive_sde("relu", c_plus=c_plus, c_minus=c_minus)
    b = sde.pairwise_drift_function()
    rng = np.random.default_rng(3)
    for _ in range(20):
        A, B = rng.uniform(0.2, 3.0, 2)
        rho = rng.uniform(-1, 1)
        nu = (c_plus - c_minus) ** 2 / (2 * math.pi) * (math.sqrt(1 - rho**2) - rho * math.acos(rho))
        assert b(A, B, rho * math.sqrt(A * B)) == pytest.approx(nu * math.sqrt(A * B), rel=1e-12, abs=1e-14)


# ------------------------------------------------------------------ drifts against quadrature
def _shaped_expectation(phi, n, exponent, A, B, R, slopes=None, a=1.0):
    """n (c E[phi_s(u) phi_s(v)] - R) by adaptive quadrature in the whitened coordinates, split at the
    kinks of phi_s(u) (z1 = 0) and phi_s(v) (the line v = 0), and c from a 1-D quadrature split at 0."""
    s = a * n**exponent
    cp, cm = slopes or (0.0, 0.0)

    def phi_s(z):
        return s * phi(z / s) + (cp if z > 0 else cm) * z / math.sqrt(n)
    l11 = math.sqrt(A)
    l21, l22 = R / l11, math.sqrt(B - R * R / A)
    gauss = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    # v = l21 z1 + l22 z2 = 0 at z2 = -l21 z1 / l22: split the inner integral there
    def inner(z1):
        cut = -l21 * z1 / l22
        f = lambda z2: phi_s(l21 * z1 + l22 * z2) * gauss(z2)  # noqa: E731
        return sum(integrate.quad(f, lo, hi, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
                   for lo, hi in ((-12, min(cut, 12)), (max(cut, -12), 12)) if hi > lo)
    E = sum(integrate.quad(lambda z1: phi_s(l11 * z1) * gauss(z1) * inner(z1), lo, hi,
                           epsabs=1e-14, epsrel=1e-13, limit=200)[0] for lo, hi in ((-12, 0), (0, 12)))
    w = sum(integrate.quad(lambda z: phi_s(z) ** 2 * gauss(z), lo, hi, epsabs=1e-15, epsrel=1e-14)[0]
            for lo, hi in ((-12, 0), (0, 12)))
    return n * (E / w - R)


def _elu(z):
    return z if z > 0 else math.expm1(z)


def _celu2(z):
    return z if z > 0 else 2 * math.expm1(z / 2)


def _softsign(z):
    return z / (1 + abs(z))


def _quadratic(z):
    return z + z * z / 2


CASES = {
    # name: (activation for derive_sde, keyword arguments, numeric phi, slopes, convergence order in 1/s)
    "elu": (ELU, {}, _elu, None),
    "celu(alpha=2)": (CELU2, {}, _celu2, None),
    "softsign": ("x/(1 + abs(x))", {}, _softsign, None),
    "leaky slopes + curvature": ("x + x**2/2", {"c_plus": 0.3, "c_minus": -1}, _quadratic, (0.3, -1.0)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_kinked_drifts_match_richardson_extrapolated_quadrature(name):
    """n (c E - R) = b + c1 s^-1 + c2 s^-2 + ... with s = n^p: widths n, 4n, 16n and two Richardson
    steps (ratios 4^p and 4^2p) remove the first two corrections."""
    spec, kwargs, phi, slopes = CASES[name]
    sde = derive_sde(spec, **kwargs)
    p = float(sde.exponent)
    A, B, R = 1.3, 0.7, 0.4
    exact = float(sde.pairwise_drift_function()(A, B, R))
    values = [_shaped_expectation(phi, n, p, A, B, R, slopes) for n in (100.0, 400.0, 1600.0)]
    first = [(4.0**p * fine - coarse) / (4.0**p - 1) for coarse, fine in zip(values, values[1:])]
    second = (16.0**p * first[1] - first[0]) / (16.0**p - 1)
    errors = [abs(v - exact) for v in values]
    assert errors[2] < errors[1] < errors[0]                     # converging ...
    assert abs(second - exact) < 0.1 * errors[2]                 # ... to the derived drift
    assert second == pytest.approx(exact, rel=1e-3, abs=1e-6)


def test_elu_drift_in_closed_form():
    """ELU: phi''(0-) = 1, phi''(0+) = 0, q = 1 and b = sqrt(2/pi) R (1 - (sqrt(A) + sqrt(B))/2) / a
    (by hand: E[u v^2 1{v<0}] = -sqrt(2/pi) R sqrt(B), c = 1 + sqrt(2/pi)/s + ...)."""
    A_, B_, R_ = sp.symbols("A B R", real=True)
    for a in (1, sp.Rational(1, 2)):
        sde = derive_sde(ELU, a=a)
        assert sde.order == 1 and sde.exponent == 1
        expected = sp.sqrt(2 / sp.pi) * R_ * (1 - (sp.sqrt(A_) + sp.sqrt(B_)) / 2) / a
        assert sp.simplify(sde.drift_expr - expected) == 0


def test_the_wrong_exponent_diverges_and_the_derived_one_converges():
    """ELU at s = n^(1/2) (the smooth activations' exponent): n (c E - R) grows like sqrt(n); at the
    derived s = n it converges."""
    A, B, R = 1.3, 0.7, 0.4
    wrong = [_shaped_expectation(_elu, n, 0.5, A, B, R) for n in (100.0, 400.0, 1600.0)]
    right = [_shaped_expectation(_elu, n, 1.0, A, B, R) for n in (100.0, 400.0, 1600.0)]
    assert wrong[2] / wrong[1] == pytest.approx(2.0, rel=0.05)
    assert wrong[1] / wrong[0] == pytest.approx(2.0, rel=0.1)
    assert abs(right[2] - right[1]) < 0.3 * abs(right[1] - right[0])


# ------------------------------------------------------------------ norm law in sqrt(v)
def test_softsign_stationary_mean_matches_the_gamma_law_in_sqrt_v():
    """b(v) = kappa v (1 - sqrt v): the stationary density v^(kappa-2) exp(-2 kappa sqrt v) makes
    sqrt(V) ~ Gamma(2 kappa - 2, rate 2 kappa), so E[V] = (2k-2)(2k-1)/(2k)^2 with kappa = 4 sqrt(2/pi)."""
    sde = derive_sde("x/(1 + abs(x))")
    kappa = 4 * math.sqrt(2 / math.pi)
    assert sde.stability.regime == "stationary"
    shape, rate = 2 * kappa - 2, 2 * kappa
    assert sde.stability.stationary_mean == pytest.approx(shape * (shape + 1) / rate**2, rel=1e-10)
    law = sde.stability.stationary_law
    assert law.mean() == pytest.approx(shape * (shape + 1) / rate**2, rel=1e-8)


def test_elu_norm_vanishes_at_a_1_and_is_stationary_at_a_half():
    """p(0) = sqrt(2/pi)/a: below 1 the log-norm drifts to -infinity (vanishes), above 1 stationary."""
    assert derive_sde(ELU).stability.regime == "vanishes"
    assert derive_sde(ELU, a=0.5).stability.regime == "stationary"


def test_explosion_probability_in_sqrt_v_matches_an_independent_feller_integral():
    """x + x^2/2 with slopes (0, -1): b(v)/v = p0 + p1 sqrt(v) + p2 v; P(explode | V0) by scipy's quad of
    the scale density v^(-p0) exp(-2 p1 sqrt(v) - p2 v)."""
    sde = derive_sde("x + x**2/2", c_plus=0, c_minus=-1)
    g = math.sqrt(2 / math.pi)
    p0, p1, p2 = -g - 0.75, g, 0.75
    scale = lambda t: t ** (-p0) * math.exp(-2 * p1 * math.sqrt(t) - p2 * t)  # noqa: E731
    total = integrate.quad(scale, 0, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]
    for V0 in (0.5, 1.0, 2.0):
        part = integrate.quad(scale, 0, V0, epsabs=0, epsrel=1e-12)[0]
        assert sde.stability.explosion_probability(V0) == pytest.approx(part / total, rel=1e-7)


# ------------------------------------------------------------------ refusals
def test_slopes_cannot_be_combined_with_an_order_one_kink():
    with pytest.raises(ActivationError, match="no common shaped limit"):
        derive_sde(ELU, c_plus=0, c_minus=-1)


def test_one_sided_coefficients_of_elu():
    act = as_activation(ELU)
    plus, minus = act.one_sided_coefficients(4)
    assert plus == (0, 1, 0, 0, 0) and minus == (0, 1, 1, 1, 1)
