"""The written scheme contract (covsde.solvers.sde.scheme): a scheme defined here runs through
``simulate_sde`` by name, without any edit to the driver, and its measured weak order is the one
it declares.

The reference is exact: for the m = 1 covariance SDE with a linear drift,

    dV = λ V dt + sqrt(2) V dB,     E V_T = V0 e^{λT},     Var V_T = V0² e^{2λT} (e^{2T} − 1),

(geometric Brownian motion; Σ = 2V² for m = 1, SPEC §1).  A one-step scheme whose conditional
mean is E[V_{n+1} | V_n] = g(λΔt) V_n has E V_N = V0 g(λΔt)^N exactly, so both the weak error
against e^{λT} and the scheme's own discrete mean are known in closed form:

    Euler and Lie              g = 1 + λΔt            (the noise has mean 0, resp. E e^{√2ΔW − Δt} = 1),
    drift-implicit Euler       g = 1 / (1 − λΔt)      (V_{n+1} = V_n + λ V_{n+1} Δt + noise).

All three have weak order 1: g^N − e^{λT} = O(Δt).  Tolerances: 5 Monte Carlo standard errors.
λ > 0 keeps 1 + λΔt + sqrt(2Δt) z > 0 beyond 3.5 standard deviations at the coarsest step, so
the PSD clipping of a negative Euler state moves the mean by less than 1e-4 of a standard error.
"""
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

from covsde.derive import InputError, derive_sde
from covsde.solvers import SCHEMES, Scheme, simulate_sde
from covsde.solvers.sde import schemes as scheme_package
from covsde.solvers.sde.schemes import get_scheme, scheme_names
from covsde.solvers.sde.symmetric_noise import covariance_noise, goe_normals_from_brownian, symmetric_noise_count

LAMBDA, T, V0 = 4.0, 0.5, 1.0
STEPS = (8, 16, 32, 64)
PATHS = 200_000
FIXED_POINT_ITERATIONS = 40          # contraction factor |λ| Δt <= 1/4: error 4^-40 of the first


class DriftImplicitEuler(Scheme):
    """V_new = V + b(V_new) Δt + L S Lᵀ (L Lᵀ = V, S the GOE increment): the drift at the end of
    the step, by fixed-point iteration W ← V + L S Lᵀ + b(W) Δt (a contraction for Δt |b'| < 1).
    Weak order 1, strong order 1/2, like explicit Euler."""

    name = "drift_implicit_euler (test)"
    weak_order = 1.0
    strong_order = 0.5

    def normal_count(self, m):
        return symmetric_noise_count(m)

    def normals_from_brownian(self, dG, dt):
        return np.moveaxis(goe_normals_from_brownian(dG, dt), -1, 0)

    def step(self, V, drift, dt, z):
        noise, failed = covariance_noise(V, np.moveaxis(z, 0, -1), dt)
        explicit = V + noise
        W = explicit + drift(V) * dt
        for _ in range(FIXED_POINT_ITERATIONS):
            W = explicit + drift(W) * dt
        return 0.5 * (W + np.swapaxes(W, -1, -2)), failed


class LinearDrift:
    """b(V) = λ V: the covariance SDE of an activation with E φ_s φ_s shaped to λ R (a test SDE)."""

    def __init__(self, lam):
        self.lam = lam

    def drift(self, V):
        return self.lam * np.asarray(V)


DISCRETE_MEAN_FACTOR = {                 # g(λΔt): E[V_{n+1} | V_n] = g V_n
    "euler": lambda x: 1.0 + x,
    "lie": lambda x: 1.0 + x,
    DriftImplicitEuler.name: lambda x: 1.0 / (1.0 - x),
}


@pytest.mark.parametrize("name", sorted(DISCRETE_MEAN_FACTOR))
def test_measured_weak_order_on_linear_gbm_is_the_declared_order(name):
    """E V_T of simulate_sde(scheme=name) is V0 g(λΔt)^N within 5 s.e. at every N, and its error
    against the exact V0 e^{λT} falls with the scheme's declared weak order (log-log slope)."""
    scheme, sde = get_scheme(name), LinearDrift(LAMBDA)
    exact = V0 * np.exp(LAMBDA * T)
    errors = []
    for i, n in enumerate(STEPS):
        V = simulate_sde(sde, [[V0]], T, steps=n, paths=PATHS, seed=100 + i, scheme=name).V[:, 0, 0]
        mean, se = V.mean(), V.std(ddof=1) / np.sqrt(PATHS)
        discrete = V0 * DISCRETE_MEAN_FACTOR[name](LAMBDA * T / n) ** n
        assert abs(mean - discrete) < 5 * se, (n, mean, discrete, se)
        assert abs(mean - exact) > 5 * se, (n, mean, exact, se)       # the bias is resolved
        errors.append(abs(mean - exact))
    dts = T / np.array(STEPS)
    slope = np.polyfit(np.log(dts), np.log(errors), 1)[0]
    assert abs(slope - scheme.weak_order) < 0.2, (name, slope)       # pre-asymptotic: 0.9 to 1.15


def test_a_new_scheme_is_registered_by_name_without_touching_the_driver(tmp_path):
    """Defining the class registers it: the driver finds it by name, reports it, refuses what it
    does not declare (Rademacher noise, a compiled kernel), and it is reproducible like the others."""
    assert DriftImplicitEuler.name in scheme_names()
    assert isinstance(get_scheme(DriftImplicitEuler.name), DriftImplicitEuler)
    tanh = derive_sde("tanh")
    V0_2 = np.array([[1.0, 0.3], [0.3, 0.8]])
    kw = dict(steps=20, paths=5000, seed=3, scheme=DriftImplicitEuler.name)
    result = simulate_sde(tanh, V0_2, 0.5, **kw)
    assert result.scheme == DriftImplicitEuler.name and DriftImplicitEuler.name in result.message
    assert not result.exploded.any() and np.all(np.isfinite(result.V))
    assert np.array_equal(result.V, np.swapaxes(result.V, -1, -2))
    again = simulate_sde(tanh, V0_2, 0.5, **kw, chunk=4096, workers=2)
    assert np.array_equal(result.V, again.V)
    with pytest.raises(InputError, match="rademacher"):
        simulate_sde(tanh, V0_2, 0.5, **kw, noise="rademacher")
    with pytest.raises(InputError, match="no compiled step"):
        simulate_sde(tanh, V0_2, 0.5, **kw, backend="numba")


def test_an_unregistered_scheme_object_runs_as_the_registered_one():
    """``register=False`` keeps a scheme out of the registry; passed as an object it gives the
    numbers of the same scheme run by name (same streams, same step)."""

    class Unlisted(DriftImplicitEuler, register=False):
        name = "unlisted (test)"

    assert Unlisted.name not in scheme_names()
    tanh = derive_sde("tanh")
    by_object = simulate_sde(tanh, np.eye(2), 0.5, steps=20, paths=300, seed=4, scheme=Unlisted())
    by_name = simulate_sde(tanh, np.eye(2), 0.5, steps=20, paths=300, seed=4, scheme=DriftImplicitEuler.name)
    assert np.all(np.isfinite(by_name.V))
    assert np.array_equal(by_object.V, by_name.V) and by_object.scheme == Unlisted.name


def test_each_module_of_the_scheme_package_defines_one_registered_scheme():
    """One scheme = one class in one file, found by module discovery: SCHEMES lists them all."""
    found = []
    for module in pkgutil.iter_modules(scheme_package.__path__):
        mod = importlib.import_module(f"{scheme_package.__name__}.{module.name}")
        defined = [c for _, c in inspect.getmembers(mod, inspect.isclass)
                   if issubclass(c, Scheme) and c.__module__ == mod.__name__]
        assert len(defined) == 1, (module.name, defined)
        found.append(defined[0].name)
        assert isinstance(get_scheme(defined[0].name), defined[0])
    assert sorted(found) == sorted(SCHEMES) and {"euler", "lie", "strang"} <= set(SCHEMES)


def test_contract_violations_are_refused_when_the_class_is_defined():
    with pytest.raises(TypeError, match="weak_order"):
        class NoOrder(Scheme, register=False):                               # noqa: F841
            name = "no order"
            strong_order = 0.5

            def normal_count(self, m):
                return 1

            def normals_from_brownian(self, dG, dt):
                return dG

            def step(self, V, drift, dt, z):
                return V, np.zeros(len(V), bool)
    with pytest.raises(TypeError, match="already registered"):
        class SameName(DriftImplicitEuler):                                  # noqa: F841
            pass
    with pytest.raises(TypeError, match="noises"):
        class UnknownNoise(DriftImplicitEuler, register=False):              # noqa: F841
            name = "unknown noise"
            noises = ("uniform",)
    with pytest.raises(TypeError):                                           # step not implemented
        class NoStep(Scheme, register=False):
            name, weak_order, strong_order = "no step", 1.0, 0.5

            def normal_count(self, m):
                return 1

            def normals_from_brownian(self, dG, dt):
                return dG
        NoStep()


def test_unknown_scheme_names_the_registered_ones():
    with pytest.raises(InputError, match="euler"):
        simulate_sde(derive_sde("tanh"), np.eye(2), 1.0, steps=2, paths=2, scheme="rk4")
    with pytest.raises(InputError, match="Scheme object"):
        get_scheme(42)
