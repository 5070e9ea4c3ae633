"""The paper checks in their quick form pass, and fail when the toolkit is wrong."""
import pytest

from covsde.paper_checks import CHECKS, run_check


def test_shaping_exponent_quick_passes():
    report = run_check("shaping_exponent", quick=True)
    assert report.passed, str(report)


def test_shaping_exponent_fails_when_the_drift_is_wrong(monkeypatch):
    import covsde.paper_checks.shaping_exponent as mod
    from covsde.derive import derive_sde

    # perturb the formula under test: the unnormalized drift in place of the normalized one
    monkeypatch.setattr(mod, "derive_sde", lambda text: derive_sde(text, convention="unnormalized"))
    report = run_check("shaping_exponent", quick=True)
    assert not report.passed


def test_unknown_check_is_a_clear_error():
    from covsde.derive.errors import InputError
    with pytest.raises(InputError, match="available"):
        run_check("nope")
    assert set(CHECKS) >= {"covariance_sde", "norm_stability", "shaping_exponent",
                           "resnet_commutativity", "deep_linear_mixture"}
