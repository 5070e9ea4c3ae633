"""Mathematical checks of the covariance-SDE solvers (SPEC §1, §4).

Every reference here is independent of the code under test: the exact geometric Brownian motion of
the linear activation, the exact second moments of the zero-drift SDE (a linear ODE solved by
expm), the exact path-wise solution of the one-input norm SDE through Y = 1/V (a linear SDE), the
closed-form log-normal law of the ReLU-like diagonal, and the logistic solution of the mean ODE.
Tolerances are set from the sample size (5 standard errors) or a KS critical value at alpha = 0.001.
"""
import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from conftest import KS_ALPHA
from covsde.derive import InputError, derive_sde
from covsde.solvers.sde.driver import simulate_sde
from covsde.solvers.sde.mean_ode import solve_mean_ode
from covsde.solvers.sde.schemes import get_scheme
from covsde.solvers.sde.symmetric_noise import covariance_noise, project_psd, psd_factor


def slope(dts, errors):
    return np.polyfit(np.log(dts), np.log(errors), 1)[0]


def run_scheme(scheme, sde, V0, dG, coarsen):
    """Step ``scheme`` driven by the Brownian increments dG (steps_fine, paths, m, m), summed in
    groups of ``coarsen`` fine steps: the same Brownian path at a coarser step."""
    n_fine = dG.shape[0]
    dG = dG.reshape((n_fine // coarsen, coarsen) + dG.shape[1:]).sum(axis=1)
    dt = T_STRONG / dG.shape[0]
    V = np.array(np.broadcast_to(V0, dG.shape[1:]))
    for inc in dG:
        V, _ = scheme.step(V, sde.drift, dt, scheme.normals_from_brownian(inc, dt))
    return V


T_STRONG = 0.5


# ----------------------------------------------------------------- the exact noise
def test_symmetric_noise_has_covariance_sigma_dt():
    """dM = L S Lᵀ has E[dM^{ab} dM^{cd}] = (V^{ac}V^{bd} + V^{ad}V^{bc}) dt (SPEC §1), m = 3."""
    rng = np.random.default_rng(1)
    V = np.array([[1.0, 0.4, -0.2], [0.4, 0.8, 0.1], [-0.2, 0.1, 1.5]])
    n, dt = 400_000, 0.01
    dM, failed = covariance_noise(np.broadcast_to(V, (n, 3, 3)), rng.standard_normal((n, 6)), dt)
    assert not failed.any()
    assert np.array_equal(dM, np.swapaxes(dM, -1, -2))
    flat = dM.reshape(n, 9)
    emp = flat.T @ flat / n
    exact = (np.einsum("ac,bd->abcd", V, V) + np.einsum("ad,bc->abcd", V, V)).reshape(9, 9) * dt
    se = np.sqrt((np.einsum("ni,nj->ij", flat**2, flat**2) / n - emp**2) / n)
    assert np.all(np.abs(emp - exact) <= 5 * se + 1e-15)
    assert np.all(np.abs(flat.mean(0)) <= 5 * np.sqrt(np.diag(exact) / n))


def test_psd_factor_handles_singular_and_projects_non_psd():
    v = np.array([1.0, 2.0, -1.0])
    singular = np.outer(v, v)                           # rank 1
    L, failed = psd_factor(np.stack([singular, singular]))
    assert not failed.any()
    np.testing.assert_allclose(L[0] @ L[0].T, singular, atol=1e-12)
    bad = np.array([[1.0, 1.2], [1.2, 1.0]])            # eigenvalues 2.2, -0.2
    L, failed = psd_factor(bad[None])
    assert failed.all()
    w, Q = np.linalg.eigh(bad)
    clipped = Q @ np.diag(np.clip(w, 0, None)) @ Q.T
    np.testing.assert_allclose(L[0] @ L[0].T, clipped, atol=1e-12)
    np.testing.assert_allclose(project_psd(bad[None])[0], clipped, atol=1e-12)
    zero = np.zeros((1, 2, 2))
    L, failed = psd_factor(zero)
    assert not failed.any() and np.all(L == 0)


# ----------------------------------------------------------------- linear activation, m = 1
def test_euler_weak_order_one_and_strong_order_half_on_linear_gbm(linear):
    """Zero drift, m = 1: V_T = V0 exp(sqrt2 W_T − T) exactly (SPEC §4).  Euler driven by the same
    Brownian path: strong error E|V^h − V| ~ h^{1/2}, weak error E[V² − (V^h)²] ~ h.

    The weak error is estimated on coupled paths with the control variate C = V² Σ_i (ΔW_i² − h),
    whose mean 8 T e^{2T} h follows from Girsanov (under V², W has drift 2 sqrt2); it cuts the
    standard error about 5×, so the O(h) bias is resolved at every step size."""
    rng = np.random.default_rng(2)
    paths, n_fine = 100_000, 64
    dG = rng.standard_normal((n_fine, paths, 1, 1)) * np.sqrt(T_STRONG / n_fine)
    V_exact = np.exp(np.sqrt(2.0) * dG.sum(axis=0)[:, 0, 0] - T_STRONG)
    coarsen = [8, 4, 2, 1]
    dts = np.array([T_STRONG * c / n_fine for c in coarsen])
    strong, weak, weak_se = [], [], []
    for c, h in zip(coarsen, dts):
        V = run_scheme(get_scheme("euler"), linear, np.ones((1, 1)), dG, c)[:, 0, 0]
        strong.append(np.mean(np.abs(V - V_exact)))
        D = V_exact**2 - V**2
        dW = dG[:, :, 0, 0].reshape(n_fine // c, c, paths).sum(axis=1)
        C = V_exact**2 * (np.sum(dW**2, axis=0) - T_STRONG)
        beta = np.cov(D, C)[0, 1] / np.var(C)
        estimate = D - beta * (C - 8 * T_STRONG * np.exp(2 * T_STRONG) * h)
        weak.append(np.mean(estimate))
        weak_se.append(np.std(estimate) / np.sqrt(paths))
    assert np.all(np.array(weak) > 5 * np.array(weak_se))      # the bias is resolved
    assert abs(slope(dts, strong) - get_scheme("euler").strong_order) < 0.1
    assert abs(slope(dts, weak) - get_scheme("euler").weak_order) < 0.15


def test_lie_scheme_is_exact_for_linear_activation_m1(linear):
    """For m = 1 the Lie step is V exp(sqrt2 ΔW − Δt): the exact GBM transition, at any step."""
    rng = np.random.default_rng(3)
    dG = rng.standard_normal((16, 1000, 1, 1)) * np.sqrt(T_STRONG / 16)
    V_exact = 0.7 * np.exp(np.sqrt(2.0) * dG.sum(axis=0)[:, 0, 0] - T_STRONG)
    for c in (1, 4, 16):
        V = run_scheme(get_scheme("lie"), linear, 0.7 * np.ones((1, 1)), dG, c)[:, 0, 0]
        np.testing.assert_allclose(V, V_exact, rtol=1e-12)


# ----------------------------------------------------------------- norm SDE with drift, m = 1
def exact_norm_solution(k, V0, dW_fine, T):
    """V_T of dV = k V(V−1) dt + sqrt2 V dW on a fine Brownian path, from Y = 1/V:
    dY = ((k+2)Y − k) dt − sqrt2 Y dW, so Y_T = Φ_T (Y_0 − k ∫_0^T Φ_s^{-1} ds),
    Φ_t = exp((k+1)t − sqrt2 W_t); the integral by the trapezoid rule on the fine grid."""
    n = dW_fine.shape[0]
    h = T / n
    W = np.concatenate([np.zeros((1,) + dW_fine.shape[1:]), np.cumsum(dW_fine, axis=0)])
    t = np.arange(n + 1)[:, None] * h
    inv_phi = np.exp(-(k + 1) * t + np.sqrt(2.0) * W)
    integral = h * (inv_phi[1:-1].sum(axis=0) + 0.5 * (inv_phi[0] + inv_phi[-1]))
    Y = (1.0 / V0 - k * integral) / inv_phi[-1]
    return 1.0 / Y


def test_lie_scheme_strong_order_one_on_tanh_norm_sde(tanh):
    """tanh, m = 1: dV = −2V(V−1) dt + sqrt2 V dW (k = −2, SPEC §1).  Against the exact path-wise
    solution (trapezoid on 2^12 fine steps, error ~1e−4): the Lie scheme converges with strong order 1
    (commutative noise), Euler with strong order 1/2."""
    rng = np.random.default_rng(4)
    paths, n_fine, V0 = 2000, 4096, 0.6
    dW = rng.standard_normal((n_fine, paths)) * np.sqrt(T_STRONG / n_fine)
    V_exact = exact_norm_solution(-2.0, V0, dW, T_STRONG)
    coarse = dW.reshape(256, 16, paths).sum(axis=1)[:, :, None, None]   # 256 steps
    coarsen = [32, 16, 8, 4]
    dts = np.array([T_STRONG * c / 256 for c in coarsen])
    errors = {"lie": [], "euler": []}
    for name in errors:
        for c in coarsen:
            V = run_scheme(get_scheme(name), tanh, V0 * np.ones((1, 1)), coarse, c)[:, 0, 0]
            errors[name].append(np.mean(np.abs(V - V_exact)))
    assert abs(slope(dts, errors["lie"]) - 1.0) < 0.2      # m = 1: commutative noise, order 1
    # measured 0.62: the drift adds an O(h) part that is not negligible at h = 1/16
    assert abs(slope(dts, errors["euler"]) - get_scheme("euler").strong_order) < 0.2
    assert errors["lie"][-1] < errors["euler"][-1]


# ----------------------------------------------------------------- linear activation, m = 2
def second_moment_generator(m):
    """A with d/dt E[V^{ab}V^{cd}] = E[V^{ac}V^{bd} + V^{ad}V^{bc}] = (A vec E[V⊗V])_{abcd}
    (Itô for the zero-drift SDE: d(V⊗V) = dV⊗V + V⊗dV + Σ(V) dt, E[dV] = 0)."""
    n = m**4
    A = np.zeros((n, n))
    idx = np.arange(n).reshape(m, m, m, m)
    for a in range(m):
        for b in range(m):
            for c in range(m):
                for d in range(m):
                    A[idx[a, b, c, d], idx[a, c, b, d]] += 1
                    A[idx[a, b, c, d], idx[a, d, b, c]] += 1
    return A


@pytest.mark.parametrize("scheme", ["euler", "lie"])
def test_zero_drift_m2_mean_and_exact_second_moments(linear, scheme):
    """E[V_T] = V0 and E[V_T⊗V_T] = expm(T A) V0⊗V0 for the linear activation, m = 2.
    Euler's bias is known exactly: its moments follow (I + dt A)^N; it is added to 5 SE."""
    V0 = np.array([[1.0, 0.3], [0.3, 0.7]])
    T, steps, paths = 0.5, 100, 40_000
    res = simulate_sde(linear, V0, T, steps=steps, paths=paths, seed=5, scheme=scheme)
    V = res.V
    assert res.fraction_exploded == 0 and res.projections == 0
    mean_se = V.std(axis=0) / np.sqrt(paths)
    assert np.all(np.abs(V.mean(axis=0) - V0) <= 5 * mean_se)
    A = second_moment_generator(2)
    M0 = np.einsum("ab,cd->abcd", V0, V0).ravel()
    exact = scipy.linalg.expm(T * A) @ M0
    euler = np.linalg.matrix_power(np.eye(16) + (T / steps) * A, steps) @ M0
    bias = np.abs(euler - exact)
    prod = np.einsum("nab,ncd->nabcd", V, V).reshape(paths, 16)
    se = prod.std(axis=0) / np.sqrt(paths)
    assert np.all(np.abs(prod.mean(axis=0) - exact) <= 5 * se + bias)
    if scheme == "euler":      # Euler reproduces its own exact recursion: no bias allowance
        assert np.all(np.abs(prod.mean(axis=0) - euler) <= 5 * se)


# ----------------------------------------------------------------- ReLU-like diagonal
def test_relu_like_diagonal_is_lognormal():
    """ReLU-like (c+ = 0, c− = −1): log V_T^{aa} ~ N(log V0^{aa} − T, 2T) exactly (SPEC §1).
    KS at alpha = 0.001 with 20,000 paths: critical distance 1.95/sqrt(n) = 0.0138.  Euler's bias:
    the diagonal is Euler for a GBM, E[log(1 + sqrt(2dt) z)] = −dt − 3dt² + ..., a mean shift of
    ≈ 3 dt T = 3e−3 and a variance change of O(dt); the KS distance it causes is below
    3e−3/sqrt(2π·2T) ≈ 1e−3, an order of magnitude under the resolution."""
    sde = derive_sde("relu", c_plus=0, c_minus=-1)
    V0 = np.array([[1.3, 0.4], [0.4, 0.8]])
    T, paths = 1.0, 20_000
    res = simulate_sde(sde, V0, T, steps=1000, paths=paths, seed=6)
    assert res.fraction_exploded == 0
    for a in range(2):
        logv = np.log(res.V[:, a, a])
        law = scipy.stats.norm(np.log(V0[a, a]) - T, np.sqrt(2 * T))
        assert scipy.stats.kstest(logv, law.cdf).pvalue > KS_ALPHA


# ----------------------------------------------------------------- explosions
@pytest.mark.slow
def test_matrix_driver_explosion_fraction_matches_gammainc():
    """sinh (k = 1, normalized), m = 1 through the matrix driver: P(explosion) = gammainc(2, V0)
    (SPEC §1).  V0 = 1: 0.2642.  T = 6: survivors drift to 0 (log V at rate −(k+1) = −2), the
    probability still to explode after T is below 1e−3; Euler at dt = 2e−3 biases the fraction by
    a few 1e−3 (measured: halving dt moves it by < 0.005), added to 5 SE."""
    sde = derive_sde("sinh", a=1, convention="normalized")
    paths = 8192
    res = simulate_sde(sde, np.ones((1, 1)), 6.0, steps=3000, paths=paths, seed=7,
                       explosion_threshold=1e6)
    p = scipy.special.gammainc(2.0, 1.0)
    se = np.sqrt(p * (1 - p) / paths)
    assert abs(res.fraction_exploded - p) < 5 * se + 0.01
    assert np.all(np.isfinite(res.V[~res.exploded]))
    assert np.all(res.V[res.exploded, 0, 0] > 1e6)
    assert np.all(np.isinf(res.explosion_time[~res.exploded]))
    assert np.all(res.explosion_time[res.exploded] <= 6.0)


# ----------------------------------------------------------------- reproducibility
def test_same_seed_same_numbers_across_workers_and_chunks(tanh):
    V0 = np.array([[1.0, 0.3], [0.3, 1.0]])
    kw = dict(steps=20, paths=10_000, seed=11, save_at=[0.0, 0.5, 1.0])
    a = simulate_sde(tanh, V0, 1.0, workers=1, chunk=4096, **kw)
    b = simulate_sde(tanh, V0, 1.0, workers=2, chunk=4096, **kw)
    c = simulate_sde(tanh, V0, 1.0, workers=1, chunk=16384, **kw)
    for r in (b, c):
        assert np.array_equal(a.V, r.V)
        assert np.array_equal(a.saved, r.saved)
    np.testing.assert_array_equal(a.saved[:, 0], np.broadcast_to(V0, (10_000, 2, 2)))
    np.testing.assert_array_equal(a.saved[:, 2], a.V)
    d = simulate_sde(tanh, V0, 1.0, **{**kw, "seed": 12})
    assert not np.array_equal(a.V, d.V)


def test_exploded_paths_reproducible_and_frozen():
    sde = derive_sde("sinh", a=1, convention="normalized")
    kw = dict(steps=200, paths=5000, seed=3, explosion_threshold=1e3)
    a = simulate_sde(sde, 2.0 * np.eye(2), 2.0, workers=1, chunk=4096, **kw)
    b = simulate_sde(sde, 2.0 * np.eye(2), 2.0, workers=2, chunk=4096, **kw)
    assert 0 < a.fraction_exploded < 1
    assert np.array_equal(a.V, b.V) and np.array_equal(a.explosion_time, b.explosion_time)
    assert np.all(np.trace(a.V[a.exploded], axis1=1, axis2=2) > 1e3)
    live = a.V[~a.exploded]
    assert np.all(np.linalg.eigvalsh(live)[:, 0] >= -1e-12 * np.abs(live).max())


# ----------------------------------------------------------------- mean ODE
def test_mean_ode_tanh_is_logistic(tanh):
    """tanh, m = 1: dV/dt = k V(V−1), k = −2, so 1/V − 1 = (1/V0 − 1) e^{kt} (SPEC §1)."""
    t = np.linspace(0.0, 3.0, 7)
    for V0 in (0.2, 1.7):
        res = solve_mean_ode(tanh, V0, 3.0, save_at=t)
        assert res.success
        exact = 1.0 / (1.0 + (1.0 / V0 - 1.0) * np.exp(-2.0 * t))
        np.testing.assert_allclose(res.saved[:, 0, 0], exact, rtol=1e-8, atol=1e-10)


def test_mean_ode_reports_finite_time_blow_up():
    """sinh (k = 1): dV/dt = V(V−1) from V0 = 2 blows up at t = log(V0/(V0−1)) = log 2."""
    res = solve_mean_ode(derive_sde("sinh"), 2.0, 5.0)
    assert not res.success
    assert "blows up" in res.message
    assert abs(float(res.message.split("t = ")[1].split()[0]) - np.log(2.0)) < 1e-3


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs", [
    dict(V0=[[1.0, 0.5], [0.4, 1.0]]),          # not symmetric
    dict(V0=[[1.0, 2.0], [2.0, 1.0]]),          # not PSD
    dict(V0=np.ones((3, 2, 2))),                # 3 matrices for 10 paths
    dict(V0=np.ones((2, 3))),                   # not square
    dict(T=0.0), dict(T=-1.0), dict(paths=0), dict(steps=0), dict(steps=2.5),
    dict(scheme="rk4"), dict(workers=0), dict(save_at=[2.0]),
])
def test_bad_input_raises_input_error(tanh, kwargs):
    args = dict(V0=np.eye(2), T=1.0, steps=10, paths=10)
    args.update(kwargs)
    V0, T = args.pop("V0"), args.pop("T")
    with pytest.raises(InputError):
        simulate_sde(tanh, V0, T, **args)


def test_mean_ode_bad_input(tanh):
    with pytest.raises(InputError):
        solve_mean_ode(tanh, [[1.0, 2.0], [2.0, 1.0]], 1.0)
    with pytest.raises(InputError):
        solve_mean_ode(tanh, np.eye(2), 0.0)


def test_counts_and_times_are_checked_alike_by_every_solver(tanh):
    """One validation (covsde.solvers.input_validation) for the SDE, scalar, Richardson and
    finite-network solvers: an integral float counts as an integer, 2.5, True or "3" do not."""
    from covsde.solvers import richardson_expectation, simulate_mlp, simulate_norm
    from covsde.solvers.input_validation import count, positive_time
    assert count(1e3, "paths") == 1000 and count(np.int64(3), "steps") == 3 and count(0, "depth", 0) == 0
    for bad in (2.5, True, "3", 0, float("nan")):
        with pytest.raises(InputError, match="paths must be a positive integer"):
            count(bad, "paths")
    for bad in (0.0, -1.0, float("inf"), float("nan"), "soon"):
        with pytest.raises(InputError, match="T must be a positive time"):
            positive_time(bad)
    same = simulate_sde(tanh, np.eye(2), 0.5, steps=4.0, paths=20.0, seed=1).V
    assert np.array_equal(same, simulate_sde(tanh, np.eye(2), 0.5, steps=4, paths=20, seed=1).V)
    calls = [lambda: simulate_norm(tanh, 1.0, 1.0, steps=2.5, paths=10),
             lambda: richardson_expectation(tanh, np.eye(2), 1.0, lambda V: V[:, 0, 0], steps=[2], paths=2.5),
             lambda: simulate_mlp("tanh", V0=np.eye(2), width=2.5, depth=2, networks=3),
             lambda: solve_mean_ode(tanh, np.eye(2), "soon")]
    for call in calls:
        with pytest.raises(InputError):
            call()


def test_correlation_is_v12_over_the_root_of_v11_v22():
    """rho^{ab} = V^{ab}/sqrt(V^{aa} V^{bb}): exactly 1 on the diagonal, in [−1, 1] for PSD V,
    the closed form for a 2×2 matrix, and nan (no warning) where a variance is 0."""
    from covsde.solvers import correlation
    rng = np.random.default_rng(2)
    G = rng.standard_normal((500, 3, 4))
    V = G @ np.swapaxes(G, -1, -2)
    rho = correlation(V)
    assert np.array_equal(np.diagonal(rho, axis1=-2, axis2=-1), np.ones((500, 3)))
    assert np.all(np.abs(rho) <= 1.0) and np.array_equal(rho, np.swapaxes(rho, -1, -2))
    assert correlation(np.array([[4.0, 3.0], [3.0, 9.0]]))[0, 1] == 0.5
    with np.errstate(all="raise"):
        singular = correlation(np.array([[0.0, 0.0], [0.0, 1.0]]))
    assert np.isnan(singular[0, 1]) and singular[1, 1] == 1.0
