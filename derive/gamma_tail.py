"""The regularised lower incomplete gamma function P(a, x) for any a > 0, including a far beyond floats.

The explosion probability of the normalized q = 2 norm SDE is P(1 + k, k V0) (SPEC §1), and k can be
1e400 (``--a 1e-200``), where ``scipy.special.gammainc`` overflows to nan and ``mpmath.gammainc``'s
hypergeometric series does not converge.  For a <= 1e6 with finite float arguments SciPy is exact to
rounding; above, Temme's uniform asymptotic expansion (Temme 1979; DLMF 8.12.3, 8.12.8)

    Q(a, x) = erfc(eta sqrt(a/2)) / 2 + exp(-a eta^2 / 2) / sqrt(2 pi a) * (c_0(eta) + c_1(eta)/a + ...),
    lambda = x / a,  eta = sign(lambda - 1) sqrt(2 (lambda - 1 - ln lambda)),
    c_0(eta) = 1/(lambda - 1) - 1/eta

is evaluated in mpmath (no overflow, any exponent); dropping c_1/a leaves a relative error of order
a^(-3/2) in the correction term, below 1e-15 for a > 1e6.
"""
from __future__ import annotations

import mpmath

#: Above this shape parameter the asymptotic expansion replaces SciPy.
ASYMPTOTIC_FROM = 1e6


def _eta_and_c0(d):
    """eta and c_0 for lambda = 1 + d, exact near d = 0 (series) and elsewhere (closed form)."""
    if abs(d) < mpmath.mpf("1e-4"):
        # lambda - 1 - ln lambda = d^2/2 - d^3/3 + d^4/4 - ...;  c_0 = -1/3 + d/12 - ... (DLMF 8.12.9)
        half_eta2 = d**2 / 2 - d**3 / 3 + d**4 / 4 - d**5 / 5 + d**6 / 6
        eta = mpmath.sign(d) * mpmath.sqrt(2 * half_eta2) if d != 0 else mpmath.mpf(0)
        c0 = -mpmath.mpf(1) / 3 + d / 12 - 23 * d**2 / 540 + 13 * d**3 / 540
        return eta, c0
    half_eta2 = d - mpmath.log1p(d)
    eta = mpmath.sign(d) * mpmath.sqrt(2 * half_eta2)
    return eta, 1 / d - 1 / eta


def _erfc(z):
    """erfc for any mpf z: mpmath's below |z| = 1e8, the asymptotic series above (mpmath's own
    series test overflows for astronomically large arguments; the series' next term is < 1e-64)."""
    if abs(z) < 1e8:
        return mpmath.erfc(z)
    if z < 0:
        return 2 - _erfc(-z)
    w = 1 / (2 * z**2)
    return mpmath.exp(-z**2) / (z * mpmath.sqrt(mpmath.pi)) * (1 - w + 3 * w**2)


def lower_gamma_regularized(a, x):
    """P(a, x) = gamma(a, x) / Gamma(a) as an mpmath number.

    Parameters
    ----------
    a, x : float, int, str or mpmath.mpf
        Shape a > 0 and argument x >= 0; they may exceed the float range (give them as mpf or str).
    """
    with mpmath.workdps(40):
        a, x = mpmath.mpf(a), mpmath.mpf(x)
        return _lower_gamma(a, x, (x - a) / a)


def explosion_gamma(k, V0):
    """P(1 + k, k V0), with lambda - 1 = (k (V0 - 1) - 1)/(k + 1) formed without cancellation
    (at V0 = 1 and k = 1e400, lambda - 1 = -1e-400 exactly, which x/a - 1 would round to 0)."""
    with mpmath.workdps(40):
        k, V0 = mpmath.mpf(k), mpmath.mpf(V0)
        return _lower_gamma(1 + k, k * V0, (k * (V0 - 1) - 1) / (k + 1))


def _lower_gamma(shape, x, d):
    """P(shape, x) given also d = x/shape - 1 computed accurately by the caller."""
    with mpmath.workdps(40):
        if not (shape > 0) or x < 0 or mpmath.isnan(x):
            raise ValueError(f"P(a, x) needs a > 0 and x >= 0, got a = {shape}, x = {x}")
        if x == 0:
            return mpmath.mpf(0)
        if shape <= ASYMPTOTIC_FROM and x < 1e300:
            import scipy.special
            return mpmath.mpf(float(scipy.special.gammainc(float(shape), float(x))))
        eta, c0 = _eta_and_c0(d)
        correction = mpmath.exp(-shape * eta**2 / 2) / mpmath.sqrt(2 * mpmath.pi * shape) * c0
        # P = 1 - Q written without cancellation on the side where P is small (eta < 0)
        return _erfc(-eta * mpmath.sqrt(shape / 2)) / 2 - correction
