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
from .half_space_moments import half_space_moment
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


#: Points (A, B, R) inside the cone A, B > 0, R^2 < A B (and one on its edge, A = B = R) and values
#: for parameters at which a coefficient of the one-sided expansion is tested for being identically 0.
_PROBE_POINTS = ((sp.Rational(137, 100), sp.Rational(61, 100), sp.Rational(29, 100)),
                 (sp.Rational(83, 100), sp.Rational(22, 10), sp.Rational(-97, 100)),
                 (sp.Rational(11, 10), sp.Rational(11, 10), sp.Rational(11, 10)))
_PROBE_PARAMETER_VALUES = (sp.Rational(7183, 10000), sp.Rational(13171, 10000), sp.Rational(5923, 10000))


def _vanishes(c) -> bool:
    """Whether a coefficient of the expansion (in A, B, R and parameters, with square roots and
    arccos) is identically 0: exact for numbers, else by its value to 40 digits at the probe points
    (independent numbers for the parameters), which no non-zero coefficient of these closed forms
    (polynomials in sqrt(A), sqrt(B), R, sqrt(AB - R^2), arccos and the parameters) hits."""
    if c == 0:
        return True
    if c.is_Rational:
        return False
    params = sorted(c.free_symbols - {A, B, R}, key=lambda s: s.name)
    values = {p: _PROBE_PARAMETER_VALUES[i % 3] + i for i, p in enumerate(params)}
    for a_, b_, r_ in _PROBE_POINTS:
        value = sp.N(c.subs({**values, A: a_, B: b_, R: r_}, simultaneous=True), 40)
        if not value.is_Number or abs(value) > sp.Float("1e-30"):
            return False
    return True


def shaped_terms(activation: Activation, degree: int, a=sp.Integer(1)) -> list:
    """The shaped activation as a power series in eps = 1/s: phi_s(x) = sum_j eps^j psi_j(x).

    psi_j is a dict {(k, side): coefficient} of monomials x^k on the whole line (side 0) or on one
    side (+1: x^k 1{x > 0}, -1: x^k 1{x < 0}). From s phi(x/s) = sum_k phi_k^± x^k eps^(k-1) / k!
    (one-sided Taylor coefficients phi_k^±); the ReLU-like slopes (c+ x_+ + c- x_-)/sqrt(n) add
    a (c+ x_+ + c- x_-) to psi_1, since 1/sqrt(n) = a eps for s = a sqrt(n).
    """
    plus, minus = activation.one_sided_coefficients(degree)
    terms = []
    for j in range(degree):
        k = j + 1
        psi = {}
        if plus[k] == minus[k]:
            if plus[k] != 0:
                psi[(k, 0)] = plus[k] / sp.factorial(k)
        else:
            for side, coeff in ((1, plus[k]), (-1, minus[k])):
                if coeff != 0:
                    psi[(k, side)] = coeff / sp.factorial(k)
        terms.append(psi)
    if activation.has_slopes and degree > 1:
        for side, c in ((1, activation.c_plus), (-1, activation.c_minus)):
            if c != 0:
                terms[1][(1, side)] = terms[1].get((1, side), 0) + a * c
        if (1, 0) in terms[1]:           # a two-sided slope term merges into both sides
            both = terms[1].pop((1, 0))
            for side in (1, -1):
                terms[1][(1, side)] = terms[1].get((1, side), 0) + both
    return terms


def _moment(k, side_u, l, side_v, A_, B_, R_):
    """E[u^k 1_side_u v^l 1_side_v]: Isserlis' moment for whole-line monomials, else the half-space
    moment of :mod:`covsde.derive.half_space_moments` (at A = B = R = 1: E[w^(k+l)] on a half line)."""
    if side_u == 0 and side_v == 0:
        return gaussian_moment(k, l, A_, B_, R_)
    if (A_, B_, R_) == (1, 1, 1):          # u = v = w ~ N(0, 1)
        sides = {s for s in (side_u, side_v) if s != 0}
        if len(sides) == 2:
            return sp.Integer(0)
        s = sides.pop()
        n = k + l
        return s**n * 2**sp.Rational(n, 2) * sp.gamma(sp.Rational(n + 1, 2)) / (2 * sp.sqrt(sp.pi))
    return half_space_moment(k, side_u, l, side_v, A_, B_, R_)


def _expectation_series(terms, degree, A_, B_, R_):
    """Coefficients e_j, j = 0..degree-1, of E[phi_s(u) phi_s(v)] = sum_{i+i'=j} E[psi_i(u) psi_i'(v)]."""
    coeffs = [sp.Integer(0)] * degree
    for i, psi in enumerate(terms[:degree]):
        for i2, psi2 in enumerate(terms[:degree - i]):
            j = i + i2
            for (k, su), cu in psi.items():
                for (l, sv), cv in psi2.items():
                    if su == 0 and sv == 0 and (k + l) % 2:
                        continue
                    coeffs[j] += cu * cv * _moment(k, su, l, sv, A_, B_, R_)
    return coeffs


def _series_coefficients(phi, degree, A_, B_, R_):
    """Coefficients e_j of eps^j, j = 0..degree-1, of E[phi_s(x) phi_s(y)] for a smooth phi given by
    its Taylor coefficients ``phi`` (only the non-zero ones enter: the work is their number squared)."""
    terms = [({(j + 1, 0): phi[j + 1] / sp.factorial(j + 1)} if j + 1 < len(phi) and phi[j + 1] != 0 else {})
             for j in range(degree)]
    return _expectation_series(terms, degree, A_, B_, R_)


def _inverse_series(e):
    """Coefficients of 1 / (sum_j e_j eps^j) with e_0 = 1."""
    inv = [sp.Integer(1)]
    support = [i for i in range(1, len(e)) if e[i] != 0]
    for j in range(1, len(e)):
        inv.append(sp.expand(-sum((e[i] * inv[j - i] for i in support if i <= j), sp.Integer(0))))
    return inv


def covariance_expansion(activation: Activation, max_order: int, convention: str = "normalized",
                         a=sp.Integer(1)):
    """Coefficients of eps^j, j = 0..max_order, of c E[phi_s(x) phi_s(y)] - R (exact, in A, B, R).

    For one-sided activations the coefficients contain sqrt(A), sqrt(B), sqrt(AB - R^2) and
    arccos(R / sqrt(AB)) (half-space moments); ``a`` enters only through the ReLU-like slopes.
    """
    if convention not in CONVENTIONS:
        raise ActivationError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    degree = max_order + 1
    terms = shaped_terms(activation, degree, a)
    e = _expectation_series(terms, degree, A, B, R)
    if convention == "normalized":
        one = sp.Integer(1)
        c = _inverse_series(_expectation_series(terms, degree, one, one, one))
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
    if activation.expr == X or activation.right == X:     # linear (near 0: hardtanh, hardsigmoid)
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
            if not nonzero and _is_identity(activation.right if activation.right is not None else activation.expr):
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


#: The highest order in 1/s searched for the first non-vanishing term of a one-sided (kinked)
#: activation; the smooth ones use the Taylor-coefficient rule of :func:`leading_order` instead.
MAX_ONE_SIDED_ORDER = 12


def critical_shaping(activation: Activation, convention: str = "normalized",
                     max_degree: int = MAX_TAYLOR_DEGREE, a=sp.Integer(1)) -> ShapingExpansion:
    """The first non-vanishing order q of c E[phi_s phi_s] - R in 1/s and its coefficient.

    Smooth activations: q comes from :func:`leading_order` (computed from the first non-zero Taylor
    coefficients, whatever their degree). One-sided activations (a kink of higher order at 0,
    different Taylor expansions on x > 0 and x < 0): the orders 1, 2, ... of
    :func:`covariance_expansion` are computed until one does not vanish (up to
    :data:`MAX_ONE_SIDED_ORDER`); for a kink in the second derivative (ELU, CELU, softsign) the
    O(1/s) term survives, q = 1 and the critical shaping is s = a n. With ReLU-like slopes
    1 + c±/sqrt(n) the exponent is 1/2 by construction: the O(1/s) term must vanish and q = 2.
    Every term below q is checked to vanish.
    """
    if activation.family == "smooth":
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
    with symbolic_budget(f"the one-sided expansion of c E[phi_s phi_s] - R for {activation.name}"):
        if activation.has_slopes:
            return _slope_shaping(activation, convention, a)
        order = 2
        while True:
            e = covariance_expansion(activation, order, convention, a)
            for q in range(1, order + 1):
                if not _vanishes(e[q]):
                    return ShapingExpansion(order=q, exponent=sp.Rational(1, q),
                                            coefficient=angle_form(e[q]))
            if order >= MAX_ONE_SIDED_ORDER:
                raise ActivationError(
                    f"the critical shaping of {activation.name} is beyond covsde's limit: every term of "
                    f"c E[phi_s phi_s] - R up to order {MAX_ONE_SIDED_ORDER} in 1/s vanishes; this is a "
                    "limit of the search, not a linear network")
            order = min(2 * order, MAX_ONE_SIDED_ORDER)


def _slope_shaping(activation, convention, a):
    """q = 2 for ReLU-like slopes 1 + c±/sqrt(n) (with the curvature of phi, if any, at s = a sqrt(n))."""
    e = covariance_expansion(activation, 2, convention, a)
    if not _vanishes(e[1]):
        if activation.expr == X:
            raise ActivationError(
                "the ReLU-like family has a shaped limit only in the normalized convention "
                "(with c = 1 the drift diverges unless c_plus + c_minus = 0)")
        raise ActivationError(
            f"{activation.name} with ReLU-like slopes: the activation's own O(1/s) term "
            f"{sp.sstr(angle_form(e[1]))} does not vanish, so it needs s = a n while the slopes "
            "1 + c±/sqrt(n) need s = a sqrt(n); there is no common shaped limit (drop the slopes, or "
            "use an activation whose one-sided expansions agree to second order)")
    return ShapingExpansion(order=2, exponent=sp.Rational(1, 2), coefficient=angle_form(e[2]))


def angle_form(expr: sp.Expr) -> sp.Expr:
    """A coefficient with half-space moments, collected on arccos(R/sqrt(AB)) and sqrt(AB - R^2) and
    each part factored: (c+ - c-)^2/(2 pi) (sqrt(AB - R^2) - R acos(R/sqrt(AB))) for the ReLU-like
    family. Polynomials in A, B, R are left as factor_terms gives them."""
    expr = sp.expand(expr)
    atoms = sorted((f for f in expr.atoms(sp.acos, sp.Pow)
                    if isinstance(f, sp.acos) or (f.exp == sp.Rational(1, 2) and f.base.has(R) and f.base.is_Add)),
                   key=sp.default_sort_key)
    if not atoms:
        return sp.factor_terms(expr)
    collected = sp.collect(expr, atoms, evaluate=False)
    parts = [sp.factor_terms(sp.expand(coeff)) if key == 1 else sp.factor(coeff) * key
             for key, coeff in collected.items()]
    return sp.factor_terms(sp.Add(*parts))
