"""Activations: parse, take the pieces on each side of 0, normalise, Taylor-expand, make numeric.

An :class:`Activation` is the first object of the flow ``"tanh(x)" -> Activation -> one-sided
Taylor coefficients -> Gaussian (half-space) moments -> CovarianceSDE``. Activations are normalised
to phi(0) = 0, phi'(0) = 1 by ``(phi - phi(0)) / phi'(0)`` (Li, Nica & Roy 2022, Sec. 3).

Families:

* ``smooth``: the same Taylor expansion on both sides of 0 (tanh, gelu, hardswish near 0, ...);
* ``kinked``: different expansions on x > 0 and x < 0 with a common value and slope at 0 (ELU,
  CELU, softsign: a kink of second or higher order), and/or ReLU-like slopes added to any activation;
* ``relu_like``: phi = x with slopes s± = 1 + c±/sqrt(n), i.e.
  ``phi_s(x) = s+ max(x, 0) + s- min(x, 0)`` (parameters ``c_plus``, ``c_minus``).

A first-order kink (different slopes at 0: leaky ReLU with a fixed slope, SELU, abs) or a jump
(Heaviside) has no shaped limit; :func:`as_activation` says so and names the corresponding
ReLU-like family.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from .activation_library import (BUILTIN_ACTIVATIONS, RELU_LIKE_DEFAULTS, RELU_LIKE_NAMES, activation_expression,
                                 builtin_expression)
from .activation_parser import X, parse_activation_string
from .one_sided_pieces import as_piecewise, one_sided_pieces
from . import taylor_series
from .codegen import to_callable
from .errors import ActivationError
from .work_budget import symbolic_budget

#: SymPy functions that are entire (no poles or branch points), for :attr:`Activation.is_entire`.
_ENTIRE = (sp.sin, sp.cos, sp.sinh, sp.cosh, sp.exp, sp.erf, sp.erfc)
_NON_SMOOTH = (sp.floor, sp.ceiling, sp.frac)
_RELU_HINT = ("for piecewise-linear activations use the ReLU-like family, e.g. "
              "derive_sde('relu', c_plus=0, c_minus=-1)")
#: Width used to illustrate the ReLU-like member that corresponds to a fixed slope ratio.
_EXAMPLE_WIDTH = 256


@dataclass(frozen=True)
class Activation:
    """An activation function ready for shaping.

    Attributes
    ----------
    name : str
        The name or the text it came from.
    raw : sympy.Expr
        The expression as given (``None`` for the ReLU-like family).
    expr : sympy.Expr
        The normalised activation phi with phi(0) = 0, phi'(0) = 1 (``x`` for ReLU-like).
    family : {"smooth", "kinked", "relu_like"}
    parameters : tuple of sympy.Symbol
        Free symbols other than ``x`` (sorted by name).
    normalization : str or None
        A sentence saying how ``raw`` was normalised, or None when it was already.
    c_plus, c_minus : sympy.Expr or None
        ReLU-like slope constants: phi_n(x) = s phi(x/s) + (c+ max(x, 0) + c- min(x, 0))/sqrt(n)
        (None: no slopes). For the ``relu_like`` family phi = x.
    right, left : sympy.Expr
        The normalised activation's pieces on x > 0 and x < 0 near 0 (equal when smooth).
    note_at_zero : str or None
        A sentence for reports when the activation is piecewise away from 0 (only the piece at 0
        enters the shaped limit).
    """

    name: str
    raw: sp.Expr | None
    expr: sp.Expr
    family: str = "smooth"
    parameters: tuple = ()
    normalization: str | None = None
    c_plus: sp.Expr | None = None
    c_minus: sp.Expr | None = None
    right: sp.Expr | None = None
    left: sp.Expr | None = None
    note_at_zero: str | None = None
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def has_slopes(self) -> bool:
        """Whether ReLU-like slopes 1 + c±/sqrt(n) are part of the shaping."""
        return self.c_plus is not None

    @property
    def breakpoints(self) -> tuple:
        """Real points (floats) where the activation's formula changes (0 for a kink at 0, ±3 for
        hardswish); empty for a smooth formula. Quadrature of phi splits there."""
        if self.family == "relu_like":
            return (0.0,)
        if self.has_slopes:
            return tuple(sorted({0.0} | {float(p) for p in one_sided_pieces(self.raw, self.name).breakpoints}))
        return tuple(float(p) for p in one_sided_pieces(self.raw, self.name).breakpoints)

    @property
    def is_one_sided(self) -> bool:
        """Whether the expansions at 0 differ on the two sides (a kink of order >= 2)."""
        return self.right is not None and self.right != self.left

    # ----------------------------------------------------------------- symbolic
    def taylor_coefficients(self, degree: int) -> tuple:
        """Derivatives phi^(k)(0), k = 0..degree, of the normalised activation (exact SymPy)."""
        if self.family == "relu_like":
            return (sp.Integer(0), sp.Integer(1)) + (sp.Integer(0),) * (degree - 1)
        if self.is_one_sided:
            raise ActivationError(
                f"{self.name} has different Taylor expansions on the two sides of 0; use "
                "one_sided_coefficients(degree)")
        # expand the raw piece at 0 once and normalise its coefficients: phi = (raw - raw(0))/raw'(0)
        raw = _taylor(self._raw_piece, degree)
        return (sp.Integer(0), sp.Integer(1)) + tuple(sp.simplify(c / raw[1]) for c in raw[2:])

    @property
    def _raw_piece(self):
        """The raw (un-normalised) expression valid near 0 (the raw expression when smooth)."""
        if self.raw is None or not any(self.raw.has(f) for f in (sp.Piecewise, sp.Max, sp.Min, sp.Abs,
                                                                 sp.Heaviside, sp.sign)):
            return self.raw
        return one_sided_pieces(self.raw, self.name).right

    def one_sided_coefficients(self, degree: int) -> tuple:
        """(phi^(k)(0+), phi^(k)(0-)), k = 0..degree: the normalised activation's derivatives from
        the right and from the left (equal tuples for a smooth activation)."""
        if not self.is_one_sided:
            coeffs = self.taylor_coefficients(degree)
            return coeffs, coeffs
        key = ("one-sided", max(int(degree), 3))
        if key not in self._cache:
            self._cache[key] = tuple(_taylor(side, key[1]) for side in (self.right, self.left))
        plus, minus = self._cache[key]
        return plus[:degree + 1], minus[:degree + 1]

    def subs(self, values: dict | None = None, **kwargs) -> "Activation":
        """The same activation with parameters replaced by values (names or symbols as keys)."""
        values = dict(values or {}, **kwargs)
        by_name = {s.name: s for s in self.parameters}
        mapping = {}
        for key, val in values.items():
            name = key.name if isinstance(key, sp.Symbol) else str(key)
            if name not in by_name:
                raise ActivationError(
                    f"{self.name} has no parameter {name!r}; its parameters are "
                    f"{[s.name for s in self.parameters] or 'none'}")
            mapping[by_name[name]] = _as_sympy_number(val, name)
        if self.family == "relu_like":
            return relu_like(self.c_plus.subs(mapping), self.c_minus.subs(mapping), name=self.name)
        slopes = None if not self.has_slopes else (self.c_plus.subs(mapping), self.c_minus.subs(mapping))
        return _expression_activation(self.name, self.raw.subs(mapping), slopes=slopes)

    # ------------------------------------------------------------------ numeric
    @property
    def is_numeric(self) -> bool:
        """True when no free parameter is left."""
        return not self.parameters

    def numpy(self):
        """The normalised phi as a vectorised float64 numpy function (smooth family only)."""
        if self.family == "relu_like":
            raise ActivationError("use shaped_function(n) for the ReLU-like family")
        if self.parameters:
            raise ActivationError(
                f"{self.name} has free parameters {[s.name for s in self.parameters]}: "
                f"give them values first, e.g. activation.subs({self.parameters[0].name}=0.1)")
        if "numpy" not in self._cache:
            if self.expr.is_polynomial(X):
                f = _horner_function(self.expr)
            else:
                f = sp.lambdify(X, _stable_softplus(as_piecewise(self.expr)),
                                modules=[{"_softplus": _numpy_softplus}, "scipy", "numpy"])
            self._cache["numpy"] = _broadcasting(f)
        return self._cache["numpy"]

    def raw_function(self, backend: str = "numpy"):
        """The activation as given (``raw``, not normalised) as a function of the codegen backend.

        This is the plain phi of a ResNet branch (SPEC §2), generated by
        :func:`covsde.derive.codegen.to_callable`: ``"numpy"`` (float64, input's shape),
        ``"math"`` or ``"mpmath"`` (scalars). Smooth family only: the ReLU-like family's plain
        activation is max(x, 0), whose Gaussian kernel has a closed form
        (:func:`covsde.derive.gaussian_kernels.gaussian_kernel_closed_form`).
        """
        if self.family == "relu_like":
            raise ActivationError(f"{self.name}: the ReLU-like family's plain activation is max(x, 0); "
                                  "raw_function applies to smooth activations")
        free = sorted(s.name for s in self.raw.free_symbols - {X})
        if free:
            raise ActivationError(f"activation {self.name} has free parameters {free}: give them values, "
                                  f"e.g. as_activation({self.name!r}, {free[0]}=0.1)")
        key = ("raw", backend)
        if key not in self._cache:
            self._cache[key] = to_callable(self.raw, (X,), backend)
        return self._cache[key]

    @property
    def is_polynomial(self) -> bool:
        """True when the activation is a polynomial in x (False for the ReLU-like family)."""
        return self.family == "smooth" and bool(self.raw.is_polynomial(X))

    @property
    def is_entire(self) -> bool:
        """True when phi is built from x, numbers, non-negative integer powers of x-dependent terms and
        entire functions (sin, cos, sinh, cosh, exp, erf, erfc) only: no pole and no branch point
        anywhere in the complex plane (False for the ReLU-like family)."""
        if self.family != "smooth" or self.raw.has(sp.Piecewise, sp.Max, sp.Min, sp.Abs, sp.Heaviside,
                                                   sp.sign):
            return False
        for node in sp.preorder_traversal(self.raw):
            if isinstance(node, sp.Pow):
                if node.base.has(X) and not (node.exp.is_Integer and node.exp >= 0):
                    return False
                if node.exp.has(X):
                    return False
            elif isinstance(node, sp.Function) and not isinstance(node, _ENTIRE):
                return False
        return True

    @property
    def may_grow_exponentially(self) -> bool:
        """True when phi is entire (:attr:`is_entire`) and uses exp, sinh or cosh, so that it may
        grow like exp(|x|) (sinh, cosh, exp): a Gaussian expectation of it then needs nodes far out."""
        return self.is_entire and self.raw.has(sp.exp, sp.sinh, sp.cosh)

    def shaped_function(self, width: int, a: float = 1.0, exponent=sp.Rational(1, 2)):
        """phi_s as a numpy function for a network of the given width.

        Smooth and kinked: phi_s(x) = s phi(x / s), s = a * width**exponent (Li, Nica & Roy 2022,
        eq. 3.1), plus (c+ max(x, 0) + c- min(x, 0))/sqrt(width) when the activation has slopes.
        ReLU-like: phi_s(x) = s+ max(x, 0) + s- min(x, 0), s± = 1 + c±/sqrt(width).
        """
        if self.family == "relu_like":
            if self.c_plus.free_symbols or self.c_minus.free_symbols:
                raise ActivationError("give c_plus and c_minus numeric values to simulate")
            sp_ = 1.0 + float(self.c_plus) / np.sqrt(width)
            sm_ = 1.0 + float(self.c_minus) / np.sqrt(width)

            def relu_like(z):
                z = np.asarray(z, dtype=np.float64)
                return np.where(z > 0, sp_ * z, sm_ * z)
            return relu_like
        phi = self.numpy()
        s = float(a) * float(width) ** float(exponent)
        if self.has_slopes:
            if self.c_plus.free_symbols or self.c_minus.free_symbols:
                raise ActivationError("give c_plus and c_minus numeric values to simulate")
            cp = float(self.c_plus) / np.sqrt(width)
            cm = float(self.c_minus) / np.sqrt(width)

            def shaped_with_slopes(z):
                z = np.asarray(z, dtype=np.float64)
                return s * phi(z / s) + np.where(z > 0, cp * z, cm * z)
            return shaped_with_slopes

        def shaped(z):
            return s * phi(np.asarray(z, dtype=np.float64) / s)
        return shaped

    def __str__(self):
        return f"Activation({self.name}: {self.expr})"

    def __reduce__(self):
        """Pickle as a specification, rebuilt (once per process) on arrival
        (:mod:`covsde.derive.sde_specification`): the numeric cache holds closures."""
        from .sde_specification import activation_from_specification, activation_specification
        return activation_from_specification, (activation_specification(self),)


_SOFTPLUS = sp.Function("_softplus")


def _horner_function(expr):
    """A polynomial's coefficients (from SymPy) evaluated by Horner's rule in numpy: far faster
    than the x**k terms lambdify would print."""
    coeffs = [float(c) for c in sp.Poly(expr, X).all_coeffs()]

    def polynomial(z):
        out = np.full(np.shape(z), coeffs[0])
        for c in coeffs[1:]:
            out *= z
            out += c
        return out
    return polynomial


def _numpy_softplus(z):
    """log(1 + exp(z)) without overflow or loss of precision (numpy.logaddexp)."""
    return np.logaddexp(0.0, z)


def _stable_softplus(expr):
    """Rewrite log(1 + exp(u)) as _softplus(u) so that the numeric function neither overflows
    for large u nor loses digits near 0."""
    def is_softplus(e):
        if e.func != sp.log:
            return False
        inner = e.args[0]
        return inner.is_Add and len(inner.args) == 2 and sp.Integer(1) in inner.args and \
            any(t.func == sp.exp for t in inner.args)
    def to_softplus(e):
        exp_term = [t for t in e.args[0].args if t.func == sp.exp][0]
        return _SOFTPLUS(exp_term.args[0])
    return expr.replace(is_softplus, to_softplus)


def _broadcasting(f):
    """Wrap a lambdified function so that it returns float64 of the input's shape (constants too)."""
    def phi(z):
        z = np.asarray(z, dtype=np.float64)
        out = np.asarray(f(z), dtype=np.float64)
        return out if out.shape == z.shape else np.broadcast_to(out, z.shape).copy()
    return phi


#: Names that read as SymPy's constants (imaginary unit, infinities, nan), never parameter names.
_NOT_PARAMETER_NAMES = frozenset({"I", "oo", "zoo", "nan"})


def _as_sympy_number(val, name):
    """A parameter value as an exact SymPy number (or a SymPy expression in other parameters).

    Accepted: int, float (finite), a string that parses to a real finite number ("1/3", "1e-3",
    "sqrt(2)") or is one parameter name other than x (kept symbolic), or a SymPy expression without x whose numeric value, if it has one, is real and
    finite.  Everything else (None, bool, complex, nan, oo, I, a string naming x or a parameter)
    raises ActivationError.
    """
    if isinstance(val, (bool, np.bool_)) or val is None:
        raise ActivationError(f"parameter {name} must be a real number, got {val!r}")
    if isinstance(val, (int, np.integer)):
        return sp.Integer(int(val))
    if isinstance(val, (float, np.floating)):
        if not np.isfinite(val):
            raise ActivationError(f"parameter {name} must be finite, got {val}")
        return sp.nsimplify(sp.Float(repr(float(val))), rational=True)
    if isinstance(val, str):
        parsed = parse_activation_string(val)
        if parsed.is_Symbol and parsed.name in _NOT_PARAMETER_NAMES:
            raise ActivationError(f"parameter {name} must be a real number, got {val!r}, which reads as "
                                  "a complex or infinite constant, not a parameter name")
        if parsed.free_symbols and not (parsed.is_Symbol and parsed != X):
            raise ActivationError(
                f"parameter {name} must be a number or a single parameter name, got the expression "
                f"{val!r}; give a number such as 0.1, 1/3 or sqrt(2)")
        val = parsed
    if isinstance(val, sp.Basic):
        if not isinstance(val, sp.Expr) or val.has(X) or any(s.name == "x" for s in val.free_symbols):
            raise ActivationError(f"parameter {name} must be a number or an expression in other "
                                  f"parameters, not {val}")
        if val.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise ActivationError(f"parameter {name} must be finite, got {val}")
        if not val.free_symbols:
            if val.is_real is False or val.has(sp.I):
                raise ActivationError(f"parameter {name} must be real, got {val}")
            if val.is_finite is False:
                raise ActivationError(f"parameter {name} must be finite, got {val}")
        return val
    raise ActivationError(f"parameter {name} must be a real number, got {type(val).__name__}")


def _taylor(expr: sp.Expr, degree: int) -> tuple:
    """phi^(k)(0), k = 0..degree, from the expansions on both sides of 0 (which must agree).

    Expanded at least to degree 3 (what a q = 2 derivation needs) and cached, so that one
    derivation expands each side once.
    """
    return _taylor_cached(expr, max(int(degree), 3))[:degree + 1]


@lru_cache(maxsize=256)
def _taylor_cached(expr: sp.Expr, degree: int) -> tuple:
    try:
        # exact power-series arithmetic: O(nodes × degree²), analytic at 0 by construction
        coeffs = taylor_series.taylor_coefficients(expr, X, degree)
    except taylor_series.NotAnalyticAtZero as exc:
        raise ActivationError(f"{expr} is not analytic at 0 ({exc}); shaped smooth activations "
                              "need a Taylor expansion at 0") from None
    except taylor_series.SeriesUnavailable:
        coeffs = None
    if coeffs is not None:
        out = tuple(_simplified(c * sp.factorial(k)) for k, c in enumerate(coeffs))
        _check_finite_real(expr, out)
        return out
    with symbolic_budget(f"the Taylor expansion of {expr} to degree {degree}"):
        sides = [_one_sided_taylor(expr, degree, side) for side in ("+", "-")]
        if any(sp.simplify(r - l) != 0 for r, l in zip(*sides)):
            raise ActivationError(
                f"{expr} has different expansions on the two sides of 0, so it is not smooth at 0; "
                f"shaped smooth activations need four derivatives at 0; {_RELU_HINT}")
    _check_finite_real(expr, sides[0])
    return sides[0]


def _simplified(c):
    """Exact numbers stay as they are; expressions with parameters or functions are simplified."""
    if c.is_Rational:
        return c
    if not c.free_symbols and c.has(sp.tanh, sp.sinh, sp.cosh, sp.exp):
        # hyperbolic functions of logarithms (mish: tanh(log 2) = 3/5) are rational once written
        # with exp; far cheaper than simplify's trigonometric search
        rewritten = sp.cancel(sp.expand(c.rewrite(sp.exp)))
        if rewritten.is_Rational:
            return rewritten
    return sp.simplify(c)


def _check_finite_real(expr, coeffs):
    for k, c in enumerate(coeffs):
        if c.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise ActivationError(f"{expr} is singular at 0 (its derivative of order {k} is not finite)")
        if c.has(sp.I):
            raise ActivationError(f"{expr} is not real near 0 (its derivative of order {k} is {c}); "
                                  "activations must be real functions of a real x")


def _one_sided_taylor(expr, degree, side):
    try:
        series = sp.expand(sp.series(expr, X, 0, degree + 1, dir=side).removeO())
    except ActivationError:
        raise
    except Exception as exc:  # PoleError, NotImplementedError, ... from SymPy's series
        raise ActivationError(
            f"{expr} has no Taylor expansion at 0 ({type(exc).__name__}); shaped activations "
            "need phi to be smooth at 0") from None
    coeffs = [sp.Integer(0)] * (degree + 1)
    for term in sp.Add.make_args(series):
        c, k = term.as_coeff_exponent(X)
        if c.has(X) or not (k.is_integer and k >= 0):
            raise ActivationError(
                f"{expr} is not analytic at 0 (its expansion has the term {term}); "
                "shaped activations need a Taylor expansion at 0")
        coeffs[int(k)] += c
    return tuple(sp.simplify(c * sp.factorial(k)) for k, c in enumerate(coeffs))


def check_expression_in_x(name: str, expr) -> None:
    """Refuse what is not a real, finite expression in x built from known functions: a relation, an
    undefined function, the imaginary unit or an infinity, no x, or floor/ceiling/frac (infinitely
    many jumps). Shared by the shaped activations and the plain ones of the kernels."""
    if not isinstance(expr, sp.Expr) or isinstance(expr, sp.core.relational.Relational):
        raise ActivationError(f"activation {name!r} must be an expression in x, got a {type(expr).__name__}")
    from sympy.core.function import AppliedUndef
    undefined = sorted({str(f.func) for f in expr.atoms(AppliedUndef)})
    if undefined:
        raise ActivationError(f"activation {name!r} uses the undefined function(s) {', '.join(undefined)}; "
                              "give an explicit expression in x")
    if expr.has(sp.I, sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise ActivationError(f"activation {name!r} must be a real, finite expression in x, got {expr}")
    if not expr.has(X):
        raise ActivationError(f"activation {name!r} does not depend on x")
    bad = [f for f in _NON_SMOOTH if expr.has(f)]
    if bad:
        raise ActivationError(
            f"activation {name!r} uses {bad[0].__name__}, which jumps infinitely often; write it with "
            "Piecewise over finitely many pieces")


def _expression_activation(name: str, raw: sp.Expr, slopes: tuple | None = None) -> Activation:
    """An activation from a SymPy expression in x: checked, split into its pieces at 0, normalised.

    ``slopes`` = (c_plus, c_minus) adds ReLU-like slopes (c+ max(x, 0) + c- min(x, 0))/sqrt(n).
    """
    raw = sp.sympify(raw)  # raw is already a SymPy object here, never user text
    check_expression_in_x(name, raw)
    pieces = one_sided_pieces(raw, name)
    try:
        right = _value_and_slope(pieces.right)
        left = right if pieces.agree else _value_and_slope(pieces.left)
    except ActivationError:
        raise
    except Exception as exc:  # SymPy failure on an exotic expression
        raise ActivationError(f"cannot expand {name} at 0 ({type(exc).__name__})") from None
    (phi0, phi1), (phi0_left, phi1_left) = right, left
    if not pieces.agree:
        if _differ(phi0, phi0_left):
            raise ActivationError(
                f"{name} jumps at 0 (phi(0+) = {sp.sstr(phi0)}, phi(0-) = {sp.sstr(phi0_left)}), so it has "
                "no shaped limit (s phi(x/s) keeps the jump); its Gaussian kernel exists: covsde kernel")
        if _differ(phi1, phi1_left):
            raise ActivationError(_first_order_kink_message(name, phi1, phi1_left))
    if phi1 == 0:
        raise ActivationError(
            f"phi'(0) = 0 for {raw}, so the activation has no shaped limit; "
            "shaped activations need phi'(0) != 0")
    note = None
    expr = raw
    if phi0 != 0 or phi1 != 1:
        expr = sp.simplify((raw - phi0) / phi1) if raw.free_symbols - {X} else (raw - phi0) / phi1
        note = (f"normalised as (phi - phi(0))/phi'(0) with phi(0) = {sp.sstr(phi0)}, "
                f"phi'(0) = {sp.sstr(phi1)}, so that phi(0) = 0 and phi'(0) = 1")

    def normalised(piece):
        if phi0 == 0 and phi1 == 1:
            return piece
        shifted = (piece - phi0) / phi1
        return sp.cancel(shifted) if shifted.free_symbols - {X} else shifted
    right_n = normalised(pieces.right)
    left_n = right_n if pieces.agree else normalised(pieces.left)
    c_plus = c_minus = None
    if slopes is not None:
        c_plus = _as_sympy_number(slopes[0], "c_plus")
        c_minus = _as_sympy_number(slopes[1], "c_minus")
    family = "smooth" if pieces.agree and slopes is None else "kinked"
    free = expr.free_symbols | (c_plus.free_symbols | c_minus.free_symbols if slopes else set())
    params = tuple(sorted(free - {X}, key=lambda s: s.name))
    return Activation(name=name, raw=raw, expr=expr, family=family, parameters=params,
                      normalization=note, c_plus=c_plus, c_minus=c_minus, right=right_n, left=left_n,
                      note_at_zero=pieces.note)


def _smooth_activation(name: str, raw: sp.Expr, note_source: str | None = None) -> Activation:
    """An activation from an expression (kept for callers of the smooth-only name)."""
    return _expression_activation(name, raw)


def _differ(a, b) -> bool:
    """Whether two exact values (possibly with parameters) are not identically equal."""
    return a != b and sp.simplify(a - b) != 0


def _short(value) -> str:
    """An exact number as users read it: small fractions as they are, long ones (SELU's constants) to
    10 significant digits."""
    if value.is_Rational and (abs(value.p) > 10**6 or value.q > 10**6):
        return f"{float(value):.10g}"
    return sp.sstr(value)


def _first_order_kink_message(name, slope_right, slope_left) -> str:
    """Why an activation with different slopes at 0 has no shaped limit, and its ReLU-like family."""
    text = (f"{name} has a first-order kink at 0: slope {_short(slope_right)} for x > 0 and "
            f"{_short(slope_left)} for x < 0. The shaping s phi(x/s) keeps both slopes for every s, so the "
            "network does not approach a linear one and there is no shaped (covariance SDE) limit. Its "
            "shaped counterpart is the ReLU-like family, slopes 1 + c±/sqrt(n) (the drift depends on "
            "c+ - c- only)")
    if slope_right != 0 and not (slope_left / slope_right).free_symbols:
        ratio = sp.nsimplify(slope_left / slope_right)
        gap = (1 - ratio) * sp.sqrt(_EXAMPLE_WIDTH)
        text += (f": the slope ratio r = {_short(ratio)} at width n is the member with c+ - c- = "
                 f"(1 - r) sqrt(n), e.g. covsde derive relu --c-plus 0 --c-minus {float(-gap):.6g} "
                 f"at n = {_EXAMPLE_WIDTH}")
    elif (slope_left / slope_right).free_symbols if slope_right != 0 else False:
        ratio = sp.simplify(slope_left / slope_right)
        text += (f"; the slopes agree only where {sp.sstr(ratio)} = 1 (give the parameter that value, "
                 f"or use covsde derive relu --c-plus C+ --c-minus C-)")
    else:
        text += "; use covsde derive relu --c-plus C+ --c-minus C-"
    return text


def _value_and_slope(raw):
    coeffs = _taylor(raw, 1)
    phi0, phi1 = coeffs[0], coeffs[1]
    for v, what in ((phi0, "phi(0)"), (phi1, "phi'(0)")):
        if v.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise ActivationError(f"{raw} is singular at 0 ({what} is not finite)")
    return phi0, phi1


def relu_like(c_plus=RELU_LIKE_DEFAULTS[0], c_minus=RELU_LIKE_DEFAULTS[1], name="relu") -> Activation:
    """The ReLU-like family phi_s(x) = s+ max(x,0) + s- min(x,0), s± = 1 + c±/sqrt(n)."""
    cp = _as_sympy_number(c_plus, "c_plus")
    cm = _as_sympy_number(c_minus, "c_minus")
    params = tuple(sorted((cp.free_symbols | cm.free_symbols), key=lambda s: s.name))
    return Activation(name=name, raw=None, expr=X, family="relu_like", parameters=params,
                      c_plus=cp, c_minus=cm, right=X, left=X)


def as_activation(spec, **params) -> Activation:
    """Turn a name, a string expression in x, a SymPy expression or an Activation into an Activation.

    Parameters
    ----------
    spec : str, sympy.Expr or Activation
        A built-in name (``tanh, sin, atan, erf, sinh, gelu, silu, swish, softplus, linear,
        identity, relu``), a string such as ``"x + alpha*x**2"`` (parsed safely), or a SymPy
        expression in the real symbol ``x`` (``derive.X``).
    **params
        ``c_plus``, ``c_minus``: ReLU-like slopes 1 + c±/sqrt(n) (the ``relu`` family; added to any
        other activation as (c+ max(x, 0) + c- min(x, 0))/sqrt(n), see :func:`with_slopes`).
        Other names: values of parameters to substitute (e.g. ``alpha=0.1``).
    """
    if isinstance(spec, Activation):
        act = spec
    elif isinstance(spec, str):
        key = spec.strip()
        lowered = key.lower()
        if lowered in RELU_LIKE_NAMES:
            extra = sorted(set(params) - {"c_plus", "c_minus"})
            if extra:
                raise ActivationError(
                    f"the {lowered} family takes only c_plus and c_minus, got {extra}")
            return relu_like(params.get("c_plus", RELU_LIKE_DEFAULTS[0]),
                             params.get("c_minus", RELU_LIKE_DEFAULTS[1]), name=lowered)
        slope_params = {k: params.pop(k) for k in ("c_plus", "c_minus") if k in params}
        if lowered in BUILTIN_ACTIVATIONS:
            act = _expression_activation(lowered, builtin_expression(lowered, **params))
            params = {}
        else:
            act = _expression_activation(key, activation_expression(key, declared=tuple(params)))
        params.update(slope_params)
    elif isinstance(spec, sp.Expr):
        if not spec.has(X):
            others = [s for s in spec.free_symbols if s.name == "x"]
            if others:
                spec = spec.subs(others[0], X)
        act = _expression_activation(sp.sstr(spec), spec)
    else:
        raise ActivationError(
            f"activation must be a name, a string expression in x or a SymPy expression, "
            f"got {type(spec).__name__}")
    slopes = None
    if "c_plus" in params or "c_minus" in params:
        slopes = (params.pop("c_plus", 0), params.pop("c_minus", 0))
    if params:
        act = act.subs(params)
    if slopes is not None:
        act = with_slopes(act, *slopes)
    return act


def with_slopes(activation: Activation, c_plus=0, c_minus=0) -> Activation:
    """The activation with ReLU-like slopes: phi_n(x) = s phi(x/s) + (c+ max(x, 0) + c- min(x, 0))/sqrt(n).

    The slopes fix the critical exponent at 1/2 (s = a sqrt(n)); combined with the curvature of phi
    (e.g. ``x + beta*x**2``) the drift has the terms of both and their cross terms. For phi = x this
    is the ReLU-like family itself.
    """
    if activation.family == "relu_like":
        raise ActivationError(f"{activation.name} already has slopes c_plus = {activation.c_plus}, "
                              f"c_minus = {activation.c_minus}")
    if activation.expr == X:
        return relu_like(c_plus, c_minus, name="relu")
    if activation.has_slopes:
        raise ActivationError(f"{activation.name} already has ReLU-like slopes")
    return _expression_activation(activation.name, activation.raw, slopes=(c_plus, c_minus))
