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


@pytest.mark.parametrize("kind, reference, tolerance, passing, failing", [
    ("close", 1.0, 0.5, [0.5, 1.0, 1.5], [0.49, 1.51]),
    ("at_most", 1.0, 0.5, [-1e9, 1.0, 1.5], [1.51, 1e9]),
    ("at_least", 1.0, 0.5, [0.5, 1.0, 1e9], [0.49, -1e9]),
])
def test_paper_claims_and_benchmark_targets_pass_by_one_rule(kind, reference, tolerance, passing, failing):
    """Closed bounds (a value on the bound passes); nan and ±inf never pass; a claim and a benchmark
    ratio with the same criterion get the same verdict."""
    from covsde.benchmarks.report import Ratio
    from covsde.paper_checks.report import Claim
    from covsde.verdict import Criterion
    criterion = Criterion(kind, reference, tolerance)
    for value in [*passing, *failing, float("nan"), float("inf"), -float("inf")]:
        verdict = value in passing
        assert criterion.met(value) is verdict, (kind, value)
        assert Claim("row", reference, value, tolerance, kind=kind).passed is verdict
        assert Ratio("row", value, "", criterion).met is verdict


def test_an_unknown_claim_kind_is_refused_when_the_claim_is_made():
    from covsde.paper_checks.report import Claim
    with pytest.raises(ValueError, match="at_most"):
        Claim("row", 1.0, 1.0, kind="below")
