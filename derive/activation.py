"""Activations: parse, check smoothness at 0, normalise, Taylor-expand, and make numeric.

An :class:`Activation` is the first object of the flow ``"tanh(x)" -> Activation -> Taylor
coefficients -> Wick moments -> CovarianceSDE``. Smooth activations are normalised to
phi(0) = 0, phi'(0) = 1 by ``(phi - phi(0)) / phi'(0)`` (Li, Nica & Roy 2022, Sec. 3).
The ReLU-like family ``phi_s(x) = s+ max(x, 0) + s- min(x, 0)`` with ``s± = 1 + c±/sqrt(n)``
is a separate family with parameters ``c_plus``, ``c_minus``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from .activation_library import RELU_LIKE_DEFAULTS, RELU_LIKE_NAMES, SMOOTH_ACTIVATIONS
from .activation_parser import X, parse_activation_string
from . import taylor_series
from .codegen import to_callable
from .errors import ActivationError
from .work_budget import symbolic_budget

#: SymPy functions that are entire (no poles or branch points), for :attr:`Activation.is_entire`.
_ENTIRE = (sp.sin, sp.cos, sp.sinh, sp.cosh, sp.exp, sp.erf, sp.erfc)
_NON_SMOOTH = (sp.Abs, sp.Max, sp.Min, sp.Heaviside, sp.sign, sp.Piecewise, sp.floor, sp.ceiling)
_RELU_HINT = ("for piecewise-linear activations use the ReLU-like family, e.g. "
              "derive_sde('relu', c_plus=0, c_minus=-1)")


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
    family : {"smooth", "relu_like"}
    parameters : tuple of sympy.Symbol
        Free symbols other than ``x`` (sorted by name).
    normalization : str or None
        A sentence saying how ``raw`` was normalised, or None when it was already.
    c_plus, c_minus : sympy.Expr or None
        The ReLU-like family's shaping constants.
    """

    name: str
    raw: sp.Expr | None
    expr: sp.Expr
    family: str = "smooth"
    parameters: tuple = ()
    normalization: str | None = None
    c_plus: sp.Expr | None = None
    c_minus: sp.Expr | None = None
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    # ----------------------------------------------------------------- symbolic
    def taylor_coefficients(self, degree: int) -> tuple:
        """Derivatives phi^(k)(0), k = 0..degree, of the normalised activation (exact SymPy)."""
        if self.family != "smooth":
            raise ActivationError("the ReLU-like family has no Taylor expansion at 0")
        # expand the raw activation once and normalise its coefficients: phi = (raw - raw(0))/raw'(0)
        raw = _taylor(self.raw, degree)
        return (sp.Integer(0), sp.Integer(1)) + tuple(sp.simplify(c / raw[1]) for c in raw[2:])

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
        raw = None if self.raw is None else self.raw.subs(mapping)
        return _smooth_activation(self.name, raw, note_source=self.name) if self.family == "smooth" \
            else self

    # ------------------------------------------------------------------ numeric
    @property
    def is_numeric(self) -> bool:
        """True when no free parameter is left."""
        return not self.parameters

    def numpy(self):
        """The normalised phi as a vectorised float64 numpy function (smooth family only)."""
        if self.family != "smooth":
            raise ActivationError("use shaped_function(n) for the ReLU-like family")
        if self.parameters:
            raise ActivationError(
                f"{self.name} has free parameters {[s.name for s in self.parameters]}: "
                f"give them values first, e.g. activation.subs({self.parameters[0].name}=0.1)")
        if "numpy" not in self._cache:
            if self.expr.is_polynomial(X):
                f = _horner_function(self.expr)
            else:
                f = sp.lambdify(X, _stable_softplus(self.expr),
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
        if self.family != "smooth":
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
        if self.family != "smooth":
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

        Smooth: phi_s(x) = s phi(x / s), s = a * width**exponent (Li, Nica & Roy 2022, eq. 3.1).
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


def _smooth_activation(name: str, raw: sp.Expr, note_source: str | None = None) -> Activation:
    raw = sp.sympify(raw)  # raw is already a SymPy object here, never user text
    if not isinstance(raw, sp.Expr) or isinstance(raw, sp.core.relational.Relational):
        raise ActivationError(f"activation {name!r} must be an expression in x, got a {type(raw).__name__}")
    from sympy.core.function import AppliedUndef
    undefined = sorted({str(f.func) for f in raw.atoms(AppliedUndef)})
    if undefined:
        raise ActivationError(f"activation {name!r} uses the undefined function(s) {', '.join(undefined)}; "
                              "give an explicit expression in x")
    if raw.has(sp.I) or raw.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise ActivationError(f"activation {name!r} must be a real, finite expression in x, got {raw}")
    if not raw.has(X):
        raise ActivationError(f"activation {name!r} does not depend on x")
    bad = [f for f in _NON_SMOOTH if raw.has(f)]
    if bad:
        raise ActivationError(
            f"{name} is not smooth at 0 (it uses {bad[0].__name__}); shaped smooth activations "
            f"need four derivatives at 0; {_RELU_HINT}")
    try:
        phi0, phi1 = _value_and_slope(raw)
    except ActivationError:
        raise
    except Exception as exc:  # SymPy failure on an exotic expression
        raise ActivationError(f"cannot expand {name} at 0 ({type(exc).__name__})") from None
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
    params = tuple(sorted(expr.free_symbols - {X}, key=lambda s: s.name))
    return Activation(name=name, raw=raw, expr=expr, family="smooth",
                      parameters=params, normalization=note)


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
                      c_plus=cp, c_minus=cm)


def as_activation(spec, **params) -> Activation:
    """Turn a name, a string expression in x, a SymPy expression or an Activation into an Activation.

    Parameters
    ----------
    spec : str, sympy.Expr or Activation
        A built-in name (``tanh, sin, atan, erf, sinh, gelu, silu, swish, softplus, linear,
        identity, relu``), a string such as ``"x + alpha*x**2"`` (parsed safely), or a SymPy
        expression in the real symbol ``x`` (``derive.X``).
    **params
        For the ReLU-like family: ``c_plus``, ``c_minus``. For other activations, values of
        parameters to substitute (e.g. ``alpha=0.1``).
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
        if lowered in SMOOTH_ACTIVATIONS:
            act = _smooth_activation(lowered, SMOOTH_ACTIVATIONS[lowered])
        else:
            act = _smooth_activation(key, parse_activation_string(key))
    elif isinstance(spec, sp.Expr):
        if not spec.has(X):
            others = [s for s in spec.free_symbols if s.name == "x"]
            if others:
                spec = spec.subs(others[0], X)
        act = _smooth_activation(sp.sstr(spec), spec)
    else:
        raise ActivationError(
            f"activation must be a name, a string expression in x or a SymPy expression, "
            f"got {type(spec).__name__}")
    if params:
        for key in ("c_plus", "c_minus"):
            if key in params:
                raise ActivationError(f"{key} applies only to the ReLU-like family ('relu')")
        act = act.subs(params)
    return act
