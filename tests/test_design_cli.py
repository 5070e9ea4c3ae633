"""`covsde design`: the README's refusal is what the command prints, and bad requests exit 2 with one line."""
import re
import shlex
from pathlib import Path

import pytest

from covsde.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_refusal():
    block = re.search(r"```text\n\$ (covsde design .*?)\n(covsde design: error: .*?)\n```", README.read_text(), re.S)
    return block.group(1), block.group(2)


def test_readme_refusal_is_what_the_command_prints(capsys):
    command, shown = _readme_refusal()
    assert main(shlex.split(command)[1:]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == shown


@pytest.mark.parametrize("args, words", [
    (["design", "relu", "--target", "correlation"], "needs --eta"),
    (["design", "relu", "--target", "correlation", "--eta", "0.5", "--value", "1"], "does not take --value"),
    (["design", "relu", "--target", "nope", "--eta", "0.5"], "invalid choice"),
    (["design", "relu", "--target", "correlation", "--eta", "0.5", "--bounds", "1"], "--bounds takes LO,HI"),
    (["design", "relu", "--target", "correlation", "--eta", "-0.5"], "reachable range is [0, 0.99"),
    (["design", "leaky_relu", "--target", "tat", "--eta", "0.9", "--depth", "10"], "reachable range is [0, 0.87"),
])
def test_bad_design_requests_exit_2_with_one_line(capsys, args, words):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]


def test_design_solves_a_norm_k_target_from_the_command_line(capsys):
    # tanh: k = -2/a^2, so k = -2 needs a = 1
    assert main(["design", "tanh", "--target", "norm-k", "--value", "-2", "--free", "a", "--no-prediction"]) == 0
    out = capsys.readouterr().out
    assert "solved for  a = 1\n" in out or re.search(r"solved for\s+a = 1\b", out)


@pytest.mark.slow
def test_design_paper_check_quick_passes():
    from covsde.paper_checks import run_check
    report = run_check("design", quick=True)
    assert report.passed, str(report)


@pytest.mark.slow
def test_design_paper_check_fails_when_the_leaky_relu_c_map_is_perturbed(monkeypatch):
    import covsde.design.unshaped_maps as maps
    from covsde.paper_checks import run_check
    exact = maps.leaky_relu_c_map
    monkeypatch.setattr(maps, "leaky_relu_c_map", lambda c, alpha: exact(c, alpha) * (1 - 1e-5))
    report = run_check("design", quick=True)
    failed = [claim.name for claim in report.claims if not claim.passed]
    assert any(name.startswith("TAT leaky-ReLU slope") for name in failed), str(report)
