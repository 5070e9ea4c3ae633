"""The closed-form Gaussian kernels of covsde.derive.gaussian_kernels (SPEC §2) against independent
2-D quadrature, their mpmath versions at 30 digits, and the boundary they define: SymPy stays in
derive/, solvers/kernels receives callables."""
from __future__ import annotations

import ast
import pathlib

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import integrate, special

import covsde.solvers.kernels
from covsde.derive import A, B, R, X, as_activation, derive_sde
from covsde.derive.covariance_sde import relu_like_drift
from covsde.derive.gaussian_kernels import QAA, QAB, QBB, gaussian_kernel_closed_form
from covsde.solvers.kernels.gaussian_expectation import gaussian_kernel_map

#: (Q^aa, Q^bb, rho): unequal variances, rho = 0.3, -0.6, +-0.99, +-0.999 and +-1.
CASES = [(1.0, 1.0, 0.3), (0.5, 2.0, -0.6), (1.3, 0.7, 0.99), (2.0, 0.4, -0.99),
         (0.8, 1.7, 0.999), (1.1, 0.9, -0.999), (1.5, 0.6, 1.0), (0.7, 1.2, -1.0)]


def _closed_form(spec, qaa, qbb, rho):
    """F^{ab} by the generated numpy function of the closed form, as the solvers call it."""
    qab = rho * np.sqrt(qaa * qbb)
    return float(gaussian_kernel_map(spec).pairs(qaa, qbb, qab))


def _relu_by_polar_quadrature(qaa, qbb, rho):
    """E[relu(Z_a) relu(Z_b)] as a 2-D integral in polar coordinates of independent normals (u, v) =
    r (cos t, sin t), Z_a = sqrt(Q^aa) u, Z_b = sqrt(Q^bb) (rho u + sqrt(1 - rho^2) v) = sqrt(Q^bb) r
    sin(t + asin rho): both are positive on the wedge -asin(rho) < t < pi/2, where the integrand
    r^3 cos t sin(t + asin rho) exp(-r^2/2) / (2 pi) is smooth."""
    sa, sb, phase = np.sqrt(qaa), np.sqrt(qbb), np.arcsin(rho)
    value, _ = integrate.dblquad(
        lambda r, t: sa * sb * r ** 3 * np.cos(t) * np.sin(t + phase) * np.exp(-r * r / 2) / (2 * np.pi),
        -phase, np.pi / 2, 0, np.inf, epsabs=0, epsrel=1e-13)
    return value


def _plane_quadrature(phi, qaa, qbb, rho):
    """E[phi(Z_a) phi(Z_b)] as the 2-D integral over the plane of independent standard normals."""
    sa, sb, c = np.sqrt(qaa), np.sqrt(qbb), np.sqrt(max(1 - rho * rho, 0.0))
    weight = 1 / (2 * np.pi)
    value, _ = integrate.dblquad(
        lambda v, u: phi(sa * u) * phi(sb * (rho * u + c * v)) * weight * np.exp(-(u * u + v * v) / 2),
        -np.inf, np.inf, -np.inf, np.inf, epsabs=1e-15, epsrel=1e-13)
    return value


@pytest.mark.parametrize("qaa,qbb,rho", CASES)
def test_relu_closed_form_matches_two_dimensional_quadrature(qaa, qbb, rho):
    reference = _relu_by_polar_quadrature(qaa, qbb, rho)
    if rho == -1.0:   # the wedge is empty: relu(Z_a) relu(Z_b) = 0
        assert reference == 0 and _closed_form("relu", qaa, qbb, rho) == 0
        return
    assert _closed_form("relu", qaa, qbb, rho) == pytest.approx(reference, rel=1e-10)


def test_relu_closed_form_is_accurate_in_absolute_terms_as_rho_tends_to_minus_one():
    """Near rho = -1 the kernel is O((1 + rho)^(3/2)) and the closed form cancels: at rho = -1 + 1e-6 it
    keeps ~5 relative digits, but its absolute error stays a few ulps of the scale sqrt(Q^aa Q^bb)."""
    qaa, qbb, rho = 1.3, 0.7, -0.999999
    reference = _relu_by_polar_quadrature(qaa, qbb, rho)
    assert reference > 0
    assert abs(_closed_form("relu", qaa, qbb, rho) - reference) < 1e-14 * np.sqrt(qaa * qbb)


@pytest.mark.parametrize("spec,phi", [
    ("erf", lambda z: np.sqrt(np.pi) / 2 * special.erf(z)),
    ("3*erf(2*x)", lambda z: 3 * special.erf(2 * z)),
    ("-erf(x/4)/2", lambda z: -special.erf(z / 4) / 2),
])
@pytest.mark.parametrize("qaa,qbb,rho", CASES)
def test_erf_closed_form_matches_two_dimensional_quadrature(spec, phi, qaa, qbb, rho):
    assert gaussian_kernel_map(spec).method == "erf"
    assert _closed_form(spec, qaa, qbb, rho) == pytest.approx(_plane_quadrature(phi, qaa, qbb, rho), rel=1e-10)


@pytest.mark.parametrize("qaa,qbb,rho", CASES[:4])
def test_linear_closed_form_matches_two_dimensional_quadrature(qaa, qbb, rho):
    assert gaussian_kernel_map("-2.5*x").method == "linear"
    reference = _plane_quadrature(lambda z: -2.5 * z, qaa, qbb, rho)
    assert _closed_form("-2.5*x", qaa, qbb, rho) == pytest.approx(reference, rel=1e-10)


def test_kernels_in_covariances_match_quadrature():
    """The expressions with rho = Q^ab / sqrt(Q^aa Q^bb) substituted, evaluated by SymPy itself."""
    qaa, qbb, rho = 0.9, 1.6, -0.45
    point = {QAA: sp.Rational(9, 10), QBB: sp.Rational(8, 5), QAB: sp.Rational(-45, 100) * sp.sqrt(sp.Rational(144, 100))}
    relu = gaussian_kernel_closed_form("relu").in_covariances()
    erf = gaussian_kernel_closed_form("3*erf(2*x)").in_covariances()
    assert relu.free_symbols == {QAA, QBB, QAB} and erf.free_symbols == {QAA, QBB, QAB}
    assert float(relu.subs(point)) == pytest.approx(_relu_by_polar_quadrature(qaa, qbb, rho), rel=1e-10)
    assert float(erf.subs(point)) == pytest.approx(
        _plane_quadrature(lambda z: 3 * special.erf(2 * z), qaa, qbb, rho), rel=1e-10)
    assert gaussian_kernel_closed_form("7*x").in_covariances() == 49 * QAB


# ----------------------------------------------------------------------------- mpmath at 30 digits
def test_mpmath_relu_closed_form_keeps_thirty_digits():
    """Against the polar integral (1/pi) int_{-asin rho}^{pi/2} sa cos t sb sin(t + asin rho) dt
    (the radial part E[r^2] = 2 done exactly), by mpmath.quad at 40 digits."""
    f = gaussian_kernel_closed_form("relu").function("mpmath")
    with mpmath.workdps(40):
        qaa, qbb, qab = mpmath.mpf(13) / 10, mpmath.mpf(7) / 10, -mpmath.mpf(2) / 5
        sa, sb = mpmath.sqrt(qaa), mpmath.sqrt(qbb)
        rho = qab / (sa * sb)
        phase = mpmath.asin(rho)
        reference = mpmath.quad(lambda t: sa * mpmath.cos(t) * sb * mpmath.sin(t + phase),
                                [-phase, mpmath.pi / 2]) / mpmath.pi
        with mpmath.workdps(30):
            value = f(qaa, qbb, qab, rho)
        assert abs(value - reference) < mpmath.mpf(10) ** -28 * abs(reference)


def test_mpmath_erf_closed_form_keeps_thirty_digits():
    """Against E_u[c erf(k sa u) c erf(k sb rho u / sqrt(1 + 2 k^2 sb^2 (1 - rho^2)))], from
    E[erf(m + s v)] = erf(m / sqrt(1 + 2 s^2)), v ~ N(0, 1), by mpmath.quad at 40 digits."""
    f = gaussian_kernel_closed_form("3*erf(2*x)").function("mpmath")
    with mpmath.workdps(40):
        qaa, qbb, qab = mpmath.mpf(13) / 10, mpmath.mpf(7) / 10, mpmath.mpf(3) / 5
        sa, sb = mpmath.sqrt(qaa), mpmath.sqrt(qbb)
        rho = qab / (sa * sb)
        s = 2 * sb * mpmath.sqrt(1 - rho ** 2)
        reference = mpmath.quad(
            lambda u: 9 * mpmath.erf(2 * sa * u) * mpmath.erf(2 * sb * rho * u / mpmath.sqrt(1 + 2 * s ** 2))
            * mpmath.npdf(u), [-mpmath.inf, 0, mpmath.inf])
        with mpmath.workdps(30):
            value = f(qaa, qbb, qab, rho)
        assert abs(value - reference) < mpmath.mpf(10) ** -28 * abs(reference)


# ----------------------------------------------------------------------------- which closed form
@pytest.mark.parametrize("spec,name", [
    ("relu", "relu"), ("relu_like", "relu"), ("erf", "erf"), ("erf(3*x)/2", "erf"), ("x", "linear"),
    ("linear", "linear"), ("-4*x", "linear"), ("tanh", None), ("gelu", None), ("erf(x) + x", None),
    ("erf(x)**2 + x", None), ("x + x**3", "polynomial"), ("x**2", "polynomial"), ("2*erf(0.7*x) + 0.3", "erf"),
    ("Heaviside(x)", "arc-cosine"), ("abs(x)", "arc-cosine"), ("relu(x)**2", "arc-cosine"),
    ("max(x, 0) + 0.1*min(x, 0)", "arc-cosine"), ("sign(x)", "arc-cosine"), ("cos", "cos"), ("3*sin(2*x + 1)", "cos"),
    ("exp(-x**2)", "gaussian"), ("exp(-x**2)*sin(x)", None), ("cos(x)**2", None), ("x*Heaviside(x - 1)", None),
    (sp.Piecewise((X, X > 0), (sp.exp(X) - 1, True)), None)])
def test_closed_forms_cover_exactly_their_families(spec, name):
    closed = gaussian_kernel_closed_form(spec)
    assert (closed.name if closed else None) == name
    assert gaussian_kernel_map(spec).method == (name or "quadrature")


@pytest.mark.parametrize("spec,entire,exponential,polynomial", [
    ("sin", True, False, False), ("erf", True, False, False), ("gelu", True, False, False),
    ("sinh", True, True, False), ("x + exp(x) - 1", True, True, False),
    ("tanh", False, False, False),        # poles at i pi/2
    ("atan", False, False, False),        # branch points at +-i
    ("softplus", False, False, False),    # log(1 + e^x): branch points at i pi
    ("silu", False, False, False),        # x / (1 + e^-x): poles at i pi
    ("x + 0.1*x**3", True, False, True)])
def test_activation_analyticity_properties(spec, entire, exponential, polynomial):
    activation = as_activation(spec)
    assert activation.is_entire is entire
    assert activation.may_grow_exponentially is exponential
    assert activation.is_polynomial is polynomial


def test_raw_function_is_the_plain_activation_in_each_backend():
    activation = as_activation("1 + tanh(2*x)")          # normalised phi differs; raw is as given
    z = np.array([-1.5, 0.0, 0.4])
    np.testing.assert_allclose(activation.raw_function("numpy")(z), 1 + np.tanh(2 * z), rtol=1e-15)
    assert activation.raw_function("math")(0.4) == pytest.approx(1 + np.tanh(0.8), rel=1e-15)
    with mpmath.workdps(30):
        value = activation.raw_function("mpmath")(mpmath.mpf(2) / 5)
        assert abs(value - (1 + mpmath.tanh(mpmath.mpf(4) / 5))) < mpmath.mpf(10) ** -28


# ----------------------------------------------------------------------------- ReLU-like drift
def test_relu_like_drift_is_the_relu_kernel_minus_its_linear_part():
    """Li, Nica & Roy's nu(rho) sqrt(AB) equals (c+ - c-)^2 (F_relu(A, B, R) - R/2), F_relu the
    arc-cosine kernel of Cho & Saul: two sources, written in two modules, must agree."""
    kernel = gaussian_kernel_closed_form("relu").function("numpy")
    drift = sp.lambdify((A, B, R), relu_like_drift(sp.Rational(1, 2), sp.Rational(-7, 10)), "numpy")
    rng = np.random.default_rng(3)
    a, b = rng.uniform(0.2, 3.0, size=(2, 50))
    rho = rng.uniform(-1, 1, size=50)
    r = rho * np.sqrt(a * b)
    expected = 1.2 ** 2 * (kernel(a, b, r, rho) - r / 2)
    np.testing.assert_allclose(drift(a, b, r), expected, rtol=1e-12, atol=1e-15)


def test_relu_like_nu_correlation_sde_and_norm_drift_come_from_the_drift():
    """nu(rho) = b(1, 1, rho); nu(1) = 0 so the norm drift is 0; the correlation drift is
    nu(rho) - rho (1 - rho^2)/2 (Li, Nica & Roy 2022, Prop 3.10)."""
    sde = derive_sde("relu", c_plus=0.5, c_minus=-0.7)
    rho = np.linspace(-0.95, 0.95, 7)
    nu = sde.drift(np.stack([np.array([[1.0, r], [r, 1.0]]) for r in rho]))[:, 0, 1]
    np.testing.assert_allclose(sde.correlation_drift(rho), nu - rho * (1 - rho ** 2) / 2, rtol=1e-12, atol=1e-15)
    assert sde.norm_drift_expr == 0 and sde.stability.regime == "vanishes"


# ----------------------------------------------------------------------------- the boundary
def test_solvers_kernels_do_not_import_sympy():
    folder = pathlib.Path(covsde.solvers.kernels.__file__).parent
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] == "sympy" for n in names), f"{path.name} imports sympy"
