"""Gaussian moments of monomials times half-space indicators, in closed form.

For (u, v) ~ N(0, [[A, R], [R, B]]) and signs sigma, tau in {+1, -1},

    E[u^k 1{sigma u > 0} v^l 1{tau v > 0}]
        = sigma^k tau^l A^(k/2) B^(l/2) M_kl(sigma tau rho),   rho = R / sqrt(A B),

where M_kl(rho) = E[x^k y^l 1{x > 0} 1{y > 0}] for standard normals with correlation rho. In polar
coordinates x = r cos(theta), y = r cos(theta - phi), phi = arccos(rho), the radial integral is
2^(n/2) Gamma(n/2 + 1) (n = k + l) and the angular one, over theta in (phi - pi/2, pi/2), is

    sum_j C(l, j) rho^(l-j) sin(phi)^j J(k + l - j, j; pi - phi),   J(m, j; psi) = int_0^psi sin^m cos^j,

with J from the reduction formulas (exact, no symbolic integration):

    J(m, j) = -sin^(m-1) cos^(j+1) / (m + j) + (m - 1)/(m + j) J(m - 2, j),
    J(m, j) =  sin^(m+1) cos^(j-1) / (m + j) + (j - 1)/(m + j) J(m, j - 2),

J(0, 0) = psi, J(1, 0) = 1 - cos psi, J(0, 1) = sin psi, J(1, 1) = sin^2(psi)/2. With sin(pi - phi) =
sqrt(1 - rho^2), cos(pi - phi) = -rho and pi - phi = pi - arccos(rho) everything is a polynomial in
rho, sqrt(1 - rho^2) and arccos(rho). The cases k = l = 0, 1, 2 are the arc-cosine kernels of Cho & Saul
(2009): M_00 = (pi - arccos rho)/(2 pi), M_11 = (sqrt(1 - rho^2) + (pi - arccos rho) rho)/(2 pi).

In A, B, R the results are written with sqrt(A B - R^2) and arccos(R / sqrt(A B)) (no 0/0 at rho = ±1).
"""
from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import sympy as sp

_S, _C, _PSI = sp.symbols("S C Psi", real=True)
_RHO = sp.Symbol("rho", real=True)


def _add(p, q, scale=1):
    """p + scale q for polynomials stored as {exponents: Fraction}."""
    out = dict(p)
    for key, c in q.items():
        out[key] = out.get(key, 0) + scale * c
    return {key: c for key, c in out.items() if c != 0}


@lru_cache(maxsize=None)
def _angular_poly(m: int, j: int) -> tuple:
    """J(m, j; psi) = int_0^psi sin^m(t) cos^j(t) dt as ((S power, C power, Psi power, Fraction), ...)
    with S = sin psi, C = cos psi, by the reduction formulas of the module docstring (exact rationals)."""
    if m < 0 or j < 0:
        raise ValueError("negative power")
    base = {(0, 0): {(0, 0, 1): Fraction(1)}, (1, 0): {(0, 0, 0): Fraction(1), (0, 1, 0): Fraction(-1)},
            (0, 1): {(1, 0, 0): Fraction(1)}, (1, 1): {(2, 0, 0): Fraction(1, 2)}}
    if (m, j) in base:
        return tuple((*k, c) for k, c in base[(m, j)].items())
    if m >= 2:
        lower = {k[:3]: k[3] for k in _angular_poly(m - 2, j)}
        poly = _add({(m - 1, j + 1, 0): Fraction(-1, m + j)}, lower, Fraction(m - 1, m + j))
    else:
        lower = {k[:3]: k[3] for k in _angular_poly(m, j - 2)}
        poly = _add({(m + 1, j - 1, 0): Fraction(1, m + j)}, lower, Fraction(j - 1, m + j))
    return tuple((*k, c) for k, c in poly.items())


def _angular(m: int, j: int) -> sp.Expr:
    """J(m, j; psi) as a SymPy polynomial in S = sin psi, C = cos psi, Psi (for display and tests)."""
    return sp.Add(*(sp.Rational(c.numerator, c.denominator) * _S**a * _C**b * _PSI**e
                    for a, b, e, c in _angular_poly(m, j)))


@lru_cache(maxsize=None)
def _quadrant_terms(k: int, l: int) -> tuple:
    """M_kl(rho) as ((a, b, c, coefficient), ...): M_kl = sum coefficient rho^a sqrt(1 - rho^2)^b psi^c,
    psi = pi - arccos(rho), coefficients exact (the radial factor included).

    The angular integral is sum_j C(l, j) rho^(l-j) s^j J(k + l - j, j) with sin psi = s and
    cos psi = -rho, computed on exact rationals (no symbolic expansion)."""
    n = k + l
    poly = {}
    for j in range(l + 1):
        weight = math.comb(l, j)
        for a, b, e, c in _angular_poly(k + l - j, j):
            # S^a C^b Psi^e with S = s, C = -rho, times rho^(l-j) s^j
            key = (b + l - j, a + j, e)
            poly[key] = poly.get(key, 0) + weight * c * (-1) ** b
    radial = 2**sp.Rational(n, 2) * sp.gamma(sp.Rational(n, 2) + 1) / (2 * sp.pi)
    return tuple((a, b, e, radial * sp.Rational(c.numerator, c.denominator))
                 for (a, b, e), c in sorted(poly.items()) if c != 0)


@lru_cache(maxsize=None)
def positive_quadrant_moment(k: int, l: int) -> sp.Expr:
    """M_kl(rho) = E[x^k y^l 1{x > 0} 1{y > 0}] for standard normals with correlation rho (exact)."""
    if k < 0 or l < 0:
        raise ValueError("moments need non-negative powers")
    psi = sp.pi - sp.acos(_RHO)
    return sp.Add(*(coeff * _RHO**a * sp.sqrt(1 - _RHO**2)**b * psi**c
                    for a, b, c, coeff in _quadrant_terms(k, l)))


def half_space_moment(k: int, sign_u: int, l: int, sign_v: int, A, B, R) -> sp.Expr:
    """E[u^k 1{sign_u u > 0} v^l 1{sign_v v > 0}] for (u, v) ~ N(0, [[A, R], [R, B]]).

    ``sign_u``, ``sign_v`` are +1, -1, or 0 for no indicator (the moment over the whole line).
    The result is a SymPy expression in A, B, R built from sqrt(A), sqrt(B), sqrt(A B - R^2) and
    arccos(R / sqrt(A B)) (see the module docstring); with both signs 0 it is Isserlis' moment.
    A and B should be positive symbols (so that sqrt(A B) = sqrt(A) sqrt(B)).
    """
    if k < 0 or l < 0:
        raise ValueError("moments need non-negative powers")
    if sign_u == 0 and sign_v == 0:
        return sum((half_space_moment(k, s, l, 0, A, B, R) for s in (1, -1)), sp.Integer(0))
    if sign_u == 0:
        return _one_indicator_moment(k, l, sign_v, A, B, R)
    if sign_v == 0:
        return _one_indicator_moment(l, k, sign_u, B, A, R)
    st = sign_u * sign_v
    sa, sb = sp.sqrt(A), sp.sqrt(B)
    # M_kl(st rho): psi = pi - arccos(st rho) is pi - arccos(rho) for st = 1 and arccos(rho) for st = -1;
    # the angle is written arccos(R / sqrt(A B)). With rho = R/(sa sb), sqrt(1 - rho^2) = D/(sa sb):
    # sa^k sb^l rho^a sqrt(1 - rho^2)^b = R^a D^b sa^(k-a-b) sb^(l-a-b) (no sign assumptions on A, B)
    theta = sp.acos(R / sp.sqrt(A * B))
    angle = sp.pi - theta if st == 1 else theta
    D = sp.sqrt(A * B - R**2)
    return sp.expand(sign_u**k * sign_v**l * sp.Add(*(
        coeff * st**a * R**a * D**b * angle**c * sa**(k - a - b) * sb**(l - a - b)
        for a, b, c, coeff in _quadrant_terms(k, l))))


def _one_indicator_moment(k: int, l: int, sign_v: int, A, B, R) -> sp.Expr:
    """E[u^k v^l 1{sign_v v > 0}] with u over the whole line, by conditioning on v:
    u | v ~ N(R v / B, A - R^2/B), so E[u^k | v] = sum_{m even} C(k, m) (m-1)!! (A - R^2/B)^(m/2)
    (R v / B)^(k-m), and E[v^p 1{sign v > 0}] = sign^p B^(p/2) 2^(p/2) Gamma((p+1)/2) / (2 sqrt(pi)).
    A polynomial in A, R, 1/B and sqrt(B): no angle enters."""
    out = sp.Integer(0)
    for m in range(0, k + 1, 2):
        p = k - m + l
        half_line = sign_v**p * sp.sqrt(B)**p * 2**sp.Rational(p, 2) * sp.gamma(sp.Rational(p + 1, 2)) \
            / (2 * sp.sqrt(sp.pi))
        out += sp.binomial(k, m) * sp.factorial2(m - 1) * (A - R**2 / B)**(m // 2) * (R / B)**(k - m) * half_line
    return sp.expand(out)
