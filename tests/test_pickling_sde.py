"""Derived SDEs and activations travel between processes as their specification.

The round trip must give the same mathematics: the same symbolic drift, norm drift and stability
exponent, and the same numeric drift on random covariances, at any point of the object's life
(before and after its numeric functions were generated), also when unpickled in a fresh
interpreter that never derived it.
"""
import pickle
import subprocess
import sys

import numpy as np
import pytest

from covsde.derive import derive_sde
from covsde.derive.activation import as_activation
from covsde.derive.sde_specification import activation_specification, sde_specification


def random_covariances(count, m, seed=0):
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((count, m, m + 2))
    return G @ np.swapaxes(G, -1, -2) / (m + 2)


def _sdes():
    return {
        "tanh": lambda: derive_sde("tanh"),
        "relu": lambda: derive_sde("relu", c_plus=0, c_minus=-1),
        "leaky relu c+=1/2": lambda: derive_sde("relu", c_plus=0.5, c_minus=-1),
        "x + alpha x^2 at alpha=0.3": lambda: derive_sde("x + alpha*x**2").subs(alpha=0.3),
        "sin, a=2, unnormalized": lambda: derive_sde("sin", a=2, convention="unnormalized"),
        "elu (kinked, exponent 1)": lambda: derive_sde("elu"),
        "x + x^2/2 with slopes (0, -1)": lambda: derive_sde("x + x**2/2", c_plus=0, c_minus=-1),
    }


@pytest.mark.parametrize("name", list(_sdes()))
@pytest.mark.parametrize("used", [False, True], ids=["fresh", "after drift()"])
def test_round_trip_keeps_drift_expression_and_values(name, used):
    sde = _sdes()[name]()
    V = random_covariances(50, 3)
    if used:
        sde.drift(V)
        sde.norm_drift(np.array([0.5, 1.0]))
    back = pickle.loads(pickle.dumps(sde))
    assert back.drift_expr == sde.drift_expr
    assert back.norm_drift_expr == sde.norm_drift_expr
    assert back.stability.k == sde.stability.k and back.convention == sde.convention and back.a == sde.a
    np.testing.assert_array_equal(back.drift(V), sde.drift(V))
    if sde.family == "relu_like":
        rho = np.linspace(-1, 1, 21)
        np.testing.assert_array_equal(back.correlation_drift(rho), sde.correlation_drift(rho))


def test_symbolic_sde_round_trip_keeps_its_parameters():
    sde = derive_sde("x + alpha*x**2", a="a")
    back = pickle.loads(pickle.dumps(sde))
    assert back.drift_expr == sde.drift_expr
    assert [s.name for s in back.parameters] == ["a", "alpha"]
    assert back.subs(alpha=0.2, a=2).drift_expr == sde.subs(alpha=0.2, a=2).drift_expr


def test_builtin_activation_travels_by_name_and_custom_by_expression():
    assert activation_specification(as_activation("tanh")).raw is None
    custom = sde_specification(derive_sde("x + alpha*x**2").subs(alpha=0.3))
    assert custom.activation.raw is not None and "Rational(3, 10)" in custom.activation.raw


def test_activation_round_trip_keeps_the_numeric_function():
    x = np.linspace(-3, 3, 101)
    for act in (as_activation("gelu"), as_activation("x + alpha*x**2", alpha=0.25),
                as_activation("relu", c_plus=0.5, c_minus=-1)):
        back = pickle.loads(pickle.dumps(act))
        assert back.expr == act.expr and back.family == act.family
        np.testing.assert_array_equal(back.shaped_function(64)(x), act.shaped_function(64)(x))


def test_unpickled_in_a_fresh_interpreter_gives_the_same_drift(tmp_path):
    """No cache of this process helps: the other interpreter re-derives from the specification."""
    sde = derive_sde("x + alpha*x**2").subs(alpha=0.3)
    V = random_covariances(20, 2, seed=3)
    sde.drift(V)
    (tmp_path / "sde.pkl").write_bytes(pickle.dumps((sde, V)))
    code = ("import pickle, sys, numpy as np; sde, V = pickle.load(open(sys.argv[1], 'rb')); "
            "np.save(sys.argv[2], sde.drift(V))")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "sde.pkl"), str(tmp_path / "b.npy")], check=True)
    np.testing.assert_array_equal(np.load(tmp_path / "b.npy"), sde.drift(V))
