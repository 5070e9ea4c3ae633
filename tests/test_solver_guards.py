"""The solvers are never silently wrong and never unbounded (the reliability guards).

* **Step sizes.**  The stable range dt·r ≤ 1 and the sound step dt·r ≤ 0.1 of
  :mod:`covsde.solvers.sde.step_size` are justified here by exact discrete references: on a
  mean-reverting linear drift b(V) = −λ(V − 1) (m = 1, λ = 50, so the drift rate r = λ) Euler's
  stationary moments are known in closed form — E V = 1 and
  E V² = (2λ − λ²dt)/(2λ − λ²dt − 2) against the exact λ/(λ − 1) — so the weak error at the sound
  step is 0.1 %, while beyond the stable range (λdt = 3) the one-step factor 1 − λdt = −2 makes the
  second moment grow by (1 − λdt)² + 2dt ≈ 4 per step and paths explode although the exact process
  never does.  For the noise (zero drift, m = 2, r = m + 1) Euler is a martingale: E V_T = V0
  exactly unless a step leaves the PSD cone and is projected; at the sound step that happens in
  < 0.1 % of path-steps and the mean is V0 within 5 standard errors, beyond the range in > 20 %,
  the mean is off by many standard errors and most paths have collapsed to V = 0.
* **Bad values** of every numeric argument of every public solver end in ``InputError`` /
  ``ActivationError`` (ValueErrors), never in TypeError, AttributeError, OverflowError or
  MemoryError: a fixed catalogue that must be refused, and hypothesis-drawn values (random
  floats, integers, complex numbers, text, nested lists) that must be refused or give a result.
* **Resources.**  One huge number is refused before anything is allocated, with the estimate,
  the limit and the advice in the message, also inside a process under ``RLIMIT_AS``.
* **NaN and warnings.**  Exploded paths report finite states; no RuntimeWarning leaks.
"""
import math
import os
import subprocess
import sys
import textwrap
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from covsde.derive import ActivationError, InputError, derive_sde
from covsde.solvers import (compare, correlation_density, gaussian_kernel_map, kernel_map, resnet_kernel,
                            resnet_kernel_recursion, richardson_expectation, simulate_correlation,
                            simulate_deep_linear, simulate_mlp, simulate_norm, simulate_resnet, simulate_sde,
                            solve_mean_ode)
from covsde.solvers.resource_limits import format_bytes, memory_limit, parse_bytes
from covsde.solvers.sde.schemes import get_scheme
from covsde.solvers.sde.schemes.strang import _midpoint_substeps
from covsde.solvers.sde.step_size import SOUND_STEP_RATE, drift_rate

REFUSED = (InputError, ActivationError)
V0_2 = np.array([[1.0, 0.3], [0.3, 0.8]])


# the tanh and relu fixtures come from conftest.py


class MeanReverting:
    """dV = −λ(V − I) dt + Σ(V)^{1/2} dB: a test SDE whose drift has the single rate λ."""

    def __init__(self, lam):
        self.lam = lam

    def drift(self, V):
        V = np.asarray(V, dtype=np.float64)
        return -self.lam * (V - np.eye(V.shape[-1]))


# ======================================================================= step sizes
def test_drift_rate_is_the_jacobian_of_a_linear_drift_and_the_norm_rate_of_tanh(tanh):
    """r_b of −λ(V − I) is λ at any V0; for tanh at V = I the diagonal drift −2v(v − 1) has slope
    −2 (and the off-diagonal one vanishes), so r_b = 2."""
    for V0 in (np.eye(2), V0_2, 3.0 * np.eye(3)):
        assert drift_rate(MeanReverting(7.0).drift, V0[None]) == pytest.approx(7.0, rel=1e-5)
    assert drift_rate(tanh.drift, np.eye(2)[None]) == pytest.approx(2.0, rel=1e-5)


def test_each_scheme_declares_its_stable_range(tanh):
    """Euler: 1/max(drift rate, m + 1); Lie: 1/drift rate (exact noise); Strang: 1/(m + 1)."""
    sde, V0 = MeanReverting(50.0), np.eye(2)[None]
    assert get_scheme("euler").max_stable_dt(sde, V0) == pytest.approx(1 / 50, rel=1e-5)
    assert get_scheme("lie").max_stable_dt(sde, V0) == pytest.approx(1 / 50, rel=1e-5)
    assert get_scheme("strang").max_stable_dt(sde, V0) == pytest.approx(1 / 3)
    slow = MeanReverting(0.5)
    assert get_scheme("euler").max_stable_dt(slow, V0) == pytest.approx(1 / 3)
    assert get_scheme("lie").max_stable_dt(slow, V0) == pytest.approx(2.0, rel=1e-5)
    assert get_scheme("lie").max_stable_dt(derive_sde("x"), V0) == math.inf     # exact for zero drift


def test_issue_examples_are_refused_with_the_sound_step_count(tanh):
    """tanh at T = 1e9 with 100 steps (72 % 'exploded', V ≡ 0 before) and Lie at T = 1e6 are far
    outside the stable range: refused, naming steps >= ceil(T r / 0.1)."""
    V0 = np.eye(2)
    rate = 3.0                                               # m + 1 > drift rate 2 at I
    with pytest.raises(InputError, match=r"use steps >= (\d+)") as info:
        simulate_sde(tanh, V0, T=1e9, steps=100, paths=2000)
    assert f"use steps >= {math.ceil(1e9 * rate / SOUND_STEP_RATE)}" in str(info.value)
    assert "check_step=False" in str(info.value)
    with pytest.raises(InputError, match="far outside the stable range of scheme 'lie'"):
        simulate_sde(tanh, V0, T=1e6, steps=100, paths=200, scheme="lie")
    with pytest.raises(InputError, match="stable range"):
        simulate_sde(tanh, V0, T=1e9, steps=100, paths=20, scheme="strang")


def test_expert_override_runs_the_nonsense_step_without_nan(tanh):
    """check_step=False runs it; the message says how far outside; no NaN reaches V."""
    res = simulate_sde(tanh, V0_2, T=1e9, steps=100, paths=500, seed=1, check_step=False)
    assert np.all(np.isfinite(res.V))
    assert "outside the stable range" in res.message and "would be sound" in res.message


def test_refusal_is_exactly_at_the_stable_bound():
    """dt·r = 1 runs, dt·r just above it is refused; the suggested count is sound (dt·r = 0.1)."""
    sde, T = MeanReverting(50.0), 1.0
    simulate_sde(sde, [[1.0]], T, steps=50, paths=10, seed=1)                 # dt·r = 1
    with pytest.raises(InputError, match="use steps >= 500"):
        simulate_sde(sde, [[1.0]], T, steps=49, paths=10, seed=1)
    note = simulate_sde(sde, [[1.0]], T, steps=100, paths=10, seed=1).message
    assert "above the sound 0.1" in note and "steps >= 500 would be sound" in note
    assert "sound" not in simulate_sde(sde, [[1.0]], T, steps=500, paths=10, seed=1).message


def _euler_stationary_second_moment(lam, dt):
    """Stationary E V² of Euler for dV = −λ(V − 1) dt + sqrt(2) V dB: from
    E V'² = (1 − λdt)² E V² + 2(1 − λdt) λdt E V + λ²dt² + 2dt E V², E V = 1."""
    return (2 * lam - lam ** 2 * dt) / (2 * lam - lam ** 2 * dt - 2)


def test_drift_bound_weak_error_small_at_sound_step_and_blow_up_beyond_range():
    """λ = 50: at the sound step (λdt = 0.1) Euler's stationary E V and E V² match their exact
    discrete values within 5 SE and differ from the SDE's (1 and λ/(λ − 1)) by 0.1 %; at λdt = 3
    (refused unless check_step=False) the paths explode, the exact process never does."""
    lam, paths = 50.0, 20_000
    sde = MeanReverting(lam)
    dt = SOUND_STEP_RATE / lam
    res = simulate_sde(sde, [[1.0]], 100 * dt, steps=100, paths=paths, seed=3)
    V = res.V[:, 0, 0]
    assert res.fraction_exploded == 0 and res.projections == 0
    se = V.std() / np.sqrt(paths)
    assert abs(V.mean() - 1.0) < 5 * se
    discrete = _euler_stationary_second_moment(lam, dt)
    se2 = (V ** 2).std() / np.sqrt(paths)
    assert abs((V ** 2).mean() - discrete) < 5 * se2
    exact = lam / (lam - 1)
    assert abs(discrete - exact) / exact < 2e-3                       # the weak error at the bound
    far = 3.0 / lam
    with pytest.raises(InputError, match="far outside"):
        simulate_sde(sde, [[1.0]], 40 * far, steps=40, paths=2000, seed=4)
    wild = simulate_sde(sde, [[1.0]], 40 * far, steps=40, paths=2000, seed=4, check_step=False)
    assert wild.fraction_exploded > 0.9
    assert np.all(np.isfinite(wild.V))


def test_noise_bound_mean_unbiased_at_sound_step_and_collapses_beyond_range():
    """Zero drift, m = 2, r = m + 1 = 3: Euler is a martingale, E V_T = V0 exactly unless steps
    are projected onto the PSD cone.  Sound step (3dt = 0.1): < 0.1 % of path-steps projected,
    mean V0 within 5 SE.  3dt = 3 (refused by default): > 20 % projected, the mean is off by more
    than 5 SE and most paths have collapsed to V = 0 (the exact process stays positive definite)."""
    linear, V0, paths = derive_sde("x"), np.array([[1.0, 0.5], [0.5, 1.0]]), 20_000
    sound = simulate_sde(linear, V0, 1.0, steps=30, paths=paths, seed=1)
    assert sound.projections < 1e-3 * paths * 30
    se = sound.V.std(axis=0) / np.sqrt(paths)
    assert np.all(np.abs(sound.V.mean(axis=0) - V0) < 5 * se)
    with pytest.raises(InputError, match="far outside"):
        simulate_sde(linear, V0, 10.0, steps=10, paths=paths, seed=1)
    wild = simulate_sde(linear, V0, 10.0, steps=10, paths=paths, seed=1, check_step=False)
    assert wild.projections > 0.2 * paths * 10
    se = wild.V.std(axis=0) / np.sqrt(paths)
    assert np.any(np.abs(wild.V.mean(axis=0) - V0) > 5 * se)
    assert np.mean(np.trace(wild.V, axis1=1, axis2=2) == 0) > 0.5


def test_scalar_solvers_and_richardson_check_their_steps(tanh, relu):
    with pytest.raises(InputError, match="use steps >="):
        simulate_norm(tanh, 0.5, 1e6, steps=10, paths=10)
    with pytest.raises(InputError, match="use steps >="):
        simulate_norm(tanh, 0.5, 1e6, steps=10, paths=10, scheme="euler")
    with pytest.raises(InputError, match="use steps >="):
        simulate_correlation(relu, 0.3, 1e6, steps=10, paths=10)
    with pytest.raises(InputError, match="use steps >="):
        richardson_expectation(tanh, V0_2, 1e6, lambda V: V[:, 0, 0], steps=[2, 4], paths=10)
    # the exact GBM step of log-Euler has no noise limit: zero drift runs at any step
    res = simulate_norm(derive_sde("x"), 1.0, 5.0, steps=1, paths=1000, seed=1)
    assert np.all(np.isfinite(res.V)) and res.fraction_exploded == 0


# ======================================================================= exploded paths, warnings, speed
@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("scheme", ["euler", "lie", "strang"])
def test_exploding_paths_report_finite_states_without_warnings(scheme):
    """sinh explodes with positive probability: every reported state is finite, exploded paths
    either passed the threshold or hold their last finite state, no RuntimeWarning escapes."""
    sinh = derive_sde("sinh")
    res = simulate_sde(sinh, 2.0 * V0_2, 4.0, steps=200, paths=2000, seed=7, scheme=scheme,
                       save_at=[1.0, 4.0])
    assert 0.2 < res.fraction_exploded < 1.0
    assert np.all(np.isfinite(res.V)) and np.all(np.isfinite(res.saved))
    assert np.all(np.isfinite(res.explosion_time[res.exploded]))
    assert np.all(np.isinf(res.explosion_time[~res.exploded]))
    live = res.V[~res.exploded]
    assert np.all(np.linalg.eigvalsh(live) >= -1e-9 * np.abs(live).max())
    norm = simulate_norm(sinh, 1.5, 4.0, steps=400, paths=2000, seed=7)
    assert np.all(np.isfinite(norm.V)) and 0.2 < norm.fraction_exploded < 1.0


def test_frozen_paths_do_not_change_the_live_paths_numbers():
    """Frozen paths leave the active set: every live path's numbers equal those of a run in which
    nothing explodes (a threshold so high that no path is frozen, and every step finite)."""
    sinh = derive_sde("sinh")
    low = simulate_sde(sinh, 2.0 * V0_2, 1.0, steps=40, paths=4100, seed=2, explosion_threshold=50.0)
    high = simulate_sde(sinh, 2.0 * V0_2, 1.0, steps=40, paths=4100, seed=2, explosion_threshold=1e300)
    live = ~low.exploded
    assert 0 < low.exploded.sum() < 4100
    assert np.array_equal(low.V[live], high.V[live])


def test_substeps_stop_at_blow_up_and_leave_finite_paths_unchanged():
    """The Strang drift sub-steps: finite paths get exactly the plain loop's numbers; a path whose
    drift flow explodes inside the step is returned non-finite (and is then frozen by the driver)."""
    drift = lambda W: W * W                          # dV/dt = V², blow-up at t = 1/V0  # noqa: E731
    W = np.array([[[0.5]], [[4.0]], [[1e6]]])
    h, count = 0.5 / 4096, 4096
    expect = W.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(count):
            expect = expect + h * drift(expect + (0.5 * h) * drift(expect))
        got = _midpoint_substeps(W, drift, h, count)
    assert got[0, 0, 0] == expect[0, 0, 0]
    assert not np.isfinite(got[2, 0, 0]) and not np.isfinite(expect[2, 0, 0])
    assert not np.isfinite(got[1, 0, 0])                  # 4.0 blows up at t = 0.25: inside the step


@pytest.mark.filterwarnings("error")
def test_no_raw_floating_point_warnings(tanh):
    """Overflow in kernels of fast-growing activations, blow-ups of the mean ODE and networks
    whose activations overflow are handled, not warned about."""
    kernel_map("exp(x)", np.array([[200.0, 10.0], [10.0, 1.0]]))
    solve_mean_ode(derive_sde("sinh"), [[3.0]], 5.0)
    simulate_mlp("exp(x)", V0=np.eye(2) * 50, width=8, depth=3, networks=4, seed=1, convention="unnormalized")


# ======================================================================= resources
GIB = 2 ** 30


def test_memory_limit_reads_physical_memory_and_the_environment(monkeypatch):
    monkeypatch.delenv("COVSDE_MEMORY_LIMIT", raising=False)
    limit, source = memory_limit()
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert limit <= 0.5 * physical + 1 and ("physical" in source or "RLIMIT_AS" in source)
    monkeypatch.setenv("COVSDE_MEMORY_LIMIT", "8GiB")
    assert memory_limit() == (8 * GIB, "set by COVSDE_MEMORY_LIMIT")
    assert parse_bytes("500 MB") == 500 * 2 ** 20 and parse_bytes("2e9") == 2e9
    assert format_bytes(30.2 * GIB) == "30.2 GiB"
    for bad in ("lots", "-1G", "0", "nan"):
        monkeypatch.setenv("COVSDE_MEMORY_LIMIT", bad)
        with pytest.raises(InputError, match="COVSDE_MEMORY_LIMIT"):
            memory_limit()


@pytest.mark.parametrize("call, pattern", [
    (lambda s: simulate_sde(s, V0_2, 1.0, steps=100, paths=10 ** 9),
     r"simulate_sde needs [\d.]+ GiB \(29.8 GiB for the final states V \(paths, m, m\) of 1e\+09 paths\); "
     r"the limit is 8 GiB \(set by COVSDE_MEMORY_LIMIT\); use fewer paths"),
    (lambda s: simulate_sde(s, V0_2, 1.0, steps=100, paths=10 ** 12), r"needs [\d.]+ TiB .* use fewer paths"),
    (lambda s: simulate_sde(s, V0_2, 1.0, steps=100, paths=1e9, save_at=[0.5]), r"saved states|final states"),
    (lambda s: simulate_sde(s, V0_2, 1.0, steps=10 ** 9, paths=10 ** 4), r"1e\+13 path-steps .*COVSDE_PATH_STEP_LIMIT"),
    (lambda s: simulate_norm(s, 1.0, 1.0, steps=10, paths=10 ** 12), r"simulate_norm needs .* use fewer paths"),
    (lambda s: simulate_correlation(derive_sde("relu", c_plus=0, c_minus=-1), 0.3, 1.0, steps=10,
                                    paths=10 ** 12), r"simulate_correlation needs"),
    (lambda s: richardson_expectation(s, V0_2, 1.0, lambda V: V[:, 0, 0], steps=[10 ** 8], paths=10 ** 6),
     r"richardson_expectation would take"),
    (lambda s: simulate_mlp("tanh", V0=V0_2, width=8, depth=2, networks=10 ** 12), r"simulate_mlp needs .* networks"),
    (lambda s: simulate_mlp("tanh", V0=V0_2, width=10 ** 9, depth=2, networks=1), r"working arrays"),
    (lambda s: simulate_mlp("tanh", V0=V0_2, width=8, depth=10 ** 8, networks=100), r"simulate_mlp needs"),
    (lambda s: simulate_mlp("tanh", V0=V0_2, width=8, depth=10 ** 8, networks=100, layers=[-1]),
     r"simulate_mlp would take"),
    (lambda s: simulate_resnet("relu", Q0=V0_2, width=10 ** 9, depth=2, networks=1), r"simulate_resnet needs"),
    (lambda s: simulate_deep_linear(K=V0_2, width=8, depth=2, networks=10 ** 12), r"simulate_deep_linear needs"),
    (lambda s: simulate_deep_linear(K=V0_2, width=8, depth=2, outputs=10 ** 12, networks=1), r"needs"),
    (lambda s: kernel_map("tanh", V0_2, degree=30000), r"gaussian_kernel_map needs .* degree"),
    (lambda s: kernel_map("sin", V0_2, degree=5000, rule="hermite"), r"would take .*Gauss"),
    (lambda s: resnet_kernel_recursion("relu", V0_2, depth=10 ** 9), r"resnet_kernel_recursion would take"),
    (lambda s: resnet_kernel_recursion("relu", V0_2, depth=10 ** 8, return_layers=True), r"kernels of"),
    (lambda s: correlation_density(derive_sde("relu", c_plus=0, c_minus=-1), 0.3, 1.0, grid=10 ** 10),
     r"correlation_density needs"),
    (lambda s: solve_mean_ode(s, V0_2, 1e10), r"solve_mean_ode would take .*LSODA"),
])
def test_one_huge_number_is_refused_before_allocating(monkeypatch, tanh, call, pattern):
    monkeypatch.setenv("COVSDE_MEMORY_LIMIT", "8GiB")
    monkeypatch.delenv("COVSDE_PATH_STEP_LIMIT", raising=False)
    with pytest.raises(InputError, match=pattern):
        call(tanh)


def test_limits_can_be_raised_or_lowered(monkeypatch, tanh):
    monkeypatch.setenv("COVSDE_MEMORY_LIMIT", "1MiB")
    with pytest.raises(InputError, match="the limit is 1 MiB"):
        simulate_sde(tanh, V0_2, 0.1, steps=4, paths=50_000)
    monkeypatch.setenv("COVSDE_MEMORY_LIMIT", "inf")
    monkeypatch.setenv("COVSDE_PATH_STEP_LIMIT", "1e3")
    with pytest.raises(InputError, match="the limit is 1e\\+03"):
        simulate_sde(tanh, V0_2, 0.1, steps=4, paths=10)
    monkeypatch.setenv("COVSDE_PATH_STEP_LIMIT", "inf")
    assert simulate_sde(tanh, V0_2, 0.1, steps=4, paths=10, seed=1).V.shape == (10, 2, 2)


def test_refuses_instead_of_dying_under_an_address_space_limit():
    """A process whose address space is limited (ulimit -v) gets InputError naming RLIMIT_AS,
    where a plain allocation of the same size raises MemoryError."""
    script = textwrap.dedent("""
        import resource, sys
        import numpy as np
        from covsde.derive import derive_sde, InputError
        from covsde.solvers import simulate_sde
        sde = derive_sde("tanh")
        used = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (used + 2 ** 31, resource.RLIM_INFINITY))
        try:
            np.ones((3 * 10 ** 8, 2, 2))
            print("allocated")
        except MemoryError:
            print("MemoryError")
        try:
            simulate_sde(sde, np.eye(2), 1.0, steps=100, paths=3 * 10 ** 8)
        except InputError as exc:
            print("InputError:", exc)
    """)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    env.pop("COVSDE_MEMORY_LIMIT", None)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "MemoryError" in out.stdout
    assert "InputError: simulate_sde needs" in out.stdout and "RLIMIT_AS" in out.stdout


# ======================================================================= bad values
class Opaque:
    """An object that is not a number."""


#: Values no numeric argument accepts (a few exceptions are listed per argument below).
CATALOGUE = {
    "complex": 1 + 2j, "complex zero imag": np.complex128(1 + 0j), "complex array": np.array([[1 + 1j, 0], [0, 1]]),
    "text number": "1", "text": "abc", "None": None, "True": True, "numpy bool": np.bool_(False),
    "nan": float("nan"), "-inf": -math.inf, "object": Opaque(), "dict": {}, "ragged": [[1.0, 2.0], [3.0]],
}


def _sdes():
    return {"tanh": derive_sde("tanh"), "relu": derive_sde("relu", c_plus=0, c_minus=-1)}


#: function name -> (callable(**kwargs), cheap valid keyword arguments, numeric arguments,
#: {argument: catalogue entries it accepts})
def _solvers():
    s = _sdes()
    eye = np.eye(2)
    return {
        "simulate_sde": (simulate_sde, dict(sde=s["tanh"], V0=V0_2, T=0.2, steps=4, paths=8, seed=1),
                         ["V0", "T", "steps", "paths", "seed", "save_at", "workers", "chunk", "explosion_threshold",
                          "sde"], {"save_at": {"None"}, "chunk": {"None"}, "seed": {"None"}}),
        "simulate_norm": (simulate_norm, dict(sde=s["tanh"], V0=1.0, T=0.2, steps=4, paths=8, seed=1),
                          ["V0", "T", "steps", "paths", "seed", "explosion_threshold", "sde"], {"seed": {"None"}}),
        "simulate_correlation": (simulate_correlation, dict(sde=s["relu"], rho0=0.3, T=0.2, steps=4, paths=8, seed=1),
                                 ["rho0", "T", "steps", "paths", "seed", "sde"], {"seed": {"None"}}),
        "solve_mean_ode": (solve_mean_ode, dict(sde=s["tanh"], V0=V0_2, T=0.5),
                           ["V0", "T", "rtol", "atol", "save_at", "sde"], {"save_at": {"None"}}),
        "richardson_expectation": (richardson_expectation,
                                   dict(sde=s["tanh"], V0=V0_2, T=0.2, f=lambda V: V[:, 0, 0], steps=[2], paths=8,
                                        seed=1),
                                   ["V0", "T", "steps", "paths", "seed", "chunk", "explosion_threshold", "f", "sde"],
                                   {"chunk": {"None"}, "seed": {"None"}}),
        "correlation_density": (correlation_density, dict(sde=s["relu"], rho0=0.3, T=0.5, grid=40, time_steps=10),
                                ["rho0", "T", "grid", "time_steps", "save_at", "sde"], {"save_at": {"None"}}),
        "kernel_map": (kernel_map, dict(phi="tanh", Q=V0_2), ["Q", "degree"], {"degree": {"None"}}),
        "gaussian_kernel_map": (lambda **kw: gaussian_kernel_map(**kw)(V0_2), dict(phi="sin"), ["degree"],
                                {"degree": {"None"}}),
        "resnet_kernel": (resnet_kernel, dict(phi="relu", Q0=V0_2, t=0.5),
                          ["Q0", "t", "alpha", "rtol", "atol", "degree", "save_at"],
                          {"alpha": {"None", "text number"}, "degree": {"None"}, "save_at": {"None"}}),
        "resnet_kernel recursion": (resnet_kernel, dict(phi="relu", Q0=V0_2, t=0.5, method="recursion", depth=3),
                                    ["depth"], {}),
        "resnet_kernel_recursion": (resnet_kernel_recursion, dict(phi="erf", Q0=V0_2, depth=3),
                                    ["Q0", "depth", "alpha", "t", "degree"],
                                    {"alpha": {"None", "text number"}, "degree": {"None"}}),
        "simulate_mlp": (simulate_mlp, dict(activation="tanh", V0=V0_2, width=4, depth=2, networks=3, seed=1),
                         ["V0", "width", "depth", "networks", "seed", "a", "exponent", "layers", "chunk"],
                         {"seed": {"None"}, "exponent": {"None"}, "layers": {"None"}, "chunk": {"None"}}),
        "simulate_mlp X": (simulate_mlp, dict(activation="tanh", X=[[1.0, 0.5], [0.2, 1.0]], width=4, depth=2,
                                              networks=3, seed=1, method="weights"), ["X"], {}),
        "simulate_resnet": (simulate_resnet, dict(activation="relu", Q0=eye, width=4, depth=2, networks=3, seed=1),
                            ["Q0", "width", "depth", "networks", "seed", "alpha", "layers", "chunk"],
                            {"seed": {"None"}, "alpha": {"None"}, "layers": {"None"}, "chunk": {"None"}}),
        "simulate_deep_linear": (simulate_deep_linear, dict(K=eye, width=4, depth=2, outputs=2, networks=3, seed=1),
                                 ["K", "width", "depth", "outputs", "networks", "seed", "chunk"],
                                 {"seed": {"None"}, "chunk": {"None"}}),
        "compare": (compare, dict(samples_a=np.stack([V0_2] * 5), samples_b=np.stack([np.eye(2)] * 6)),
                    ["samples_a", "samples_b", "inputs", "quantities"], {"inputs": {"None"}}),
    }


SOLVERS = _solvers()
CASES = [(name, arg) for name, (_, _, args, _) in SOLVERS.items() for arg in args]
#: what happened to every bad value tried: (solver, argument, kind, outcome) -> count
TALLY = Counter()


def _outcome(name, arg, value, kind):
    """Call solver ``name`` with ``arg=value``: 'refused' (InputError/ActivationError) or 'ran';
    any other exception fails the test."""
    function, kwargs, _, _ = SOLVERS[name]
    try:
        function(**{**kwargs, arg: value})
        outcome = "ran"
    except REFUSED:
        outcome = "refused"
    TALLY[name, arg, kind, outcome] += 1
    return outcome


@pytest.fixture
def small_limits(monkeypatch):
    """Limits at which anything that is accepted is also quick (the guards' logic is the same)."""
    monkeypatch.setenv("COVSDE_MEMORY_LIMIT", "256MiB")
    monkeypatch.setenv("COVSDE_PATH_STEP_LIMIT", "2e7")


@pytest.mark.parametrize("name, arg", CASES)
def test_catalogue_of_bad_values_is_refused(small_limits, name, arg):
    """Complex (even 1 + 0j), text, None, bools, nan, -inf, objects, dicts and ragged lists are
    refused by every numeric argument (None only where it is the documented default)."""
    accepted = SOLVERS[name][3].get(arg, set())
    for kind, value in CATALOGUE.items():
        outcome = _outcome(name, arg, value, kind)
        if kind not in accepted:
            assert outcome == "refused", (name, arg, kind)


#: hypothesis-drawn values: anything a user (or a fuzzer) might pass to a numeric argument
NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10 ** 40), max_value=10 ** 40),
    st.complex_numbers(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.booleans(),
    st.none(),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4),
    st.lists(st.lists(st.integers(-3, 3), max_size=3), max_size=3),
    st.sampled_from([np.float32(1e38), np.int64(-1), np.uint8(7), np.array(2.5), np.array([[np.inf]]),
                     10 ** 12, 2 ** 64, 1e-320, -0.0, 1e308]),
)


@pytest.mark.parametrize("name, arg", CASES)
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(value=NUMBERS)
def test_random_bad_values_end_in_input_error_or_a_result(small_limits, name, arg, value):
    """Only InputError/ActivationError (ValueErrors) come out, whatever the value: never
    TypeError, AttributeError, OverflowError or MemoryError (and nothing hangs: accepted calls
    run under test-sized limits)."""
    _outcome(name, arg, value, type(value).__name__)


def test_rtol_nan_and_other_bad_tolerances_are_refused_not_hung():
    for bad in (math.nan, math.inf, 0.0, -1e-8, 1e-20, "1e-8", True, 1j):
        with pytest.raises(InputError, match="rtol"):
            resnet_kernel("tanh", V0_2, rtol=bad)
        with pytest.raises(InputError, match="rtol"):
            solve_mean_ode(derive_sde("tanh"), V0_2, 1.0, rtol=bad)
        if bad != 1e-20:                                   # a tiny absolute tolerance is fine
            with pytest.raises(InputError, match="atol"):
                resnet_kernel("tanh", V0_2, atol=bad)


def test_resnet_depth_zero_is_refused_like_the_other_simulators():
    with pytest.raises(InputError, match=r"depth must be a positive integer, got 0"):
        simulate_resnet("relu", Q0=np.eye(2), width=4, depth=0, networks=2)
    with pytest.raises(InputError, match=r"steps must be a positive integer, got 0"):
        simulate_sde(derive_sde("tanh"), np.eye(2), 1.0, steps=0, paths=2)


def test_complex_inputs_are_never_made_real(tanh):
    """A complex V0/Q0/X (even with zero imaginary part) is refused with a sentence saying so."""
    Vc = V0_2.astype(complex)
    for call in (lambda: simulate_sde(tanh, Vc, 1.0, steps=10, paths=2),
                 lambda: simulate_norm(tanh, 1 + 0j, 1.0, steps=10, paths=2),
                 lambda: simulate_mlp("tanh", V0=Vc, width=4, depth=1, networks=1),
                 lambda: simulate_mlp("tanh", X=Vc, width=4, depth=1, networks=1),
                 lambda: kernel_map("tanh", Vc),
                 lambda: resnet_kernel("relu", Vc)):
        with pytest.raises(InputError, match="complex|real number"):
            call()


def test_tally_of_bad_values(capsys):
    """Print (with -s) how the bad values tried above ended, per kind: the report's numbers."""
    if not TALLY:
        pytest.skip("run with the bad-value tests to see the tally")
    by_kind = Counter()
    for (_, _, kind, outcome), n in TALLY.items():
        by_kind[kind, outcome] += n
    with capsys.disabled():
        print(f"\nbad values tried: {sum(TALLY.values())} over {len(CASES)} (solver, argument) pairs")
        for (kind, outcome), n in sorted(by_kind.items()):
            print(f"  {kind:>20}: {outcome:8} {n}")


def test_fokker_planck_refuses_a_time_step_that_loses_mass(relu):
    """The finite-volume scheme conserves mass to ~1e-13; a time step so large that I − dt A loses
    its identity to rounding moves the mass (to 0 at T = 1e100) and is refused, not returned."""
    assert abs(correlation_density(relu, 0.3, 1.0, grid=400, time_steps=10).total_mass - 1) < 1e-12
    for T in (1e12, 1e100, 1e308):
        with pytest.raises(InputError, match="time_steps"):
            correlation_density(relu, 0.3, T, grid=400, time_steps=10)
