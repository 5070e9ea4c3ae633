"""The kinked_activations paper check passes in quick form and fails when the engine's exponent is wrong.

The perturbation gives ELU the smooth activations' exponent 1/2 (what a Taylor rule blind to the kink
would say): the finite networks are then shaped at s = sqrt(n), where the O(1/s) term of the kink is
n^(1/2) times too large, and they must disagree with the SDE.
"""
import pytest
import sympy as sp

from covsde.derive import derive_sde
from covsde.paper_checks import run_check
from conftest import Perturbed


@pytest.mark.slow
def test_kinked_activations_quick_passes():
    report = run_check("kinked_activations", quick=True)
    assert report.passed, str(report)
    assert any(c.name.startswith("elu: KS rho_T") and "(exponent 1)" in c.name for c in report.claims)


@pytest.mark.slow
def test_kinked_activations_fails_with_the_smooth_exponent_for_elu(monkeypatch):
    import covsde.paper_checks.kinked_activations as module

    def wrong(activation, **params):
        sde = derive_sde(activation, **params)
        return Perturbed(sde, exponent=sp.Rational(1, 2)) if activation == "elu" and not params else sde
    monkeypatch.setattr(module, "derive_sde", wrong)
    report = run_check("kinked_activations", quick=True)
    failed = {c.name for c in report.claims if not c.passed}
    assert any(name.startswith("elu: KS") for name in failed), failed
    assert not any(name.startswith("leaky") for name in failed), failed
