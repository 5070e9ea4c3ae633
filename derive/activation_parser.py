"""Safe parsing of activation strings into SymPy expressions.

User text is never passed to ``eval`` or to ``sympify``. It is parsed by Python's
``ast`` module, and the tree is rebuilt into SymPy node by node from a whitelist:
numbers, the variable ``x``, parameter names, ``+ - * / **`` (and ``^`` as power),
and calls to the functions in :data:`FUNCTIONS`. Attribute access, subscripts,
keyword arguments, lambdas, comprehensions and every other node are refused, and
so are exponents whose size could exhaust memory.
"""
from __future__ import annotations

import ast

import sympy as sp

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
}

#: Constants a user string may name.
CONSTANTS = {"pi": sp.pi, "E": sp.E, "e": sp.E}

_RESERVED = set(FUNCTIONS) | set(CONSTANTS) | {"x"}


def _fail(text: str, why: str) -> ActivationError:
    return ActivationError(
        f"cannot parse activation {text!r}: {why}; accepted: an expression in x with numbers, "
        f"parameter names, + - * / ** and the functions {', '.join(sorted(set(FUNCTIONS) - {'Abs', 'Max', 'Min'}))}"
    )


def parse_activation_string(text: str) -> sp.Expr:
    """Parse ``text`` (e.g. ``"tanh(x)"``, ``"x + alpha*x**2"``) into a SymPy expression in ``x``.

    Free names other than ``x`` and the known constants become real SymPy symbols
    (parameters). Raises :class:`ActivationError` for anything outside the whitelist.
    """
    if not isinstance(text, str):
        raise ActivationError(f"activation must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise _fail(text[:40] + "...", f"longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise _fail(text, "empty expression")
    try:
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")  # ^ binds like **, not XOR
    except SyntaxError as exc:
        raise _fail(text, f"syntax error ({exc.msg})") from None
    return _build(tree.body, text)


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


def _build(node, text):
    if isinstance(node, ast.Constant):
        return _number(node.value, text)
    if isinstance(node, ast.Name):
        name = node.id
        if name == "x":
            return X
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name in FUNCTIONS:
            raise _fail(text, f"function {name!r} used without an argument")
        if name.startswith("_") or not name.isidentifier() or len(name) > 20:
            raise _fail(text, f"name {name!r} is not allowed")
        return sp.Symbol(name, real=True)
    if isinstance(node, ast.UnaryOp):
        operand = _build(node.operand, text)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise _fail(text, f"operator {type(node.op).__name__} is not allowed")
    if isinstance(node, ast.BinOp):
        left = _build(node.left, text)
        right = _build(node.right, text)
        op = node.op
        if isinstance(op, ast.Add):
            return left + right
        if isinstance(op, ast.Sub):
            return left - right
        if isinstance(op, ast.Mult):
            return left * right
        if isinstance(op, ast.Div):
            if right == 0:
                raise _fail(text, "division by zero")
            return left / right
        if isinstance(op, (ast.Pow, ast.BitXor)):
            return _power(left, right, text)
        raise _fail(text, f"operator {type(op).__name__} is not allowed")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise _fail(text, "only plain function calls like tanh(x) are allowed (no attribute access)")
        name = node.func.id
        if name not in FUNCTIONS:
            raise _fail(text, f"unknown function {name!r}")
        if node.keywords:
            raise _fail(text, "keyword arguments are not allowed")
        args = [_build(arg, text) for arg in node.args]
        if name in ("max", "Max", "min", "Min"):
            if len(args) < 2:
                raise _fail(text, f"{name} needs at least two arguments")
        elif len(args) != 1:
            raise _fail(text, f"{name} takes exactly one argument")
        return FUNCTIONS[name](*args)
    raise _fail(text, f"{type(node).__name__} expressions are not allowed")
