"""The covariance_sde and norm_stability paper checks pass in quick form and fail when a formula is wrong.

Each perturbation replaces one formula the symbolic engine owns (the drift, the norm drift, the
explosion probability) by a plausible mistake; the finite networks (ground truth) and the
independent limits (Fokker–Planck density, exact GBM law) must then disagree with it.
"""
import numpy as np
import pytest

from covsde.derive import derive_sde
from covsde.paper_checks import run_check
from conftest import Perturbed


@pytest.mark.slow
def test_covariance_sde_quick_passes():
    report = run_check("covariance_sde", quick=True)
    assert report.passed, str(report)


@pytest.mark.slow
def test_norm_stability_quick_passes():
    report = run_check("norm_stability", quick=True)
    assert report.passed, str(report)


def _run_with_wrong_sde(monkeypatch, check, perturb):
    """Run ``check`` (quick) with every SDE it derives replaced by ``perturb(sde)``."""
    import importlib
    module = importlib.import_module(f"covsde.paper_checks.{check}")
    monkeypatch.setattr(module, "derive_sde", lambda activation, **params: perturb(derive_sde(activation, **params)))
    return run_check(check, quick=True)


def test_covariance_sde_fails_when_the_drift_has_the_wrong_sign(monkeypatch):
    report = _run_with_wrong_sde(monkeypatch, "covariance_sde",
                                 lambda sde: Perturbed(sde, drift=lambda V: -sde.drift(V)))
    assert not report.passed
    failed = {c.name for c in report.claims if not c.passed}
    # the SDE paths disagree with the finite networks (tanh) and with the Fokker–Planck density (ReLU-like)
    assert any(name.startswith("tanh: KS") and "vs SDE" in name for name in failed), failed
    assert "relu-like: SDE paths rho_T vs Fokker-Planck (KS)" in failed, failed


@pytest.mark.slow
def test_norm_stability_fails_with_the_unnormalized_explosion_probability(monkeypatch):
    def wrong(sde):
        k = float(sde.stability.k)
        # 1 - exp(-k V0) is the unnormalized convention's formula (SPEC §1), not the normalized one
        stability = Perturbed(sde.stability,
                              explosion_probability=lambda V0: max(0.0, 1 - np.exp(-k * V0)))
        return Perturbed(sde, stability=stability)

    report = _run_with_wrong_sde(monkeypatch, "norm_stability", wrong)
    assert not report.passed
    failed = [c.name for c in report.claims if not c.passed]
    assert all("vs closed form" in name for name in failed), failed


@pytest.mark.slow
def test_norm_stability_fails_when_the_norm_drift_has_the_wrong_sign(monkeypatch):
    report = _run_with_wrong_sde(monkeypatch, "norm_stability",
                                 lambda sde: Perturbed(sde, norm_drift=lambda v: -sde.norm_drift(v)))
    assert not report.passed
    failed = {c.name for c in report.claims if not c.passed}
    # with k V(V-1) negated no SDE path explodes: the networks' fractions and the closed form disagree
    assert any("networks 2f(n)-f(n/2)" in name for name in failed), failed
