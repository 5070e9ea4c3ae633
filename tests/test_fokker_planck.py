"""The Fokker–Planck density of the ReLU-like correlation (SPEC §1) against closed forms and the SDE."""
import numpy as np
import pytest
import scipy.stats

from conftest import V0_TWO_INPUTS
from covsde.derive import InputError, derive_sde
from covsde.solvers.sde.driver import simulate_sde
from covsde.solvers.sde.fokker_planck import correlation_density
from covsde.solvers.sde.scalar_sdes import simulate_correlation


def ks_statistic(samples, cdf):
    """Two-sided KS distance between a sample and a continuous CDF."""
    x = np.sort(samples)
    n = len(x)
    F = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - F), np.max(F - np.arange(n) / n))


def test_mass_is_conserved_and_density_nonnegative(relu):
    dens = correlation_density(relu, 0.3, 2.0, save_at=[0.5, 1.0])
    assert abs(dens.total_mass - 1.0) < 1e-10
    assert np.all(np.abs(dens.saved_mass.sum(axis=1) - 1.0) < 1e-10)
    assert np.all(dens.mass >= -1e-15)
    assert dens.cdf(-1.0) == 0.0 and dens.cdf(1.0) == 1.0


def test_zero_nu_short_time_law_matches_ito_taylor_gaussian():
    """c+ = c−: ν = 0, so in x = artanh ρ the SDE is dx = (ρ/2) dt + dW.  Not closed form in
    general, but for short times x_t ≈ N(x0 + tanh(x0) t/2, t): at t = 0.01 the CDF of ρ_t from the
    Fokker–Planck solver matches tanh of that Gaussian to within the O(t^{3/2}) Itô–Taylor remainder."""
    sde = derive_sde("relu", c_plus=0.5, c_minus=0.5)
    T, x0 = 0.01, np.arctanh(0.3)
    dens = correlation_density(sde, 0.3, T, grid=8000, time_steps=400)
    r = np.tanh(np.linspace(x0 - 0.3, x0 + 0.3, 41))
    approx = scipy.stats.norm(x0 + 0.3 * T / 2, np.sqrt(T)).cdf(np.arctanh(r))
    assert np.max(np.abs(dens.cdf(r) - approx)) < 5e-3


def test_density_matches_correlation_sde_histogram(relu):
    """ρ_T, T = 1, ρ0 = 0.3: KS distance of 20,000 SDE paths (Euler, dt = 1e−3) from the FP CDF is
    below the alpha = 0.001 critical value 1.95/sqrt(n) = 0.0138.  Discretisation: FP grid of 4,000
    cells and 2,000 BDF2 steps (changing either 2× moves the CDF by < 1e−4); the Euler weak bias
    at dt = 1e−3 is O(dt) ~ 1e−3 in the CDF."""
    dens = correlation_density(relu, 0.3, 1.0)
    res = simulate_correlation(relu, 0.3, 1.0, steps=1000, paths=20_000, seed=1)
    assert ks_statistic(res.rho, dens.cdf) < 1.949 / np.sqrt(res.paths)


def test_fokker_planck_resolution_is_converged(relu):
    """Halving the grid and the time step changes the CDF of ρ_1 by < 1e−4 (far below KS resolution)."""
    fine = correlation_density(relu, 0.3, 1.0, grid=4000, time_steps=2000)
    coarse = correlation_density(relu, 0.3, 1.0, grid=2000, time_steps=1000)
    r = np.linspace(-0.999, 0.999, 400)
    assert np.max(np.abs(fine.cdf(r) - coarse.cdf(r))) < 1e-4     # measured 3e-6


@pytest.mark.slow
def test_density_matches_matrix_sde_correlation(relu):
    """The same law from the 2×2 matrix SDE: ρ = V12/sqrt(V11 V22) at T = 1 from ρ0 = 0.3,
    10,000 paths (KS critical value at alpha = 0.001: 0.0195)."""
    res = simulate_sde(relu, V0_TWO_INPUTS, 1.0, steps=1000, paths=10_000, seed=2)
    rho = res.correlation[:, 0, 1]
    dens = correlation_density(relu, 0.3, 1.0)
    assert ks_statistic(rho, dens.cdf) < 1.949 / np.sqrt(len(rho))


def test_bad_input(relu):
    for kwargs in (dict(rho0=1.0, T=1.0), dict(rho0=0.3, T=0.0), dict(rho0=0.3, T=1.0, grid=3)):
        with pytest.raises(InputError):
            correlation_density(relu, **kwargs)
