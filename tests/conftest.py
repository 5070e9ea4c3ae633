"""Shared constants, references and fixtures of the test suite.

Test modules import the constants with ``from conftest import KS_ALPHA, ...`` (pytest puts this
folder on ``sys.path``); fixtures need no import. Everything here is independent of the code under
test except the fixtures, which derive the SDEs the solver tests run.
"""
import numpy as np
import pytest
import sympy as sp

#: Level of every KS test in the suite: a correct implementation fails one with probability 1e-3.
KS_ALPHA = 1e-3


def _frozen(rows):
    array = np.array(rows, dtype=np.float64)
    array.flags.writeable = False    # shared by many tests: none may change it in place
    return array


#: Two unit-norm inputs with correlation 0.3: the example of the README and of the paper checks.
V0_TWO_INPUTS = _frozen([[1.0, 0.3], [0.3, 1.0]])
#: Two inputs of unequal norms (V^11 = 1.2, V^22 = 0.8, V^12 = 0.3), so that a swapped or
#: symmetrised index shows.
V0_UNEQUAL = _frozen([[1.2, 0.3], [0.3, 0.8]])


def gauss_hermite_normal(nodes: int):
    """Nodes and weights of the Gauss–Hermite rule for E[f(z)], z ~ N(0, 1) (probabilists' rule):
    ``sum(w * f(u)) = E f(z)`` exactly for polynomials f of degree <= 2 nodes - 1.

    Returns
    -------
    u, w : (nodes,) float64 arrays, w summing to 1.
    """
    u, w = np.polynomial.hermite_e.hermegauss(nodes)
    return u, w / np.sqrt(2 * np.pi)


@pytest.fixture(scope="session")
def tanh():
    """The derived SDE of tanh (a = 1, normalized): b^ab = R (2 - A - B), k = -2."""
    from covsde.derive import derive_sde
    return derive_sde("tanh", a=1, convention="normalized")


@pytest.fixture(scope="session")
def linear():
    """The derived SDE of the linear activation: zero drift, V a matrix geometric Brownian motion."""
    from covsde.derive import derive_sde
    return derive_sde("x")


@pytest.fixture(scope="session")
def relu():
    """The derived SDE of the ReLU-like family with the paper's c+ = 0, c- = -1."""
    from covsde.derive import derive_sde
    return derive_sde("relu", c_plus=0, c_minus=-1)


# Hypothesis draws the same examples on every run (CI included): a failure found once is found again.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("covsde", derandomize=True, deadline=None)
_hypothesis_settings.load_profile("covsde")


@pytest.fixture
def no_eval(monkeypatch):
    """Make any call to eval/exec/sympify while user text is parsed an immediate test failure."""
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("user text reached eval/exec/sympify")
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(sp, "sympify", forbidden)


class Perturbed:
    """A derived object with some attributes replaced, everything else delegated (the paper-check
    tests use it to put one plausible mistake into a formula and see the check fail)."""

    def __init__(self, inner, **replaced):
        self._inner = inner
        self.__dict__.update(replaced)

    def __getattr__(self, name):
        return getattr(self._inner, name)
