"""The command line is never silently wrong: a bad input ends in exit status 2 and ONE line on stderr
(no traceback, no raw NumPy/SciPy warning), before any work starts, in command-line words.

Grouped by kind:
1. outputs (--out, --figures, --markdown) are tried before the run and written under the name given;
2. the hostile values the issue names (seed -1, a schedule singular at t = 0, coefficients beyond
   float64), and negative numbers in scientific notation without '=';
3. the parser: --version, help text on every option, the same refusal for the same option everywhere;
4. warnings become one note line (or nothing, when an error line is printed);
5. library advice becomes command-line advice, for every message the library can raise, and the
   advice works when followed;
6. .npy inputs are checked from their header before loading;
7. hypothesis-generated bad values for every numeric option of every sub-command.
"""
import argparse
import ast
import importlib.metadata
import math
import re
import string
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import covsde.benchmarks
import covsde.paper_checks
import covsde.solvers
import covsde.solvers.kernels.resnet_kernel
from covsde import option_types
from covsde.cli import build_parser, main
from covsde.command_line_advice import command_line_message, option_names
from covsde.input_array import MEMORY_LIMIT

ROOT = Path(__file__).resolve().parents[1]
SIMULATE = ["simulate", "tanh", "--paths", "10", "--steps", "40"]
COMPARE = ["compare", "tanh", "--networks", "4", "--paths", "4", "--width", "4", "--depth", "4"]


def _run(capsys, argv):
    """(exit status, stdout, stderr lines) of ``covsde argv`` run in-process."""
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip().splitlines()


def _assert_one_error_line(code, err, command, *mentions):
    assert code == 2, err
    assert len(err) == 1, err
    assert err[0].startswith(f"covsde {command}: error: "), err
    assert "Traceback" not in err[0] and "Warning" not in err[0]
    for text in mentions:
        assert text in err[0], (text, err[0])


def _work_started(*args, **kwargs):
    raise AssertionError("the work started although the input was refused")


@pytest.fixture
def no_work(monkeypatch):
    """Every expensive entry point of the commands fails the test if it is called."""
    monkeypatch.setattr(covsde.solvers, "simulate_sde", _work_started)
    monkeypatch.setattr(covsde.solvers, "simulate_mlp", _work_started)
    monkeypatch.setattr(covsde.solvers.kernels.resnet_kernel, "resnet_kernel", _work_started)
    monkeypatch.setattr(covsde.paper_checks, "run_check", _work_started)
    monkeypatch.setattr(covsde.benchmarks, "run_benchmark", _work_started)
    monkeypatch.setattr(covsde.solvers.parameter_sweep, "sweep", _work_started)


@pytest.fixture
def two_inputs(tmp_path):
    """Two unit inputs in R^2 with correlation 0.6, as rows of a .npy file; q0 = X X^T / 2."""
    path = tmp_path / "X.npy"
    np.save(path, np.array([[1.0, 1.0], [1.6, 0.4]]))
    return path


# 1. Outputs -------------------------------------------------------------------------------------

OUTPUT_OPTIONS = [
    (SIMULATE, "--out", "run.npz"),
    (["kernel", "x", "--resnet", "--inputs", "{inputs}"], "--out", "K.npy"),
    (["bench", "generated_drift", "--quick"], "--markdown", "table.md"),
    (["bench", "generated_drift", "--quick"], "--figures", "figs"),
    (["check", "shaping_exponent", "--quick"], "--figures", "figs"),
]


@pytest.mark.parametrize("argv, option, name", OUTPUT_OPTIONS)
def test_an_output_that_cannot_be_created_is_refused_before_the_run(tmp_path, capsys, no_work, two_inputs,
                                                                    argv, option, name):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file, so nothing can be created below it")
    argv = [a.format(inputs=two_inputs) for a in argv]
    code, out, err = _run(capsys, [*argv, option, blocker / "sub" / name])
    _assert_one_error_line(code, err, argv[0], option)


@pytest.mark.parametrize("argv, option", [(SIMULATE, "--out"), (["bench", "generated_drift"], "--markdown")])
def test_an_output_that_is_a_folder_is_refused_before_the_run(tmp_path, capsys, no_work, argv, option):
    code, _, err = _run(capsys, [*argv, option, tmp_path])
    _assert_one_error_line(code, err, argv[0], option, "is a folder")


def test_simulate_writes_exactly_the_file_name_it_reports_in_a_folder_it_creates(tmp_path, capsys):
    target = tmp_path / "new" / "deeper" / "run"            # no suffix: numpy.savez would add .npz
    code, out, err = _run(capsys, ["simulate", "linear", "--T", "0.5", "--paths", "2000", "--steps", "4",
                                   "--out", target])
    assert code == 0 and err == []
    assert out.strip().splitlines()[-1] == f"saved to {target}"
    assert target.is_file() and not target.with_suffix(".npz").exists()
    data = np.load(target)
    # linear activation: zero drift, E V_T = V_0; Var V_T^11 = e^{2T} - 1 (one-input GBM, SPEC §1)
    v = data["V"][:, 0, 0]
    assert data["V"].shape == (2000, 2, 2) and float(data["T"]) == 0.5
    assert abs(v.mean() - 1.0) < 5 * math.sqrt(math.expm1(1.0) / 2000)


def test_kernel_writes_exactly_the_file_name_it_reports(tmp_path, capsys, two_inputs):
    # phi = x: F(q) = E[Z_a Z_b] = q, so dq/dt = q and q(t) = e^t q0 (Hayou's ODE, SPEC §2)
    target = tmp_path / "K"
    code, out, err = _run(capsys, ["kernel", "x", "--resnet", "--t", "0.5", "--inputs", two_inputs,
                                   "--out", target])
    assert code == 0 and err == [] and out.strip().endswith(f"to {target}")
    X = np.load(two_inputs)
    np.testing.assert_allclose(np.load(target), math.exp(0.5) * X @ X.T / 2, rtol=1e-7)
    assert not target.with_suffix(".npy").exists()


# 2. The hostile values of the issue ---------------------------------------------------------------

def test_check_refuses_a_negative_seed_before_running(capsys, no_work):
    code, _, err = _run(capsys, ["check", "--seed", "-1"])
    _assert_one_error_line(code, err, "check", "--seed", "non-negative")


def test_a_schedule_singular_at_zero_is_one_line_without_numpy_warnings(capsys, two_inputs):
    code, _, err = _run(capsys, ["kernel", "relu", "--resnet", "--inputs", two_inputs, "--alpha", "1/t"])
    _assert_one_error_line(code, err, "kernel", "--alpha", "t = 0")


@pytest.mark.parametrize("argv, mentions", [
    (["derive", "x + alpha*x**2", "--param", "alpha=1e200"], ["overflows float64", "--param alpha=1e200"]),
    (["stability", "x + alpha*x**2", "--param", "alpha=1e200"], ["overflows float64"]),
    ([*SIMULATE[:1], "x + alpha*x**2", *SIMULATE[2:], "--param", "alpha=1e200"], ["overflows float64"]),
    (["derive", "relu", "--c-plus", "1e300"], ["overflows float64", "--c-plus"]),
    (["derive", "relu", "--c-minus", "-1e300"], ["overflows float64", "--c-minus"]),
    ([*COMPARE[:1], "relu", *COMPARE[2:], "--c-plus", "1e300"], ["overflows float64"]),
    (["derive", "tanh", "--a", "1e300"], ["underflows float64", "--a 1e300"]),
    (["derive", "tanh", "--a", "1e-300"], ["overflows float64"]),
    (["derive", "x + alpha*x**2", "--param", "alpha=1e-300"], ["underflows float64"]),
    (["derive", "x + alpha*x**2", "--param", "alpha=1e400"], ["--param alpha", "finite"]),
    (["derive", "relu", "--c-plus", "1e400"], ["--c-plus", "finite"]),
    (["stability", "sinh", "--V0", "1e-320"], ["--V0", "2.23e-308"]),
])
def test_values_beyond_float64_are_refused_in_one_line(capsys, no_work, argv, mentions):
    code, _, err = _run(capsys, argv)
    _assert_one_error_line(code, err, argv[0], *mentions)


def test_the_float64_refusal_is_exactly_where_k_leaves_float64(capsys):
    # x + alpha x^2: k = 3 alpha^2 (SPEC §1: (3/4 phi''(0)^2 + phi'''(0))/a^2 with phi''(0) = 2 alpha)
    largest = math.sqrt(np.finfo(np.float64).max / 3)           # 7.74e153
    code, out, _ = _run(capsys, ["derive", "x + alpha*x**2", "--param", f"alpha={largest * 0.999:.6e}", "--json"])
    assert code == 0
    import json
    k = float(json.loads(out)["k"])
    assert math.isfinite(k) and k == pytest.approx(3 * (largest * 0.999) ** 2, rel=1e-5)
    code, _, err = _run(capsys, ["derive", "x + alpha*x**2", "--param", f"alpha={largest * 1.001:.6e}"])
    _assert_one_error_line(code, err, "derive", "overflows float64")


@pytest.mark.parametrize("option", ["--c-minus", "--c-plus"])
def test_a_negative_number_in_scientific_notation_needs_no_equals_sign(capsys, option):
    import json
    code, out, err = _run(capsys, ["derive", "relu", option, "-1e-3", "--json"])
    assert code == 0 and err == []
    assert json.loads(out)[option[2:].replace("-", "_")] == "-1/1000"     # the value typed, exactly


def _numeric_options():
    """(command, option, type) for every option of every sub-command whose type is a number type."""
    number_types = (option_types.finite_float, option_types.positive_float, option_types.tolerance,
                    option_types.positive_int, option_types.seed)
    found = []
    for command, parser in build_parser().commands.items():
        for action in parser._actions:
            if action.option_strings and (action.type in number_types or
                                          getattr(action.type, "__qualname__", "").startswith("integer_between")):
                found.append((command, action.option_strings[-1]))
    return found


def _base(command, two_inputs):
    return {"derive": ["derive", "relu"], "stability": ["stability", "relu"], "simulate": SIMULATE,
            "compare": COMPARE, "kernel": ["kernel", "relu", "--resnet", "--inputs", str(two_inputs)],
            "check": ["check", "shaping_exponent", "--quick"], "bench": ["bench", "generated_drift"],
            "design": ["design", "tanh", "--target", "norm-k", "--value", "-2", "--free", "a", "--no-prediction"],
            "sweep": ["sweep", "tanh", "--paths", "10", "--steps", "40"]}[command]


@pytest.mark.parametrize("command, option", _numeric_options())
@pytest.mark.parametrize("value", ["-1e-3", "-2.5E+4", "-inf", "-1"])
def test_every_numeric_option_reads_a_negative_value_as_a_value(capsys, no_work, two_inputs, command, option,
                                                                value):
    if (option in ("--c-plus", "--c-minus") or (command, option) == ("design", "--value")) and value != "-inf":
        # a finite slope constant is a valid value (ReLU-like slopes on any activation), and so is a
        # negative design target k (tanh: k = -2/a^2): the command reads it and goes on to the work,
        # which the no_work fixture stops where there is work
        try:
            code, _, err = _run(capsys, [*_base(command, two_inputs), option, value])
        except AssertionError as exc:
            assert "the work started" in str(exc)
            return
        assert code in (0, 2) and (code == 0 or "expected one argument" not in err[0])
        return
    code, _, err = _run(capsys, [*_base(command, two_inputs), option, value])
    _assert_one_error_line(code, err, command, option)
    assert "expected one argument" not in err[0]


# 3. The parser ----------------------------------------------------------------------------------

def test_an_activation_starting_with_a_minus_sign_is_explained(capsys):
    code, _, err = _run(capsys, ["derive", "-x"])
    _assert_one_error_line(code, err, "derive", "covsde derive -- '-x'")
    code, out, err = _run(capsys, ["derive", "--", "-x"])
    # phi = -x: phi'(0) = -1, normalised to (phi - phi(0))/phi'(0) = x, the linear network (zero drift)
    assert code == 0 and "phi'(0) = -1" in out and "b^ab = 0" in out


def test_an_empty_figure_folder_is_refused(capsys, no_work):
    code, _, err = _run(capsys, ["check", "--quick", "--figures", ""])
    _assert_one_error_line(code, err, "check", "--figures")


def test_version_prints_the_installed_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"covsde {importlib.metadata.version('covsde')}"


#: Words for the developers, not for the users of the command line.
JARGON = re.compile(r"\bissues?\b|\bTODO\b|\bFIXME\b|\bXXX\b|\bcovsde\.\w|\b(?:derive|solvers|paper_checks|"
                    r"benchmarks)/|\w\.py\b|\bSPEC\b|§|\bkwargs?\b|(?-i:\bNone\b)", re.I)


def _every_action():
    parser = build_parser()
    yield "covsde", parser, [a for a in parser._actions]
    for command, sub in parser.commands.items():
        yield command, sub, list(sub._actions)


@pytest.mark.parametrize("command, parser, actions", list(_every_action()), ids=lambda x: x if isinstance(x, str) else "")
def test_every_option_has_help_text_in_user_words(command, parser, actions):
    for action in actions:
        name = "/".join(action.option_strings) or action.dest
        assert action.help and action.help != argparse.SUPPRESS and action.help.strip(), (command, name)
        assert not JARGON.search(action.help), (command, name, action.help)
    assert not JARGON.search(parser.description or ""), (command, parser.description)


@pytest.mark.parametrize("value", ["0", "-3", "2.5", "ten"])
def test_simulate_and_compare_refuse_the_same_steps_with_the_same_words(capsys, no_work, value):
    lines = []
    for argv in (SIMULATE, COMPARE):
        code, _, err = _run(capsys, [*argv, "--steps", value])
        _assert_one_error_line(code, err, argv[0], "--steps")
        lines.append(err[0].split(": error: ")[1].split(" (see ")[0])
    assert lines[0] == lines[1]


@pytest.mark.parametrize("argv", [
    ["check", "--seed", "-1"],
    ["kernel", "relu", "--resnet", "--inputs", "{inputs}", "--alpha", "1/t"],
    ["derive", "x + alpha*x**2", "--param", "alpha=1e200"],
    ["simulate", "x + alpha*x**2", "--paths", "10", "--steps", "2"],
])
def test_a_real_process_prints_one_line_on_stderr(two_inputs, argv):
    # as a user runs it: a new interpreter, so nothing printed at import or exit escapes the check
    import subprocess
    import sys
    argv = [a.format(inputs=two_inputs) for a in argv]
    proc = subprocess.run([sys.executable, "-m", "covsde.cli", *argv], capture_output=True, text=True,
                          timeout=300)
    _assert_one_error_line(proc.returncode, proc.stderr.strip().splitlines(), argv[0])


# 4. Warnings ------------------------------------------------------------------------------------

def test_numpy_and_scipy_warnings_of_a_run_become_one_note_line(capsys, monkeypatch):
    from scipy.integrate import IntegrationWarning

    import covsde.derive_command as derive_command
    assert main(["derive", "tanh"]) == 0
    expected = capsys.readouterr().out
    real_report = derive_command.sde_text_report

    def report_that_warns(sde, **kwargs):
        with np.errstate(all="warn"):
            np.log(np.zeros(3))                                  # RuntimeWarning: divide by zero
            np.float64(1e308) * np.float64(10)                   # RuntimeWarning: overflow
        warnings.warn("The integral is probably divergent", IntegrationWarning)
        warnings.warn("an old name", DeprecationWarning)         # for developers: never shown
        return real_report(sde, **kwargs)

    monkeypatch.setattr(derive_command, "sde_text_report", report_that_warns)
    code, out, err = _run(capsys, ["derive", "tanh"])
    assert code == 0 and out == expected
    assert err == ["covsde derive: note: numerical warning during the run: divide by zero encountered in log "
                   "(and 2 other kinds)"]


@pytest.mark.parametrize("argv", [
    SIMULATE + ["--V0", "1e200,0;0,1e200"],                     # overflowing paths
    SIMULATE + ["--T", "1e300"],
    ["kernel", "relu", "--resnet", "--inputs", "{inputs}", "--rtol", "1e-300"],   # below SciPy's floor
    ["kernel", "exp(x)", "--resnet", "--inputs", "{inputs}"],   # the kernel ODE blows up at t = 0.18
])
def test_a_run_with_numerical_trouble_says_so_in_one_line_and_never_in_raw_warnings(capsys, two_inputs, argv):
    code, _, err = _run(capsys, [a.format(inputs=two_inputs) for a in argv])
    # a refusal is one error line; a run that completes says nothing or one note (the solvers may
    # handle the trouble themselves, e.g. record overflowing paths as exploded without a warning)
    assert (code == 2 and len(err) == 1) or (code == 0 and len(err) <= 1), err
    kind = "note" if code == 0 else "error"
    for line in err:
        assert line.startswith(f"covsde {argv[0]}: {kind}: ")
        assert not re.search(r"Warning\b|\.py:\d+|^\s", line), err


# 5. Advice in command-line words ----------------------------------------------------------------

def _render(node):
    """A library message template as text: each {expression} replaced by a name no option has."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_render(value) for value in node.values)
    if isinstance(node, ast.FormattedValue):
        return "'beta'" if node.conversion == ord("r") else "beta"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _render(node.left), _render(node.right)
        return None if left is None or right is None else left + right
    return None


def library_messages():
    """Every message the library raises as an InputError, ActivationError or CovsdeError, rendered."""
    messages = []
    for path in sorted([*ROOT.glob("derive/**/*.py"), *ROOT.glob("solvers/**/*.py")]):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args and
                    getattr(node.exc.func, "id", getattr(node.exc.func, "attr", None))
                    in ("InputError", "ActivationError", "CovsdeError")):
                text = _render(node.exc.args[0])
                if text is not None:
                    messages.append((f"{path.relative_to(ROOT)}:{node.lineno}", text))
    return messages


#: Python advice that must not reach a command-line user.
PYTHON_ADVICE = re.compile(r"\.subs\(|\bderive_sde\(|\bas_activation\(|\(V \+ V\.T\)|"
                           r"\b[a-z_][\w.]*\([^()]*\b[a-z_]\w*=[^=]")


def test_the_library_raises_messages_the_translation_sees():
    messages = library_messages()
    assert len(messages) > 100
    assert any("sde.subs(" in text for _, text in messages)      # the cases the issue names are there
    assert any("activation.subs(" in text for _, text in messages)


@pytest.mark.parametrize("command", list(build_parser().commands))
def test_every_library_message_reaches_the_command_line_without_python_advice(command):
    options = option_names(build_parser().commands[command])
    for where, text in library_messages():
        line = command_line_message(text, options)
        assert "\n" not in line
        if "param" in options:
            assert not PYTHON_ADVICE.search(line), (where, text, line)
        for dest, option in options.items():
            assert not re.search(rf"(?<![\w.-])(?<!--param ){re.escape(dest)}=", line), (where, line)


@pytest.mark.parametrize("message, command, expected", [
    ("the SDE has free parameters ['alpha']; give them values first, e.g. sde.subs(alpha=1)", "simulate",
     "the SDE has free parameters ['alpha']; give them values first, e.g. --param alpha=1"),
    ("x has free parameters ['beta']: give them values first, e.g. activation.subs(beta=0.1)", "derive",
     "x has free parameters ['beta']: give them values first, e.g. --param beta=0.1"),
    ("k needs numeric parameters; substitute ['alpha'] first (derive_sde(..., alpha=0.1) or sde.subs(alpha=0.1))",
     "stability", "k needs numeric parameters; substitute ['alpha'] first (--param alpha=0.1)"),
    ("noise='rademacher' is not available for scheme='lie'; use noise='gaussian' with this scheme", "simulate",
     "--noise rademacher is not available for --scheme lie; use --noise gaussian with this scheme"),
    ("t must be a positive finite number, got 0.0", "kernel", "--t must be a positive finite number, got 0.0"),
    ("depth must be an integer >= 1, got 0", "kernel", "--recursion must be an integer >= 1, got 0"),
    ("give c_plus and c_minus numeric values to simulate", "compare",
     "give --c-plus and --c-minus numeric values to simulate"),
    ("--V0 is not symmetric; give a symmetric matrix (e.g. (V + V.T)/2)", "simulate",
     "--V0 is not symmetric; give a symmetric matrix"),
    ("alpha(t) is not finite at t = 0.0", "kernel",
     "the schedule --alpha is not finite at t = 0.0; give an alpha(t) finite on [0, --t]"),
    # words that only look like options stay: "at t = 0", "a covariance", "alpha(t)"
    ("a covariance at t = 0 is alpha(t) times a", "kernel", "a covariance at t = 0 is alpha(t) times a"),
    ("use --param a=0.1", "derive", "use --param a=0.1"),
    ("parameter a must be finite, got nan", "derive", "parameter a must be finite, got nan"),   # x + a*x**2
    ("parameter a (the shaping constant) must be finite, got nan", "derive",
     "--a (the shaping constant) must be finite, got nan"),
])
def test_python_advice_is_rewritten_as_options(message, command, expected):
    assert command_line_message(message, option_names(build_parser().commands[command])) == expected


@pytest.mark.parametrize("refused, fix", [
    ([*SIMULATE[:1], "x + alpha*x**2", *SIMULATE[2:]], ["--param", "alpha=0.1"]),
    (["kernel", "x + alpha*x**2", "--resnet", "--inputs", "{inputs}"], ["--param", "alpha=0.1"]),
    (SIMULATE + ["--scheme", "lie", "--noise", "rademacher"], ["--noise", "gaussian"]),
])
def test_the_advice_of_an_error_is_an_option_that_works(capsys, two_inputs, refused, fix):
    refused = [a.format(inputs=two_inputs) for a in refused]
    code, _, err = _run(capsys, refused)
    _assert_one_error_line(code, err, refused[0], " ".join(fix).split("=")[0])
    assert not PYTHON_ADVICE.search(err[0])
    if fix[0] == "--param":
        assert re.search(r"--param alpha=[\d.]+", err[0])
    code, _, err = _run(capsys, [*refused, *fix])
    assert code == 0, err


# 6. .npy inputs -----------------------------------------------------------------------------------

def _npy_claiming(path, shape, descr="<f8", data=b""):
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(handle, {"descr": descr, "fortran_order": False, "shape": shape})
        handle.write(data)
    return path


def _refused_npy(tmp_path, kind):
    path = tmp_path / f"{kind}.npy"
    if kind == "huge":
        return _npy_claiming(path, (100_000, 100_000))
    if kind == "complex":
        np.save(path, np.array([[1.0, 0.0], [0.6, 0.8]]) + 0.5j)
    elif kind == "one-dimensional":
        np.save(path, np.arange(3.0))
    elif kind == "three-dimensional":
        np.save(path, np.ones((2, 2, 2)))
    elif kind == "objects":
        np.save(path, np.array([[1, None]], dtype=object), allow_pickle=True)
    elif kind == "booleans":
        np.save(path, np.ones((2, 2), bool))
    elif kind == "text":
        np.save(path, np.array([["a", "b"]]))
    elif kind == "records":
        np.save(path, np.zeros((2, 2), dtype=[("x", "f8"), ("y", "f8")]))
    elif kind == "empty":
        np.save(path, np.zeros((0, 3)))
    elif kind == "truncated":
        return _npy_claiming(path, (10, 10), data=b"\0" * 16)
    elif kind == "not-npy":
        path.write_text("1 2\n3 4\n")
    elif kind == "npz":
        with open(path, "wb") as handle:      # a zip archive under a .npy name
            np.savez(handle, X=np.ones((2, 2)))
    elif kind == "nan":
        np.save(path, np.array([[1.0, np.nan], [0.0, 1.0]]))
    return path


@pytest.mark.parametrize("kind, mentions", [
    ("huge", ["100000 × 100000", "224 GiB", "2 GiB"]), ("complex", ["complex"]),
    ("one-dimensional", ["(3,)"]), ("three-dimensional", ["(2, 2, 2)"]), ("objects", ["Python objects"]),
    ("booleans", ["bool"]), ("text", ["<U1"]), ("records", ["records"]), ("empty", ["empty"]),
    ("truncated", ["truncated", "800 bytes", "16 bytes"]), ("not-npy", ["not a .npy"]), ("npz", ["not a .npy"]),
    ("nan", ["non-finite"]),
])
def test_an_npy_input_is_refused_from_its_header_before_loading(tmp_path, capsys, monkeypatch, no_work,
                                                                kind, mentions):
    path = _refused_npy(tmp_path, kind)
    if kind not in ("nan",):       # refused from the header: the data are never loaded
        monkeypatch.setattr(np, "load", _work_started)
    code, _, err = _run(capsys, ["kernel", "relu", "--resnet", "--inputs", path])
    _assert_one_error_line(code, err, "kernel", str(path), *mentions)


def test_the_memory_limit_counts_the_inputs_their_gram_matrix_and_the_kernel(tmp_path, capsys, no_work):
    # m inputs of one coordinate need 8 m + 2 * 8 m^2 bytes (float64 inputs, Gram matrix, kernel):
    # the largest m within the limit passes the memory check (and is then found truncated), m + 1 not
    m = int((-8 + math.sqrt(64 + 4 * 16 * MEMORY_LIMIT)) / (2 * 16))
    assert 8 * m + 16 * m * m <= MEMORY_LIMIT < 8 * (m + 1) + 16 * (m + 1) ** 2
    for rows, reason in ((m, "truncated"), (m + 1, "this command allows")):
        path = _npy_claiming(tmp_path / f"{rows}.npy", (rows, 1))
        code, _, err = _run(capsys, ["kernel", "relu", "--resnet", "--inputs", path])
        _assert_one_error_line(code, err, "kernel", reason)


def test_a_fortran_ordered_integer_npy_is_read_as_its_rows(tmp_path, capsys):
    # phi = x: q(t) = e^t q0 with q0 = X X^T / n0
    X = np.asfortranarray(np.array([[1, 2, 0], [0, 1, 1]], dtype=np.int16))
    np.save(tmp_path / "X.npy", X)
    code, out, err = _run(capsys, ["kernel", "x", "--resnet", "--inputs", tmp_path / "X.npy"])
    assert code == 0 and err == []
    q = np.loadtxt(out.splitlines()[1:])
    np.testing.assert_allclose(q, math.e * (X @ X.T) / 3, rtol=1e-7)


# 7. Hypothesis: bad values for every numeric option of every sub-command --------------------------

def _not_an_integer(text):
    try:
        return not float(text).is_integer()
    except (ValueError, OverflowError):
        return True


def _not_a_normal_float(text):
    try:
        value = float(text)
    except ValueError:
        return True
    return not math.isfinite(value) or (value != 0 and abs(value) < 2.2250738585072014e-308)


TEXT = st.text(alphabet=string.ascii_letters + string.punctuation + " ", max_size=8)
NOT_A_NUMBER = st.one_of(TEXT.filter(_not_a_normal_float),
                         st.sampled_from(["", "nan", "NaN", "inf", "-inf", "Infinity", "1e309", "-1e400",
                                          "1e-320", "-4e-324", "0x10", "1/2", "1,5", "--", "1e", "e5", "١"]))
NON_POSITIVE = st.one_of(st.integers(max_value=0).map(str),
                         st.floats(max_value=0, allow_nan=False, allow_infinity=False).map(repr))
NON_INTEGER = st.one_of(st.floats(allow_nan=False, allow_infinity=False).map(repr).filter(_not_an_integer),
                        NOT_A_NUMBER)
#: Bad values per option type.
BAD = {
    option_types.positive_int: st.one_of(st.integers(max_value=0).map(str), NON_INTEGER),
    option_types.seed: st.one_of(st.integers(max_value=-1).map(str), NON_INTEGER),
    option_types.positive_float: st.one_of(NON_POSITIVE, NOT_A_NUMBER),
    option_types.finite_float: NOT_A_NUMBER,
    option_types.tolerance: st.one_of(NON_POSITIVE, st.floats(min_value=1).map(repr), NOT_A_NUMBER),
}
SETTINGS = settings(max_examples=12, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _typed_options():
    cases = []
    for command, parser in build_parser().commands.items():
        for action in parser._actions:
            strategy = BAD.get(action.type)
            if strategy is None and getattr(action.type, "__qualname__", "").startswith("integer_between"):
                strategy = st.one_of(st.integers(max_value=0), st.integers(min_value=13)).map(str) | NON_INTEGER
            if action.option_strings and strategy is not None:
                cases.append(pytest.param(command, action.option_strings[-1], strategy,
                                          id=f"{command} {action.option_strings[-1]}"))
    return cases


@pytest.mark.parametrize("command, option, bad_values", _typed_options())
@SETTINGS
@given(data=st.data())
def test_hypothesis_bad_values_of_numeric_options_exit_2_in_one_line(capsys, no_work, two_inputs, command,
                                                                       option, bad_values, data):
    value = data.draw(bad_values, label="value")
    code, _, err = _run(capsys, [*_base(command, two_inputs), f"{option}={value}"])
    _assert_one_error_line(code, err, command, f"argument {option}")


#: Bad values of the options the library checks (text options): the activation options and --V0.
LIBRARY_CHECKED = [
    pytest.param(["derive", "tanh"], "--a", st.one_of(
        NON_POSITIVE, st.sampled_from(["", "nan", "inf", "-inf", "1e309", "1e-320", "1,5", "--"]),
        st.floats(min_value=1e160, max_value=1e300).map(repr), st.floats(min_value=1e-300, max_value=1e-160).map(repr),
        st.sampled_from(["x", "x+1", "1/0", "2*x", "__import__('os')", "a.b", "sqrt(-1)", "I", "zoo*x"])),
        id="derive --a"),
    pytest.param(["stability", "x + alpha*x**2"], "--param", st.one_of(
        NOT_A_NUMBER.map(lambda t: f"alpha={t}"),
        st.floats(min_value=1e155, max_value=1e300).map(lambda v: f"alpha={v!r}"),
        st.floats(min_value=1e-300, max_value=1e-160).map(lambda v: f"alpha={v!r}"),
        st.sampled_from(["alpha", "=1", "alpha:1", "beta=1", "x=1", "alpha=1=2", " =2"])),
        id="stability --param"),
    pytest.param(["derive", "relu"], "--c-plus", st.one_of(
        st.floats(min_value=3.4e154, max_value=1e308).map(repr), st.floats(max_value=-3.4e154, min_value=-1e308).map(repr)),
        id="derive --c-plus huge"),
    pytest.param(SIMULATE, "--V0", st.one_of(
        st.sampled_from(["1,2;2,1", "1,0.3;0.2,1", "1,0.3", "1;2", "a,b;c,d", "1,nan;nan,1", "", ";", "1,,1",
                         "1,0;0,-1", "inf", "1e400,0;0,1", "-1"]),
        TEXT.filter(lambda t: not re.fullmatch(r"[\d.eE+\-,; ]+", t))),
        id="simulate --V0"),
    pytest.param(COMPARE, "--V0", st.sampled_from(["1,2;2,1", "0,0;0", "x", "1,0.3;0.3", "-1"]), id="compare --V0"),
]


@pytest.mark.parametrize("argv, option, bad_values", LIBRARY_CHECKED)
@SETTINGS
@given(data=st.data())
def test_hypothesis_bad_values_of_library_checked_options_exit_2_in_one_line(capsys, no_work, argv, option,
                                                                               bad_values, data):
    value = data.draw(bad_values, label="value")
    code, _, err = _run(capsys, [*argv, f"{option}={value}"])
    _assert_one_error_line(code, err, argv[0])
