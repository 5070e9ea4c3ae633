"""The README is the front door: it runs as written.

Every ``$ covsde ...`` line of every console block is run through ``covsde.cli.main`` and its output
compared with the block: text exactly (runs of spaces aside: they only align columns), numbers to the
precision printed (:func:`agree_to_printed_precision`). Commands that cannot run in the suite are
listed in :data:`SKIPPED` with the reason, commands over ~10 s in :data:`SLOW` (run under the
``slow`` marker); every other command runs in the quick suite. The Python block runs as a script with
nothing defined beforehand, its sizes made smaller (only sizes). What the README says about the project
(built-in names, papers, license) matches the project.
"""
import re
import runpy
import shlex
from pathlib import Path

import numpy as np
import pytest

from covsde.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: Console commands the suite does not run, and why.
SKIPPED = {
    'python -m pip install -e ".[test,plot]"': "installs the package; the suite runs on the installed covsde",
    "covsde check": "the full paper checks take about 8 minutes on 2 cores; their --quick versions run in "
                    "tests/test_paper_checks*.py (slow), and the transcript elides the tables with '...'",
}
#: Console commands over ~10 s on 2 cores: run only under the slow marker.
SLOW = {
    "covsde simulate tanh --paths 100000 --steps 1000 --seed 0": "10^8 path-steps, about 15 s",
    "covsde compare tanh --width 128 --depth 128 --networks 2000 --seed 0": "2000 networks and 2*10^7 "
                                                                            "path-steps, about 12 s",
    "covsde simulate tanh --paths 50000 --steps 100 --seed 0 --stream --dask 2": "starts a Dask cluster of "
                                                                                  "2 processes, about 15 s",
}
#: Size replacements for the Python block (the same calls at smaller sizes, nothing else changed).
SMALLER_SIZES = (("100_000", "2000"), ("10_000", "500"), ("steps=5000", "steps=500"),
                 ("width=128, depth=128, networks=2000", "width=16, depth=16, networks=200"),
                 ("width=256, depth=256, networks=100", "width=16, depth=16, networks=10"))

NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def console_transcripts():
    """(command, shown output) for every ``$ `` line of every console block, in README order."""
    found = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(), re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            line, _, shown = chunk.partition("\n")
            command = re.sub(r"\s+#.*$", "", line).strip()      # the command without its comment
            found.append((command, shown.rstrip("\n")))
    return found


def _params():
    params = []
    for command, shown in console_transcripts():
        marks = []
        if command in SKIPPED:
            marks.append(pytest.mark.skip(reason=SKIPPED[command]))
        elif command in SLOW:
            marks.append(pytest.mark.slow)
        params.append(pytest.param(command, shown, id=command, marks=marks))
    return params


def _last_digit_unit(token: str) -> float:
    """The value of one unit in the last digit printed: 0.0186 -> 1e-4, 2.5e-3 -> 1e-4; 0 for an
    integer (2000 networks, seed 0, V^12: counts and labels are exact)."""
    if re.fullmatch(r"[-+]?\d+", token):
        return 0.0
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 10.0 ** (int(exponent or 0) - decimals)


def agree_to_printed_precision(actual: str, shown: str) -> str | None:
    """None when ``actual`` output agrees with the ``shown`` transcript, else what differs.

    Lines correspond one to one. In each line the text between numbers must be equal (a run of
    spaces counts as one space: it aligns columns) and each number must agree to the precision
    printed: a printed number stands for every value that rounds to it, so two printed numbers agree
    when those intervals meet, |a - s| <= (unit_a + unit_s)/2, a unit being one in the last digit.
    """
    actual_lines, shown_lines = actual.rstrip("\n").split("\n"), shown.rstrip("\n").split("\n")
    if len(actual_lines) != len(shown_lines):
        return f"{len(actual_lines)} lines printed, {len(shown_lines)} shown"
    for number, (a_line, s_line) in enumerate(zip(actual_lines, shown_lines), 1):
        a_parts, s_parts = NUMBER.split(a_line), NUMBER.split(s_line)
        a_numbers, s_numbers = NUMBER.findall(a_line), NUMBER.findall(s_line)
        same_text = [re.sub(r" +", " ", p) for p in a_parts] == [re.sub(r" +", " ", p) for p in s_parts]
        if not same_text or len(a_numbers) != len(s_numbers):
            return f"line {number}: printed {a_line!r}, shown {s_line!r}"
        for a, s in zip(a_numbers, s_numbers):
            slack = (_last_digit_unit(a) + _last_digit_unit(s)) / 2
            if abs(float(a) - float(s)) > slack * (1 + 1e-9):
                return f"line {number}: printed {a} where the README shows {s} ({a_line!r})"
    return None


@pytest.mark.parametrize("command, shown", _params())
def test_readme_console_transcript_is_what_the_command_prints(capsys, command, shown):
    args = shlex.split(command)
    assert args[0] == "covsde", f"a console command the test does not know how to run: {command!r}"
    assert main(args[1:]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    difference = agree_to_printed_precision(captured.out, shown)
    assert difference is None, difference


def test_every_skipped_or_slow_command_is_in_the_readme():
    commands = {command for command, _ in console_transcripts()}
    assert set(SKIPPED) | set(SLOW) <= commands
    assert {"covsde derive tanh", "covsde derive relu", "covsde stability softplus --V0 2"} <= commands


@pytest.mark.parametrize("printed, shown, agrees", [
    ("x 0.69301", "x 0.69301", True),
    ("x 0.69302", "x 0.69301", True),        # one unit apart: the rounding intervals meet
    ("x 0.69303", "x 0.69301", False),
    ("x 0.1884", "x 0.18841", True),         # %g drops a trailing zero
    ("x 0.0227", "x 0.0186", False),         # the stale compare table
    ("T = 1, 1000 steps (euler, gaussian noise, numpy)", "T = 1, 1000 steps (euler)", False),
    ("x   1.5", "x 1.5", True),              # column alignment
    ("2000", "2001", False),                 # integers are exact
    ("a\nb", "a", False),
])
def test_transcript_comparison_accepts_rounding_and_nothing_else(printed, shown, agrees):
    assert (agree_to_printed_precision(printed, shown) is None) == agrees


def _python_block():
    text = README.read_text()
    return re.search(r"```python\n(.*?)```", text, re.S).group(1)


@pytest.mark.slow    # about 15 s: numba compiles the example's backend="numba" runs
def test_readme_python_example_runs_as_a_script_at_small_size(tmp_path, capsys):
    pytest.importorskip("numba", reason="the README example runs backend='numba' (the fast extra)")
    code = _python_block()
    for big, small in SMALLER_SIZES:
        assert big in code, f"the README example no longer has {big!r}: update SMALLER_SIZES"
        code = code.replace(big, small)
    script = tmp_path / "readme_example.py"
    script.write_text(code)
    namespace = runpy.run_path(str(script), run_name="__main__")    # nothing defined beforehand
    sde, V, v = namespace["sde"], namespace["V"], namespace["v"]
    # what its comments state: tanh has b^ab = R (2 - A - B) and k = -2 (Li, Nica & Roy 2022), so the
    # one-input drift is b(v) = -2 v (v - 1) and the norm is stationary with law Gamma(1, rate 2)
    assert str(sde.drift_expr) == "R*(-A - B + 2)" and sde.stability.k == -2
    A, B, R = V[0, 0], V[1, 1], V[0, 1]
    expected = np.array([[A * (2 - 2 * A), R * (2 - A - B)], [R * (2 - A - B), B * (2 - 2 * B)]])
    np.testing.assert_allclose(sde.drift(V), expected, rtol=1e-13)
    np.testing.assert_allclose(sde.norm_drift(v), -2 * v * (v - 1), rtol=1e-13)
    assert sde.stability.regime == "stationary"
    assert sde.stability.stationary_law.mean() == pytest.approx(0.5, rel=1e-12)
    assert "rho^12" in capsys.readouterr().out      # print(solvers.compare(...)) ran


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
