"""Safe parsing of activation strings into SymPy expressions.

User text is never passed to ``eval`` or to ``sympify``. It is parsed by Python's
``ast`` module, and the tree is rebuilt into SymPy node by node from a whitelist:
numbers, the variable ``x``, parameter names (:mod:`covsde.derive.activation_names`),
``+ - * / **`` (and ``^`` as power), calls to the functions in :data:`FUNCTIONS` (PyTorch's
activations among them, with PyTorch's breakpoints and constants), and
``Piecewise((expr, condition), ...)`` whose conditions compare x (linearly) with numbers.
Attribute access, subscripts, keyword arguments, lambdas, comprehensions and every other node
are refused, and so are exponents whose size could exhaust memory.
"""
from __future__ import annotations

import ast

import sympy as sp

from .activation_names import (GREEK_NAMES, MAX_NAME_LENGTH, checked_declarations, did_you_mean,
                               is_parameter_name)
from .errors import ActivationError

#: The variable of every activation.
X = sp.Symbol("x", real=True)

MAX_LENGTH = 500
MAX_EXPONENT = 64
MAX_LITERAL = 10**12
#: Largest size, in bits, of an exact rational built from numeric powers.
MAX_RATIONAL_BITS = 4096


def _sigmoid(z):
    return 1 / (1 + sp.exp(-z))


def _softplus(z):
    return sp.log(1 + sp.exp(z))


def _gelu(z):
    return z * (1 + sp.erf(z / sp.sqrt(2))) / 2


def _silu(z):
    return z * _sigmoid(z)


def _relu(z):
    return sp.Max(z, 0)


# PyTorch's definitions (torch.nn, "Non-linear activations"), breakpoints and constants included.
#: SELU's scale and alpha (Klambauer et al. 2017), as PyTorch writes them, as exact rationals.
SELU_SCALE = sp.Rational("1.0507009873554804934193349852946")
SELU_ALPHA = sp.Rational("1.6732632423543772848170429916717")
#: The cubic coefficient of GELU's tanh approximation (Hendrycks & Gimpel 2016).
GELU_TANH_CUBIC = sp.Rational("0.044715")


def _elu(z, alpha=1):
    """ELU(x) = x for x > 0, alpha (exp(x) - 1) otherwise."""
    return sp.Piecewise((z, z > 0), (alpha * (sp.exp(z) - 1), True))


def _celu(z, alpha=1):
    """CELU(x) = max(0, x) + min(0, alpha (exp(x/alpha) - 1)) = x for x > 0, alpha (exp(x/alpha) - 1) otherwise."""
    return sp.Piecewise((z, z > 0), (alpha * (sp.exp(z / alpha) - 1), True))


def _selu(z):
    """SELU(x) = scale (max(0, x) + min(0, alpha (exp(x) - 1)))."""
    return sp.Piecewise((SELU_SCALE * z, z > 0), (SELU_SCALE * SELU_ALPHA * (sp.exp(z) - 1), True))


def _leaky_relu(z, negative_slope=sp.Rational(1, 100)):
    """LeakyReLU(x) = x for x >= 0, negative_slope x otherwise (PyTorch's default slope 0.01)."""
    return sp.Piecewise((z, z > 0), (negative_slope * z, True))


def _relu6(z):
    """ReLU6(x) = min(max(0, x), 6)."""
    return sp.Piecewise((0, z < 0), (z, z < 6), (6, True))


def _hardtanh(z):
    """Hardtanh(x) = -1 for x < -1, x for -1 <= x <= 1, 1 for x > 1."""
    return sp.Piecewise((-1, z < -1), (z, z < 1), (1, True))


def _hardsigmoid(z):
    """Hardsigmoid(x) = ReLU6(x + 3)/6: 0 for x <= -3, x/6 + 1/2 for -3 < x < 3, 1 for x >= 3."""
    return sp.Piecewise((0, z < -3), (z / 6 + sp.Rational(1, 2), z < 3), (1, True))


def _hardswish(z):
    """Hardswish(x) = x ReLU6(x + 3)/6: 0 for x <= -3, x (x + 3)/6 for -3 < x < 3, x for x >= 3."""
    return sp.Piecewise((0, z < -3), (z * (z + 3) / 6, z < 3), (z, True))


def _softsign(z):
    """Softsign(x) = x / (1 + |x|)."""
    return z / (1 + sp.Abs(z))


def _mish(z):
    """Mish(x) = x tanh(softplus(x)) (Misra 2019)."""
    return z * sp.tanh(_softplus(z))


def _gelu_tanh(z):
    """GELU, tanh approximation: x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return z / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (z + GELU_TANH_CUBIC * z**3)))


#: Functions a user string may call, by name.
FUNCTIONS = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
    "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "asin": sp.asin, "acos": sp.acos, "atan": sp.atan, "arctan": sp.atan,
    "asinh": sp.asinh, "arcsinh": sp.asinh, "atanh": sp.atanh,
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt,
    "erf": sp.erf, "erfc": sp.erfc,
    "sigmoid": _sigmoid, "softplus": _softplus, "gelu": _gelu,
    "silu": _silu, "swish": _silu,
    "abs": sp.Abs, "Abs": sp.Abs, "sign": sp.sign,
    "max": sp.Max, "Max": sp.Max, "min": sp.Min, "Min": sp.Min,
    "relu": _relu, "Heaviside": sp.Heaviside,
    "elu": _elu, "celu": _celu, "selu": _selu, "leaky_relu": _leaky_relu, "relu6": _relu6,
    "hardtanh": _hardtanh, "hardsigmoid": _hardsigmoid, "hardswish": _hardswish,
    "softsign": _softsign, "mish": _mish, "gelu_tanh": _gelu_tanh,
}

#: Functions that take a parameter after x (``elu(x, alpha)``), by name: the parameter's name.
PARAMETER_ARGUMENTS = {"elu": "alpha", "celu": "alpha", "leaky_relu": "negative_slope"}

#: Constants a user string may name.
CONSTANTS = {"pi": sp.pi, "E": sp.E, "e": sp.E}

#: Names a user string may not use as parameter names.
RESERVED_NAMES = frozenset(FUNCTIONS) | frozenset(CONSTANTS) | {"x", "Piecewise", "And", "Or", "True"}

_COMPARISONS = {ast.Lt: sp.Lt, ast.LtE: sp.Le, ast.Gt: sp.Gt, ast.GtE: sp.Ge}
_CONNECTIVES = {ast.BitAnd: sp.And, ast.BitOr: sp.Or, ast.And: sp.And, ast.Or: sp.Or}


def _fail(text: str, why: str) -> ActivationError:
    return ActivationError(
        f"cannot parse activation {text!r}: {why}; accepted: an expression in x with numbers, "
        f"parameter names, + - * / **, Piecewise((expr, condition), ..., (expr, True)) and the "
        f"functions {', '.join(sorted(set(FUNCTIONS) - {'Abs', 'Max', 'Min'}))}"
    )


def parse_activation_string(text: str, declared=()) -> sp.Expr:
    """Parse ``text`` (e.g. ``"tanh(x)"``, ``"x + alpha*x**2"``, ``"elu(x, 0.5)"``,
    ``"Piecewise((x, x > 0), (exp(x) - 1, True))"``) into a SymPy expression in ``x``.

    Parameters
    ----------
    text : str
        The activation. Free names other than ``x`` and the constants ``pi``, ``e``/``E`` are
        parameters (real SymPy symbols) when they read as one (a single letter other than x or a
        Greek letter's name, optionally with a suffix: ``a1``, ``alpha_2``, ``c_0``; see
        :mod:`covsde.derive.activation_names`) or are declared.
        ``Piecewise`` takes ``(expression, condition)`` pairs; a condition compares x (or a linear
        expression in x) with numbers (``x > 0``, ``-3 < x <= 3``, ``2*x + 1 > 0``), joins such comparisons with ``&``/``|``
        (``(x > -1) & (x < 1)``), ``and``/``or`` or ``And(...)``/``Or(...)``, or is ``True``;
        the conditions together must cover every real x.
    declared : iterable of str
        More parameter names to accept (``("gain",)``).

    Raises
    ------
    ActivationError
        For anything outside the whitelist, with one sentence saying what and, for an unknown
        name, the nearest known names.
    """
    if not isinstance(text, str):
        raise ActivationError(f"activation must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise _fail(text[:40] + "...", f"longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise _fail(text, "empty expression")
    declared = checked_declarations(declared, RESERVED_NAMES)
    try:
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")  # ^ binds like **, not XOR
    except SyntaxError as exc:
        raise _fail(text, f"syntax error ({exc.msg})") from None
    return _ExpressionBuilder(text, declared).expression(tree.body)


def _number(value, text):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(text, f"literal {value!r} is not a number")
    if abs(value) > MAX_LITERAL:
        raise _fail(text, f"numeric literal {value!r} is larger than {MAX_LITERAL}")
    if isinstance(value, int):
        return sp.Integer(value)
    return sp.nsimplify(sp.Float(repr(value)), rational=True)


def _power(base, exponent, text):
    if exponent.free_symbols:
        if base.has(X) and exponent.has(X):
            raise _fail(text, "x in an exponent of an x-dependent base is not supported")
        return sp.Pow(base, exponent)
    if not exponent.is_number or not exponent.is_real:
        raise _fail(text, f"exponent {exponent} is not a real number")
    if abs(float(exponent)) > MAX_EXPONENT:
        raise _fail(text, f"exponent {exponent} is larger than {MAX_EXPONENT}")
    if base.is_Rational and base != 0:
        bits = max(abs(base.p).bit_length(), abs(base.q).bit_length())
        if bits * abs(float(exponent)) > MAX_RATIONAL_BITS:
            raise _fail(text, f"the number {sp.sstr(base)[:20]}**{exponent} is too large "
                              f"(more than {MAX_RATIONAL_BITS} bits)")
    return sp.Pow(base, exponent)


class _ExpressionBuilder:
    """Rebuild a Python expression tree (``ast``) into SymPy, node by node, from the whitelist."""

    def __init__(self, text: str, declared: frozenset):
        self.text = text
        self.declared = declared

    def fail(self, why: str) -> ActivationError:
        return _fail(self.text, why)

    # ------------------------------------------------------------------ expressions
    def expression(self, node):
        if isinstance(node, ast.Constant):
            return _number(node.value, self.text)
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp):
            operand = self.expression(node.operand)
            if isinstance(node.op, ast.USub):
                return -operand
            if isinstance(node.op, ast.UAdd):
                return operand
            raise self.fail(f"operator {type(node.op).__name__} is not allowed")
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Compare):
            raise self.fail("a comparison is allowed only as the condition of a Piecewise piece")
        raise self.fail(f"{type(node).__name__} expressions are not allowed")

    def name(self, name: str):
        if name == "x":
            return X
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS or name == "Piecewise":
            raise self.fail(f"function {name!r} used without an argument")
        if name.startswith("_") or not name.isidentifier() or len(name) > MAX_NAME_LENGTH:
            raise self.fail(f"name {name!r} is not allowed")
        if name in self.declared or is_parameter_name(name):
            return sp.Symbol(name, real=True)
        suggestion = did_you_mean(name, (*GREEK_NAMES, *FUNCTIONS, *CONSTANTS))
        raise ActivationError(
            f"unknown name {name!r} in {self.text!r}: {suggestion + ' ' if suggestion else ''}parameters are single "
            "letters or Greek names (a, c_1, alpha, beta_2), or declare them "
            "with --declare NAME (declared=(NAME,) in Python)")

    def binary(self, node):
        op = node.op
        if isinstance(op, (ast.BitAnd, ast.BitOr)):
            raise self.fail("& and | join conditions of Piecewise; put each comparison in parentheses, "
                            "e.g. (x > -1) & (x < 1)")
        left = self.expression(node.left)
        right = self.expression(node.right)
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Div):
            if right == 0:
                raise self.fail("division by zero")
            return left / right
        if isinstance(op, (ast.Pow, ast.BitXor)):
            return _power(left, right, self.text)
        raise self.fail(f"operator {type(op).__name__} is not allowed")

    def call(self, node):
        if not isinstance(node.func, ast.Name):
            raise self.fail("only plain function calls like tanh(x) are allowed (no attribute access)")
        name = node.func.id
        if name == "Piecewise":
            return self.piecewise(node)
        if name not in FUNCTIONS:
            suggestion = did_you_mean(name, (*FUNCTIONS, "Piecewise"))
            raise self.fail(f"unknown function {name!r}{' (' + suggestion + ')' if suggestion else ''}")
        if node.keywords:
            raise self.fail("keyword arguments are not allowed")
        args = [self.expression(arg) for arg in node.args]
        if name in ("max", "Max", "min", "Min"):
            if len(args) < 2:
                raise self.fail(f"{name} needs at least two arguments")
        elif name in PARAMETER_ARGUMENTS:
            parameter = PARAMETER_ARGUMENTS[name]
            if len(args) not in (1, 2):
                raise self.fail(f"{name} takes x and optionally its {parameter}: {name}(x) or "
                                f"{name}(x, {parameter})")
            if len(args) == 2 and args[1].has(X):
                raise self.fail(f"the {parameter} of {name} must not depend on x")
        elif len(args) != 1:
            raise self.fail(f"{name} takes exactly one argument")
        return FUNCTIONS[name](*args)

    # ------------------------------------------------------------------- Piecewise
    def piecewise(self, node):
        if node.keywords or not node.args:
            raise self.fail("Piecewise takes pairs (expression, condition), e.g. "
                            "Piecewise((x, x > 0), (exp(x) - 1, True))")
        pieces = []
        for arg in node.args:
            if not isinstance(arg, ast.Tuple) or len(arg.elts) != 2:
                raise self.fail("each argument of Piecewise is a pair (expression, condition), "
                                "e.g. (x, x > 0)")
            pieces.append((self.expression(arg.elts[0]), self.condition(arg.elts[1])))
        covered = sp.Or(*(condition for _, condition in pieces))
        if covered is not sp.true:
            try:
                whole_line = covered.as_set() == sp.S.Reals
            except Exception:  # SymPy cannot solve the conditions: treat as not covering
                whole_line = False
            if not whole_line:
                raise self.fail("the conditions of Piecewise do not cover every real x; end with a "
                                "piece (expression, True)")
        return sp.Piecewise(*pieces)

    def condition(self, node):
        if isinstance(node, ast.Constant) and node.value is True:
            return sp.true
        if isinstance(node, ast.Compare):
            sides = [self.condition_side(side) for side in (node.left, *node.comparators)]
            relations = []
            for op, left, right in zip(node.ops, sides, sides[1:]):
                if type(op) not in _COMPARISONS:
                    raise self.fail(f"conditions compare with < <= > >=, not {type(op).__name__}")
                relations.append(_COMPARISONS[type(op)](left, right))
            return sp.And(*relations)
        if isinstance(node, ast.BinOp) and type(node.op) in (ast.BitAnd, ast.BitOr):
            return _CONNECTIVES[type(node.op)](self.condition(node.left), self.condition(node.right))
        if isinstance(node, ast.BoolOp):
            return _CONNECTIVES[type(node.op)](*(self.condition(value) for value in node.values))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("And", "Or") \
                and not node.keywords and node.args:
            return (sp.And if node.func.id == "And" else sp.Or)(*(self.condition(a) for a in node.args))
        raise self.fail("a condition of Piecewise is a comparison in x (x > 0, -3 < x < 3), True, "
                        "or comparisons joined by & or |")

    def condition_side(self, node):
        side = self.expression(node)
        others = sorted(s.name for s in side.free_symbols - {X})
        if others:
            raise self.fail(f"the condition depends on the parameter {others[0]}; conditions compare "
                            "x with numbers (a piecewise definition in a parameter is not supported)")
        if not side.is_polynomial(X) or sp.degree(side, X) > 1 or (not side.has(X) and not side.is_real):
            raise self.fail(f"conditions compare x (or a linear expression in x) with real numbers, such as "
                            f"x > 0 or -3 < x < 3, not {side}")
        return side
