"""Isserlis/Wick moments E[x^i y^j], (x, y) ~ N(0, [[A, R], [R, B]]), against quadrature.

The reference is a 2-D Gauss–Hermite rule on the Cholesky factor of the covariance,
x = sqrt(A) z1, y = (R / sqrt(A)) z1 + sqrt(B - R^2/A) z2 with z1, z2 iid N(0, 1): a rule with
n nodes per axis integrates polynomials of degree 2n - 1 exactly, so 12 nodes are exact for
i + j <= 16 (up to rounding). Nothing from derive/ is used for the reference.
"""
import numpy as np
import pytest
import sympy as sp

from conftest import gauss_hermite_normal
from covsde.derive import gaussian_moment

NODES, WEIGHTS = gauss_hermite_normal(12)       # probabilists' rule for N(0, 1)


def moment_by_quadrature(i, j, A, B, R):
    """E[x^i y^j] by 2-D Gauss–Hermite on the Cholesky factor of [[A, R], [R, B]]."""
    z1, z2 = np.meshgrid(NODES, NODES, indexing="ij")
    w = np.outer(WEIGHTS, WEIGHTS)
    x = np.sqrt(A) * z1
    y = R / np.sqrt(A) * z1 + np.sqrt(B - R**2 / A) * z2
    return float(np.sum(w * x**i * y**j))


def random_covariances(count, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        A, B = rng.uniform(0.2, 3.0, size=2)
        R = rng.uniform(-0.95, 0.95) * np.sqrt(A * B)
        out.append((float(A), float(B), float(R)))
    return out


@pytest.mark.parametrize("A,B,R", random_covariances(6, seed=20240611))
def test_wick_moments_match_gauss_hermite_quadrature(A, B, R):
    for i in range(9):
        for j in range(9):
            exact = float(gaussian_moment(i, j, sp.Float(A, 30), sp.Float(B, 30), sp.Float(R, 30)))
            ref = moment_by_quadrature(i, j, A, B, R)
            # rounding in the quadrature sum is relative to E[|x|^i |y|^j] <= (i+j-1)!! max(A,B)^((i+j)/2)
            scale = float(sp.factorial2(i + j - 1)) * max(A, B) ** ((i + j) / 2)
            assert exact == pytest.approx(ref, rel=1e-10, abs=1e-12 * scale), (i, j)


def test_symbolic_moments_are_the_classical_ones():
    A, B, R = sp.symbols("A B R")
    # Isserlis: E[x^2 y^2] = AB + 2R^2, E[x^4] = 3A^2, E[x^3 y] = 3AR, E[x^6] = 15 A^3
    assert sp.expand(gaussian_moment(2, 2, A, B, R) - (A * B + 2 * R**2)) == 0
    assert sp.expand(gaussian_moment(4, 0, A, B, R) - 3 * A**2) == 0
    assert sp.expand(gaussian_moment(3, 1, A, B, R) - 3 * A * R) == 0
    assert sp.expand(gaussian_moment(0, 6, A, B, R) - 15 * B**3) == 0
    assert sp.expand(gaussian_moment(1, 1, A, B, R) - R) == 0
    assert gaussian_moment(0, 0, A, B, R) == 1


def test_odd_total_order_vanishes():
    A, B, R = sp.symbols("A B R")
    for i, j in [(1, 0), (0, 3), (2, 1), (4, 3), (5, 0)]:
        assert gaussian_moment(i, j, A, B, R) == 0


def test_perfectly_correlated_moments_are_one_dimensional():
    # R = A = B: x = y, so E[x^i y^j] = E[x^(i+j)] = (i+j-1)!! A^((i+j)/2)
    A = sp.Rational(7, 5)
    for i in range(7):
        for j in range(7):
            if (i + j) % 2:
                continue
            expected = sp.factorial2(i + j - 1) * A ** ((i + j) // 2) if i + j else 1
            assert gaussian_moment(i, j, A, A, A) == expected


def test_negative_order_is_refused():
    with pytest.raises(ValueError):
        gaussian_moment(-1, 2)
