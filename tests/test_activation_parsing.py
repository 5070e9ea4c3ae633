"""Safe parsing of activation strings, smoothness checks, normalisation, and property tests.

SPEC §1 / issue 2: user text is parsed against a whitelist and never evaluated; activations
without a shaped limit (phi'(0) = 0, non-smooth or singular at 0) are refused with an
ActivationError that says why. Property tests compare the derived drift of random polynomial
activations with the closed form of SPEC §1 (Li, Nica & Roy 2022, Thm 3.2), retyped here:
  normalized:   b = (phi2^2/(4a^2)) (AB + 2R^2 - 3R) + (phi3/(2a^2)) R (A + B - 2)
  unnormalized: b = (1/a^2) [(phi2^2/4) (AB + 2R^2) + (phi3/2) R (A + B)]
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from covsde.derive import ActivationError, X, as_activation, derive_sde, parse_activation_string

A, B, R = sp.symbols("A B R", real=True)


# ------------------------------------------------------------------------ hostile text
def hostile_strings(marker):
    return [
        f"__import__('os').system('touch {marker}')",
        f"x + __import__('os').system('touch {marker}')",
        f"tanh(x) + (lambda: __import__('os').system('touch {marker}'))()",
        f"[__import__('os').system('touch {marker}') for _ in (1,)][0] + x",
        f"(y := __import__('os').system('touch {marker}')) + x",
        f"f'{{__import__(\"os\").system(\"touch {marker}\")}}'",
        f"exec(\"open('{marker}', 'w')\")",
        f"eval(\"open('{marker}', 'w')\")",
        f"open('{marker}', 'w')",
    ]


def test_code_injection_is_refused_without_running_it(tmp_path, no_eval):
    marker = tmp_path / "MARKER"
    for text in hostile_strings(marker):
        for parse in (parse_activation_string, as_activation):
            with pytest.raises(ActivationError) as info:
                parse(text)
            assert "cannot parse" in str(info.value)
        assert not marker.exists(), text


@pytest.mark.parametrize("text", [
    "x.__class__", "x.__class__.__mro__", "tanh.__globals__", "x[0]", "(x, x)", "[x]", "{x: 1}",
    "lambda x: x", "tanh(x=1)", "'x'", "b'x'", "f'{x}'", "(y := x)", "x if x else x",
    "x < 1", "x and x", "not x", "x @ x", "x % 2", "x // 2", "~x", "x << 1", "tanh(*[x])",
    "__builtins__", "_x + x", "getattr(x, 'a')", "unknown_function(x)", "x; x", "import os",
    "tanh", "max(x)", "tanh(x, x)", "True + x", "None", "...", "", "   ", "x +",
])
def test_forbidden_syntax_is_refused_with_a_message(text, no_eval):
    with pytest.raises(ActivationError) as info:
        parse_activation_string(text)
    assert len(str(info.value)) > 20


@pytest.mark.parametrize("text", [
    "x**10**10", "9**9**9**9", "x**(10**10)", "x**1e100", "tanh(x) + 1e400", "x**100",
    "x**-100", "x*" + "x*" * 300 + "x",
])
def test_huge_exponents_literals_and_long_strings_are_refused(text):
    with pytest.raises(ActivationError):
        parse_activation_string(text)


def test_non_string_input_is_refused():
    for bad in (None, 3, 2.5, [1], b"x"):
        with pytest.raises(ActivationError):
            as_activation(bad)
    with pytest.raises(ActivationError):
        parse_activation_string(3)


def test_nested_numeric_powers_are_refused_quickly():
    """Five nested powers of 64 would be a 10^9-digit integer: refusing it must be immediate."""
    code = textwrap.dedent("""
        from covsde.derive import ActivationError, parse_activation_string
        try:
            parse_activation_string("x + ((((9**64)**64)**64)**64)**64")
        except ActivationError:
            raise SystemExit(0)
        raise SystemExit(1)
    """)
    try:
        done = subprocess.run([sys.executable, "-c", code], timeout=20, capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.fail("parsing nested numeric powers did not finish in 20 s (resource exhaustion)")
    assert done.returncode == 0, done.stderr.decode()[-500:]


# ------------------------------------------------------ activations with no shaped limit
@pytest.mark.parametrize("text, slopes", [("abs(x)", ("1", "-1")), ("max(x, 0)", ("1", "0")),
                                          ("Max(x, 0)", ("1", "0")), ("min(x, 0) + x", ("1", "2")),
                                          ("relu(x)", ("1", "0")), ("x*Heaviside(x)", ("1", "0"))])
def test_first_order_kinks_are_explained_with_their_relu_like_family(text, slopes):
    """Different slopes at 0 survive s phi(x/s): no shaped limit; the message names both slopes and
    the ReLU-like family that corresponds."""
    with pytest.raises(ActivationError) as info:
        as_activation(text)
    message = str(info.value)
    assert "first-order kink" in message and "relu" in message.lower()
    assert f"slope {slopes[0]} for x > 0 and {slopes[1]} for x < 0" in message


@pytest.mark.parametrize("text", ["x + sign(x)*x**2", "x*Heaviside(x) + (exp(x) - 1)*Heaviside(-x)",   # elu
                                  "x + (x**2)**(3/2)"])
def test_higher_order_kinks_are_accepted_with_their_one_sided_expansions(text):
    """A kink in the second or third derivative is what the one-sided engine expands: the two sides
    have different Taylor coefficients and the same value and slope."""
    act = as_activation(text)
    assert act.family == "kinked" and act.is_one_sided
    plus, minus = act.one_sided_coefficients(3)
    assert plus[:2] == minus[:2] == (0, 1) and plus != minus


def test_a_jump_at_zero_is_refused():
    with pytest.raises(ActivationError, match="jumps at 0"):
        as_activation("x + Heaviside(x)")


@pytest.mark.parametrize("text", [
    "x*(1 + exp(-1/x))**(-1)",        # = x * sigmoid(1/x): a ReLU in disguise, phi' jumps 0 -> 1
    "x + x**2*atan(1/x)",             # phi'' jumps from -pi to pi
    "x + x**3*erf(1/x)",              # phi''' jumps from -6 to 6
])
def test_derivative_jumps_without_explicit_kinks_are_refused(text):
    with pytest.raises(ActivationError):
        derive_sde(text)


def test_expansion_failures_are_activation_errors():
    with pytest.raises(ActivationError):
        derive_sde("x + x**2*erf(1/x)")


@pytest.mark.parametrize("text", ["x**2", "cos(x) - 1", "x**3 + x**2", "1 - cos(x)"])
def test_zero_slope_has_no_shaped_limit(text):
    with pytest.raises(ActivationError, match=r"phi'\(0\) = 0"):
        as_activation(text)


@pytest.mark.parametrize("text", ["1/x", "log(x)", "x + sqrt(x)", "x**(1/3)", "x + 1/x**2"])
def test_singular_or_non_analytic_at_zero_is_refused(text):
    with pytest.raises(ActivationError, match="analytic|singular"):
        as_activation(text)


def test_constant_activation_is_refused():
    with pytest.raises(ActivationError, match="does not depend on x"):
        as_activation("x/x + 2")


# -------------------------------------------------------------------- normalisation
#: The normalised forms (phi - phi(0))/phi'(0), by hand, in numpy.
HAND_NORMALISED = {
    "softplus": (lambda z: 2 * (np.logaddexp(0, z) - np.log(2)), "log(2)", "1/2"),
    "gelu": (lambda z: z * (1 + __import__("scipy.special").special.erf(z / np.sqrt(2))), "0", "1/2"),
    "silu": (lambda z: 2 * z / (1 + np.exp(-z)), "0", "1/2"),
}


@pytest.mark.parametrize("name", sorted(HAND_NORMALISED))
def test_normalisation_is_applied_and_reported(name):
    hand, phi0, phi1 = HAND_NORMALISED[name]
    act = as_activation(name)
    assert act.normalization is not None
    assert f"phi(0) = {phi0}" in act.normalization and f"phi'(0) = {phi1}" in act.normalization
    z = np.linspace(-6, 6, 49)
    np.testing.assert_allclose(act.numpy()(z), hand(z), rtol=1e-12, atol=1e-14)
    assert sp.simplify(act.expr.subs(X, 0)) == 0
    assert sp.simplify(sp.diff(act.expr, X).subs(X, 0)) == 1


def test_already_normalised_activations_are_not_flagged():
    for name in ("tanh", "sin", "atan", "sinh", "erf"):
        assert as_activation(name).normalization is None
    assert as_activation("sinh").numpy()(np.array([0.5])) == pytest.approx(np.sinh(0.5))
    assert as_activation("erf").numpy()(np.array([0.5])) == pytest.approx(
        np.sqrt(np.pi) / 2 * __import__("scipy.special").special.erf(0.5))


def test_affine_rescaling_is_undone():
    act = as_activation("3 + 2*tanh(x)")
    assert act.normalization is not None
    assert sp.simplify(act.expr - sp.tanh(X)) == 0


# ------------------------------------------------------------------- property tests
small_rationals = st.fractions(min_value=-2, max_value=2, max_denominator=6)


def closed_form_drift(phi2, phi3, a, convention):
    if convention == "normalized":
        return (phi2**2 / (4 * a**2)) * (A * B + 2 * R**2 - 3 * R) \
            + (phi3 / (2 * a**2)) * R * (A + B - 2)
    return (1 / a**2) * ((phi2**2 / 4) * (A * B + 2 * R**2) + (phi3 / 2) * R * (A + B))


@settings(max_examples=30, deadline=None)
@given(c2=small_rationals, c3=small_rationals, c5=small_rationals,
       a=st.sampled_from([sp.Integer(1), sp.Integer(2), sp.Rational(1, 3)]),
       convention=st.sampled_from(["normalized", "unnormalized"]))
def test_random_polynomial_drift_is_the_closed_form(c2, c3, c5, a, convention):
    c2, c3, c5 = sp.Rational(c2), sp.Rational(c3), sp.Rational(c5)
    poly = X + c2 * X**2 + c3 * X**3 + c5 * X**5
    sde = derive_sde(str(poly), a=a, convention=convention)
    if c2 == 0 and c3 == 0:
        # no q = 2 term: a smaller critical exponent (x^5: q = 4) or none at all
        assert sde.exponent == (sp.Rational(1, 4) if c5 != 0 else None)
        return
    assert sde.exponent == sp.Rational(1, 2)
    expected = closed_form_drift(2 * c2, 6 * c3, a, convention)
    assert sp.expand(sde.drift_expr - expected) == 0
    k = (sp.Rational(3, 4) * (2 * c2) ** 2 + 6 * c3) / a**2
    assert sp.simplify(sde.stability.k - k) == 0


@settings(max_examples=60, deadline=None)
@given(coeffs=st.lists(small_rationals, min_size=1, max_size=6),
       shift=small_rationals)
def test_parse_round_trips_polynomials(coeffs, shift):
    poly = sp.Rational(shift) + sum(sp.Rational(c) * X**k for k, c in enumerate(coeffs, start=1))
    assert sp.expand(parse_activation_string(str(poly)) - poly) == 0
    assert sp.expand(parse_activation_string(sp.sstr(poly).replace("**", "^")) - poly) == 0


@pytest.mark.parametrize("text,expected", [
    ("x*(1 - x^2)", X - X**3), ("x + (-x^2)/2", X - X**2 / 2), ("-x^2 + x", X - X**2),
    ("x - x^3/3", X - X**3 / 3), ("x + 0.1*x^2", X + X**2 / 10), ("x^2^1 + x", X**2 + X),
])
def test_caret_is_power_with_power_precedence(text, expected):
    """'^' means '**' with its precedence (it once parsed as Python's XOR: x*(1 - x^2) -> x(1 - x)^2)."""
    assert sp.expand(parse_activation_string(text) - expected) == 0


def test_parameters_stay_symbolic_until_given_values():
    act = as_activation("x + alpha*x**2 + beta*x**3")
    assert [s.name for s in act.parameters] == ["alpha", "beta"]
    with pytest.raises(ActivationError):
        act.numpy()
    with pytest.raises(ActivationError):
        as_activation("x + alpha*x**2", gamma=1)
    sde = derive_sde("x + alpha*x**2 + beta*x**3", alpha=0.3, beta=-0.2)
    assert sde.parameters == ()
    expected = closed_form_drift(sp.Rational(6, 10), sp.Rational(-12, 10), 1, "normalized")
    assert sp.expand(sde.drift_expr - expected) == 0
