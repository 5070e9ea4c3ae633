"""Richardson-extrapolated Euler: measured weak order 2 against closed-form expectations.

Two linear SDEs with m = 1, whose expectations are known exactly:

* dV = λ V dt + sqrt(2) V dB (a test-local drift λV): E[V_T] = V0 e^{λT}. With λT = -1 and
  T = 0.001 the drift's discretisation bias is that of λT = -1 while the noise's variance is small
  (Var V_T / E[V_T]² = e^{2T} - 1), so errors of order 1e-5 are resolved by 10^5 paths.
* The zero-drift SDE of the linear activation, dV = sqrt(2) V dB (SPEC §1, §3):
  E[V_T²] = V0² e^{2T}. Its relative variance e^{8T} - 1 is too large to measure an order, but
  the Euler bias at 4 steps is resolved and must be removed by the extrapolation.
"""
import numpy as np
import pytest

from covsde.derive import InputError, derive_sde
from covsde.solvers.sde.richardson import richardson_expectation


class LinearDrift:
    """dV = λ V dt + Σ(V)^{1/2} dB: the drift λV, vectorised over (..., m, m)."""

    def __init__(self, rate):
        self.rate = rate

    def drift(self, V):
        return self.rate * np.asarray(V, dtype=np.float64)


def _order(change, change_se):
    """log2 of successive changes, and its standard error by the delta method."""
    order = np.log2(change[:-1] / change[1:])
    relative = np.hypot(change_se[:-1] / change[:-1], change_se[1:] / change[1:])
    return order, relative / np.log(2)


def test_richardson_has_weak_order_two_and_euler_order_one_on_linear_drift():
    T, rate = 0.001, -1000.0
    exact = np.exp(rate * T)
    result = richardson_expectation(LinearDrift(rate), [[1.0]], T, lambda V: V[:, 0, 0],
                                    steps=[4, 8, 16, 32], paths=100_000, seed=11)
    # the change between successive N is measured path by path on shared Brownian paths
    order, order_se = _order(result.change, result.change_standard_error)
    assert np.all(order_se < 0.05)
    assert abs(order[-1] - 2.0) < 0.25 + 4 * order_se[-1]
    # Euler alone: weak order 1, from its biases against the closed form
    euler_bias = result.euler_value - exact
    assert np.all(np.abs(euler_bias) > 5 * result.euler_standard_error)
    euler_order = -np.polyfit(np.log(result.euler_steps), np.log(np.abs(euler_bias)), 1)[0]
    assert abs(euler_order - 1.0) < 0.15
    # the finest extrapolated value agrees with E[V_T] = e^{λT} within its noise and O(N^-2) bias
    assert abs(result.value[-1] - exact) < 4 * result.standard_error[-1] + 2 * abs(result.change[-1])


def test_richardson_removes_euler_bias_of_second_moment_of_zero_drift_sde():
    sde = derive_sde("linear")
    T, V0 = 0.25, 1.5
    exact = V0**2 * np.exp(2 * T)
    result = richardson_expectation(sde, [[V0]], T, lambda V: V[:, 0, 0] ** 2, steps=4,
                                    paths=400_000, seed=5)
    euler4 = result.euler_value[list(result.euler_steps).index(4)]
    se4 = result.euler_standard_error[list(result.euler_steps).index(4)]
    assert abs(euler4 - exact) > 4 * se4                      # Euler's bias is visible ...
    assert abs(result.value[0] - exact) < 4 * result.standard_error[0]   # ... and removed


def test_richardson_estimate_does_not_depend_on_chunk():
    sde = derive_sde("tanh")
    V0 = [[1.0, 0.3], [0.3, 1.0]]
    f = lambda V: V[:, 0, 1]                                   # noqa: E731
    a = richardson_expectation(sde, V0, 0.5, f, steps=[2, 4], paths=9000, seed=3, chunk=4096)
    b = richardson_expectation(sde, V0, 0.5, f, steps=[2, 4], paths=9000, seed=3, chunk=12288)
    np.testing.assert_allclose(a.value, b.value, rtol=1e-12)


def test_richardson_rejects_step_counts_that_do_not_nest():
    with pytest.raises(InputError, match="divide"):
        richardson_expectation(LinearDrift(0.0), [[1.0]], 1.0, lambda V: V[:, 0, 0], steps=[3, 4], paths=10)


def test_richardson_reports_exploding_paths():
    sde = derive_sde("sinh", convention="unnormalized")   # k > 0: explodes with positive probability
    with pytest.raises(InputError, match="exploded"):
        richardson_expectation(sde, [[3.0]], 2.0, lambda V: V[:, 0, 0], steps=8, paths=4096, seed=1)
