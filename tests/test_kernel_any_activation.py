"""Gaussian kernels for any plain activation (issue 10, part 4): the new closed forms against
independent 2-D quadrature (scipy here, mpmath in the slow tests), the quadrature against the closed
forms over variances 1e-4..1e4 and |rho| up to 0.999999, kinked activations without a closed form,
the refusals, and the ResNet kernel of cos against its exact diagonal, an independent ODE solve,
a hand-written recursion and finite wide ResNets."""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from scipy import integrate, special

from covsde.cli import main
from covsde.derive import ActivationError, InputError, X
from covsde.derive.gaussian_kernels import gaussian_kernel_closed_form, half_space_moment
from covsde.derive.plain_activation import as_plain_activation
from covsde.solvers.kernels.gaussian_expectation import gaussian_kernel_map, kernel_map
from covsde.solvers.kernels.quadrature_accuracy import ACTIVATIONS, accuracy_table, quadrature_errors
from covsde.solvers.kernels.resnet_kernel import resnet_kernel, resnet_kernel_recursion

ELU = sp.Piecewise((X, X > 0), (sp.exp(X) - 1, True))

#: (name or expression, numpy phi written here, kinks): the closed-form families of
#: covsde.derive.gaussian_kernels and their cross terms.
CLOSED_FORMS = [
    ("Heaviside(x)", lambda z: np.where(z > 0, 1.0, 0.0), (0.0,)),
    ("sign(x)", np.sign, (0.0,)),
    ("abs(x)", np.abs, (0.0,)),
    ("max(x, 0) + 0.1*min(x, 0)", lambda z: np.where(z > 0, z, 0.1 * z), (0.0,)),
    ("relu(x)**2", lambda z: np.maximum(z, 0) ** 2, (0.0,)),
    ("max(x, 0) - 0.3*min(x, 0)**2", lambda z: np.where(z > 0, z, -0.3 * z * z), (0.0,)),   # degrees 1 and 2
    ("Heaviside(x) - 2*min(x, 0)", lambda z: np.where(z > 0, 1.0, -2 * z), (0.0,)),            # degrees 0 and 1
    ("2*erf(0.7*x) + 0.3", lambda z: 2 * special.erf(0.7 * z) + 0.3, ()),
    ("cos", np.cos, ()),
    ("3*sin(2*x + 1)", lambda z: 3 * np.sin(2 * z + 1), ()),
    ("2*exp(-x**2/2)", lambda z: 2 * np.exp(-z * z / 2), ()),
    ("x**3 - 2*x + 1", lambda z: z ** 3 - 2 * z + 1, ()),
]
#: (Q^aa, Q^bb, rho): unequal variances, both signs, |rho| = 0.95.
POINTS = [(1.0, 1.0, 0.3), (0.5, 2.0, -0.6), (1.3, 0.7, 0.95), (2.0, 0.4, -0.95)]


def _scipy_expectation(phi, qaa, qbb, rho, kinks=()):
    """E[phi(Z_a) phi(Z_b)] by nested QUADPACK over independent normals (u, v), Z_a = sa u,
    Z_b = sb (rho u + c v), each 1-D integral split at the kinks it sees, on [-12, 12]."""
    sa, sb, c = math.sqrt(qaa), math.sqrt(qbb), math.sqrt(1 - rho * rho)

    def pieces(points):
        inside = sorted({p for p in points if -12 < p < 12} | {0.0})
        return list(zip([-12.0] + inside, inside + [12.0]))

    def inner(u):
        return sum(integrate.quad(lambda v: phi(sb * (rho * u + c * v)) * math.exp(-v * v / 2), lo, hi,
                                  epsabs=1e-15, epsrel=1e-13, limit=200)[0]
                   for lo, hi in pieces([(k / sb - rho * u) / c for k in kinks]))

    total = sum(integrate.quad(lambda u: float(phi(sa * u)) * inner(u) * math.exp(-u * u / 2), lo, hi,
                               epsabs=1e-15, epsrel=1e-13, limit=200)[0]
                for lo, hi in pieces([k / sa for k in kinks]))
    return total / (2 * math.pi)


def _mpmath_expectation(phi, qaa, qbb, rho, kinks=()):
    """The same 2-D integral by mpmath (Gauss-Legendre, 17 digits), split at the kinks."""
    with mpmath.workdps(17):
        sa, sb, rho = mpmath.sqrt(qaa), mpmath.sqrt(qbb), mpmath.mpf(rho)
        c = mpmath.sqrt(1 - rho ** 2)

        def split(points):
            return [-11] + sorted(p for p in set(points) | {0} if -11 < p < 11) + [11]

        def inner(u):
            return mpmath.quad(lambda v: phi(sb * (rho * u + c * v)) * mpmath.exp(-v * v / 2),
                               split([(k / sb - rho * u) / c for k in kinks]), method="gauss-legendre")
        value = mpmath.quad(lambda u: phi(sa * u) * inner(u) * mpmath.exp(-u * u / 2),
                            split([k / sa for k in kinks]), method="gauss-legendre")
        return float(value / (2 * mpmath.pi))


def _closed(spec, qaa, qbb, rho):
    F = gaussian_kernel_map(spec)
    assert F.method != "quadrature"
    return float(F.pairs(qaa, qbb, rho * np.sqrt(qaa * qbb)))


# ----------------------------------------------------------------------------- closed forms
@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")   # QUADPACK short of 1e-13
@pytest.mark.parametrize("spec,phi,kinks", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
@pytest.mark.parametrize("qaa,qbb,rho", POINTS[:2])
def test_closed_form_matches_nested_scipy_quadrature(spec, phi, kinks, qaa, qbb, rho):
    reference = _scipy_expectation(lambda z: float(phi(np.float64(z))), qaa, qbb, rho, kinks)
    assert _closed(spec, qaa, qbb, rho) == pytest.approx(reference, rel=1e-10, abs=1e-13)


@pytest.mark.slow
@pytest.mark.parametrize("spec,phi,kinks", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
@pytest.mark.parametrize("qaa,qbb,rho", POINTS[2:])
def test_closed_form_matches_mpmath_two_dimensional_quadrature(spec, phi, kinks, qaa, qbb, rho):
    """mpmath's own Gauss–Legendre, phi evaluated in mpmath from the plain activation's expression
    through SymPy's mpmath printer (not the project's quadrature); ~3 s a point."""
    phi_mp = sp.lambdify(X, as_plain_activation(spec).expr, "mpmath")
    reference = _mpmath_expectation(phi_mp, qaa, qbb, rho, kinks)
    assert _closed(spec, qaa, qbb, rho) == pytest.approx(reference, rel=1e-10, abs=1e-13)


def test_half_space_moments_are_the_arc_cosine_kernels():
    """M_00, M_11, M_22 against Cho & Saul's J_n(theta)/(2 pi) (2009, eq. 6), written out here."""
    theta = sp.acos(sp.Symbol("rho", real=True))
    rho = sp.Symbol("rho", real=True)
    J = [sp.pi - theta, sp.sin(theta) + (sp.pi - theta) * sp.cos(theta),
         3 * sp.sin(theta) * sp.cos(theta) + (sp.pi - theta) * (1 + 2 * sp.cos(theta) ** 2)]
    for n in range(3):
        for value in (-0.9, -0.2, 0.4, 0.99):
            assert float(half_space_moment(n, n).subs(rho, value)) == pytest.approx(
                float((J[n] / (2 * sp.pi)).subs(rho, value)), rel=1e-14)


# ----------------------------------------------------------------------------- quadrature accuracy
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_quadrature_matches_closed_forms_from_tiny_to_huge_variances(activation):
    """Variances 1e-4, 1, 1e4 (equal and unequal), rho = -0.999999, 0.3, 0.999999: <= 1e-10 relative
    (absolute 1e-13 of sqrt(F^aa F^bb) where the kernel is ~0), default rule and the panels."""
    for rule in (None, "panels"):
        errors = quadrature_errors(activation, (1e-4, 1.0, 1e4), (-0.999999, 0.3, 0.999999), rule=rule)
        assert errors.max() <= 1e-10, (rule, errors)


@pytest.mark.slow
def test_quadrature_accuracy_table_over_the_full_grid():
    """The grid of the closing note: variances {1e-4, 1e-2, 1, 1e2, 1e4}^2, six correlations (~20 s)."""
    worst, text = accuracy_table()
    print(text)
    assert max(row.max() for row in worst.values()) <= 1e-10


def test_issue_examples_are_now_right():
    """Issue 10: 2 erf(0.7x) + 0.3 at Q = 100, rho = 0.999999 gave 3.808 (closed form 3.728);
    exp(-x^2) sin(x) went to Gauss-Hermite, 0.5 % off at q = 3 and ~100 % at q >= 10."""
    Q = np.array([[100, 99.9999], [99.9999, 100]])
    exact = 8 / np.pi * np.arcsin(2 * 0.49 * 99.9999 / (1 + 2 * 0.49 * 100)) + 0.09
    assert kernel_map("2*erf(0.7*x) + 0.3", Q)[0, 1] == pytest.approx(exact, rel=1e-13)
    assert kernel_map("2*erf(0.7*x) + 0.3", Q, closed_form=False)[0, 1] == pytest.approx(exact, rel=1e-11)
    for q in (3.0, 10.0, 100.0, 1e4):
        Q = np.array([[q, 0.7 * q], [0.7 * q, q]])
        reference = _gaussian_sine_kernel(Q)
        assert kernel_map("exp(-x**2)*sin(x)", Q)[0, 1] == pytest.approx(reference, rel=1e-10)
        if q == 10.0:
            assert abs(kernel_map("exp(-x**2)*sin(x)", Q, rule="hermite")[0, 1] / reference - 1) > 0.1  # the old rule


def _gaussian_sine_kernel(Q):
    """E[exp(-Z_a^2) sin Z_a exp(-Z_b^2) sin Z_b] exactly: sin A sin B = (cos(A - B) - cos(A + B))/2 and
    E[exp(-Z^T Z) cos(k^T Z)] = det(I + 2Q)^(-1/2) exp(-k^T S k / 2), S = Q (I + 2Q)^(-1)."""
    S = Q @ np.linalg.inv(np.eye(2) + 2 * Q)
    norm = 1 / np.sqrt(np.linalg.det(np.eye(2) + 2 * Q))
    k_minus, k_plus = np.array([1.0, -1.0]), np.array([1.0, 1.0])
    return norm * (np.exp(-k_minus @ S @ k_minus / 2) - np.exp(-k_plus @ S @ k_plus / 2)) / 2


def test_kinked_activation_without_closed_form_matches_nested_quadrature():
    """ELU (kink in the second derivative at 0): the panels against nested QUADPACK."""
    assert gaussian_kernel_map(ELU).rule == "panels"
    elu = lambda z: z if z > 0 else math.expm1(z)  # noqa: E731
    for qaa, qbb, rho in [(1.3, 0.7, -0.95), (100.0, 0.01, 0.6), (2.0, 2.0, 0.999999)]:
        value = gaussian_kernel_map(ELU).pairs(qaa, qbb, rho * math.sqrt(qaa * qbb))
        assert float(value) == pytest.approx(_scipy_expectation(elu, qaa, qbb, rho, (0.0,)), rel=1e-9, abs=1e-13)


def test_mpmath_precision_splits_at_kinks():
    """Diagonal entries (1-D mpmath.quad split at the kinks 0 and 0.3) against the panels."""
    for q in (0.5, 3.0):
        np.testing.assert_allclose(kernel_map("abs(x) + 0.5*Heaviside(x - 0.3)", [[q]], precision="mpmath"),
                                   kernel_map("abs(x) + 0.5*Heaviside(x - 0.3)", [[q]]), rtol=1e-12)


# ----------------------------------------------------------------------------- plain activations
def test_plain_activation_reads_kinks_and_scales():
    plain = as_plain_activation("abs(x - 1) + Heaviside(x + 2)*x**2 + max(x, 0.5)")
    assert plain.kinks == (-2.0, 0.5, 1.0)
    assert as_plain_activation("erf(0.25*x)").feature_scale == 4.0
    assert as_plain_activation("exp(-4*x**2)").feature_scale == 0.5
    assert as_plain_activation("cos(3*x)").feature_radius == np.inf            # oscillates for ever
    assert as_plain_activation("exp(-x**2)*sin(x)").feature_radius == 40.0     # decays
    assert as_plain_activation("relu").expr == sp.Max(X, 0)
    assert as_plain_activation("x + alpha*x**2", alpha=0.5).expr == X + X ** 2 / 2


def test_plain_activation_backends_agree_on_piecewise_and_heaviside():
    """Heaviside(0) = 1/2 (SymPy's convention) in both backends; Piecewise evaluated piece by piece."""
    plain = as_plain_activation(ELU + sp.Heaviside(X))
    z = np.array([-2.0, 0.0, 0.5])
    expected = np.array([math.expm1(-2.0), 0.5, 1.5])
    np.testing.assert_allclose(plain.function("numpy")(z), expected, rtol=1e-15)
    with mpmath.workdps(20):
        assert [float(plain.function("mpmath")(mpmath.mpf(v))) for v in z] == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("spec,message", [
    ("exp(x**2)", "exp\\(c x\\^2\\)"), ("exp(x**2/1000)", "finite second moments"), ("1/x", "infinite"),
    ("tan(x)", "poles"), ("sqrt(x)", "real and finite"), ("elo", "did you mean .elu."),
    ("floor(x)", "cannot parse")])
def test_activations_without_finite_second_moments_are_refused(spec, message):
    with pytest.raises(ActivationError, match=message):
        kernel_map(spec, np.eye(2))


def test_free_parameters_and_unreachable_accuracy_raise_input_error():
    with pytest.raises(InputError, match="free parameters"):
        kernel_map("cos(w*x)", np.eye(2))
    with pytest.raises(InputError, match="panels"):     # cos(1000 x) at variance 1e4: 2e5 panels needed
        kernel_map("cos(1000*x)", 1e4 * np.eye(2), closed_form=False, rule="panels")


def test_default_rules_for_plain_activations():
    assert gaussian_kernel_map(ELU).rule == "panels"
    assert gaussian_kernel_map("tanh").rule == "mehler"
    assert gaussian_kernel_map("sinh").rule == "hermite"
    assert gaussian_kernel_map("x**13").rule == "hermite"
    for spec, method in [("cos", "cos"), ("x**2", "polynomial"), ("exp(-x**2)", "gaussian"),
                         ("abs(x)", "arc-cosine"), ("Heaviside(x)", "arc-cosine"), ("relu", "relu")]:
        assert gaussian_kernel_map(spec).method == method


# ----------------------------------------------------------------------------- ResNet kernel of cos
def _cos_kernel(q):
    """E[cos Z_a cos Z_b] = exp(-(Q^aa + Q^bb)/2) cosh(Q^ab), written out here."""
    d = np.diag(q)
    return np.exp(-(d[:, None] + d[None, :]) / 2) * np.cosh(q)


def test_cos_resnet_ode_matches_exact_diagonal_and_independent_solve():
    """dq/dt = F_cos(q): on the diagonal dq/dt = (1 + e^{-2q})/2, so e^{2q(t)} = (e^{2q0} + 1) e^t - 1;
    the off-diagonal entries against scipy's solve_ivp of the hand-written ODE."""
    Q0 = np.array([[1.0, 0.3, -0.2], [0.3, 0.8, 0.5], [-0.2, 0.5, 1.4]])
    result = resnet_kernel("cos", Q0, t=1.0, rtol=1e-11, atol=1e-13)
    exact_diagonal = np.log((np.exp(2 * np.diag(Q0)) + 1) * np.e - 1) / 2
    np.testing.assert_allclose(np.diag(result.q), exact_diagonal, rtol=1e-9)
    reference = integrate.solve_ivp(lambda t, y: _cos_kernel(y.reshape(3, 3)).ravel(), (0, 1), Q0.ravel(),
                                    method="DOP853", rtol=1e-12, atol=1e-14).y[:, -1].reshape(3, 3)
    np.testing.assert_allclose(result.q, reference, rtol=1e-9, atol=1e-11)


def test_cos_recursion_is_the_explicit_euler_scheme_of_the_closed_form():
    Q0 = np.array([[1.0, 0.3], [0.3, 0.8]])
    q = Q0.copy()
    for _ in range(16):
        q = q + _cos_kernel(q) / 16
    np.testing.assert_allclose(resnet_kernel_recursion("cos", Q0, depth=16), q, rtol=1e-14)


def test_cos_recursion_matches_finite_wide_resnets():
    """Y_l = Y_(l-1) + W_l cos(Y_(l-1)) / sqrt(n L), n = 512, L = 8, 12 networks: the mean kernel
    <Y_L(a), Y_L(b)>/n within 5 standard errors plus an O(1/n) allowance of the recursion."""
    rng = np.random.default_rng(12)
    n, depth, networks = 512, 8, 12
    x = np.array([[1.0, 0.2, -0.3], [0.4, -0.9, 0.5]])
    Q0 = x @ x.T / 3
    kernels = []
    for _ in range(networks):
        Y = rng.standard_normal((n, 3)) @ x.T / np.sqrt(3)          # (n, m)
        for _ in range(depth):
            Y = Y + rng.standard_normal((n, n)) @ np.cos(Y) / np.sqrt(n * depth)
        kernels.append(Y.T @ Y / n)
    kernels = np.array(kernels)
    mean, stderr = kernels.mean(0), kernels.std(0, ddof=1) / np.sqrt(networks)
    expected = resnet_kernel_recursion("cos", Q0, depth=depth)
    assert np.all(np.abs(mean - expected) <= 5 * stderr + 2.0 / n)


def test_cli_kernel_cos_resnet(tmp_path, capsys):
    inputs = np.random.default_rng(5).normal(size=(3, 4))
    np.save(tmp_path / "F.npy", inputs)
    assert main(["kernel", "cos", "--resnet", "--inputs", str(tmp_path / "F.npy")]) == 0
    out = capsys.readouterr().out
    assert "for cos" in out
    printed = np.loadtxt(out.splitlines())
    Q0 = inputs @ inputs.T / 4
    np.testing.assert_allclose(np.diag(printed), np.log((np.exp(2 * np.diag(Q0)) + 1) * np.e - 1) / 2, rtol=1e-7)
    assert main(["kernel", "abs(x) + 0.5*Heaviside(x)", "--resnet", "--inputs", str(tmp_path / "F.npy"),
                 "--recursion", "4"]) == 0
