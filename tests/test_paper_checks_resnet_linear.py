"""The ResNet-commutativity and deep-linear-mixture checks pass, and fail when a formula is wrong."""
import numpy as np
import pytest

from covsde.paper_checks import run_check


@pytest.mark.slow
def test_resnet_commutativity_quick_passes():
    report = run_check("resnet_commutativity", quick=True)
    assert report.passed, str(report)


@pytest.mark.slow
def test_resnet_commutativity_fails_when_the_ode_right_hand_side_is_wrong(monkeypatch):
    import covsde.paper_checks.resnet_commutativity as mod
    from covsde.solvers.kernels.resnet_kernel import resnet_kernel

    # dq/dt = 1.21 F(q) instead of F(q): the limit kernel the finite networks are compared with
    monkeypatch.setattr(mod, "resnet_kernel", lambda phi, Q0, **kw: resnet_kernel(phi, Q0, alpha=1.1, **kw))
    report = run_check("resnet_commutativity", quick=True)
    assert not report.passed
    failed = {c.name for c in report.claims if not c.passed}
    assert any("recursion vs ODE" in name for name in failed)
    assert any("mean kernel" in name for name in failed)


@pytest.mark.slow
def test_deep_linear_mixture_quick_passes():
    report = run_check("deep_linear_mixture", quick=True)
    assert report.passed, str(report)


@pytest.mark.slow
def test_deep_linear_mixture_fails_when_the_mixing_variance_is_wrong(monkeypatch):
    import covsde.paper_checks.deep_linear_mixture as mod

    # xi ~ N(-alpha, alpha) instead of N(-alpha, 2 alpha): the finite law no longer tends to it
    monkeypatch.setattr(mod, "mixing_law", lambda alpha: (-alpha, alpha))
    report = run_check("deep_linear_mixture", quick=True)
    assert not report.passed
    failed = {c.name for c in report.claims if not c.passed}
    assert any("order in 1/N" in name for name in failed)


def test_mixture_density_integrates_to_one_with_the_stated_kurtosis():
    from covsde.paper_checks.deep_linear_mixture import K, mixture_density

    x = np.linspace(-300, 300, 120_001)
    for alpha in (0.25, 1.0):
        p = mixture_density(x, alpha)
        m0, m2, m4 = (np.trapezoid(p * x ** k, x) for k in (0, 2, 4))
        assert abs(m0 - 1) < 1e-6 and abs(m2 - K) < 1e-5
        assert abs(m4 / m2 ** 2 - 3 * np.exp(2 * alpha)) < 1e-3 * 3 * np.exp(2 * alpha)
