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
from .activation_parser import X
from .errors import ActivationError
from .gaussian_moments import gaussian_moment
from .work_budget import symbolic_budget

A, B, R = sp.symbols("A B R", real=True)
#: The largest Taylor degree of phi examined. The first non-vanishing order q is computed from the
#: first non-zero Taylor coefficients (no search over q), but an activation whose coefficients beyond
#: x all vanish up to this degree (and which is not x itself) is refused with a message saying so.
MAX_TAYLOR_DEGREE = 257
CONVENTIONS = ("normalized", "unnormalized")


@dataclass(frozen=True)
class ShapingExpansion:
    """The leading term of n (c E[phi_s phi_s] - R) for an activation.

    Attributes
    ----------
    order : int or None
        q, the power of 1/s of the first non-vanishing term; None only when phi(x) = x exactly
        (a linear activation: zero drift at any shaping).
    exponent : sympy.Rational or None
        p = 1/q of the critical shaping s = a n^p.
    coefficient : sympy.Expr
        The eps^q coefficient, a polynomial in A, B, R (0 when order is None).

    In a notebook it shows c E[phi_s phi_s] - R = s^-q (coefficient) + ... as LaTeX.
    """

    order: int | None
    exponent: sp.Rational | None
    coefficient: sp.Expr

    def _repr_latex_(self):
        from .latex_report import aligned_display, shaping_expansion_snippet
        return aligned_display([("Leading term of the shaped covariance", shaping_expansion_snippet(self))])


def _nonzero(c) -> bool:
    return c != 0 and (c.is_Rational or sp.simplify(c) != 0)


def _series_coefficients(phi, degree, A_, B_, R_):
    """Coefficients e_j of eps^j, j = 0..degree-1, of E[phi_s(x) phi_s(y)] (Taylor to `degree`).

    Only the non-zero Taylor coefficients enter, so the work is (number of them)², not degree².
    """
    coeffs = [sp.Integer(0)] * degree
    support = [k for k in range(1, min(degree, len(phi) - 1) + 1) if phi[k] != 0]
    for k in support:
        for l in support:
            j = k + l - 2
            if j >= degree or (k + l) % 2:
                continue
            coeffs[j] += phi[k] * phi[l] / (sp.factorial(k) * sp.factorial(l)) \
                * gaussian_moment(k, l, A_, B_, R_)
    return coeffs


def _inverse_series(e):
    """Coefficients of 1 / (sum_j e_j eps^j) with e_0 = 1."""
    inv = [sp.Integer(1)]
    support = [i for i in range(1, len(e)) if e[i] != 0]
    for j in range(1, len(e)):
        inv.append(sp.expand(-sum((e[i] * inv[j - i] for i in support if i <= j), sp.Integer(0))))
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
        c_support = [i for i in range(degree) if c[i] != 0]
        e = [sp.expand(sum((c[i] * e[j - i] for i in c_support if i <= j and e[j - i] != 0),
                           sp.Integer(0))) for j in range(degree)]
    e[0] = sp.expand(e[0] - R)
    return e


def leading_order(activation: Activation, max_degree: int = MAX_TAYLOR_DEGREE):
    """q of the first non-vanishing term of c E[phi_s phi_s] - R, from the Taylor coefficients.

    With phi(x) = x + sum_k phi_k x^k / k!, let j_o be the first odd k >= 3 and j_e the first even
    k >= 2 with phi_k != 0.  The eps^(k-1) term of a single phi_k (k odd) is
    phi_k (k-2)!! R (A^((k-1)/2) + B^((k-1)/2) - 2 [normalized]) / (k-1)!, and the eps^(2k-2) term
    of phi_k² (k even) has the monomial (AB)^(k/2) that no term linear in a phi_j can cancel; odd
    moments vanish, so every lower order is zero and

        q = min(j_o - 1, 2 j_e - 2).

    Returns None when phi(x) = x.  Raises ActivationError (a limit, said as such) when the
    coefficients needed lie beyond ``max_degree``.
    """
    if activation.expr == X:
        return None
    degree = 3
    while True:
        phi = activation.taylor_coefficients(degree)
        nonzero = [k for k in range(2, degree + 1) if _nonzero(phi[k])]
        odd = [k for k in nonzero if k % 2]
        even = [k for k in nonzero if k % 2 == 0]
        candidates = ([odd[0] - 1] if odd else []) + ([2 * even[0] - 2] if even else [])
        if candidates and min(candidates) + 1 <= degree:
            return min(candidates)
        needed = min(candidates) + 1 if candidates else 2 * degree + 1
        if degree >= max_degree:
            if not nonzero and _is_identity(activation.expr):
                return None
            found = (f"its first non-zero coefficient beyond x is at degree {nonzero[0]}, so the "
                     f"expansion is needed to degree {needed}" if nonzero else
                     "every Taylor coefficient beyond x vanishes up to that degree, although "
                     f"phi(x) - x = {sp.sstr(activation.expr - X)} is not zero (a flat function)")
            raise ActivationError(
                f"the critical shaping of {activation.name} is beyond covsde's limit: the Taylor "
                f"expansion is examined up to degree {max_degree} and {found}; this is a limit "
                "of the search, not a linear network")
        degree = min(max(2 * degree + 1, needed), max_degree)


def _is_identity(expr) -> bool:
    """phi(x) == x: exact when SymPy can show it within the budget, else by values at 7 points."""
    points = (-1.7, -0.9, -0.3, 0.2, 0.6, 1.1, 2.3)
    try:
        f = sp.lambdify(X, expr - X, modules="mpmath")
        if any(abs(f(t)) > 1e-12 for t in points):
            return False
    except Exception:  # noqa: BLE001 - a failure to evaluate is decided symbolically below
        pass
    with symbolic_budget(f"deciding whether {expr} equals x"):
        return sp.simplify(expr - X) == 0


def critical_shaping(activation: Activation, convention: str = "normalized",
                     max_degree: int = MAX_TAYLOR_DEGREE) -> ShapingExpansion:
    """The first non-vanishing order q of c E[phi_s phi_s] - R in 1/s and its coefficient.

    q comes from :func:`leading_order` (computed from the first non-zero Taylor coefficients,
    whatever their degree); the coefficient is the exact eps^q term of
    :func:`covariance_expansion`, and every lower term is checked to vanish.
    """
    if activation.family != "smooth":
        raise ActivationError("critical_shaping applies to smooth activations; the ReLU-like "
                              "family is shaped as s± = 1 + c±/sqrt(n)")
    q = leading_order(activation, max_degree)
    if q is None:
        return ShapingExpansion(order=None, exponent=None, coefficient=sp.Integer(0))
    with symbolic_budget(f"the expansion of c E[phi_s phi_s] - R for {activation.name} to order {q}"):
        e = covariance_expansion(activation, q, convention)
        if any(sp.simplify(c) != 0 for c in e[:q]):
            raise ActivationError(
                f"the expansion of {activation.name} has a non-vanishing term below order {q}; "
                "this indicates an activation that is not normalised")
        lead = sp.factor_terms(sp.expand(e[q]))
        if sp.simplify(lead) == 0:  # excluded by the argument in leading_order; never silent
            raise ActivationError(
                f"the order-{q} term of {activation.name} cancels, contrary to the leading-order "
                "rule; please report this activation")
    return ShapingExpansion(order=q, exponent=sp.Rational(1, q), coefficient=lead)
