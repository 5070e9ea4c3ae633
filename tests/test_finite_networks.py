"""Finite networks (SPEC §1–3): the simulators against independent mathematics.

Every reference here is computed in the test itself (quadrature, Wishart moments, closed-form
kernels), never by the code under test. Monte Carlo tolerances: means within 5 standard errors;
two-sample KS tests at significance 0.001.
"""
import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss
from scipy import integrate, special, stats

from conftest import KS_ALPHA, V0_TWO_INPUTS, V0_UNEQUAL
from covsde.derive import InputError, as_activation
from covsde.solvers.networks import finite_mlp
from covsde.solvers.networks import (compare, normalising_constant, simulate_deep_linear,
                                     simulate_mlp, simulate_resnet)

V0 = V0_UNEQUAL
RELU = as_activation("relu", c_plus=0, c_minus=-1)


# ---------------------------------------------------------------- independent references
def _shaped(name, n, a=1.0):
    """phi_s retyped from SPEC §1 (independent of derive's lambdified version)."""
    if name == "tanh":
        s = a * np.sqrt(n)
        return lambda x: s * np.tanh(x / s)
    if name == "quintic":                      # phi = x - x^5/5, critical exponent 1/4
        s = a * n ** 0.25
        return lambda x: x - x ** 5 / (5 * s ** 4)
    s_plus, s_minus = 1 + 0 / np.sqrt(n), 1 - 1 / np.sqrt(n)
    return lambda x: np.where(x > 0, s_plus * x, s_minus * x)


def _reference_c(phi_s):
    """c^{-1} = E[phi_s(w)^2] by adaptive quadrature on each half-line."""
    f = lambda w: phi_s(w) ** 2 * np.exp(-w * w / 2) / np.sqrt(2 * np.pi)
    return 1.0 / (integrate.quad(f, -np.inf, 0)[0] + integrate.quad(f, 0, np.inf)[0])


def _gaussian_expectation(g, V, nodes=120):
    """E[g(z_1, z_2)], z ~ N(0, V), on a tensor Gauss–Hermite grid (z = L u, L Cholesky)."""
    u, w = hermegauss(nodes)
    U1, U2 = np.meshgrid(u, u, indexing="ij")
    W = np.outer(w, w) / (2 * np.pi)
    L = np.linalg.cholesky(V)
    z1 = L[0, 0] * U1
    z2 = L[1, 0] * U1 + L[1, 1] * U2
    return float(np.sum(W * g(z1, z2)))


def _relu_kernel(Q):
    """ReLU F(Q)^{ab} = sqrt(Q^aa Q^bb)/(2 pi) (sqrt(1 - rho^2) + (pi - arccos rho) rho) (SPEC §2)."""
    d = np.sqrt(np.diag(Q))
    rho = np.clip(Q / np.outer(d, d), -1, 1)
    return np.outer(d, d) / (2 * np.pi) * (np.sqrt(1 - rho ** 2) + (np.pi - np.arccos(rho)) * rho)


def _ks_pvalues(x, y):
    return [stats.ks_2samp(a, b).pvalue for a, b in zip(x, y)]


def _mlp_quantities(V):
    return [V[:, 0, 0], V[:, 0, 1], V[:, 0, 1] / np.sqrt(V[:, 0, 0] * V[:, 1, 1])]


# ---------------------------------------------------------------- MLP: one layer
@pytest.mark.parametrize("name, activation, exponent, width", [
    ("tanh", "tanh", None, 4),
    ("relu", RELU, None, 4),
    ("quintic", "x - x**5/5", 0.25, 16),
])
def test_one_layer_mean_and_variance_match_quadrature(name, activation, exponent, width):
    phi_s = _shaped(name, width)
    c = _reference_c(phi_s)
    networks = 30000
    V1 = simulate_mlp(activation, V0=V0, width=width, depth=1, networks=networks, seed=11,
                      exponent=exponent, layers=[1]).V[:, 0]
    assert normalising_constant(activation, width, exponent=exponent) == pytest.approx(c, rel=1e-9)
    for a, b in [(0, 0), (0, 1), (1, 1)]:
        mean = c * _gaussian_expectation(lambda x, y: phi_s([x, y][a]) * phi_s([x, y][b]), V0)
        fourth = c ** 2 * _gaussian_expectation(
            lambda x, y: (phi_s([x, y][a]) * phi_s([x, y][b])) ** 2, V0)
        variance = (fourth - mean ** 2) / width
        sample = V1[:, a, b]
        assert abs(sample.mean() - mean) < 5 * np.sqrt(variance / networks)
        central4 = np.mean((sample - sample.mean()) ** 4)
        se_var = np.sqrt((central4 - sample.var() ** 2) / networks)
        assert abs(sample.var() - variance) < 5 * se_var


# ---------------------------------------------------------------- MLP: chain vs weights
@pytest.mark.parametrize("activation, width, X", [
    ("tanh", 24, None),
    (RELU, 16, np.array([[1.0, 0.5, -0.3, 0.2], [0.1, 0.9, 0.4, -0.6]])),
])
def test_covariance_chain_and_weight_matrices_agree_in_law(activation, width, X):
    depth, networks = width, 2000
    inputs = dict(X=X) if X is not None else dict(V0=V0)
    layers = [1, depth // 2, depth]
    chain = simulate_mlp(activation, **inputs, width=width, depth=depth, networks=networks, seed=1,
                         layers=layers)
    weights = simulate_mlp(activation, **inputs, width=width, depth=depth, networks=networks,
                           seed=2, method="weights", layers=layers)
    for position in range(len(layers)):
        p = _ks_pvalues(_mlp_quantities(chain.V[:, position]), _mlp_quantities(weights.V[:, position]))
        assert min(p) > KS_ALPHA, (layers[position], p)


@pytest.mark.slow
def test_chain_and_weights_agree_at_spec_scale():
    """SPEC §1's check: tanh, n = d = 32, 12,000 networks each way, KS on V^11, V^12, rho."""
    kw = dict(V0=V0_TWO_INPUTS, width=32, depth=32, networks=12000, layers=[-1])
    chain = simulate_mlp("tanh", seed=21, **kw).final
    weights = simulate_mlp("tanh", seed=22, method="weights", **kw).final
    p = _ks_pvalues(_mlp_quantities(chain), _mlp_quantities(weights))
    assert min(p) > KS_ALPHA, p


def test_chain_vs_weights_test_detects_a_five_percent_error_in_c(monkeypatch):
    """Power check: the same KS comparison rejects when the chain uses 1.05 c."""
    weights = simulate_mlp("tanh", V0=V0, width=24, depth=24, networks=2000, seed=2, method="weights")
    true_c = finite_mlp.normalising_constant
    monkeypatch.setattr(finite_mlp, "normalising_constant", lambda *a, **k: 1.05 * true_c(*a, **k))
    wrong = simulate_mlp("tanh", V0=V0, width=24, depth=24, networks=2000, seed=1)
    p = _ks_pvalues(_mlp_quantities(wrong.final), _mlp_quantities(weights.final))
    assert p[0] < KS_ALPHA


def test_linear_activation_covariance_mean_is_conserved():
    """phi = x, c = 1: E[V_l] = V_0 at every layer (a martingale), within 5 standard errors."""
    samples = simulate_mlp("linear", V0=V0, width=8, depth=8, networks=4000, seed=5)
    assert samples.c == pytest.approx(1.0)
    mean = samples.V.mean(axis=0)
    se = samples.V.std(axis=0) / np.sqrt(samples.networks)
    assert np.all(np.abs(mean - V0) <= 5 * se + 1e-12)


@pytest.mark.parametrize("method", ["chain", "weights"])
def test_equal_inputs_stay_equal(method):
    """Two equal inputs (singular V0) give equal hidden units: rho = 1 at every layer."""
    X = np.array([[0.7, -1.1, 0.4], [0.7, -1.1, 0.4]])
    V = simulate_mlp("tanh", X, width=8, depth=6, networks=20, seed=9, method=method).V
    rho = V[..., 0, 1] / np.sqrt(V[..., 0, 0] * V[..., 1, 1])
    assert np.allclose(rho, 1.0, atol=1e-10)


def test_overflowing_networks_are_marked_not_fatal():
    """sinh has k = 1 > 0 (SPEC §1): at small width some networks overflow; they hold NaN from
    then on and the others stay finite and positive definite."""
    V = simulate_mlp("sinh", V0=V0, width=4, depth=40, networks=200, seed=1).V
    exploded = np.isnan(V).any(axis=(2, 3))
    assert 0 < exploded[:, -1].sum() < 200
    assert np.all(exploded[:, 1:] >= exploded[:, :-1])        # once NaN, NaN for good
    healthy = V[~exploded[:, -1], -1]
    assert np.all(np.linalg.eigvalsh(healthy) > 0)


# ---------------------------------------------------------------- deep linear networks
def test_deep_linear_output_fourth_moments_match_finite_size_formulas():
    """E f^4 = 3 K^2 (1+2/N)^{L+1}; E[f_a^2 f_b^2] = (1+2/N)^{L+1}(K_aa K_bb + 2 K_ab^2);
    two outputs of one input: E[f_1^2 f_2^2] = K_aa^2 (1+2/N)^{L+1} (SPEC §3)."""
    N, L, networks = 64, 8, 20000
    K = V0
    samples = simulate_deep_linear(K=K, width=N, depth=L, outputs=2, networks=networks, seed=3)
    f = samples.outputs
    growth = (1 + 2 / N) ** (L + 1)
    checks = [
        (f[:, 0, 0] ** 4, 3 * K[0, 0] ** 2 * growth),
        (f[:, 0, 0] ** 2 * f[:, 1, 0] ** 2, growth * (K[0, 0] * K[1, 1] + 2 * K[0, 1] ** 2)),
        (f[:, 0, 0] ** 2 * f[:, 0, 1] ** 2, growth * K[0, 0] ** 2),
        (f[:, 0, 0] ** 2, K[0, 0]),
    ]
    for sample, exact in checks:
        assert abs(sample.mean() - exact) < 5 * sample.std() / np.sqrt(networks), (sample.mean(), exact)
    kurtosis = np.mean(f[:, 0, 0] ** 4) / np.mean(f[:, 0, 0] ** 2) ** 2
    assert kurtosis == pytest.approx(3 * growth, rel=0.08)


def test_deep_linear_log_norm_is_a_sum_of_log_chi_squares():
    """log(V_L^11 / K^11) = sum of L+1 iid log(chi2_N / N): mean (L+1)(psi(N/2) - log(N/2)),
    variance (L+1) psi'(N/2) — at alpha = 0.5 this is SPEC §3's -0.5 / 1.0 up to O(1/N)."""
    N, L, networks = 16, 8, 20000
    samples = simulate_deep_linear(K=V0, width=N, depth=L, networks=networks, seed=4)
    x = np.log(samples.V[:, 0, 0] / V0[0, 0])
    mean = (L + 1) * (special.digamma(N / 2) - np.log(N / 2))
    var = (L + 1) * special.polygamma(1, N / 2)
    assert abs(x.mean() - mean) < 5 * np.sqrt(var / networks)
    se_var = var * np.sqrt(2 / (networks - 1)) * 1.2        # near-Gaussian, 20 % allowance for tails
    assert abs(x.var() - var) < 5 * se_var


def test_deep_linear_chain_and_weights_agree_in_law():
    X = np.array([[1.0, 0.2, -0.5], [0.3, -0.8, 0.1]])
    kw = dict(width=16, depth=8, outputs=2, networks=2000)
    chain = simulate_deep_linear(X, seed=1, **kw)
    weights = simulate_deep_linear(X, seed=2, method="weights", **kw)
    for x, y in [(chain.outputs[:, 0, 1], weights.outputs[:, 0, 1]),
                 (chain.outputs[:, 1, 0], weights.outputs[:, 1, 0]),
                 (chain.V[:, 0, 1], weights.V[:, 0, 1]), (chain.V[:, 1, 1], weights.V[:, 1, 1])]:
        assert stats.ks_2samp(x, y).pvalue > KS_ALPHA


# ---------------------------------------------------------------- ResNets
def test_resnet_kernel_approaches_infinite_width_recursion():
    """q_l = q_{l-1} + alpha^2 F(q_{l-1}) with the closed-form ReLU F (SPEC §2).

    The mean of q_L over networks matches the recursion within 5 standard errors plus 2/n
    (Jensen bias of a nonlinear F applied to O(1/sqrt(n)) fluctuations is O(1/n)); the typical
    deviation of one network from the recursion shrinks like n^{-1/2} (ratio sqrt(8) from n = 64
    to n = 512, accepted within a factor 1.3).
    """
    Q0, L = np.array([[1.0, 0.3], [0.3, 1.5]]), 16
    q = Q0.copy()
    for _ in range(L):
        q = q + _relu_kernel(q) / L
    rms = {}
    for n, networks in [(64, 400), (512, 400)]:
        final = simulate_resnet("relu", Q0=Q0, width=n, depth=L, networks=networks, seed=n).final
        se = final.std(axis=0) / np.sqrt(networks)
        assert np.all(np.abs(final.mean(axis=0) - q) < 5 * se + 2 / n * np.abs(q))
        rms[n] = np.sqrt(np.mean((final - q) ** 2))
    assert np.sqrt(8) / 1.3 < rms[64] / rms[512] < np.sqrt(8) * 1.3


def test_resnet_chain_and_weights_agree_in_law():
    X = np.array([[1.0, 0.5, -0.3, 0.2], [0.1, 0.9, 0.4, -0.6]])
    for activation in ("relu", "tanh"):
        kw = dict(width=16, depth=8, networks=2000, alpha=lambda l, L: (l / L) / np.sqrt(L))
        chain = simulate_resnet(activation, X, seed=1, **kw).final
        weights = simulate_resnet(activation, X, seed=2, method="weights", **kw).final
        p = _ks_pvalues(_mlp_quantities(chain), _mlp_quantities(weights))
        assert min(p) > KS_ALPHA, (activation, p)


# ---------------------------------------------------------------- comparison
def test_compare_reports_known_distances():
    """log V^11 ~ N(0,1) vs N(0.5,1): W1 = 0.5, KS = 2 Phi(0.25) - 1; rho identical in law."""
    rng = np.random.default_rng(0)
    N = 20000

    def sample(shift):
        d1 = np.exp(rng.standard_normal(N) + shift)
        d2 = np.exp(rng.standard_normal(N))
        rho = np.tanh(rng.standard_normal(N))
        off = rho * np.sqrt(d1 * d2)
        return np.stack([np.stack([d1, off], -1), np.stack([off, d2], -1)], -2)

    result = compare(sample(0.0), sample(0.5))
    assert result.names == ["rho^12", "log V^11", "log V^22"]
    assert result["log V^11"].wasserstein == pytest.approx(0.5, abs=0.05)
    assert result["log V^11"].ks_statistic == pytest.approx(2 * stats.norm.cdf(0.25) - 1, abs=0.03)
    assert result["rho^12"].ks_pvalue > KS_ALPHA and result["log V^22"].ks_pvalue > KS_ALPHA
    assert result["rho^12"].n_a == N and "log V^11" in str(result)


# ---------------------------------------------------------------- seeds and chunks
@pytest.mark.parametrize("simulate, kwargs", [
    (simulate_mlp, dict(activation="tanh", V0=V0, width=8, depth=5)),
    (simulate_mlp, dict(activation="tanh", V0=V0, width=8, depth=5, method="weights")),
    (simulate_resnet, dict(activation="relu", Q0=V0, width=8, depth=5)),
    (simulate_deep_linear, dict(K=V0, width=8, depth=5, outputs=2)),
])
def test_same_seed_same_numbers_whatever_the_chunk(simulate, kwargs):
    field = {simulate_mlp: "V", simulate_resnet: "q", simulate_deep_linear: "outputs"}[simulate]
    runs = [getattr(simulate(**kwargs, networks=13, seed=7, chunk=chunk), field) for chunk in (1, 4, None)]
    assert np.array_equal(runs[0], runs[1]) and np.array_equal(runs[0], runs[2])
    from_generator = getattr(simulate(**kwargs, networks=13, seed=np.random.default_rng(3)), field)
    again = getattr(simulate(**kwargs, networks=13, seed=np.random.default_rng(3)), field)
    assert np.array_equal(from_generator, again)
    other = getattr(simulate(**kwargs, networks=13, seed=8), field)
    assert not np.array_equal(runs[0], other)


def test_recorded_layers_are_the_requested_ones():
    full = simulate_mlp("tanh", V0=V0, width=8, depth=6, networks=5, seed=1)
    some = simulate_mlp("tanh", V0=V0, width=8, depth=6, networks=5, seed=1, layers=[0, 3, -1])
    assert np.array_equal(some.V, full.V[:, [0, 3, 6]])
    assert np.allclose(full.V[:, 0], V0) and np.allclose(full.times, np.arange(7) / 8)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs", [
    dict(V0=[[1.0, 0.5], [0.4, 1.0]]),                   # not symmetric
    dict(V0=[[1.0, 2.0], [2.0, 1.0]]),                   # not PSD
    dict(V0=V0, width=0),
    dict(V0=V0, depth=-1),
    dict(V0=V0, networks=0),
    dict(V0=V0, X=np.ones((2, 3))),                       # both inputs
    dict(),                                               # neither
    dict(V0=V0, method="exact"),
    dict(V0=V0, convention="other"),
    dict(V0=V0, layers=[7]),
    dict(V0=V0, chunk=0),
    dict(V0=V0, seed=-1),
])
def test_bad_mlp_input_raises_input_error(kwargs):
    args = dict(width=4, depth=3, networks=2)
    args.update(kwargs)
    with pytest.raises(InputError):
        simulate_mlp("tanh", **args)


def test_bad_resnet_linear_and_compare_input_raise_input_error():
    with pytest.raises(InputError):
        simulate_resnet("relu", Q0=V0, width=4, depth=3, alpha=[0.1, 0.2], networks=2)
    with pytest.raises(InputError):
        simulate_resnet("relu", np.ones((2, 3, 1)), width=4, depth=3, networks=2)
    with pytest.raises(InputError):
        simulate_deep_linear(K=V0, width=4, depth=3, outputs=0, networks=2)
    with pytest.raises(InputError):
        compare(np.ones((5, 2, 2)), np.ones((5, 3, 3)))
    with pytest.raises(InputError):
        compare(np.ones((5, 2, 2)), np.ones((5, 2, 2)), quantities=("kurtosis",))
