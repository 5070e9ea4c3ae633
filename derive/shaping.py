"""Critical shaping: the expansion of n (c E[phi_s(x) phi_s(y)] - R) in powers of 1/s.

With phi_s(x) = s phi(x/s) = sum_k phi_k / k! x^k s^(1-k) (phi_1 = 1) and eps = 1/s,

    E[phi_s(x) phi_s(y)] = sum_{k,l} phi_k phi_l / (k! l!) eps^(k+l-2) E[x^k y^l],

with the Gaussian moments from :mod:`covsde.derive.gaussian_moments` (only k + l even survive, so only
even powers of eps appear). The normalising constant is c = 1 / E[phi_s(w)^2], w ~ N(0, 1)
(normalized convention) or c = 1 (unnormalized). If the first non-zero coefficient of
c E - R is at eps^q, the critical shaping is s = a n^(1/q) and the drift is that coefficient / a^q
(Li, Nica & Roy 2022, Thm 3.2 for q = 2; SPEC §1 "General order" for q > 2).
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .activation import Activation
from .errors import ActivationError
from .gaussian_moments import gaussian_moment

A, B, R = sp.symbols("A B R", real=True)
#: The largest order q searched for a non-vanishing term.
MAX_ORDER = 12
CONVENTIONS = ("normalized", "unnormalized")


@dataclass(frozen=True)
class ShapingExpansion:
    """The leading term of n (c E[phi_s phi_s] - R) for an activation.

    Attributes
    ----------
    order : int or None
        q, the power of 1/s of the first non-vanishing term; None when every term up to
        MAX_ORDER vanishes (a linear activation: zero drift at any shaping).
    exponent : sympy.Rational or None
        p = 1/q of the critical shaping s = a n^p.
    coefficient : sympy.Expr
        The eps^q coefficient, a polynomial in A, B, R (0 when order is None).
    """

    order: int | None
    exponent: sp.Rational | None
    coefficient: sp.Expr


def _series_coefficients(phi, degree, A_, B_, R_):
    """Coefficients e_j of eps^j, j = 0..degree-1, of E[phi_s(x) phi_s(y)] (Taylor to `degree`)."""
    coeffs = [sp.Integer(0)] * degree
    for k in range(1, degree + 1):
        for l in range(1, degree + 1):
            j = k + l - 2
            if j >= degree or (k + l) % 2 or phi[k] == 0 or phi[l] == 0:
                continue
            coeffs[j] += phi[k] * phi[l] / (sp.factorial(k) * sp.factorial(l)) \
                * gaussian_moment(k, l, A_, B_, R_)
    return coeffs


def _inverse_series(e):
    """Coefficients of 1 / (sum_j e_j eps^j) with e_0 = 1."""
    inv = [sp.Integer(1)]
    for j in range(1, len(e)):
        inv.append(sp.expand(-sum(e[i] * inv[j - i] for i in range(1, j + 1))))
    return inv


def covariance_expansion(activation: Activation, max_order: int, convention: str = "normalized"):
    """Coefficients of eps^j, j = 0..max_order, of c E[phi_s(x) phi_s(y)] - R (exact, in A, B, R)."""
    if convention not in CONVENTIONS:
        raise ActivationError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    degree = max_order + 1
    phi = activation.taylor_coefficients(degree)
    e = _series_coefficients(phi, degree, A, B, R)
    if convention == "normalized":
        one = sp.Integer(1)
        e_norm = _series_coefficients(phi, degree, one, one, one)
        c = _inverse_series(e_norm)
        e = [sp.expand(sum(c[i] * e[j - i] for i in range(j + 1))) for j in range(degree)]
    e[0] = sp.expand(e[0] - R)
    return e


def critical_shaping(activation: Activation, convention: str = "normalized",
                     max_order: int = MAX_ORDER) -> ShapingExpansion:
    """Find the first non-vanishing order q of c E[phi_s phi_s] - R in 1/s and its coefficient.

    The search doubles the Taylor degree only when needed, so the common case
    (phi''(0) or phi'''(0) non-zero, q = 2) needs the expansion to degree 3 only.
    """
    if activation.family != "smooth":
        raise ActivationError("critical_shaping applies to smooth activations; the ReLU-like "
                              "family is shaped as s± = 1 + c±/sqrt(n)")
    q = 2
    while q <= max_order:
        e = covariance_expansion(activation, q, convention)
        if any(sp.simplify(c) != 0 for c in e[:q]):
            raise ActivationError(
                f"the expansion of {activation.name} has a non-vanishing term below order {q}; "
                "this indicates an activation that is not normalised")
        lead = sp.factor_terms(sp.expand(e[q]))
        if sp.simplify(lead) != 0:
            return ShapingExpansion(order=q, exponent=sp.Rational(1, q), coefficient=lead)
        q += 2
    return ShapingExpansion(order=None, exponent=None, coefficient=sp.Integer(0))
