"""The command line offers exactly what the library has, and speaks to users, not to the tracker.

The names ``covsde`` accepts (schemes, noises, backends, conventions, checks, benchmarks) are
read from the library's own constants; every one the library defines must run from the command
line, and a name it does not define must be refused with exit status 2 and one line.
"""
import re

import numpy as np
import pytest

from covsde.cli import build_parser, main
from covsde.derive.shaping import CONVENTIONS
from covsde.solvers.random_streams import NOISES
from covsde.solvers.sde.driver import BACKENDS
from covsde.solvers.sde.schemes import SCHEMES

SUB_COMMANDS = ("derive", "stability", "simulate", "compare", "kernel", "check", "bench")


def _choices(command, option):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    return tuple(next(a for a in sub._actions if option in a.option_strings or a.dest == option).choices)


@pytest.mark.parametrize("command, option, library", [
    ("simulate", "--scheme", tuple(SCHEMES)), ("simulate", "--noise", NOISES),
    ("simulate", "--backend", BACKENDS), ("derive", "--convention", CONVENTIONS),
    ("stability", "--convention", CONVENTIONS),
])
def test_cli_offers_exactly_the_library_names(command, option, library):
    assert _choices(command, option) == tuple(library)


def test_check_names_are_the_paper_checks():
    from covsde.paper_checks import CHECKS
    assert _choices("check", "name") == tuple(CHECKS)


@pytest.mark.parametrize("scheme", list(SCHEMES))
def test_every_library_scheme_runs_from_the_cli_and_keeps_the_martingale_mean(tmp_path, capsys, scheme):
    # linear activation: zero drift, so E V_T = V_0; Var V_T^11 = (V_0^11)^2 (e^{2T} - 1) (SPEC §1)
    T, paths, steps = 0.5, 4000, 8
    out = tmp_path / "run.npz"
    assert main(["simulate", "linear", "--scheme", scheme, "--T", str(T), "--paths", str(paths),
                 "--steps", str(steps), "--seed", "2", "--out", str(out)]) == 0
    assert f"({scheme}, gaussian noise, numpy)" in capsys.readouterr().out
    v = np.load(out)["V"][:, 0, 0]
    se = np.sqrt(np.expm1(2 * T) / paths)
    assert abs(v.mean() - 1.0) < 5 * se + T / steps   # + a weak order 1 bias allowance


@pytest.mark.parametrize("args", [
    ["simulate", "tanh", "--scheme", "rk4"], ["simulate", "tanh", "--noise", "uniform"],
    ["simulate", "tanh", "--backend", "cuda"], ["compare", "tanh", "--method", "exact"],
    ["derive", "tanh", "--convention", "other"], ["check", "no_such_check"],
    ["bench", "no_such_benchmark"],
])
def test_a_name_the_library_does_not_have_exits_2_with_one_line(capsys, args):
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and args[-1] in err[0]


@pytest.mark.parametrize("command", [None, *SUB_COMMANDS])
def test_help_speaks_to_users_not_to_the_issue_tracker(capsys, command):
    assert main(["--help"] if command is None else [command, "--help"]) == 0
    text = capsys.readouterr().out
    assert text.strip()
    assert not re.search(r"\bissues? #?\d", text, re.I), text


def test_benchmark_titles_and_docstrings_do_not_cite_issues():
    import importlib

    from covsde.benchmarks import BENCHMARKS
    for name in BENCHMARKS:
        module = importlib.import_module(f"covsde.benchmarks.{name}")
        assert not re.search(r"\bissues? #?\d", f"{module.TITLE}\n{module.__doc__}", re.I), name


def test_derive_does_not_import_the_solvers():
    # `covsde derive` starts fast: the solver names behind --scheme/--noise/--backend are read lazily
    import subprocess
    import sys
    code = ("import sys; from covsde.cli import main; main(['derive', 'tanh']); "
            "print(sorted(m for m in sys.modules if m.startswith('covsde.solvers')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120).stdout
    assert out.strip().splitlines()[-1] == "[]"
