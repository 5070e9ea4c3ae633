"""Built-in activation names, Piecewise parsing, parameter names and "did you mean" (issue 10, part 3).

Each built-in's SymPy expression is checked against PyTorch's definition typed here in numpy
(torch.nn "Non-linear activations": ELU, CELU, SELU, LeakyReLU, ReLU6, Hardtanh, Hardsigmoid,
Hardswish, Softsign, Mish, GELU (exact and approximate='tanh'), SiLU, Softplus, Sigmoid), at points
that include both sides of every breakpoint. Unknown names must be errors that name the nearest
built-in, never free parameters.
"""

import numpy as np
import pytest
import sympy as sp
from scipy.special import erf

from covsde.cli import main
from covsde.derive import ActivationError, X, as_activation, derive_sde, parse_activation_string
from covsde.derive.activation_library import (BUILTIN_ACTIVATIONS, RELU_LIKE_DEFAULTS, RELU_LIKE_NAMES,
                                              SMOOTH_ACTIVATIONS, Builtin, builtin_expression,
                                              piece_at_zero, unknown_activation_error)
from covsde.derive.activation_names import closest_names, is_parameter_name, restricted_edit_distance

# ------------------------------------------------------------- PyTorch's definitions, in numpy
SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softplus(z):
    return np.log1p(np.exp(z))


TORCH = {
    "tanh": np.tanh,
    "sin": np.sin,
    "atan": np.arctan,
    "erf": lambda z: np.sqrt(np.pi) / 2 * erf(z),
    "sinh": np.sinh,
    "gelu": lambda z: z * 0.5 * (1.0 + erf(z / np.sqrt(2.0))),
    "gelu_tanh": lambda z: 0.5 * z * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (z + 0.044715 * z**3))),
    "silu": lambda z: z * _sigmoid(z),
    "swish": lambda z: z * _sigmoid(z),
    "softplus": _softplus,
    "mish": lambda z: z * np.tanh(_softplus(z)),
    "sigmoid": _sigmoid,
    "linear": lambda z: z,
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "elu": lambda z, alpha=1.0: np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0))),
    "celu": lambda z, alpha=1.0: np.maximum(0.0, z) + np.minimum(0.0, alpha * np.expm1(np.minimum(z, 0.0) / alpha)),
    "selu": lambda z: SELU_SCALE * (np.maximum(0.0, z) + np.minimum(0.0, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))),
    "leaky_relu": lambda z, negative_slope=0.01: np.where(z >= 0, z, negative_slope * z),
    "relu6": lambda z: np.minimum(np.maximum(0.0, z), 6.0),
    "hardtanh": lambda z: np.clip(z, -1.0, 1.0),
    "hardsigmoid": lambda z: np.where(z <= -3, 0.0, np.where(z >= 3, 1.0, z / 6 + 0.5)),
    "hardswish": lambda z: np.where(z <= -3, 0.0, np.where(z >= 3, z, z * (z + 3) / 6)),
    "softsign": lambda z: z / (1.0 + np.abs(z)),
}

#: Breakpoints of PyTorch's piecewise definitions (and 0): points on both sides of each are tested.
BREAKPOINTS = (-6.0, -3.0, -1.0, 0.0, 1.0, 3.0, 6.0)
POINTS = np.unique(np.concatenate([
    np.linspace(-8.0, 8.0, 17),
    *[[b - 1e-3, b - 1e-9, b, b + 1e-9, b + 1e-3] for b in BREAKPOINTS]]))


def sympy_values(expr, points):
    """Evaluate a SymPy expression in x at each point with mpmath (30 digits), then round to float."""
    return np.array([float(sp.N(expr.subs(X, sp.Float(repr(float(z)), 30)), 30)) for z in points])


def test_points_are_about_fifty_and_straddle_every_breakpoint():
    assert 45 <= POINTS.size <= 60
    for b in BREAKPOINTS:
        assert (POINTS < b).any() and (POINTS > b).any() and np.min(np.abs(POINTS[POINTS != b] - b)) < 1e-8


def test_every_builtin_has_a_pytorch_reference_and_the_table_is_complete():
    assert set(BUILTIN_ACTIVATIONS) == set(TORCH)
    for name in ("elu", "celu", "selu", "leaky_relu", "mish", "hardswish", "hardsigmoid", "hardtanh",
                 "softsign", "gelu", "gelu_tanh", "silu", "swish", "softplus", "relu6", "sigmoid"):
        assert name in BUILTIN_ACTIVATIONS
    for builtin in BUILTIN_ACTIVATIONS.values():
        assert isinstance(builtin, Builtin) and builtin.description and "\n" not in builtin.description


@pytest.mark.parametrize("name", sorted(TORCH))
def test_builtin_expression_equals_pytorchs_definition(name):
    expected = TORCH[name](POINTS)
    ours = sympy_values(builtin_expression(name), POINTS)
    np.testing.assert_allclose(ours, expected, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name,params,reference", [
    ("elu", {"alpha": 0.5}, lambda z: TORCH["elu"](z, 0.5)),
    ("elu", {"alpha": 2}, lambda z: TORCH["elu"](z, 2.0)),
    ("celu", {"alpha": 2.0}, lambda z: TORCH["celu"](z, 2.0)),
    ("celu", {"alpha": "1/3"}, lambda z: TORCH["celu"](z, 1.0 / 3.0)),
    ("leaky_relu", {"negative_slope": 0.2}, lambda z: TORCH["leaky_relu"](z, 0.2)),
    ("leaky_relu", {}, lambda z: TORCH["leaky_relu"](z, 0.01)),
])
def test_parameter_values_replace_the_pytorch_defaults(name, params, reference):
    np.testing.assert_allclose(sympy_values(builtin_expression(name, **params), POINTS), reference(POINTS),
                               rtol=1e-14, atol=1e-15)


def test_pytorch_defaults_and_constants_are_exact():
    assert dict(BUILTIN_ACTIVATIONS["elu"].defaults) == {"alpha": 1.0}
    assert dict(BUILTIN_ACTIVATIONS["celu"].defaults) == {"alpha": 1.0}
    assert dict(BUILTIN_ACTIVATIONS["leaky_relu"].defaults) == {"negative_slope": 0.01}
    selu = builtin_expression("selu")
    # slopes at 0: scale on the right, scale*alpha on the left, to all 31 given digits (exact rationals)
    right = sp.diff(selu.args[0][0], X)
    left = sp.diff(selu.args[1][0], X).subs(X, 0)
    assert right == sp.Rational("1.0507009873554804934193349852946")
    assert left == sp.Rational("1.0507009873554804934193349852946") * sp.Rational("1.6732632423543772848170429916717")
    assert builtin_expression("leaky_relu").args[1][0] == X / 100


def test_symbolic_parameter_values_stay_symbolic():
    a = sp.Symbol("a", real=True)
    expr = builtin_expression("elu", alpha="a")
    assert expr.free_symbols == {X, a}
    assert sp.simplify(expr.subs(a, sp.Rational(1, 2)) - builtin_expression("elu", alpha=0.5)) == 0
    slope = builtin_expression("leaky_relu", negative_slope="negative_slope")
    assert {s.name for s in slope.free_symbols} == {"x", "negative_slope"}


@pytest.mark.parametrize("name,params,match", [
    ("elu", {"beta": 1}, "parameters are alpha"),
    ("leaky_relu", {"slope": 0.1}, "parameters are negative_slope"),
    ("tanh", {"alpha": 1}, "parameters are none"),
    ("elu", {"c_plus": 1}, "ReLU-like"),
    ("elu", {"alpha": float("nan")}, "finite"),
    ("elu", {"alpha": None}, "real number"),
    ("elu", {"alpha": "x"}, "alpha"),
])
def test_bad_builtin_parameters_are_refused_with_the_valid_ones(name, params, match):
    with pytest.raises(ActivationError, match=match):
        builtin_expression(name, **params)


def test_notes_name_the_piece_at_zero_exactly_for_functions_piecewise_away_from_zero():
    nearest_breakpoint = {"relu6": 6.0, "hardtanh": 1.0, "hardsigmoid": 3.0, "hardswish": 3.0}
    for name, builtin in BUILTIN_ACTIVATIONS.items():
        if name not in nearest_breakpoint:
            assert builtin.note_at_zero is None, name
            continue
        prefix = "only the piece at 0 matters for the shaped limit: "
        assert builtin.note_at_zero.startswith(prefix)
        piece = parse_activation_string(builtin.note_at_zero[len(prefix):])   # the note is parseable
        b = nearest_breakpoint[name]
        inside = np.linspace(-b, b, 41)[1:-1]
        np.testing.assert_allclose(sympy_values(piece, inside), TORCH[name](inside), rtol=1e-14, atol=1e-15)
        # the note is what piece_at_zero finds from the expression
        found = piece_at_zero(builtin.expression)
        np.testing.assert_allclose(sympy_values(found, POINTS), sympy_values(piece, POINTS), rtol=1e-14, atol=1e-15)
        # ...and the piece is not the whole function: they differ beyond the breakpoint
        outside = np.array([-b - 1.0, b + 1.0])
        assert not np.allclose(sympy_values(piece, outside), TORCH[name](outside))
    assert piece_at_zero(builtin_expression("elu")) == builtin_expression("elu")
    assert piece_at_zero(sp.tanh(X)) == sp.tanh(X)


def test_smooth_and_relu_like_tables_are_derived_from_the_builtins():
    assert set(SMOOTH_ACTIVATIONS) == {"tanh", "sin", "atan", "erf", "sinh", "gelu", "gelu_tanh", "silu",
                                       "swish", "softplus", "mish", "sigmoid", "linear", "identity"}
    for name, expr in SMOOTH_ACTIVATIONS.items():
        assert expr == BUILTIN_ACTIVATIONS[name].expression
    assert RELU_LIKE_NAMES == ("relu", "relu_like") and RELU_LIKE_DEFAULTS == (0, -1)
    for name in RELU_LIKE_NAMES:
        act = as_activation(name)
        assert act.family == "relu_like" and (act.c_plus, act.c_minus) == (0, -1)


def test_leaky_relu_is_the_fixed_slope_function_not_the_relu_like_family():
    expr = builtin_expression("leaky_relu", negative_slope=0.2)
    assert sp.diff(expr.args[0][0], X) == 1 and sp.diff(expr.args[1][0], X) == sp.Rational(1, 5)
    with pytest.raises(ActivationError, match="first-order kink") as info:   # no shaped limit, explained
        as_activation("leaky_relu")
    # the ReLU-like member of slope ratio r = 1/100 at n = 256: c+ - c- = (1 - r) * 16 = 15.84
    assert "slope 1 for x > 0 and 1/100 for x < 0" in str(info.value) and "--c-minus -15.84" in str(info.value)
    with pytest.raises(ActivationError, match="first-order kink"):    # slopes added do not remove it
        as_activation("leaky_relu", c_plus=0.5)


@pytest.mark.parametrize("name", ["mish", "gelu_tanh", "sigmoid"])
def test_new_smooth_builtins_are_smooth_activations_normalised_at_zero(name):
    act = as_activation(name)
    assert act.family == "smooth"
    z = np.linspace(-4, 4, 33)
    f = TORCH[name]
    phi0 = f(np.array([0.0]))[0]
    h = 1e-5
    slope = (f(np.array([h])) - f(np.array([-h])))[0] / (2 * h)
    np.testing.assert_allclose(act.numpy()(z), (f(z) - phi0) / slope, rtol=1e-8, atol=1e-9)


# ------------------------------------------------------------------------- Piecewise parsing
@pytest.mark.parametrize("text,name,params", [
    ("Piecewise((x, x > 0), (exp(x) - 1, True))", "elu", {}),
    ("Piecewise((x, x > 0), (alpha*(exp(x) - 1), True))", "elu", {"alpha": "alpha"}),
    ("elu(x)", "elu", {}),
    ("elu(x, 0.5)", "elu", {"alpha": 0.5}),
    ("celu(x, 2)", "celu", {"alpha": 2}),
    ("selu(x)", "selu", {}),
    ("leaky_relu(x, 0.2)", "leaky_relu", {"negative_slope": 0.2}),
    ("leaky_relu(x)", "leaky_relu", {}),
    ("Piecewise((x, x > 0), (x/100, True))", "leaky_relu", {}),
    ("Piecewise((-1, x < -1), (x, x < 1), (1, True))", "hardtanh", {}),
    ("Piecewise((x, -1 <= x <= 1), (-1, x < -1), (1, True))", "hardtanh", {}),
    ("Piecewise((x, (x >= -1) & (x <= 1)), (sign(x), True))", "hardtanh", {}),
    ("Piecewise((x, And(x >= -1, x <= 1)), (-1, x < -1), (1, x > 1))", "hardtanh", {}),
    ("Piecewise((x, x >= -1 and x <= 1), (1, x > 1), (-1, True))", "hardtanh", {}),
    ("Piecewise((x, (x + 1)/2 >= 0), (-1, True)) - Piecewise((x - 1, 1 - x <= 0), (0, True))", "hardtanh", {}),
    ("Min(Max(x, -1), 1)", "hardtanh", {}),
    ("x*relu6(x + 3)/6", "hardswish", {}),
    ("relu6(x + 3)/6", "hardsigmoid", {}),
    ("Piecewise((0, x <= -3), (x*(x + 3)/6, x < 3), (x, True))", "hardswish", {}),
    ("x/(1 + abs(x))", "softsign", {}),
    ("x*tanh(softplus(x))", "mish", {}),
    ("x*Heaviside(x) + (exp(x) - 1)*Heaviside(-x)", "elu", {}),
])
def test_piecewise_and_named_functions_parse_to_the_builtin(text, name, params):
    parsed = parse_activation_string(text)
    expected = builtin_expression(name, **params)
    free = sorted(parsed.free_symbols - {X}, key=str)
    values = {s: sp.Rational(7, 10) for s in free}
    np.testing.assert_allclose(sympy_values(parsed.subs(values), POINTS),
                               sympy_values(expected.subs({s: sp.Rational(7, 10) for s in expected.free_symbols - {X}}),
                                            POINTS), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", sorted(n for n, b in BUILTIN_ACTIVATIONS.items()
                                        if b.expression.has(sp.Piecewise) and n != "selu"))
def test_printed_piecewise_builtins_parse_back_to_the_same_expression(name):
    expr = builtin_expression(name)
    assert parse_activation_string(sp.sstr(expr)) == expr


def test_selu_round_trips_through_its_decimal_constants():
    text = ("Piecewise((1.0507009873554804934193349852946*x, x > 0), "
            "(1.0507009873554804934193349852946*1.6732632423543772848170429916717*(exp(x) - 1), True))")
    np.testing.assert_allclose(sympy_values(parse_activation_string(text), POINTS), TORCH["selu"](POINTS),
                               rtol=1e-14, atol=1e-15)


# ----------------------------------------------------------------------------- hostile text
@pytest.mark.parametrize("text", [
    "Piecewise((x.__class__, x > 0), (0, True))",
    "Piecewise((x, x.real > 0), (0, True))",
    "Piecewise((x, x.__class__ > 0), (0, True))",
    "Piecewise((x, __import__('os').system('true') > 0), (0, True))",
    "Piecewise((x, (lambda: 1)() > 0), (0, True))",
    "Piecewise((x, lambda: True), (0, True))",
    "Piecewise((x, x > 0), (0, True), evaluate=False)",
    "Piecewise([x, x > 0], (0, True))",
    "Piecewise((x, x > 0, 1), (0, True))",
    "Piecewise((x, x == 0), (0, True))",
    "Piecewise((x, x != 0), (0, True))",
    "Piecewise((x, x > 0))",                        # does not cover x <= 0
    "Piecewise((x, x > 0), (0, x < -1))",           # nor [-1, 0]
    "Piecewise()",
    "Piecewise((x, x > a), (0, True))",             # a breakpoint in a parameter
    "Piecewise((x, a > 0), (0, True))",             # a piece chosen by a parameter
    "Piecewise((x, exp(x) > 2), (0, True))",        # not a linear comparison
    "Piecewise((x, x**2 < 1), (0, True))",
    "Piecewise(" + ", ".join(f"(x, x**37 + {k}*x**11 - x < {k}/7)" for k in range(1, 8)) + ")",
    "Piecewise((x, x > I), (0, True))",
    "Piecewise((x, x**10**10 > 0), (0, True))",
    "Piecewise((x, x > 9**9**9), (0, True))",
    "Piecewise((x, x > 0 & x < 1), (0, True))",     # & binds before >: needs parentheses
    "Piecewise((x, not x), (0, True))",
    "Piecewise((x, 'x > 0'), (0, True))",
    "Piecewise((x, x > 0), (0, False))",
    "x > 0",
    "(x > 0) & (x < 1)",
    "And(x > 0, x < 1)",
    "elu(x, x)", "elu(x, 1, 2)", "elu()", "selu(x, 2)", "relu6(x, 1)", "elu(x, alpha=2)",
    "x**x", "elu.__globals__", "getattr(elu, 'x')",
])
def test_hostile_or_malformed_piecewise_strings_are_refused(text, no_eval):
    with pytest.raises(ActivationError) as info:
        parse_activation_string(text)
    assert len(str(info.value)) > 20


def test_piecewise_in_a_parameter_is_refused_with_a_clear_reason():
    with pytest.raises(ActivationError, match="parameter a"):
        parse_activation_string("Piecewise((x, x > a), (0, True))")
    with pytest.raises(ActivationError, match="cover every real x"):
        parse_activation_string("Piecewise((x, x > 0))")
    with pytest.raises(ActivationError, match="parentheses"):
        parse_activation_string("Piecewise((x, x > 0 & x < 1), (0, True))")


# ---------------------------------------------------------------------------- did you mean
@pytest.mark.parametrize("typed,meant", [("elo", "elu"), ("seul", "selu"), ("hardswsh", "hardswish"),
                                         ("tanhh", "tanh"), ("ELO", "elu"), ("leaky_rel", "leaky_relu"),
                                         ("gleu", "gelu"), ("hardtahn", "hardtanh")])
def test_unknown_activation_suggests_the_nearest_builtin(typed, meant):
    for refuse in (as_activation, derive_sde, lambda name: as_activation(f"  {name} ")):
        with pytest.raises(ActivationError) as info:
            refuse(typed)
        message = str(info.value)
        assert f"unknown activation {typed.strip()!r}" in message
        assert f"did you mean {meant!r}" in message
        assert "built-in activations: tanh, sin" in message and "hardswish" in message
    assert unknown_activation_error(typed).args == ActivationError(str(info.value)).args


def test_a_bare_name_far_from_every_builtin_lists_the_builtins_without_a_guess():
    message = str(unknown_activation_error("zzzzzz"))
    assert "did you mean" not in message and "built-in activations:" in message
    with pytest.raises(ActivationError, match="unknown activation 'alpha'"):
        as_activation("alpha")       # a free name alone is never a constant activation


def test_edit_distance_counts_a_swap_of_neighbours_as_one():
    assert restricted_edit_distance("seul", "selu") == 1
    assert restricted_edit_distance("seul", "elu") == 2
    assert restricted_edit_distance("kitten", "sitting") == 3          # Levenshtein's classic
    assert restricted_edit_distance("", "abc") == 3 and restricted_edit_distance("abc", "abc") == 0
    assert closest_names("seul", ["elu", "selu", "sin"]) == ["selu"]
    assert closest_names("qqqq", ["elu", "selu"]) == []


@pytest.mark.parametrize("text,meant", [("x + alfa*x**2", "alpha"), ("x + bteta*x**3", "beta"),
                                        ("x + 0.1*tanhh", "tanh"), ("x + lamdba*x**2", "lamda")])
def test_misspelt_names_inside_an_expression_are_refused_with_a_suggestion(text, meant):
    with pytest.raises(ActivationError) as info:
        as_activation(text)
    message = str(info.value)
    assert "unknown name" in message and f"{meant!r}" in message and "--declare" in message


def test_misspelt_function_calls_suggest_the_function():
    with pytest.raises(ActivationError, match="did you mean 'elu'"):
        parse_activation_string("elo(x)")
    with pytest.raises(ActivationError, match="did you mean 'Piecewise'"):
        parse_activation_string("Piecewize((x, x > 0), (0, True))")


# --------------------------------------------------------------------------- parameter names
@pytest.mark.parametrize("name", ["a", "c", "k", "A", "alpha", "beta", "gamma", "lamda", "xi", "omega",
                                  "a1", "alpha_2", "c_1", "c_0", "c_plus", "beta12", "y", "z"])
def test_single_letters_and_greek_names_are_parameters(name):
    assert is_parameter_name(name)
    expr = parse_activation_string(f"x + {name}*x**2")
    assert {s.name for s in expr.free_symbols} == {"x", name}


@pytest.mark.parametrize("name", ["alfa", "gain", "elo", "x1", "x_1", "ab", "alphabeta", "betta", "scale"])
def test_other_names_are_not_parameters_unless_declared(name):
    assert not is_parameter_name(name)
    with pytest.raises(ActivationError, match=f"unknown name {name!r}"):
        parse_activation_string(f"x + {name}*x**2")


def test_declared_names_are_parameters_and_derive_like_any_other():
    gain = sp.Symbol("gain", real=True)
    expr = parse_activation_string("x + gain*x**2", declared=("gain",))
    assert expr == X + gain * X**2
    assert parse_activation_string("x + gain*x**2 + scale*x**3", declared=["gain", "scale"]).free_symbols \
        == {X, gain, sp.Symbol("scale", real=True)}
    # a value given as a keyword declares the name: phi = x + g x^2 has k = 3/4 phi''(0)^2 = 3 g^2
    assert derive_sde("x + gain*x**2", gain=sp.Rational(1, 2)).stability.k == sp.Rational(3, 4)
    assert sp.simplify(derive_sde("x + gain*x**2", gain=gain).stability.k - 3 * gain**2) == 0


@pytest.mark.parametrize("declared", [("x",), ("tanh",), ("pi",), ("__class__",), ("a b",), ("1a",),
                                      (3,), ("Piecewise",), ("g" * 21,)])
def test_declaring_reserved_or_malformed_names_is_refused(declared):
    with pytest.raises(ActivationError, match="cannot declare"):
        parse_activation_string("x", declared=declared)


# ------------------------------------------------------------------------------ command line
def test_cli_unknown_activation_exits_2_with_one_line_suggesting_elu(capsys):
    assert main(["derive", "elo"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and captured.out == ""
    assert lines[0].startswith("covsde derive: error: unknown activation 'elo'; did you mean 'elu'?")


def test_cli_declare_keeps_a_named_parameter_symbolic(capsys):
    assert main(["derive", "x + gain*x**2", "--json"]) == 2
    assert "--declare" in capsys.readouterr().err
    assert main(["derive", "x + gain*x**2", "--declare", "gain", "--json"]) == 0
    assert '"3*gain**2"' in capsys.readouterr().out
    assert main(["derive", "x + gain*x**2", "--param", "gain=0.5", "--json"]) == 0


def test_cli_help_lists_every_builtin(capsys):
    assert main(["derive", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    for name in (*BUILTIN_ACTIVATIONS, "relu_like"):
        assert name in out
