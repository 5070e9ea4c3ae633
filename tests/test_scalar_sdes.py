"""The one-input norm SDE and the ReLU-like correlation SDE solvers against closed forms (SPEC §1)."""
import numpy as np
import pytest
import scipy.special
import scipy.stats

from conftest import KS_ALPHA
from covsde.derive import InputError, derive_sde
from covsde.solvers.sde.scalar_sdes import simulate_correlation, simulate_norm


def test_norm_log_scheme_exact_for_linear_activation():
    """b = 0: log V_T ~ N(log V0 − T, 2T) exactly, and the log-Euler step is exact at any dt;
    KS at alpha = 0.001 with 20,000 paths and only 4 steps."""
    res = simulate_norm(derive_sde("x"), 2.0, 1.5, steps=4, paths=20_000, seed=1)
    law = scipy.stats.norm(np.log(2.0) - 1.5, np.sqrt(3.0))
    assert scipy.stats.kstest(np.log(res.V), law.cdf).pvalue > KS_ALPHA
    assert res.fraction_exploded == 0


@pytest.mark.parametrize("V0", [0.5, 1.0, 2.0])
def test_explosion_fraction_normalized_sinh_matches_gammainc(V0):
    """sinh, normalized, k = 1: P(explosion) = gammainc(1 + k, k V0) (SPEC §1).
    20,000 paths: 5 SE ≤ 0.0177.  Biases: T = 8 (survivors drift to 0 at rate k + 1 = 2 in log V;
    a survivor at V ≤ e^{-4} still explodes with probability ≤ gammainc(2, e^{-4}) < 2e−4), the
    threshold 1e8 (from V = 1e8 explosion has probability gammainc(2, 1e8) = 1 in double
    precision), and the log-Euler step
    dt = 2e−3 (first order; halving dt moved the fraction by < 3e−3): 0.005 in all."""
    sde = derive_sde("sinh", a=1, convention="normalized")
    paths = 20_000
    res = simulate_norm(sde, V0, 8.0, steps=4000, paths=paths, seed=2)
    p = scipy.special.gammainc(2.0, V0)
    assert abs(res.fraction_exploded - p) < 5 * np.sqrt(p * (1 - p) / paths) + 0.005
    assert np.all(np.isfinite(res.V[~res.exploded])) and np.all(res.V[~res.exploded] > 0)
    # an exploded path keeps the value that crossed 1e8, or its last finite value when e^Y overflowed
    assert np.all(np.isfinite(res.V[res.exploded])) and np.all(res.V[res.exploded] > 0)
    assert np.all(res.explosion_time[res.exploded] <= 8.0)
    assert np.all(np.isinf(res.explosion_time[~res.exploded]))


def test_explosion_fraction_unnormalized_sinh_is_one_minus_exp():
    """sinh, unnormalized, k = 1: dV = V² dt + sqrt2 V dB explodes with probability 1 − exp(−k V0).
    T = 8, V0 = 1: 0.632; 5 SE + 0.005 (same bias budget as the normalized case)."""
    sde = derive_sde("sinh", a=1, convention="unnormalized")
    paths = 20_000
    res = simulate_norm(sde, 1.0, 8.0, steps=4000, paths=paths, seed=3)
    p = 1.0 - np.exp(-1.0)
    assert abs(res.fraction_exploded - p) < 5 * np.sqrt(p * (1 - p) / paths) + 0.005


def test_tanh_norm_converges_to_gamma_law():
    """tanh, k = −2 < −1: V_t ⇒ Gamma(shape |k| − 1 = 1, rate |k| = 2), i.e. Exp(mean 1/2) (SPEC §1).
    KS at alpha = 0.001 with 10,000 paths (critical distance 0.0195).  T = 10 from V0 = 1: the
    log-variable relaxes at rate ≥ 1, leaving e^{-10} of the initial condition; the log-Euler
    bias at dt = 2.5e−3 is a first-order shift of the stationary law, ~1e−3 in CDF distance."""
    sde = derive_sde("tanh", a=1, convention="normalized")
    res = simulate_norm(sde, 1.0, 10.0, steps=4000, paths=10_000, seed=4)
    law = scipy.stats.gamma(1.0, scale=0.5)
    assert res.fraction_exploded == 0
    assert scipy.stats.kstest(res.V, law.cdf).pvalue > KS_ALPHA


def test_norm_euler_and_log_schemes_agree_in_law():
    """The two norm schemes converge to the same law: tanh at T = 1 (KS, two samples, alpha 0.001)."""
    sde = derive_sde("tanh")
    a = simulate_norm(sde, 0.8, 1.0, steps=1000, paths=10_000, seed=5, scheme="log_euler")
    b = simulate_norm(sde, 0.8, 1.0, steps=1000, paths=10_000, seed=6, scheme="euler")
    assert scipy.stats.ks_2samp(a.V, b.V).pvalue > KS_ALPHA


def test_correlation_sde_stays_in_interval_and_mean_matches_drift():
    """E[ρ_t] − ρ0 = ∫ E[μ(ρ_s)] ds ≈ μ(ρ0) t for small t: at t = 0.01 from ρ0 = 0.3, the difference
    from μ(ρ0) t is O(t²), far below 5 SE of 50,000 paths; ρ stays in [−1, 1]."""
    sde = derive_sde("relu", c_plus=0, c_minus=-1)
    res = simulate_correlation(sde, 0.3, 0.01, steps=10, paths=50_000, seed=7)
    assert np.all(np.abs(res.rho) <= 1.0)
    se = res.rho.std() / np.sqrt(res.paths)
    assert abs(res.rho.mean() - 0.3 - sde.correlation_drift(0.3) * 0.01) < 5 * se
    assert abs(res.rho.var() - (1 - 0.09) ** 2 * 0.01) < 0.05 * (1 - 0.09) ** 2 * 0.01


def test_scalar_seeds_reproducible():
    sde = derive_sde("sinh")
    a = simulate_norm(sde, 1.0, 1.0, steps=50, paths=5000, seed=9)
    b = simulate_norm(sde, 1.0, 1.0, steps=50, paths=5000, seed=9)
    assert np.array_equal(a.V, b.V) and np.array_equal(a.explosion_time, b.explosion_time)


@pytest.mark.parametrize("call", [
    lambda s: simulate_norm(s, -1.0, 1.0, steps=10, paths=10),
    lambda s: simulate_norm(s, 1.0, 0.0, steps=10, paths=10),
    lambda s: simulate_norm(s, 1.0, 1.0, steps=0, paths=10),
    lambda s: simulate_norm(s, 1.0, 1.0, steps=10, paths=0),
    lambda s: simulate_norm(s, 1.0, 1.0, steps=10, paths=10, scheme="milstein"),
    lambda s: simulate_correlation(s, 1.5, 1.0, steps=10, paths=10),
])
def test_scalar_bad_input(call):
    with pytest.raises(InputError):
        call(derive_sde("relu", c_plus=0, c_minus=-1))
