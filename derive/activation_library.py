"""Built-in activations, by name (before normalisation).

Each built-in is a :class:`Builtin`: its expression in ``x`` (PyTorch's definition for the
activations PyTorch has, breakpoints and constants included: ``torch.nn`` "Non-linear
activations"), the defaults of its parameters, a one-line description, and, for a function
defined piecewise away from 0 (hardtanh, relu6, hardsigmoid, hardswish), a note naming the piece
at 0, the only one that matters for the shaped limit (phi_s(x) = s phi(x/s) with s -> infinity sees
phi near 0 only). ``relu`` and ``relu_like`` name the ReLU-like family
``s+ max(x, 0) + s- min(x, 0)``, ``s± = 1 + c±/sqrt(n)`` (parameters c_plus, c_minus), which
:func:`covsde.derive.as_activation` builds; ``leaky_relu`` is the fixed-slope leaky ReLU.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import sympy as sp

from .activation_names import did_you_mean
from .activation_parser import CONSTANTS, FUNCTIONS, RESERVED_NAMES, X, parse_activation_string
from .errors import ActivationError

#: The functions whose presence makes an expression non-smooth at its breakpoints.
KINKS = (sp.Piecewise, sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign)


@dataclass(frozen=True)
class Builtin:
    """A built-in activation.

    Attributes
    ----------
    name : str
    expression : sympy.Expr
        The activation in ``x`` (:data:`covsde.derive.X`), parameters as real symbols.
    defaults : mapping of str to number
        Each parameter's default value (PyTorch's), by name.
    description : str
        One line: what it is, its formula and source.
    note_at_zero : str or None
        For a function defined piecewise away from 0: "only the piece at 0 matters for the shaped
        limit: <piece>"; None otherwise.
    """

    name: str
    expression: sp.Expr
    defaults: MappingProxyType
    description: str
    note_at_zero: str | None = None


def _real(name):
    return sp.Symbol(name, real=True)


def _breakpoints(expr) -> list:
    """The real x at which the conditions of the Piecewise parts of ``expr`` change."""
    points = set()
    for relation in sp.piecewise_fold(expr).atoms(sp.core.relational.Relational):
        difference = sp.Poly(relation.lhs - relation.rhs, X)
        points.update(difference.real_roots())
    return sorted(points)


def piece_at_zero(expr) -> sp.Expr:
    """The expression that equals ``expr`` on the interval around 0 bounded by its nearest nonzero
    breakpoints: one piece, or ``Piecewise((right, x > 0), (left, True))`` when the pieces on the
    two sides of 0 differ. ``expr`` itself when it has no Piecewise part."""
    folded = sp.piecewise_fold(expr)
    if not isinstance(folded, sp.Piecewise):
        return expr
    nonzero = [abs(p) for p in _breakpoints(folded) if p != 0]
    step = min(nonzero) / 2 if nonzero else sp.Integer(1)
    sides = []
    for point in (step, -step):
        for value, condition in folded.args:
            if condition.subs(X, point) == sp.true:
                sides.append(sp.factor(value))
                break
    right, left = sides
    return right if sp.simplify(right - left) == 0 else sp.Piecewise((right, X > 0), (left, True))


#: The pieces at 0 of the functions defined piecewise away from 0 (what :func:`piece_at_zero`
#: finds; typed here so that importing the table solves nothing).
_PIECES_AT_ZERO = {"relu6": "max(x, 0)", "hardtanh": "x", "hardsigmoid": "x/6 + 1/2",
                   "hardswish": "x*(x + 3)/6"}


def _builtin(name, expression, description, **defaults) -> Builtin:
    note = (f"only the piece at 0 matters for the shaped limit: {_PIECES_AT_ZERO[name]}"
            if name in _PIECES_AT_ZERO else None)
    return Builtin(name, expression, MappingProxyType(defaults), description, note)


_ALPHA, _SLOPE = _real("alpha"), _real("negative_slope")

_TABLE = (
    _builtin("tanh", sp.tanh(X), "hyperbolic tangent tanh(x)"),
    _builtin("sin", sp.sin(X), "sine sin(x)"),
    _builtin("atan", sp.atan(X), "arc tangent atan(x)"),
    _builtin("erf", sp.sqrt(sp.pi) / 2 * sp.erf(X), "error function, scaled to slope 1: sqrt(pi)/2 erf(x)"),
    _builtin("sinh", sp.sinh(X), "hyperbolic sine sinh(x)"),
    _builtin("gelu", FUNCTIONS["gelu"](X), "GELU, exact: x Phi(x) = x (1 + erf(x/sqrt(2)))/2 "
                                           "(Hendrycks & Gimpel 2016; PyTorch GELU)"),
    _builtin("silu", FUNCTIONS["silu"](X), "SiLU x sigmoid(x) (Elfwing et al. 2018; PyTorch SiLU)"),
    _builtin("swish", FUNCTIONS["silu"](X), "Swish with beta = 1, the same as silu: x sigmoid(x)"),
    _builtin("softplus", FUNCTIONS["softplus"](X), "softplus log(1 + exp(x)) (PyTorch Softplus, beta = 1)"),
    _builtin("linear", X, "the identity x (no nonlinearity)"),
    _builtin("identity", X, "the identity x, the same as linear"),
    _builtin("relu", FUNCTIONS["relu"](X), "ReLU max(x, 0); by this name the ReLU-like family "
                                           "s+ max(x,0) + s- min(x,0), s± = 1 + c±/sqrt(n)"),
    _builtin("gelu_tanh", FUNCTIONS["gelu_tanh"](X),
             "GELU, tanh approximation: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) "
             "(PyTorch GELU(approximate='tanh'))"),
    _builtin("mish", FUNCTIONS["mish"](X), "Mish x tanh(softplus(x)) (Misra 2019; PyTorch Mish)"),
    _builtin("sigmoid", FUNCTIONS["sigmoid"](X), "logistic sigmoid 1/(1 + exp(-x))"),
    _builtin("elu", FUNCTIONS["elu"](X, _ALPHA), "ELU: x for x > 0, alpha (exp(x) - 1) otherwise "
                                                 "(Clevert et al. 2016; PyTorch ELU)", alpha=1.0),
    _builtin("celu", FUNCTIONS["celu"](X, _ALPHA), "CELU: x for x > 0, alpha (exp(x/alpha) - 1) otherwise "
                                                   "(Barron 2017; PyTorch CELU)", alpha=1.0),
    _builtin("selu", FUNCTIONS["selu"](X), "SELU: scale x for x > 0, scale alpha (exp(x) - 1) otherwise, "
                                           "scale = 1.0507..., alpha = 1.6732... (Klambauer et al. 2017; "
                                           "PyTorch SELU)"),
    _builtin("leaky_relu", FUNCTIONS["leaky_relu"](X, _SLOPE),
             "leaky ReLU with a fixed slope: x for x > 0, negative_slope x otherwise (PyTorch LeakyReLU)",
             negative_slope=0.01),
    _builtin("relu6", FUNCTIONS["relu6"](X), "ReLU6 min(max(x, 0), 6) (PyTorch ReLU6)"),
    _builtin("hardtanh", FUNCTIONS["hardtanh"](X), "hard tanh: x clamped to [-1, 1] (PyTorch Hardtanh)"),
    _builtin("hardsigmoid", FUNCTIONS["hardsigmoid"](X), "hard sigmoid relu6(x + 3)/6 (PyTorch Hardsigmoid)"),
    _builtin("hardswish", FUNCTIONS["hardswish"](X), "hard swish x relu6(x + 3)/6 (Howard et al. 2019; "
                                                     "PyTorch Hardswish)"),
    _builtin("softsign", FUNCTIONS["softsign"](X), "softsign x/(1 + |x|) (PyTorch Softsign)"),
)

#: Built-in activations: name -> :class:`Builtin` (read-only).
BUILTIN_ACTIVATIONS = MappingProxyType({builtin.name: builtin for builtin in _TABLE})

#: Names of the ReLU-like family phi_s(x) = s+ max(x,0) + s- min(x,0), s± = 1 + c±/sqrt(n).
RELU_LIKE_NAMES = ("relu", "relu_like")

#: Default (c+, c-) of the ReLU-like family: the paper's example, c+ = 0, c- = -1.
RELU_LIKE_DEFAULTS = (0, -1)

#: Smooth built-ins (no kink, no parameter): name -> expression in x.
SMOOTH_ACTIVATIONS = MappingProxyType({
    name: builtin.expression for name, builtin in BUILTIN_ACTIVATIONS.items()
    if name not in RELU_LIKE_NAMES and not builtin.defaults and not builtin.expression.has(*KINKS)})


def builtin_expression(name: str, **params) -> sp.Expr:
    """The built-in activation ``name`` as an expression in x, each parameter replaced by its value
    if given, by its default otherwise.

    Parameters
    ----------
    name : str
        A key of :data:`BUILTIN_ACTIVATIONS` (case and surrounding spaces ignored).
    **params
        Parameter values: numbers (made exact), SymPy expressions without x, or strings (a
        parameter name, kept symbolic, or a number such as ``"1/3"``).

    Raises
    ------
    ActivationError
        For an unknown name (:func:`unknown_activation_error`), an unknown parameter (listing the
        valid ones) or a value that is not a real finite number or a name.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in BUILTIN_ACTIVATIONS:
        raise unknown_activation_error(name)
    builtin = BUILTIN_ACTIVATIONS[key]
    unknown = sorted(set(params) - set(builtin.defaults))
    if unknown:
        valid = ", ".join(builtin.defaults) or "none"
        hint = (" (c_plus and c_minus belong to the ReLU-like family 'relu')"
                if {"c_plus", "c_minus"} & set(unknown) else "")
        raise ActivationError(f"{key} has no parameter {unknown[0]!r}; its parameters are {valid}{hint}")
    values = {_real(p): _parameter_value(p, params.get(p, default)) for p, default in builtin.defaults.items()}
    return builtin.expression.subs(values) if values else builtin.expression


def _parameter_value(name, value):
    if isinstance(value, str) and value.strip().isidentifier() and value.strip() not in RESERVED_NAMES:
        symbol = value.strip()
        if symbol.startswith("_"):
            raise ActivationError(f"parameter {name} cannot be named {symbol!r}")
        return _real(symbol)
    from .activation import _as_sympy_number   # the one conversion of parameter values
    return _as_sympy_number(value, name)


def unknown_activation_error(name) -> ActivationError:
    """The error for a name that is no built-in activation: the nearest built-in or function names
    ("did you mean 'elu'?") and the list of built-ins."""
    suggestion = did_you_mean(str(name).strip(), (*BUILTIN_ACTIVATIONS, *RELU_LIKE_NAMES, *FUNCTIONS))
    return ActivationError(
        f"unknown activation {str(name).strip()!r}; {suggestion + ' ' if suggestion else ''}built-in "
        f"activations: {', '.join(builtin_names())}; or give an expression in x such as 'x + alpha*x**2'")


def builtin_names() -> tuple:
    """Every built-in activation name, :data:`BUILTIN_ACTIVATIONS` in order, then ``relu_like``."""
    return (*BUILTIN_ACTIVATIONS, *(name for name in RELU_LIKE_NAMES if name not in BUILTIN_ACTIVATIONS))


def activation_expression(text: str, declared=()) -> sp.Expr:
    """The expression of an activation string that is not a built-in name: a bare name (``elo``)
    is an unknown activation (:func:`unknown_activation_error`), anything else is parsed
    (:func:`covsde.derive.parse_activation_string`)."""
    key = text.strip()
    if key.isidentifier() and key != "x" and key not in CONSTANTS:
        raise unknown_activation_error(key)
    return parse_activation_string(key, declared=declared)
