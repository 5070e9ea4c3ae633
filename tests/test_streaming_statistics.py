"""Streaming statistics of SDE paths: the sufficient statistics of the paths simulate_sde keeps.

A streaming run sees the same paths as a raw run with the same seed, so its counts and
histograms must equal those of the raw paths exactly, its means and covariances must equal the
sample moments to rounding, histogram quantiles must lie within their stated resolution of the
sample quantiles, and histogram KS distances within theirs of the exact two-sample statistic.
The merged statistics must not depend on the executor.  Mathematics: with zero drift
(the linear activation) V is a martingale, E V_T = V0.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import stats

from conftest import V0_TWO_INPUTS
from covsde.derive import derive_sde
from covsde.derive.errors import InputError
from covsde.solvers import simulate_sde
from covsde.solvers.sde.streaming_statistics import StatisticsPlan

KW = dict(steps=40, paths=20_000, seed=11, chunk=4096)


@pytest.fixture(scope="module")
def runs(tanh):
    raw = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, **KW)
    streaming = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, reduce="statistics", **KW)
    return raw, streaming


def test_histograms_count_exactly_the_raw_paths(runs):
    raw, streaming = runs
    rho = raw.correlation[:, 0, 1]
    counts, edges = streaming.histogram("rho^12")
    np.testing.assert_array_equal(counts[1:-1], np.histogram(rho[np.isfinite(rho)], edges)[0])
    assert counts[0] == np.sum(rho < -1) and counts[-1] == np.sum(rho > 1)
    with np.errstate(divide="ignore"):
        log_v = np.log(raw.V[:, 1, 1])
    counts, edges = streaming.histogram("log V^22")
    np.testing.assert_array_equal(counts[1:-1], np.histogram(log_v[np.isfinite(log_v)], edges)[0])
    assert streaming.paths == raw.paths and streaming.exploded == raw.exploded.sum() == 0


def test_means_and_covariance_equal_the_sample_moments(runs):
    raw, streaming = runs
    rho = raw.correlation[:, 0, 1]
    x = np.stack([raw.V[:, 0, 0], raw.V[:, 0, 1], raw.V[:, 1, 1], rho], axis=1)
    x = x[np.all(np.isfinite(x), axis=1)]
    assert streaming.names == ["V^11", "V^12", "V^22", "rho^12"]
    np.testing.assert_allclose(list(streaming.mean.values()), x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(streaming.covariance, np.cov(x.T, bias=True), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["rho^12", "log V^11"])
def test_quantiles_lie_within_their_resolution_of_the_sample_quantiles(runs, name):
    raw, streaming = runs
    sample = raw.correlation[:, 0, 1] if name == "rho^12" else np.log(raw.V[:, 0, 0])
    sample = sample[np.isfinite(sample)]
    for level in (0.01, 0.05, 0.5, 0.95, 0.99):
        q = streaming.quantile(name, level)
        assert abs(q.value - np.quantile(sample, level)) <= q.resolution
        assert q.resolution == pytest.approx(1e-3 if name == "rho^12" else 1e-2)


def test_ks_distance_brackets_the_exact_two_sample_statistic(tanh, runs):
    raw, streaming = runs
    other = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, **{**KW, "seed": 12, "steps": 20})
    other_streaming = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, reduce="statistics", **{**KW, "seed": 12, "steps": 20})
    a, b = raw.correlation[:, 0, 1], other.correlation[:, 0, 1]
    exact = stats.ks_2samp(a[np.isfinite(a)], b[np.isfinite(b)]).statistic
    ks = streaming.ks_distance(other_streaming, "rho^12")
    assert ks.statistic <= exact + 1e-12 <= ks.statistic + ks.resolution + 1e-12
    assert ks.n_a == np.isfinite(a).sum() and ks.n_b == np.isfinite(b).sum()
    assert streaming.ks_distance(a, "rho^12").statistic == 0.0   # the same paths, binned


def test_statistics_bit_identical_on_any_executor_and_worker_count(tanh):
    kw = dict(KW, paths=13_000)
    one = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, reduce="statistics", **kw).statistics
    with ThreadPoolExecutor(3) as threads:
        threaded = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, reduce="statistics", executor=threads, **kw).statistics
    forked = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, reduce="statistics", workers=2, **kw).statistics
    for other in (threaded, forked):
        assert other.n == one.n and other.paths == one.paths
        np.testing.assert_array_equal(other.mean, one.mean)
        np.testing.assert_array_equal(other.comoment, one.comoment)
        np.testing.assert_array_equal(other.rho_histogram, one.rho_histogram)
        np.testing.assert_array_equal(other.log_v_histogram, one.log_v_histogram)


def test_explosion_counts_and_times_match_the_raw_run():
    sde = derive_sde("sinh", a=1, convention="normalized")
    kw = dict(steps=100, paths=6000, seed=3, explosion_threshold=1e3, chunk=4096)
    raw = simulate_sde(sde, 2.0 * np.eye(2), 2.0, **kw)
    streaming = simulate_sde(sde, 2.0 * np.eye(2), 2.0, reduce=StatisticsPlan(explosion_time_bins=20), **kw)
    assert 0 < streaming.exploded == raw.exploded.sum() < 6000
    assert streaming.fraction_exploded == raw.fraction_exploded
    expected = np.histogram(raw.explosion_time[raw.exploded], streaming.explosion_time_edges)[0]
    np.testing.assert_array_equal(streaming.statistics.explosion_time_histogram, expected)


def test_zero_drift_keeps_the_mean_covariance(linear):
    """dV = Sigma(V)^(1/2) dB has no drift: V is a martingale, E V_T = V0 (SPEC §1)."""
    result = simulate_sde(linear, V0_TWO_INPUTS, 0.5, steps=50, paths=40_000, seed=1, reduce="statistics")
    n = result.statistics.n
    for name, target in (("V^11", 1.0), ("V^12", 0.3), ("V^22", 1.0)):
        assert abs(result.mean[name] - target) <= 5 * result.std[name] / np.sqrt(n)


def test_streaming_memory_does_not_grow_with_paths(tanh, monkeypatch):
    """Under a 4 MiB limit the raw route is refused (its final states alone need 6.4 MB) and the
    streaming route, which holds no array per path, runs."""
    monkeypatch.setenv("COVSDE_MEMORY_LIMIT", "4M")
    with pytest.raises(InputError, match="final states"):
        simulate_sde(tanh, V0_TWO_INPUTS, 1.0, steps=2, paths=200_000, seed=0, chunk=4096, check_step=False)
    result = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, steps=2, paths=200_000, seed=0, chunk=4096, check_step=False,
                          reduce="statistics")
    assert result.statistics.paths == 200_000


def test_bad_streaming_requests_are_refused(tanh):
    with pytest.raises(InputError, match="save_at"):
        simulate_sde(tanh, V0_TWO_INPUTS, 1.0, steps=4, paths=10, save_at=[0.5], reduce="statistics")
    with pytest.raises(InputError, match="reduce must be"):
        simulate_sde(tanh, V0_TWO_INPUTS, 1.0, steps=4, paths=10, reduce="mean")
    with pytest.raises(InputError, match="strictly increasing"):
        StatisticsPlan(rho_edges=[0.0, 0.0, 1.0])
    result = simulate_sde(tanh, V0_TWO_INPUTS, 1.0, steps=4, paths=10, reduce="statistics")
    with pytest.raises(InputError, match="unknown quantity"):
        result.quantile("rho^11", 0.5)
    with pytest.raises(InputError, match="level"):
        result.quantile("rho^12", 1.5)


def test_extreme_quantiles_lie_in_the_bins_of_the_sample_extremes(runs):
    raw, streaming = runs
    rho = raw.correlation[:, 0, 1]
    rho = rho[np.isfinite(rho)]
    low, high = streaming.quantile("rho^12", 0.0), streaming.quantile("rho^12", 1.0)
    assert abs(low.value - rho.min()) <= low.resolution and abs(high.value - rho.max()) <= high.resolution
