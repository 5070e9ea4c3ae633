"""The simplified weak Euler scheme (Rademacher increments) and the compiled (numba) backend.

Rademacher signs ±1 share the first three moments of N(0, 1), so Euler driven by them keeps weak
order 1 (Kloeden & Platen 1992, §14.1).  Checked against independent references: the exact law of
the zero-drift m = 1 SDE (geometric Brownian motion, E log V_T = log V0 − T, E V_T = V0), Gaussian
Euler's law at fine dt (two-sample KS at alpha = 0.001), and the exact explosion probability
gammainc(2, V0) of normalized sinh (SPEC §1).  The numba backend must reproduce the NumPy
reference for the same seed up to rounding, for both noises, m = 1 and 2, with explosions and
PSD repairs.
"""
import numpy as np
import pytest
import scipy.special
import scipy.stats

from conftest import KS_ALPHA, V0_TWO_INPUTS
from covsde.derive import InputError, derive_sde
from covsde.solvers.sde.compiled import generated_drift
from covsde.solvers.sde.driver import simulate_sde


def test_rademacher_euler_has_weak_order_one_on_linear_gbm():
    """Zero drift, m = 1: V_T = V0 exp(sqrt2 W_T − T), so E log V_T = log V0 − T and E V_T = V0.
    With ±1 increments log V_N = Σ log(1 ± sqrt(2dt)), whose mean is exactly
    log V0 + (T/2dt) log(1 − 2dt) = log V0 − T − T dt − (4/3) T dt² − ...: weak order 1.
    Checked at dt = 1/8 … 1/64 with 10^6 paths (SE of the mean of log V ≈ 0.0014, bias ≥ 0.016):
    each mean equals the scheme's exact mean to 5 SE, E V_T = V0 to 5 SE, and the measured slope
    of |E log V_N − E log V_T| against dt is 1 ± 0.3 (its expected value over this range is 1.08,
    raised by the dt² term; the rest of the tolerance is the Monte Carlo error of the finest bias)."""
    linear = derive_sde("x")
    T, V0, paths = 1.0, 0.8, 1_000_000
    steps = np.array([8, 16, 32, 64])
    bias = []
    for n in steps:
        dt = T / n
        res = simulate_sde(linear, [[V0]], T, steps=int(n), paths=paths, seed=int(n), noise="rademacher")
        V = res.V[:, 0, 0]
        assert res.projections == 0 and np.all(V > 0)
        assert abs(V.mean() - V0) < 5 * V.std() / np.sqrt(paths)
        logv = np.log(V)
        se = logv.std() / np.sqrt(paths)
        assert abs(logv.mean() - (np.log(V0) + T / (2 * dt) * np.log1p(-2 * dt))) < 5 * se
        error = logv.mean() - (np.log(V0) - T)
        assert abs(error) > 5 * se                                     # the bias is resolved
        bias.append(abs(error))
    order = np.polyfit(np.log(T / steps), np.log(bias), 1)[0]
    assert abs(order - 1.0) < 0.3


def test_rademacher_and_gaussian_euler_agree_in_law_for_tanh_m2(tanh):
    """tanh, m = 2, T = 1, dt = 2e−3: both schemes are weak order 1, so their laws of ρ_T and
    log V11_T differ by O(dt) ≈ 1e−3 in CDF, far below the two-sample KS resolution at
    alpha = 0.001 with 20,000 paths each (critical distance 1.95 sqrt(2/20000) = 0.0195)."""
    kw = dict(steps=500, paths=20_000)
    gauss = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, seed=21, **kw)
    signs = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, seed=22, noise="rademacher", **kw)
    assert signs.noise == "rademacher" and "rademacher" in signs.message
    for quantity in (lambda r: r.correlation[:, 0, 1], lambda r: np.log(r.V[:, 0, 0])):
        assert scipy.stats.ks_2samp(quantity(gauss), quantity(signs)).pvalue > KS_ALPHA


def test_rademacher_explosion_fraction_matches_gammainc():
    """sinh (k = 1, normalized), m = 1: P(explosion) = gammainc(2, V0) (SPEC §1), V0 = 1: 0.2642.
    Same budget as the Gaussian test: T = 6 (after T the chance still to explode is < 1e−3),
    threshold 1e6, Euler bias at dt = 3e−3 a few 1e−3; 5 SE + 0.01 with 8192 paths."""
    sde = derive_sde("sinh", a=1, convention="normalized")
    paths = 8192
    res = simulate_sde(sde, np.ones((1, 1)), 6.0, steps=2000, paths=paths, seed=7,
                       explosion_threshold=1e6, noise="rademacher")
    p = scipy.special.gammainc(2.0, 1.0)
    assert abs(res.fraction_exploded - p) < 5 * np.sqrt(p * (1 - p) / paths) + 0.01
    assert np.all(res.V[res.exploded, 0, 0] > 1e6)
    assert np.all(np.isfinite(res.V[~res.exploded]))


def test_rademacher_same_seed_same_numbers_across_workers_and_chunks(tanh):
    kw = dict(steps=20, paths=10_003, seed=11, save_at=[0.5], noise="rademacher")
    a = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, workers=1, chunk=4096, **kw)
    b = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, workers=2, chunk=4096, **kw)
    c = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, workers=1, chunk=16384, **kw)
    for r in (b, c):
        assert np.array_equal(a.V, r.V) and np.array_equal(a.saved, r.saved)
    assert not np.array_equal(a.V, simulate_sde(tanh, V0_TWO_INPUTS, 1.0, **{**kw, "seed": 12}).V)


# ----------------------------------------------------------------- numba backend
CASES = [  # (activation, kwargs, V0, noise, T, explosion_threshold)
    ("tanh", {}, V0_TWO_INPUTS, "gaussian", 1.0, 1e8),
    ("tanh", {}, V0_TWO_INPUTS, "rademacher", 1.0, 1e8),
    ("relu", dict(c_plus=0, c_minus=-1), V0_TWO_INPUTS, "gaussian", 1.0, 1e8),
    ("sinh", {}, 2.0 * V0_TWO_INPUTS, "rademacher", 1.0, 1e3),       # explosions and PSD repairs
    ("sinh", {}, 2.0 * V0_TWO_INPUTS, "gaussian", 1.0, 1e3),
    ("sinh", {}, np.array([[1.5]]), "gaussian", 2.0, 1e3),    # m = 1
    ("sinh", {}, np.array([[1.5]]), "rademacher", 2.0, 1e3),
]


@pytest.mark.parametrize("activation, params, V0, noise, T, threshold", CASES)
def test_numba_backend_reproduces_numpy_reference(activation, params, V0, noise, T, threshold):
    """Same seed, same random numbers, same arithmetic: the compiled Euler step gives the NumPy
    backend's paths up to rounding (relative 1e−12), the same explosions and the same repairs."""
    pytest.importorskip("numba")
    sde = derive_sde(activation, **params)
    kw = dict(steps=200, paths=10_003, seed=3, noise=noise, explosion_threshold=threshold,
              save_at=[0.5 * T])
    ref = simulate_sde(sde, V0, T, **kw)
    fast = simulate_sde(sde, V0, T, backend="numba", **kw)
    scale = np.maximum(1.0, np.abs(ref.V))
    assert np.max(np.abs(fast.V - ref.V) / scale) < 1e-12
    assert np.max(np.abs(fast.saved - ref.saved) / np.maximum(1.0, np.abs(ref.saved))) < 1e-12
    assert np.array_equal(fast.exploded, ref.exploded)
    assert np.array_equal(fast.explosion_time, ref.explosion_time)
    assert fast.projections == ref.projections
    if activation == "sinh":
        assert 0 < ref.fraction_exploded < 1
        if V0.shape[0] == 2:
            assert ref.projections > 0
    parallel = simulate_sde(sde, V0, T, backend="numba", workers=2, chunk=4096, **kw)
    assert np.array_equal(parallel.V, fast.V)


@pytest.mark.parametrize("kwargs", [
    dict(noise="uniform"), dict(backend="fortran"), dict(noise="rademacher", scheme="lie"),
])
def test_bad_noise_or_backend_raises_input_error(tanh, kwargs):
    with pytest.raises(InputError):
        simulate_sde(tanh, V0_TWO_INPUTS, 1.0, steps=10, paths=10, **kwargs)


def test_numba_backend_bad_input(tanh, monkeypatch):
    pytest.importorskip("numba")
    for kwargs, V0 in ((dict(scheme="lie"), V0_TWO_INPUTS), ({}, np.eye(3))):
        with pytest.raises(InputError):
            simulate_sde(tanh, V0, 1.0, steps=10, paths=10, backend="numba", **kwargs)
    monkeypatch.setattr(generated_drift, "numba_available", lambda: False)
    with pytest.raises(InputError, match="pip install numba"):
        simulate_sde(tanh, V0_TWO_INPUTS, 1.0, steps=10, paths=10, backend="numba")


@pytest.mark.parametrize("activation, params", [
    ("tanh", {}), ("sinh", {}), ("gelu", {}), ("swish", {}), ("x + x**2/3 - x**3/5", {}),
    ("relu", dict(c_plus=0, c_minus=-1)), ("relu", dict(c_plus=0.3, c_minus=-0.7)),
])
def test_compiled_drift_is_the_numpy_drift_to_the_last_bit(activation, params):
    """``sde.compiled_drift()`` hands the kernels b(A, B, R) as pure-Python math code that rounds
    exactly as the NumPy drift b(V)^{ab} = b(V^aa, V^bb, V^ab) (SPEC §1) on random PSD states (the
    ReLU-like NumPy drift is written as nu(rho) sqrt(V^aa V^bb), another rounding of the same
    number: there to 1e-13); its key names the drift (equal drifts, equal keys); b(a, a, a)
    vanishes on the diagonal exactly for the ReLU-like family (nu(1) = 0)."""
    sde = derive_sde(activation, **params)
    key, pairwise, vanishes_on_diagonal = sde.compiled_drift()
    rng = np.random.default_rng(0)
    G = rng.standard_normal((200, 2, 3))
    V = G @ np.swapaxes(G, -1, -2) / 3
    b = sde.drift(V)
    same_formula = activation != "relu"
    for p in range(len(V)):
        for i, j in ((0, 0), (0, 1), (1, 1)):
            value = pairwise(V[p, i, i], V[p, j, j], V[p, i, j])
            assert value == b[p, i, j] if same_formula else abs(value - b[p, i, j]) <= 1e-13 * abs(V[p]).max()
    assert key == derive_sde(activation, **params).compiled_drift()[0]
    assert key != derive_sde("sin").compiled_drift()[0]
    assert vanishes_on_diagonal == (activation == "relu")
    if vanishes_on_diagonal:
        assert all(pairwise(a, a, a) == 0.0 for a in (0.3, 1.0, 7.5))
    else:
        assert pairwise(1.5, 1.5, 1.5) != 0.0


def test_compiled_drift_refuses_free_parameters():
    from covsde.derive import ActivationError
    with pytest.raises(ActivationError, match="free parameters"):
        derive_sde("x + alpha*x**2").compiled_drift()
