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

from functools import lru_cache

import sympy as sp

_S, _C, _PSI = sp.symbols("S C Psi", real=True)
_RHO = sp.Symbol("rho", real=True)


@lru_cache(maxsize=None)
def _angular(m: int, j: int) -> sp.Expr:
    """J(m, j; psi) = int_0^psi sin^m(t) cos^j(t) dt as a polynomial in S = sin psi, C = cos psi, Psi."""
    if m < 0 or j < 0:
        raise ValueError("negative power")
    if (m, j) == (0, 0):
        return _PSI
    if (m, j) == (1, 0):
        return 1 - _C
    if (m, j) == (0, 1):
        return _S
    if (m, j) == (1, 1):
        return _S**2 / 2
    if m >= 2:
        return sp.expand(-_S**(m - 1) * _C**(j + 1) / (m + j) + sp.Rational(m - 1, m + j) * _angular(m - 2, j))
    return sp.expand(_S**(m + 1) * _C**(j - 1) / (m + j) + sp.Rational(j - 1, m + j) * _angular(m, j - 2))


@lru_cache(maxsize=None)
def _quadrant_terms(k: int, l: int) -> tuple:
    """M_kl(rho) as ((a, b, c, coefficient), ...): M_kl = sum coefficient rho^a sqrt(1 - rho^2)^b psi^c,
    psi = pi - arccos(rho), coefficients exact (the radial factor included)."""
    n = k + l
    s = sp.Symbol("s")
    angular = sum((sp.binomial(l, j) * _RHO**(l - j) * s**j * _angular(k + l - j, j).subs(
        {_S: s, _C: -_RHO}, simultaneous=True) for j in range(l + 1)), sp.Integer(0))
    radial = 2**sp.Rational(n, 2) * sp.gamma(sp.Rational(n, 2) + 1) / (2 * sp.pi)
    poly = sp.Poly(sp.expand(angular), _RHO, s, _PSI)
    return tuple((a, b, c, radial * coeff) for (a, b, c), coeff in poly.terms())


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
    if sign_u == 0:
        return sum((half_space_moment(k, s, l, sign_v, A, B, R) for s in (1, -1)), sp.Integer(0))
    if sign_v == 0:
        return sum((half_space_moment(k, sign_u, l, s, A, B, R) for s in (1, -1)), sp.Integer(0))
    st = sign_u * sign_v
    root = sp.sqrt(A * B)
    rho = R / root
    # M_kl(st rho): psi = pi - arccos(st rho) is pi - arccos(rho) for st = 1 and arccos(rho) for st = -1
    angle = sp.pi - sp.acos(rho) if st == 1 else sp.acos(rho)
    D = sp.sqrt(A * B - R**2)
    total = sp.Add(*(coeff * st**a * rho**a * (D / root)**b * angle**c
                     for a, b, c, coeff in _quadrant_terms(k, l)))
    return sp.expand(sign_u**k * sign_v**l * sp.sqrt(A)**k * sp.sqrt(B)**l * total)
