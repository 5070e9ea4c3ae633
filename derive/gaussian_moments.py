"""Mixed moments of a centred bivariate Gaussian, in closed form (Isserlis/Wick).

For (x, y) ~ N(0, [[A, R], [R, B]]),

    E[x^i y^j] = sum_k C(i, k) C(j, k) k! R^k (i-k-1)!! A^((i-k)/2) (j-k-1)!! B^((j-k)/2),

summed over k = 0..min(i, j) with i - k and j - k even: choose the k cross pairs (x with y),
match them (k! ways) and pair the remaining x's and y's among themselves ((n-1)!! ways each).
This replaces ``sympy.stats`` (which is slow to the point of hanging on these integrals).
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp


def _double_factorial_odd(n: int) -> int:
    """(n-1)!! for even n >= 0: the number of perfect pairings of n objects."""
    out = 1
    for k in range(n - 1, 0, -2):
        out *= k
    return out


@lru_cache(maxsize=None)
def gaussian_moment(i: int, j: int, A=sp.Symbol("A"), B=sp.Symbol("B"), R=sp.Symbol("R")):
    """E[x^i y^j] for (x, y) ~ N(0, [[A, R], [R, B]]) as an exact SymPy expression.

    Parameters
    ----------
    i, j : int
        Non-negative powers.
    A, B, R : sympy expressions or numbers
        Variances of x and y and their covariance.

    Returns
    -------
    sympy.Expr
        Zero when i + j is odd.
    """
    if i < 0 or j < 0:
        raise ValueError("moment orders must be non-negative")
    if (i + j) % 2:
        return sp.Integer(0)
    total = sp.Integer(0)
    for k in range(min(i, j) + 1):
        if (i - k) % 2 or (j - k) % 2:
            continue
        weight = sp.binomial(i, k) * sp.binomial(j, k) * sp.factorial(k) \
            * _double_factorial_odd(i - k) * _double_factorial_odd(j - k)
        total += weight * R**k * A**((i - k) // 2) * B**((j - k) // 2)
    return sp.expand(total)
