"""The README is the front door: its Python example runs, its CLI transcripts are current, and what it
says about the project (built-in names, papers, license) matches the project."""
import re
import shlex
from pathlib import Path

import numpy as np
import pytest

from conftest import V0_UNEQUAL
from covsde.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _python_block():
    text = README.read_text()
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


def _console_transcripts():
    """pytest params (command line, shown output) for each ``$ covsde derive|stability ...`` in a console block.

    The simulate and compare transcripts are full-size Monte Carlo runs; they are not replayed here.
    """
    found = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(), re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, shown = chunk.partition("\n")
            args = shlex.split(command)
            if args[0] == "covsde" and args[1] in ("derive", "stability"):
                found.append(pytest.param(command, shown.rstrip(), id=command))
    return found


def test_readme_python_example_runs_at_small_size():
    pytest.importorskip("numba", reason="the README example runs backend='numba' (the fast extra)")
    code = _python_block()
    # same calls, smaller sizes so the test is quick
    for big, small in (("100_000", "2000"), ("10_000", "500"), ("steps=5000", "steps=500"),
                       ("width=128, depth=128, networks=2000", "width=16, depth=16, networks=200"),
                       ("width=256, depth=256, networks=100", "width=16, depth=16, networks=10")):
        code = code.replace(big, small)
    namespace = {"V": np.array(V0_UNEQUAL), "v": np.array([0.5, 1.0])}
    exec(compile(code, "README.md", "exec"), namespace)
    sde = namespace["sde"]
    # the comments of the example state these values (Li, Nica & Roy 2022: tanh has k = -2)
    assert str(sde.drift_expr) == "R*(-A - B + 2)" and sde.stability.k == -2


def test_readme_has_the_derive_and_stability_transcripts():
    commands = [param.values[0] for param in _console_transcripts()]
    assert {"covsde derive tanh", "covsde derive relu", "covsde stability softplus --V0 2"} <= set(commands)


@pytest.mark.parametrize("command, shown", _console_transcripts())
def test_readme_transcript_is_current(capsys, command, shown):
    assert main(shlex.split(command)[1:]) == 0
    assert capsys.readouterr().out.rstrip() == shown


def test_readme_lists_every_built_in_activation():
    from covsde.choices import ACTIVATIONS
    listed = re.search(r"`ACT` is a built-in name \(`(.*?)`\)", README.read_text(), re.S).group(1)
    assert [name.strip() for name in listed.split(",")] == list(ACTIVATIONS)


def test_citation_file_cites_the_papers_the_readme_names():
    cited = (ROOT / "CITATION.cff").read_text()
    named = set(re.findall(r"arXiv (\d{4}\.\d{5})", README.read_text()))
    assert named == {"2206.02768", "2302.00453", "2310.01683", "2411.15267"}
    for number in named:
        assert f"arXiv:{number}" in cited and f"10.48550/arXiv.{number}" in cited


def test_license_file_is_the_license_pyproject_declares():
    # pyproject.toml: license = {text = "MIT"} (read as text: tomllib needs Python 3.11)
    assert re.search(r'^license = \{text = "MIT"\}$', (ROOT / "pyproject.toml").read_text(), re.M)
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    assert "license: MIT" in (ROOT / "CITATION.cff").read_text()
