"""The plain activation of a Gaussian kernel: phi as written, no shaping and no normalisation.

The Gaussian kernel F_phi(Q)^{ab} = E[phi(Z_a) phi(Z_b)], Z ~ N(0, Q) (SPEC §2) is defined for every
phi with finite Gaussian second moments: cos(x), x**2, exp(-x**2), abs(x), Heaviside(x), elu, ...
None of the shaping rules of the covariance SDE (phi'(0) != 0, smooth at 0, normalisation) apply.
A :class:`PlainActivation` holds what the kernel needs to know about phi:

- the expression and its numeric functions (:func:`covsde.derive.codegen.to_callable`, backends
  numpy, math, mpmath; ``Piecewise``, ``Heaviside``, ``Max``, ``Min``, ``Abs`` and ``sign`` included;
  Heaviside(0) = 1/2, SymPy's convention, which no Gaussian expectation sees);
- its kinks and jumps (where quadrature must split);
- whether E[phi(sigma u)^2] is finite for every sigma (refused otherwise: exp(x**2));
- the length scale h of its features, how far out they reach (beyond that phi is a constant, a
  polynomial or decays: a Gaussian-scale rule suffices) or that they never stop (sin, cos), and
  whether phi grows exponentially (exp, sinh), for the choice of quadrature nodes.

``relu`` (and the ReLU-like family, whose plain branch activation is max(x, 0)) is ``max(x, 0)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp

from .activation import Activation, check_expression_in_x
from .activation_library import (BUILTIN_ACTIVATIONS, RELU_LIKE_NAMES, activation_expression, builtin_expression,
                                 unknown_activation_error)
from .activation_parser import FUNCTIONS, X
from .codegen import to_callable
from .errors import ActivationError, InputError

#: Beyond ``FEATURE_RADIUS_SCALES`` times its largest length scale (past the kinks), a phi that
#: neither oscillates nor grows exponentially is a constant, a polynomial or zero to double precision
#: (tanh: 1 - tanh(18.4) = 1e-16; sigmoid(x): 37; exp(-x**2): 6.1; erf: 6).
FEATURE_RADIUS_SCALES = 40.0

#: Functions whose real poles make E[phi^2] infinite whatever the variance.
_POLAR = (sp.tan, sp.cot, sp.sec, sp.csc)
_TRIGONOMETRIC = (sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc)
#: Entire functions of exponential type (|f(z)| <= C e^{tau |z|}) when their argument is affine.
_EXPONENTIAL_TYPE = (sp.sin, sp.cos, sp.sinh, sp.cosh, sp.exp)
_KINKED = (sp.Abs, sp.Heaviside, sp.sign)


@dataclass(frozen=True)
class PlainActivation:
    """phi as written, with what a Gaussian expectation of it needs to know.

    Attributes
    ----------
    name : str
    expr : sympy.Expr
        phi in the real symbol ``x`` (:data:`covsde.derive.X`), no free parameter.
    kinks : tuple of float
        Sorted real points where phi or one of its derivatives jumps (Abs, Max/Min, Heaviside,
        sign arguments and Piecewise conditions).
    feature_scale : float
        h: the shortest length on which phi varies (1/|k| for f(k x), 1/sqrt(g) for exp(-g x**2);
        1 when phi has no such scale).
    feature_radius : float
        Beyond max|kink| + feature_radius phi is a constant, a polynomial or zero to double
        precision (0 for piecewise polynomials); ``inf`` when it oscillates for ever (sin, cos).
    exponential_type : bool
        phi is entire of exponential type (polynomials, sin, cos, sinh, cosh, exp of affine
        arguments): Gauss-Legendre panels may be three times wider.
    grows_exponentially : bool
        |phi(x)| > e^60 at |x| = 200 (exp, sinh, cosh): the Gaussian mass of phi^2 moves out to
        |x| ~ sigma^2, beyond the nodes a Gaussian-scale rule places.
    """

    name: str
    expr: sp.Expr
    kinks: tuple = ()
    feature_scale: float = 1.0
    feature_radius: float = 0.0
    exponential_type: bool = False
    grows_exponentially: bool = False
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def function(self, backend: str = "numpy"):
        """phi as a function of the codegen backend ("numpy": float64 of the input's shape)."""
        if backend not in self._cache:
            self._cache[backend] = to_callable(self.expr, (X,), backend)
        return self._cache[backend]

    @property
    def is_polynomial(self) -> bool:
        return bool(self.expr.is_polynomial(X))

    def one_sided_monomials(self):
        """((p, i), (q, j)) when phi(x) = p x^i for x > 0 and phi(x) = q (-x)^j for x < 0 with
        i, j in {0, 1, 2} (relu, abs, Heaviside, sign, leaky relu, relu(x)**2, ...), else None."""
        t = sp.Symbol("t", positive=True)
        sides = []
        for value in (self.expr.subs(X, t), self.expr.subs(X, -t)):
            value = sp.piecewise_fold(sp.expand(value))
            if value.has(sp.Piecewise):
                value = sp.simplify(value)
            if value == 0:
                sides.append((sp.Integer(0), 0))
                continue
            coefficient, power = value.as_coeff_exponent(t)
            if coefficient.has(t) or not power.is_Integer or not 0 <= power <= 2 or not coefficient.is_number:
                return None
            sides.append((coefficient, int(power)))
        return tuple(sides)

    def __str__(self):
        return f"PlainActivation({self.name}: {sp.sstr(self.expr)})"


def builtin_plain_expression(name: str, **params):
    """The expression of a built-in activation name (defaults of its parameters, unless given), or None
    when ``name`` is not one: the ReLU-like names are max(x, 0) (the family's plain branch activation),
    every other built-in comes from :func:`covsde.derive.activation_library.builtin_expression`, and a
    function name such as ``cos`` means cos(x)."""
    lowered = name.strip().lower()
    if lowered in RELU_LIKE_NAMES:
        return sp.Max(X, 0)
    if lowered in BUILTIN_ACTIVATIONS:
        return builtin_expression(lowered, **params)
    if name in FUNCTIONS and name.lower() not in ("max", "min"):     # "cos": cos(x)
        return FUNCTIONS[name](X)
    return None


def as_plain_activation(spec, **params) -> PlainActivation:
    """The plain activation of a name, a string in x, a SymPy expression or an Activation.

    Parameters
    ----------
    spec : str, sympy.Expr, Activation or PlainActivation
        ``Activation``: its ``raw`` expression (max(x, 0) for the ReLU-like family). No shaping
        rule applies: cos, x**2, exp(-x**2), abs, Heaviside, Piecewise(...) are all accepted.
    **params
        Values of free parameters (``alpha=0.1``).

    Raises
    ------
    ActivationError
        Unknown function, free parameter left, no dependence on x, complex or singular values,
        or E[phi(sigma u)^2] infinite for large sigma (phi grows like exp(c x**2)).
    """
    if isinstance(spec, PlainActivation):
        if params:
            raise ActivationError(f"{spec.name} is already a plain activation with values; give parameters "
                                  "with the expression")
        return spec
    if isinstance(spec, Activation):
        name = spec.name
        expr = sp.Max(X, 0) if spec.family == "relu_like" else spec.raw
    elif isinstance(spec, str):
        name = spec.strip()
        if name.lower() in BUILTIN_ACTIVATIONS and name.lower() not in RELU_LIKE_NAMES:
            expr, params = builtin_plain_expression(name, **params), {}
        else:
            expr = builtin_plain_expression(name)
        if expr is None:
            expr = activation_expression(name, declared=tuple(params))
    elif isinstance(spec, sp.Expr):
        name = sp.sstr(spec)
        expr = spec
        if not expr.has(X):
            others = [s for s in expr.free_symbols if s.name == "x"]
            if others:
                expr = expr.subs(others[0], X)
    else:
        raise ActivationError(f"activation must be a name, a string expression in x or a SymPy expression, "
                              f"got {type(spec).__name__}")
    expr = _substitute(name, sp.sympify(expr), params)
    return _describe(name, expr)


def _substitute(name, expr, params):
    from .activation import _as_sympy_number
    by_name = {s.name: s for s in expr.free_symbols - {X}}
    mapping = {}
    for key, value in params.items():
        if key not in by_name:
            raise ActivationError(f"{name} has no parameter {key!r}; its parameters are {sorted(by_name) or 'none'}")
        mapping[by_name[key]] = _as_sympy_number(value, key)
    expr = expr.subs(mapping) if mapping else expr
    free = sorted(s.name for s in expr.free_symbols - {X})
    if free and expr.is_Symbol:
        raise _unknown_name(name)
    if free:
        raise InputError(f"activation {name} has free parameters {free}: give them values, "
                         f"e.g. as_plain_activation({name!r}, {free[0]}=0.1)")
    return expr


def _unknown_name(name):
    """The library's unknown-name error, with its "did you mean" suggestion."""
    return unknown_activation_error(name)


def _describe(name: str, expr: sp.Expr) -> PlainActivation:
    check_expression_in_x(name, expr)
    polar = [f.__name__ for f in _POLAR if expr.has(f)]
    if polar:
        raise ActivationError(f"{name} uses {polar[0]}, which has poles on the real line, so "
                              "E[phi(Z)^2] is infinite")
    kinks = _kinks(name, expr)
    _check_denominators(name, expr)
    scales = _length_scales(expr)
    plain = PlainActivation(name=name, expr=expr, kinks=kinks,
                            feature_scale=float(min(scales)) if scales else 1.0)
    grows = _check_growth(name, plain.function("mpmath"))
    phi = plain.function("numpy")
    _check_finite_on_the_line(name, phi, kinks)
    largest = max(scales) if scales else 0.0
    radius = FEATURE_RADIUS_SCALES * largest
    if expr.has(*_TRIGONOMETRIC):
        reach = (max(abs(k) for k in kinks) if kinks else 0.0) + radius + 1.0
        tail = np.array([-3.1, -2.3, -1.7, 1.7, 2.3, 3.1]) * reach
        if np.max(np.abs(phi(tail))) > 1e-200:
            radius = np.inf
    return PlainActivation(name=name, expr=expr, kinks=kinks, feature_scale=plain.feature_scale,
                           feature_radius=float(radius), exponential_type=_is_exponential_type(expr),
                           grows_exponentially=grows, _cache=plain._cache)


def _real_zeros(name, expr):
    """Real zeros of an expression in x (polynomial: exact roots; otherwise sign changes on a grid)."""
    expr = sp.sympify(expr)
    if not expr.has(X):
        return []
    if expr.is_polynomial(X):
        poly = sp.Poly(expr, X)
        return [float(r) for r in poly.nroots(n=17) if abs(sp.im(r)) < 1e-12]
    f = to_callable(expr, (X,), "numpy")
    grid = np.linspace(-100.0, 100.0, 200_001)
    with np.errstate(all="ignore"):
        values = f(grid)
    zeros = list(grid[values == 0])
    change = np.flatnonzero(np.sign(values[:-1]) * np.sign(values[1:]) < 0)
    from scipy.optimize import brentq
    zeros += [brentq(lambda z: float(f(np.array(z))), grid[i], grid[i + 1], xtol=1e-15) for i in change]
    if len(zeros) > 64:
        raise ActivationError(f"{name} has more than 64 kinks or jumps; kernels need finitely many")
    return zeros


def _kinks(name, expr):
    """Points where phi is not smooth: zeros of the arguments of Abs, Heaviside, sign, of the
    differences of Max/Min arguments, and of the sides of Piecewise conditions."""
    places = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, _KINKED):
            places += _real_zeros(name, node.args[0])
        elif isinstance(node, (sp.Max, sp.Min)):
            args = node.args
            for i in range(len(args)):
                for j in range(i + 1, len(args)):
                    places += _real_zeros(name, args[i] - args[j])
        elif isinstance(node, sp.Piecewise):
            for _, condition in node.args:
                for relation in condition.atoms(sp.core.relational.Relational):
                    places += _real_zeros(name, relation.lhs - relation.rhs)
    places = sorted(set(round(p, 15) for p in places if np.isfinite(p)))
    return tuple(float(p) for p in places)


def _check_denominators(name, expr):
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow) and node.base.has(X) and node.exp.is_number and node.exp < 0:
            zeros = _real_zeros(name, node.base)
            if zeros:
                raise ActivationError(f"{name} is infinite at x = {zeros[0]:.6g} (division by zero), so "
                                      "E[phi(Z)^2] is not finite")


def _check_finite_on_the_line(name, phi, kinks):
    grid = np.concatenate([np.linspace(-60.0, 60.0, 24_001), np.array(kinks, dtype=float)])
    with np.errstate(all="ignore"):
        values = phi(grid)
    bad = ~np.isfinite(values)
    if bad.any():
        raise ActivationError(f"{name} is not real and finite at x = {grid[bad][0]:.6g}; Gaussian kernels "
                              "need a real, finite phi")


def _check_growth(name, phi_mp) -> bool:
    """Refuse phi growing like exp(c x^2) (E[phi(sigma u)^2] = inf once sigma^2 >= 1/(4c)); return
    whether phi grows exponentially (|phi(+-200)| > e^60)."""
    def log_size(x):
        with mpmath.workdps(30):
            value = phi_mp(mpmath.mpf(x))
            if isinstance(value, mpmath.mpc) or not mpmath.isfinite(value):
                raise ActivationError(f"{name} is not real and finite at x = {x:g}")
            return float(mpmath.log(abs(value))) if value != 0 else -np.inf
    for sign in (1, -1):
        near, far = log_size(sign * 1e3) / 1e6, log_size(sign * 1e4) / 1e8
        if far > 1e-6 and far > 0.5 * near:
            raise ActivationError(
                f"{name} grows about as fast as exp(c x^2) (log|phi(x)|/x^2 = {far:.3g} at x = {sign * 1e4:g}), "
                "so E[phi(Z)^2] is infinite for large variances; Gaussian kernels need finite second moments")
    return max(log_size(200.0), log_size(-200.0)) > 60


def _length_scales(expr):
    """1/|c|^(1/d) for every transcendental function (or non-integer power) of a polynomial
    argument of degree d >= 1 and leading coefficient c."""
    scales = []
    for node in sp.preorder_traversal(expr):
        args = ()
        if isinstance(node, sp.Function) and not isinstance(node, (sp.Piecewise, sp.Max, sp.Min) + _KINKED):
            args = node.args
        elif isinstance(node, sp.Pow) and node.base.has(X) and not (node.exp.is_Integer):
            args = (node.base,)
        for arg in args:
            if arg.has(X) and arg.is_polynomial(X):
                poly = sp.Poly(arg, X)
                if poly.degree() >= 1:
                    lead = abs(float(poly.LC()))
                    if lead > 0:
                        scales.append(lead ** (-1.0 / poly.degree()))
    return [min(max(s, 1e-8), 1e8) for s in scales]


def _is_exponential_type(expr) -> bool:
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Function):
            if not isinstance(node, _EXPONENTIAL_TYPE):
                return False
            if not (node.args[0].is_polynomial(X) and sp.degree(node.args[0], X) <= 1):
                return False
        elif isinstance(node, sp.Pow) and node.base.has(X) and not (node.exp.is_Integer and node.exp >= 0):
            return False
    return True
