"""Closed-form Gaussian kernels F_phi(Q)^{ab} = E[phi(Z_a) phi(Z_b)], Z ~ N(0, Q) (SPEC §2).

Each closed form is written once, here, as a SymPy expression in the covariances Q^{aa}, Q^{bb},
Q^{ab} and the correlation rho = Q^{ab} / sqrt(Q^{aa} Q^{bb}); numbers come from it through
:func:`covsde.derive.codegen.to_callable` (numpy for the solvers, mpmath for the high-precision
reference), never from a retyped formula. phi is the plain activation
(:mod:`covsde.derive.plain_activation`): no shaping, no normalisation.

- ReLU, phi = c max(x, 0) (Cho & Saul 2009, arc-cosine kernel of degree 1):
  F^{ab} = c^2 sqrt(Q^{aa} Q^{bb}) / (2 pi) (sqrt(1 - rho^2) + (pi - arccos rho) rho).
- phi = c x: F^{ab} = c^2 Q^{ab}.
- phi = c erf(k x) + d (Williams 1997; E[erf(k Z)] = 0):
  F^{ab} = c^2 (2/pi) arcsin(2 k^2 Q^{ab} / sqrt((1 + 2 k^2 Q^{aa}) (1 + 2 k^2 Q^{bb}))) + d^2.
- One-sided monomials, phi(x) = p x^i (x > 0), q (-x)^j (x < 0), i, j in {0, 1, 2}: Heaviside,
  sign, relu, leaky relu, abs, relu(x)^2 (the arc-cosine kernels of degree 0, 1, 2 and their
  cross terms, Cho & Saul 2009):
  F^{ab} = p^2 (sa sb)^i M_ii(rho) + q^2 (sa sb)^j M_jj(rho) + p q (sa^i sb^j + sa^j sb^i) M_ij(-rho),
  sa = sqrt(Q^{aa}), sb = sqrt(Q^{bb}), with the half-space moments M_ij(rho) = E[u_+^i v_+^j] of
  standard normals of correlation rho, derived here by SymPy from the polar integral
  (1/2pi) int_0^inf r^(i+j+1) e^(-r^2/2) dr int_{arccos(rho) - pi/2}^{pi/2} cos^i(t) cos^j(t - arccos rho) dt.
- phi = c cos(k x + b) (c sin(k x + b) = c cos(k x + b - pi/2)), from cos A cos B = (cos(A - B) + cos(A + B))/2
  and E[cos(k W)] = exp(-k^2 Var(W)/2):
  F^{ab} = c^2/2 (exp(-k^2 (Q^{aa} + Q^{bb} - 2Q^{ab})/2) + cos(2b) exp(-k^2 (Q^{aa} + Q^{bb} + 2Q^{ab})/2)).
- phi = c exp(-g x^2), g > 0 (a Gaussian integral): F^{ab} = c^2 / sqrt((1 + 2g Q^{aa})(1 + 2g Q^{bb}) - 4g^2 (Q^{ab})^2).
- Polynomials sum_i a_i x^i (degree <= 12): F^{ab} = sum_ij a_i a_j E[Z_a^i Z_b^j] (Isserlis/Wick,
  :func:`covsde.derive.gaussian_moments.gaussian_moment`).

Adding a closed form is one entry of :data:`CLOSED_FORM_KERNELS`: a :class:`ClosedFormKernel` with
the expression and a ``match`` that says which plain activations it covers and with which
parameters. The expressions keep rho as its own symbol so that the caller computes it once, clipped
to [-1, 1] (rounding can push Q^{ab} / sqrt(Q^{aa} Q^{bb}) out of it, where arccos is not defined);
:meth:`GaussianKernelClosedForm.in_covariances` substitutes it for display and symbolic work.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import sympy as sp

from .activation_parser import X
from .codegen import to_callable
from .gaussian_moments import gaussian_moment
from .plain_activation import PlainActivation, as_plain_activation

QAA, QBB, QAB = sp.symbols("Q_aa Q_bb Q_ab", real=True)
#: The correlation Q^{ab} / sqrt(Q^{aa} Q^{bb}), an argument of its own (see the module docstring).
RHO = sp.Symbol("rho", real=True)
#: The arguments of every generated kernel function, in order.
KERNEL_ARGUMENTS = (QAA, QBB, QAB, RHO)

_C, _K, _D, _B, _G, _P, _Q = sp.symbols("c k d b g p q", real=True)
#: Largest polynomial degree given the Wick closed form (higher degrees go to quadrature).
POLYNOMIAL_DEGREE_MAX = 12


@lru_cache(maxsize=None)
def half_space_moment(i: int, j: int, rho=RHO) -> sp.Expr:
    """M_ij(rho) = E[u_+^i v_+^j] for standard normals u, v of correlation rho (exact SymPy).

    In polar coordinates (u, v) = r (cos t, cos(t - theta0)), cos theta0 = rho, both are positive for
    theta0 - pi/2 < t < pi/2, so M_ij = (1/2pi) 2^((i+j)/2) Gamma((i+j)/2 + 1)
    int_{theta0 - pi/2}^{pi/2} cos^i t cos^j(t - theta0) dt. M_00 = (pi - arccos rho)/(2 pi) and
    M_11, M_22 are Cho & Saul's arc-cosine kernels of degree 1 and 2 (2009, eq. 6) over 2 pi.
    """
    t = sp.Symbol("t", real=True)
    s = sp.sqrt(1 - RHO**2)
    integrand = sp.expand(sp.cos(t) ** i * (sp.cos(t) * RHO + sp.sin(t) * s) ** j)
    antiderivative = sp.integrate(integrand, t)
    lower = antiderivative.subs({sp.cos(t): s, sp.sin(t): -RHO}).subs(t, sp.acos(RHO) - sp.pi / 2)
    radial = 2 ** sp.Rational(i + j, 2) * sp.gamma(sp.Rational(i + j, 2) + 1)
    value = sp.simplify(radial * (antiderivative.subs(t, sp.pi / 2) - lower) / (2 * sp.pi))
    return value.subs(RHO, rho)


@dataclass(frozen=True)
class ClosedFormKernel:
    """A closed form of E[phi(Z_a) phi(Z_b)] for a family of plain activations.

    Attributes
    ----------
    name : str
        Short name (also ``GaussianKernelMap.method``).
    family : str
        The activations it covers, in words.
    expression : callable
        () -> F^{ab} in :data:`QAA`, :data:`QBB`, :data:`QAB`, :data:`RHO` and the family's parameters
        (built on first use).
    match : callable
        PlainActivation -> {parameter symbol: value} when phi belongs to the family, else None.
    source : str
        Where the formula comes from.
    """

    name: str
    family: str
    expression: Callable[[], sp.Expr]
    match: Callable[[PlainActivation], dict | None]
    source: str


def _relu_expression():
    return _C**2 * sp.sqrt(QAA * QBB) / (2 * sp.pi) * (sp.sqrt(1 - RHO**2) + (sp.pi - sp.acos(RHO)) * RHO)


def _match_relu(plain: PlainActivation):
    sides = plain.one_sided_monomials()
    if sides is None or sides[0][1] != 1 or sides[1][0] != 0 or sides[0][0] == 0:
        return None
    return {_C: sides[0][0]}


def _match_pattern(pattern, nonzero=(_C, _K), condition=None):
    """Match phi against ``pattern`` in the parameters (as SymPy Wilds), with ``nonzero`` ones != 0."""
    symbols = sorted(pattern.free_symbols - {X}, key=lambda s: s.name)
    wild = {symbol: sp.Wild(symbol.name + "_", exclude=[X]) for symbol in symbols}
    template = pattern.subs(wild)

    def match(plain: PlainActivation):
        found = plain.expr.match(template)
        if not found:
            return None
        values = {symbol: found.get(w, sp.Integer(0)) for symbol, w in wild.items()}
        if any(not value.is_real or not value.is_number for value in values.values()):
            return None
        if any(values[s] == 0 for s in nonzero if s in values):
            return None
        if condition is not None and not condition(values):
            return None
        return values
    return match


def _match_one_sided(plain: PlainActivation):
    sides = plain.one_sided_monomials()
    if sides is None:
        return None
    (p, i), (q, j) = sides
    return {_P: p, _Q: q, sp.Symbol("i"): i, sp.Symbol("j"): j}


def _one_sided_expression(p, i, q, j):
    sa, sb = sp.sqrt(QAA), sp.sqrt(QBB)
    return (p**2 * (sa * sb) ** i * half_space_moment(i, i) + q**2 * (sa * sb) ** j * half_space_moment(j, j)
            + p * q * (sa**i * sb**j + sa**j * sb**i) * half_space_moment(min(i, j), max(i, j), -RHO))


def _match_trigonometric(plain: PlainActivation):
    for pattern, shift in ((_C * sp.cos(_K * X + _B), 0), (_C * sp.sin(_K * X + _B), -sp.pi / 2)):
        values = _match_pattern(pattern)(plain)
        if values is not None:
            values[_B] = values.get(_B, 0) + shift
            return values
    return None


def _match_polynomial(plain: PlainActivation):
    if not plain.is_polynomial:
        return None
    poly = sp.Poly(plain.expr, X)
    if poly.degree() > POLYNOMIAL_DEGREE_MAX:
        return None
    return {sp.Symbol(f"a{k}"): c for (k,), c in poly.terms()}


def _polynomial_expression(coefficients):
    terms = [(int(symbol.name[1:]), value) for symbol, value in coefficients.items()]
    return sp.Add(*[a * b * gaussian_moment(i, j, QAA, QBB, QAB) for i, a in terms for j, b in terms])


#: The closed forms, tried in this order (SPEC §2). Families whose expression depends on the match
#: beyond parameter values (one-sided monomials, polynomials) build it in ``_expression_for``.
CLOSED_FORM_KERNELS = (
    ClosedFormKernel(
        name="relu", family="c max(x, 0) (the ReLU-like family's plain activation)",
        expression=_relu_expression, match=_match_relu,
        source="Cho & Saul 2009, arc-cosine kernel of degree 1"),
    ClosedFormKernel(
        name="linear", family="c x", expression=lambda: _C**2 * QAB,
        match=_match_pattern(_C * X, nonzero=(_C,)), source="E[Z_a Z_b] = Q^{ab}"),
    ClosedFormKernel(
        name="erf", family="c erf(k x) + d",
        expression=lambda: _C**2 * 2 / sp.pi * sp.asin(
            2 * _K**2 * QAB / sp.sqrt((1 + 2 * _K**2 * QAA) * (1 + 2 * _K**2 * QBB))) + _D**2,
        match=_match_pattern(_C * sp.erf(_K * X) + _D), source="Williams 1997"),
    ClosedFormKernel(
        name="polynomial", family=f"polynomials of degree <= {POLYNOMIAL_DEGREE_MAX}",
        expression=None, match=_match_polynomial, source="Isserlis/Wick moments E[Z_a^i Z_b^j]"),
    ClosedFormKernel(
        name="arc-cosine", family="p x^i (x > 0), q (-x)^j (x < 0), i, j in {0, 1, 2}: Heaviside, sign, "
                                  "relu, leaky relu, abs, relu(x)^2",
        expression=None, match=_match_one_sided,
        source="Cho & Saul 2009, arc-cosine kernels of degree 0, 1, 2, and their cross terms"),
    ClosedFormKernel(
        name="cos", family="c cos(k x + b), c sin(k x + b)",
        expression=lambda: _C**2 / 2 * (sp.exp(-_K**2 * (QAA + QBB - 2 * QAB) / 2)
                                         + sp.cos(2 * _B) * sp.exp(-_K**2 * (QAA + QBB + 2 * QAB) / 2)),
        match=_match_trigonometric, source="cos A cos B = (cos(A - B) + cos(A + B))/2, E[cos kW] = exp(-k^2 Var W/2)"),
    ClosedFormKernel(
        name="gaussian", family="c exp(-g x^2), g > 0",
        expression=lambda: _C**2 / sp.sqrt((1 - 2 * _G * QAA) * (1 - 2 * _G * QBB) - 4 * _G**2 * QAB**2),
        match=_match_pattern(_C * sp.exp(_G * X**2), nonzero=(_C, _G), condition=lambda v: v[_G] < 0),
        source="the Gaussian integral E[exp(-g Z^T Z)] = det(I + 2g Q)^(-1/2)"),
)


def _expression_for(kernel: ClosedFormKernel, values: dict) -> sp.Expr:
    if kernel.name == "arc-cosine":
        return _one_sided_expression(values[_P], values[sp.Symbol("i")], values[_Q], values[sp.Symbol("j")])
    if kernel.name == "polynomial":
        return _polynomial_expression(values)
    return kernel.expression().subs(values)


@dataclass(frozen=True)
class GaussianKernelClosedForm:
    """The closed-form F_phi of one activation, with its parameters given values.

    Attributes
    ----------
    name : str
        The closed form's name (:data:`CLOSED_FORM_KERNELS`).
    expression : sympy.Expr
        F^{ab} in Q_aa, Q_bb, Q_ab and rho (:data:`KERNEL_ARGUMENTS`).
    source : str
    """

    name: str
    expression: sp.Expr
    source: str

    def in_covariances(self) -> sp.Expr:
        """F^{ab} in Q_aa, Q_bb, Q_ab only (rho = Q_ab / sqrt(Q_aa Q_bb) substituted)."""
        return self.expression.subs(RHO, QAB / sp.sqrt(QAA * QBB))

    def function(self, backend: str = "numpy"):
        """F as a function f(q_aa, q_bb, q_ab, rho) of the named codegen backend.

        ``rho`` must be q_ab / sqrt(q_aa q_bb) clipped to [-1, 1] (0 where a variance vanishes);
        numpy arguments broadcast, mpmath arguments are ``mpmath.mpf``.
        """
        return to_callable(self.expression, KERNEL_ARGUMENTS, backend)


def gaussian_kernel_closed_form(activation) -> GaussianKernelClosedForm | None:
    """The closed form of F_phi(Q)^{ab} = E[phi(Z_a) phi(Z_b)] for the plain activation, or None.

    Parameters
    ----------
    activation : str, sympy.Expr, Activation or PlainActivation
        Anything :func:`covsde.derive.plain_activation.as_plain_activation` accepts: the plain
        activation as written (``Activation.raw``; ``max(x, 0)`` for the ReLU-like family).

    Returns
    -------
    GaussianKernelClosedForm or None
        The first entry of :data:`CLOSED_FORM_KERNELS` that matches, None when none does.
    """
    plain = as_plain_activation(activation)
    for kernel in CLOSED_FORM_KERNELS:
        values = kernel.match(plain)
        if values is not None:
            return GaussianKernelClosedForm(kernel.name, _expression_for(kernel, values), kernel.source)
    return None
