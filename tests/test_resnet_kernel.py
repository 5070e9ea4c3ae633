"""Hayou's ResNet kernel (SPEC §2): F_phi against independent integrals, the ODE against exact
solutions, and the finite-depth recursion's first-order convergence to the ODE."""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, optimize, special, stats

from covsde.cli import main
from covsde.derive import ActivationError, InputError
from covsde.solvers.kernels.gaussian_expectation import kernel_map
from covsde.solvers.kernels.resnet_kernel import resnet_kernel, resnet_kernel_recursion

# (Q^aa, Q^bb, Q^ab) covering rho = 0, +-0.5, +-0.95, +-1 and unequal variances.
PAIRS = [(1.0, 1.0, 0.0), (1.0, 2.0, 0.7), (0.5, 3.0, -0.6), (2.0, 0.7, 0.95 * np.sqrt(1.4)),
         (1.3, 0.4, -0.95 * np.sqrt(0.52)), (1.5, 1.5, 1.5), (0.8, 0.8, -0.8)]


def _matrix(qaa, qbb, qab):
    return np.array([[qaa, qab], [qab, qbb]])


def _random_gram(m, n0, seed):
    inputs = np.random.default_rng(seed).normal(size=(m, n0))
    return inputs @ inputs.T / n0


def _relu_expectation_by_1d_quadrature(qaa, qbb, qab):
    """E[relu(Z_a) relu(Z_b)] = int_0^inf sigma_a u E_v[relu(mu(u) + s v)] phi(u) du with the inner
    expectation in closed form, E[relu(mu + s v)] = mu Phi(mu/s) + s phi(mu/s)."""
    sa, sb = np.sqrt(qaa), np.sqrt(qbb)
    rho = qab / (sa * sb)
    s = sb * np.sqrt(max(1 - rho * rho, 0.0))

    def inner(u):
        mu = sb * rho * u
        if s == 0:
            return max(mu, 0.0)
        return mu * stats.norm.cdf(mu / s) + s * stats.norm.pdf(mu / s)

    value, _ = integrate.quad(lambda u: sa * u * inner(u) * stats.norm.pdf(u), 0, np.inf,
                              epsabs=1e-14, epsrel=1e-13)
    return value


# ----------------------------------------------------------------------------- F_phi
@pytest.mark.parametrize("qaa,qbb,qab", PAIRS)
def test_relu_closed_form_matches_one_dimensional_quadrature(qaa, qbb, qab):
    F = kernel_map("relu", _matrix(qaa, qbb, qab))
    assert F[0, 1] == pytest.approx(_relu_expectation_by_1d_quadrature(qaa, qbb, qab), abs=1e-11)
    assert F[0, 0] == pytest.approx(qaa / 2, rel=1e-14)   # E[relu(Z)^2] = Q^aa / 2


def test_relu_closed_form_matches_monte_carlo():
    Q = np.array([[1.0, 0.6, -0.3], [0.6, 2.0, 0.1], [-0.3, 0.1, 0.5]])
    n = 400_000
    Z = np.random.default_rng(7).multivariate_normal(np.zeros(3), Q, size=n)
    products = np.maximum(Z, 0)[:, :, None] * np.maximum(Z, 0)[:, None, :]
    mean, stderr = products.mean(0), products.std(0) / np.sqrt(n)
    assert np.all(np.abs(kernel_map("relu", Q) - mean) < 5 * stderr)  # 5 standard errors


@pytest.mark.parametrize("spec,c,k", [("erf", np.sqrt(np.pi) / 2, 1.0), ("erf(x)", 1.0, 1.0),
                                      ("3*erf(2*x)", 3.0, 2.0)])
def test_erf_closed_form_matches_hermite_quadrature_of_cholesky_factor(spec, c, k):
    """Independent 2-D Gauss–Hermite over Z = L g, g ~ N(0, I), L the Cholesky factor (erf is entire)."""
    x, w = np.polynomial.hermite_e.hermegauss(300)
    w = w / w.sum()
    for qaa, qbb, qab in PAIRS[:5]:
        L = np.linalg.cholesky(_matrix(qaa, qbb, qab) + 1e-300 * np.eye(2))
        za = L[0, 0] * x[:, None] + 0 * x[None, :]
        zb = L[1, 0] * x[:, None] + L[1, 1] * x[None, :]
        reference = w @ (c * special.erf(k * za) * c * special.erf(k * zb)) @ w
        assert kernel_map(spec, _matrix(qaa, qbb, qab))[0, 1] == pytest.approx(reference, abs=1e-12)


def test_quadrature_matches_closed_form_for_erf_plus_identity():
    """phi = erf(x) + x has no closed form in the library, so F goes through the 2-D quadrature.
    Stein's lemma gives F^{ab} = (2/pi) arcsin(2Q^ab / sqrt((1+2Q^aa)(1+2Q^bb)))
    + Q^ab (1 + (2/sqrt(pi)) (1/sqrt(1+2Q^aa) + 1/sqrt(1+2Q^bb)))."""
    Q = np.array([[1.0, 0.5, -0.2], [0.5, 2.0, 0.8], [-0.2, 0.8, 0.9]])
    d = np.diag(Q)
    exact = (2 / np.pi) * np.arcsin(2 * Q / np.sqrt(np.outer(1 + 2 * d, 1 + 2 * d))) \
        + Q * (1 + 2 / np.sqrt(np.pi) * (1 / np.sqrt(1 + 2 * d)[:, None] + 1 / np.sqrt(1 + 2 * d)[None, :]))
    np.testing.assert_allclose(kernel_map("erf(x) + x", Q), exact, rtol=0, atol=1e-12)
    np.testing.assert_allclose(kernel_map("erf(x) + x", Q, rule="hermite", degree=128), exact, rtol=0, atol=1e-12)


@pytest.mark.parametrize("spec,sign", [("sin", -1), ("sinh", 1)])
def test_quadrature_matches_closed_form_for_sin_and_sinh(spec, sign):
    """E[sin Z_a sin Z_b] = exp(-(Q^aa + Q^bb)/2) sinh(Q^ab), E[sinh Z_a sinh Z_b] = exp(+...) sinh(Q^ab)."""
    Q = np.array([[3.0, 2.0, -1.0], [2.0, 4.0, 0.5], [-1.0, 0.5, 1.0]])
    d = np.diag(Q)
    exact = np.exp(sign * (d[:, None] + d[None, :]) / 2) * np.sinh(Q)
    np.testing.assert_allclose(kernel_map(spec, Q), exact, rtol=1e-13, atol=1e-15)


@pytest.mark.slow
def test_tanh_quadrature_matches_mpmath_quadrature():
    Q = np.array([[1.0, 0.3], [0.3, 1.5]])
    reference = kernel_map("tanh", Q, precision="mpmath")   # tanh-sinh quadrature, 15 digits
    np.testing.assert_allclose(kernel_map("tanh", Q), reference, rtol=0, atol=1e-10)
    np.testing.assert_allclose(kernel_map("tanh", Q, rule="hermite", degree=160), reference, rtol=0, atol=1e-10)


def test_tanh_quadrature_matches_monte_carlo_on_a_stack():
    Qs = np.stack([np.array([[1.0, -0.4], [-0.4, 0.6]]), np.array([[2.0, 1.4], [1.4, 1.0]])])
    n = 400_000
    rng = np.random.default_rng(11)
    F = kernel_map("tanh", Qs)
    for Q, F_Q in zip(Qs, F):
        Z = np.tanh(rng.multivariate_normal(np.zeros(2), Q, size=n))
        products = Z[:, :, None] * Z[:, None, :]
        assert np.all(np.abs(F_Q - products.mean(0)) < 5 * products.std(0) / np.sqrt(n))


# ----------------------------------------------------------------------------- the ODE
@pytest.mark.parametrize("t", [1.0, 2.5])
def test_relu_ode_diagonal_is_exponential(t):
    Q0 = _random_gram(5, 3, seed=1)    # rank 3: PSD, singular
    q = resnet_kernel("relu", Q0, t=t).q
    np.testing.assert_allclose(np.diag(q), np.diag(Q0) * np.exp(t / 2), rtol=1e-7)
    np.testing.assert_array_equal(q, q.T)


def _relu_correlation_by_inversion(rho0, t):
    """rho(t) for d rho/dt = (sqrt(1 - rho^2) - rho arccos rho) / (2 pi) (the relu ODE with
    q^aa = q^aa(0) e^{t/2}), by inverting t = int_rho0^rho 2 pi dr / (sqrt(1 - r^2) - r arccos r)."""
    speed = lambda r: (np.sqrt(1 - r * r) - r * np.arccos(r)) / (2 * np.pi)  # noqa: E731
    elapsed = lambda r: integrate.quad(lambda s: 1 / speed(s), rho0, r, epsabs=0, epsrel=1e-12)[0]  # noqa: E731
    upper = min(rho0 + t / 2, 1 - 1e-4)   # speed <= 1/2; stay where the speed has no cancellation
    return optimize.brentq(lambda r: elapsed(r) - t, rho0, upper, xtol=1e-15, rtol=1e-15)


def test_relu_ode_off_diagonal_matches_correlation_ode_by_inversion():
    Q0 = np.array([[1.0, 0.2, -0.5], [0.2, 2.0, 0.9], [-0.5, 0.9, 0.8]])
    t = 1.0
    q = resnet_kernel("relu", Q0, t=t, rtol=1e-11, atol=1e-13).q
    for a, b in [(0, 1), (0, 2), (1, 2)]:
        rho0 = Q0[a, b] / np.sqrt(Q0[a, a] * Q0[b, b])
        exact = _relu_correlation_by_inversion(rho0, t) * np.sqrt(Q0[a, a] * Q0[b, b]) * np.exp(t / 2)
        assert q[a, b] == pytest.approx(exact, abs=1e-9)


def test_linear_ode_is_exponential_growth():
    Q0 = _random_gram(4, 6, seed=2)
    np.testing.assert_allclose(resnet_kernel("2*x", Q0, t=0.7).q, Q0 * np.exp(4 * 0.7), rtol=1e-8)


@pytest.mark.parametrize("alpha", [lambda s: np.sqrt(2 * s), "sqrt(2*t)", sp.sqrt(2 * sp.Symbol("t"))],
                         ids=["callable", "text", "sympy"])
def test_alpha_schedule_gives_gaussian_growth_of_relu_diagonal(alpha):
    """alpha(t)^2 = 2t: d q^aa/dt = t q^aa, so q^aa(t) = q^aa(0) exp(t^2/2)."""
    Q0 = _random_gram(4, 5, seed=3)
    result = resnet_kernel("relu", Q0, t=1.5, alpha=alpha, save_at=[0.5, 1.0])
    np.testing.assert_allclose(np.diag(result.q), np.diag(Q0) * np.exp(1.5 ** 2 / 2), rtol=1e-7)
    for time, q in zip(result.save_at, result.saved):
        np.testing.assert_allclose(np.diag(q), np.diag(Q0) * np.exp(time ** 2 / 2), rtol=1e-7)


# ----------------------------------------------------------------------------- the recursion
def _first_order_slope(phi, Q0, alpha=None):
    exact = resnet_kernel(phi, Q0, alpha=alpha, rtol=1e-12, atol=1e-14).q
    depths = np.array([16, 32, 64, 128, 256])
    errors = [np.abs(resnet_kernel_recursion(phi, Q0, depth=L, alpha=alpha) - exact).max() for L in depths]
    return np.polyfit(np.log(depths), np.log(errors), 1)[0]


@pytest.mark.parametrize("phi", ["relu", pytest.param("tanh", marks=pytest.mark.slow)])
def test_recursion_converges_to_ode_at_first_order(phi):
    Q0 = np.array([[1.0, 0.4, -0.1], [0.4, 1.5, 0.3], [-0.1, 0.3, 0.7]])
    assert _first_order_slope(phi, Q0) == pytest.approx(-1.0, abs=0.05)


def test_recursion_with_schedule_converges_to_scheduled_ode_at_first_order():
    Q0 = np.array([[1.0, 0.4], [0.4, 1.5]])
    assert _first_order_slope("relu", Q0, alpha=lambda s: 1 + s) == pytest.approx(-1.0, abs=0.05)


def test_recursion_diagonal_is_the_product_formula_for_relu():
    """For relu q^aa_l = q^aa_{l-1} (1 + 1/(2L)), so q^aa_L = q^aa_0 (1 + 1/(2L))^L."""
    Q0 = _random_gram(3, 4, seed=4)
    layers = resnet_kernel_recursion("relu", Q0, depth=10, return_layers=True)
    assert layers.shape == (11, 3, 3)
    np.testing.assert_allclose(np.diagonal(layers, axis1=1, axis2=2),
                               np.outer((1 + 1 / 20) ** np.arange(11), np.diag(Q0)), rtol=1e-13)


# ----------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("Q0,message", [
    (np.array([[1.0, 0.5], [0.4, 1.0]]), "symmetric"),
    (np.array([[1.0, 2.0], [2.0, 1.0]]), "positive semi-definite"),
    (np.array([[1.0, np.nan], [np.nan, 1.0]]), "non-finite"),
    (np.ones(3), "square"),
    (np.ones((2, 3)), "square"),
])
def test_bad_gram_matrices_raise_input_error(Q0, message):
    with pytest.raises(InputError, match=message):
        resnet_kernel("relu", Q0)
    with pytest.raises(InputError, match=message):
        kernel_map("tanh", Q0)


@pytest.mark.parametrize("kwargs,message", [
    ({"t": 0.0}, "positive"), ({"t": -1.0}, "positive"), ({"t": np.inf}, "positive"),
    ({"degree": 1}, "degree"), ({"degree": 2.5}, "degree"), ({"method": "euler"}, "method"),
    ({"method": "recursion"}, "depth"), ({"alpha": "fast"}, "alpha"), ({"save_at": [0.5, 2.0]}, "save_at"),
])
def test_bad_options_raise_input_error(kwargs, message):
    with pytest.raises(InputError, match=message):
        resnet_kernel("tanh", np.eye(2), **kwargs)


@pytest.mark.parametrize("alpha,message", [("sqrt(2*s)", "only use the variable t"),
                                           ("x + t", "only use the variable t"),
                                           ("sqrt(2*t", "cannot parse"), ("__import__('os')", "cannot parse")])
def test_bad_schedule_expressions_raise_input_error(alpha, message):
    with pytest.raises(InputError, match=message):
        resnet_kernel_recursion("relu", np.eye(2), depth=4, alpha=alpha)


def test_schedule_expression_matches_the_same_schedule_as_a_function():
    """The recursion reads alpha(l t / L) at each layer: text and function give the same layers."""
    Q0 = np.array([[1.0, 0.4], [0.4, 1.5]])
    by_text = resnet_kernel_recursion("tanh", Q0, depth=12, alpha="1 + t**2/3", return_layers=True)
    by_function = resnet_kernel_recursion("tanh", Q0, depth=12, alpha=lambda s: 1 + s ** 2 / 3, return_layers=True)
    np.testing.assert_allclose(by_text, by_function, rtol=1e-15)


def test_bad_depth_and_activation_are_rejected():
    with pytest.raises(InputError, match="depth"):
        resnet_kernel_recursion("relu", np.eye(2), depth=0)
    with pytest.raises(ActivationError):
        kernel_map("no_such_function(x)", np.eye(2))
    with pytest.raises(InputError, match="free parameters"):
        kernel_map("x + beta*x**2", np.eye(2))


# ----------------------------------------------------------------------------- command line
def test_cli_prints_the_relu_kernel(tmp_path, capsys):
    inputs = np.random.default_rng(5).normal(size=(3, 4))
    path = tmp_path / "inputs.npy"
    np.save(path, inputs)
    assert main(["kernel", "relu", "--resnet", "--t", "1", "--inputs", str(path)]) == 0
    printed = np.loadtxt(capsys.readouterr().out.splitlines())
    Q0 = inputs @ inputs.T / 4
    np.testing.assert_allclose(np.diag(printed), np.diag(Q0) * np.exp(0.5), rtol=1e-7)


def test_cli_saves_the_kernel_with_a_schedule(tmp_path, capsys):
    inputs = np.random.default_rng(6).normal(size=(4, 3))
    np.save(tmp_path / "x.npy", inputs)
    out = tmp_path / "K.npy"
    assert main(["kernel", "relu", "--resnet", "--inputs", str(tmp_path / "x.npy"),
                 "--alpha", "sqrt(2*t)", "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    np.testing.assert_allclose(np.diag(np.load(out)), np.diag(inputs @ inputs.T / 3) * np.exp(0.5), rtol=1e-7)


@pytest.mark.parametrize("content", [b"not an array", None])
def test_cli_bad_inputs_file_exits_2_with_one_line(tmp_path, capsys, content):
    path = tmp_path / "bad.npy"
    if content is not None:
        path.write_bytes(content)
    assert main(["kernel", "relu", "--resnet", "--inputs", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.npy" in err
