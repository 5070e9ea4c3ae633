"""The derived drift against n (c E[phi_s(x) phi_s(y)] - R) computed by quadrature at large n.

SPEC §1 and §4 (Li, Nica & Roy 2022): b^ab = lim_n n (c E[phi_s(z^a) phi_s(z^b)] - V^ab),
z ~ N(0, V), phi_s(x) = s phi(x/s), s = a n^p, c^-1 = E[phi_s(w)^2] (normalized) or c = 1.

How the reference is computed (independently of derive/, which supplies only phi itself):

* Smooth activations. c E - R is O(1/n), so computing E and subtracting R loses about
  log10(n) digits. Instead write phi(u) = u + g(u); E[x y] = R exactly, hence
      E[phi_s(x) phi_s(y)] = R + e,  e = s E[x g(y/s)] + s E[g(x/s) y] + s^2 E[g(x/s) g(y/s)],
      c^-1 = 1 + d,                  d = 2 s E[w g(w/s)] + s^2 E[g(w/s)^2],
      c E - R = (e - R d) / (1 + d),
  and e, d are computed directly (no cancellation) by a 100-node-per-axis Gauss–Hermite rule on
  the Cholesky factor of V. The error of n (c E - R) is a series in 1/s^2 = 1/(a^2 n), so three
  widths n = 1e4, 1e5, 1e6 and Richardson extrapolation (fit b + c1/n + c2/n^2) leave an
  O(n^-3) ~ 1e-12 truncation error; rounding in phi(u) - u adds ~ n s 1e-16 ~ 1e-7 at worst
  (softplus, whose lambdified form log(exp(x) + 1) has absolute error ~1e-16).
* ReLU-like. phi_s(x) = s+ max(x,0) + s- min(x,0) has a kink, where Gauss–Hermite converges
  slowly. phi_s is positively homogeneous of degree 1, so in polar coordinates of the
  Cholesky variables, (z1, z2) = r (cos t, sin t), E[phi_s(x) phi_s(y)] =
  E[r^2]/(2 pi) int_0^{2 pi} phi_s(x(t)) phi_s(y(t)) dt with E[r^2] = 2: a 1-D integral of a
  trigonometric function that is smooth between the zeros of x(t) and y(t). mpmath.quad on
  those pieces at 40 digits has no cancellation problem. n (c E - R) is a series in
  1/sqrt(n); four widths with sqrt(n) doubling and a cubic in 1/sqrt(n) extrapolate it.
"""
import mpmath
import numpy as np
import pytest
import sympy as sp

from conftest import gauss_hermite_normal
from covsde.derive import ActivationError, as_activation, derive_sde

GH_NODES, GH_WEIGHTS = gauss_hermite_normal(100)
WIDTHS = (1e4, 1e5, 1e6)

#: (A, B, R) = (V^aa, V^bb, V^ab) with |R| < sqrt(A B), negative R included.
COVARIANCES = [(1.5, 0.7, -0.6), (0.4, 2.0, 0.3), (2.5, 1.8, -2.0), (1.0, 1.0, 0.5), (0.8, 1.3, 0.0)]

POLYNOMIAL = ("x + alpha*x**2 + beta*x**3", {"alpha": 0.3, "beta": -0.2})
#: Absolute tolerance per activation: the reference's rounding error (module docstring), with a
#: margin of about 3. softplus is lambdified as 2 log(exp(x) + 1) - 2 log 2, whose absolute error
#: ~2e-16 becomes ~n s 2e-16 ~ 4e-7 in n (c E - R) at n = 1e6 (measured worst case 3.8e-7).
ATOL = {"softplus": 1e-6}
SMOOTH = [("tanh", {}), ("sin", {}), ("gelu", {}), ("silu", {}), ("softplus", {}), ("sinh", {}),
          ("atan", {}), POLYNOMIAL]


def cholesky_pair(A, B, R, z1, z2):
    """(x, y) ~ N(0, [[A, R], [R, B]]) from iid standard (z1, z2)."""
    x = np.sqrt(A) * z1
    y = R / np.sqrt(A) * z1 + np.sqrt(max(B - R * R / A, 0.0)) * z2
    return x, y


def smooth_excess(phi, s, A, B, R, normalized):
    """c E[phi_s(x) phi_s(y)] - R by 2-D Gauss–Hermite, written without cancellation."""
    def g(u):
        return phi(u) - u
    z1, z2 = np.meshgrid(GH_NODES, GH_NODES, indexing="ij")
    w = np.outer(GH_WEIGHTS, GH_WEIGHTS)
    x, y = cholesky_pair(A, B, R, z1, z2)
    gx, gy = g(x / s), g(y / s)
    e = np.sum(w * (s * x * gy + s * gx * y + s * s * gx * gy))
    if not normalized:
        return e
    gw = g(GH_NODES / s)
    d = np.sum(GH_WEIGHTS * (2 * s * GH_NODES * gw + s * s * gw * gw))
    return (e - R * d) / (1 + d)


def extrapolate(steps, values):
    """Value at step 0 of the polynomial in `steps` through (steps, values) (Richardson)."""
    M = np.vander(np.asarray(steps, dtype=np.float64), len(steps), increasing=True)
    return np.linalg.solve(M, np.asarray(values, dtype=np.float64))[0]


def smooth_drift_by_quadrature(phi, a, A, B, R, normalized, exponent=0.5, widths=WIDTHS):
    """lim n (c E - R) at s = a n^exponent, extrapolated in 1/n from `widths`."""
    values = [n * smooth_excess(phi, a * n**exponent, A, B, R, normalized) for n in widths]
    return extrapolate([1 / n for n in widths], values)


def drift_matrix_by_quadrature(entry, V):
    """Apply a pairwise reference b(A, B, R) to every entry of V."""
    m = V.shape[-1]
    return np.array([[entry(V[i, i], V[j, j], V[i, j]) for j in range(m)] for i in range(m)])


def as_matrix(A, B, R):
    return np.array([[A, R], [R, B]], dtype=np.float64)


@pytest.mark.parametrize("convention", ["normalized", "unnormalized"])
@pytest.mark.parametrize("a", [1, 2])
@pytest.mark.parametrize("name,params", SMOOTH, ids=[s[0].split()[0] for s in SMOOTH])
def test_smooth_drift_matches_quadrature_at_large_n(name, params, a, convention):
    phi = as_activation(name, **params).numpy()
    sde = derive_sde(name, a=a, convention=convention, **params)
    assert sde.exponent == sp.Rational(1, 2)
    Vs = np.stack([as_matrix(*abr) for abr in COVARIANCES])
    derived = sde.drift(Vs)                      # (k, 2, 2): also checks broadcasting
    assert derived.shape == Vs.shape
    normalized = convention == "normalized"
    for V, b in zip(Vs, derived):
        ref = drift_matrix_by_quadrature(
            lambda A, B, R: smooth_drift_by_quadrature(phi, a, A, B, R, normalized), V)
        # 4+ significant digits as required; the reference is good to ~1e-7 (see module doc)
        np.testing.assert_allclose(b, ref, rtol=1e-5, atol=ATOL.get(name, 1e-8),
                                   err_msg=f"{name} V={V.tolist()}")


def test_polynomial_parameters_substituted_later_give_the_same_drift():
    text, params = POLYNOMIAL
    phi = as_activation(text, **params).numpy()
    sde = derive_sde(text).subs(**params)
    V = as_matrix(1.5, 0.7, -0.6)
    ref = drift_matrix_by_quadrature(
        lambda A, B, R: smooth_drift_by_quadrature(phi, 1, A, B, R, True), V)
    np.testing.assert_allclose(sde.drift(V), ref, rtol=1e-5, atol=1e-8)


def test_quadrature_reference_agrees_with_direct_high_precision_sum():
    """Cross-check of the cancellation-free rewriting: c E - R summed directly at 40 digits."""
    phi = as_activation("tanh").numpy()
    A, B, R = 1.5, 0.7, -0.6
    n = 1e6
    s = mpmath.sqrt(mpmath.mpf(n))
    with mpmath.workdps(40):
        z = [mpmath.mpf(float(t)) for t in GH_NODES]
        w = [mpmath.mpf(float(t)) for t in GH_WEIGHTS]
        L11, L21 = mpmath.sqrt(A), R / mpmath.sqrt(A)
        L22 = mpmath.sqrt(B - mpmath.mpf(R) ** 2 / A)
        # only ~40 nodes per axis carry weight above 1e-30
        keep = [i for i in range(len(z)) if w[i] > mpmath.mpf(10) ** -30]
        E = mpmath.fsum(w[i] * w[j] * s * mpmath.tanh(L11 * z[i] / s)
                        * s * mpmath.tanh((L21 * z[i] + L22 * z[j]) / s)
                        for i in keep for j in keep)
        cinv = mpmath.fsum(w[i] * (s * mpmath.tanh(z[i] / s)) ** 2 for i in keep)
        direct = float(n * (E / cinv - R))
    cancellation_free = n * smooth_excess(phi, np.sqrt(n), A, B, R, True)
    assert direct == pytest.approx(cancellation_free, rel=1e-8)


# ------------------------------------------------------------------- ReLU-like family
def relu_like_second_moment(s_plus, s_minus, A, B, R):
    """E[phi_s(x) phi_s(y)] for phi_s = s+ max(.,0) + s- min(.,0), by polar quadrature (mpmath)."""
    L11 = mpmath.sqrt(A)
    L21 = R / L11
    L22 = mpmath.sqrt(max(B - R * R / A, mpmath.mpf(0)))

    def phi(u):
        return s_plus * u if u > 0 else s_minus * u

    def integrand(t):
        c, s = mpmath.cos(t), mpmath.sin(t)
        return phi(L11 * c) * phi(L21 * c + L22 * s)

    two_pi = 2 * mpmath.pi
    kinks = [mpmath.pi / 2, 3 * mpmath.pi / 2]
    t0 = mpmath.atan2(-L21, L22)                  # y(t) = 0 at t0 and t0 + pi
    kinks += [(t0 + k * mpmath.pi) % two_pi for k in (0, 1)]
    points = sorted(set([mpmath.mpf(0), two_pi] + kinks))
    return mpmath.quad(integrand, points) / mpmath.pi      # E[r^2] / (2 pi) = 1 / pi


def relu_like_excess(c_plus, c_minus, n, A, B, R):
    """c E[phi_s(x) phi_s(y)] - R with c^-1 = E[phi_s(w)^2], w ~ N(0, 1), at width n."""
    s_plus = 1 + mpmath.mpf(c_plus) / mpmath.sqrt(n)
    s_minus = 1 + mpmath.mpf(c_minus) / mpmath.sqrt(n)
    E = relu_like_second_moment(s_plus, s_minus, A, B, R)
    cinv = relu_like_second_moment(s_plus, s_minus, 1, 1, 1)
    return E / cinv - R


def relu_like_drift_by_quadrature(c_plus, c_minus, A, B, R):
    widths = [mpmath.mpf(10) ** 6 * 4**k for k in range(4)]
    with mpmath.workdps(40):
        A, B, R = mpmath.mpf(A), mpmath.mpf(B), mpmath.mpf(R)
        values = [float(n * relu_like_excess(c_plus, c_minus, n, A, B, R)) for n in widths]
    return extrapolate([1 / np.sqrt(float(n)) for n in widths], values)


@pytest.mark.parametrize("c_plus,c_minus", [(0, -1), (0.5, -0.7)])
def test_relu_like_drift_matches_polar_quadrature_at_large_n(c_plus, c_minus):
    sde = derive_sde("relu", c_plus=c_plus, c_minus=c_minus)
    assert sde.exponent == sp.Rational(1, 2)
    for abr in COVARIANCES:
        V = as_matrix(*abr)
        ref = drift_matrix_by_quadrature(
            lambda A, B, R: relu_like_drift_by_quadrature(c_plus, c_minus, A, B, R), V)
        np.testing.assert_allclose(sde.drift(V), ref, rtol=1e-9, atol=1e-12,
                                   err_msg=f"c+={c_plus} c-={c_minus} V={V.tolist()}")


def test_relu_like_polar_quadrature_reproduces_the_arccosine_kernel():
    """Sanity check of the polar rule itself at s+ = s- = 1 (identity): E[x y] = R."""
    with mpmath.workdps(30):
        for A, B, R in COVARIANCES:
            assert float(relu_like_second_moment(1, 1, A, B, R)) == pytest.approx(R, abs=1e-20)
        # ReLU (s- = 0): E[relu(x) relu(y)] = sqrt(AB)/(2 pi) (sqrt(1-r^2) + (pi - acos r) r)
        A, B, R = 1.5, 0.7, -0.6
        r = R / np.sqrt(A * B)
        relu = np.sqrt(A * B) / (2 * np.pi) * (np.sqrt(1 - r * r) + (np.pi - np.arccos(r)) * r)
        assert float(relu_like_second_moment(1, 0, A, B, R)) == pytest.approx(relu, rel=1e-13)


def test_relu_like_unnormalized_is_refused():
    with pytest.raises(ActivationError):
        derive_sde("relu", c_plus=0, c_minus=-1, convention="unnormalized")


# -------------------------------------------------------------- general order (SPEC §1)
QUINTIC = "x - x**5/5"
QUINTIC_V = (1.2, 0.8, 0.3)


def test_quintic_activation_has_critical_exponent_one_quarter():
    sde = derive_sde(QUINTIC)
    assert sde.exponent == sp.Rational(1, 4)
    A, B, R = sp.symbols("A B R", real=True)
    # SPEC §1 general order: b = 6 R - 3 R (A^2 + B^2) (normalized, a = 1)
    assert {str(s) for s in sde.drift_expr.free_symbols} == {"A", "B", "R"}
    drift = sde.drift_expr.subs({s: sp.Symbol(s.name, real=True) for s in sde.drift_expr.free_symbols})
    assert sp.expand(drift - (6 * R - 3 * R * (A**2 + B**2))) == 0


def test_quintic_drift_at_quarter_shaping_matches_quadrature():
    phi = as_activation(QUINTIC).numpy()
    A, B, R = QUINTIC_V
    ref = smooth_drift_by_quadrature(phi, 1, A, B, R, True, exponent=0.25)
    assert ref == pytest.approx(-0.07200, abs=5e-6)            # SPEC §1, checked value
    V = as_matrix(A, B, R)
    sde = derive_sde(QUINTIC)
    np.testing.assert_allclose(
        sde.drift(V),
        drift_matrix_by_quadrature(
            lambda a_, b_, r_: smooth_drift_by_quadrature(phi, 1, a_, b_, r_, True, exponent=0.25), V),
        rtol=1e-6, atol=1e-9)


def test_quintic_other_shapings_vanish_or_diverge():
    phi = as_activation(QUINTIC).numpy()
    A, B, R = QUINTIC_V
    # s = n^(1/2): n (cE - R) = -0.072 / n + O(n^-3) -> 0. (Widths kept <= 1e4: beyond, the
    # x^5 term of phi(x/s) falls below float64 resolution of x/s.)
    over = [n * smooth_excess(phi, n**0.5, A, B, R, True) for n in [1e3, 1e4]]
    for n, val in zip([1e3, 1e4], over):
        assert n * val == pytest.approx(-0.072, rel=1e-3)
    widths = [1e4, 1e6, 1e8]
    # s = n^(1/6): n (cE - R) ~ -0.072 n^(1/3) diverges
    under = [n * smooth_excess(phi, n ** (1 / 6), A, B, R, True) for n in widths]
    assert abs(under[0]) < abs(under[1]) < abs(under[2])
    assert under[2] / widths[2] ** (1 / 3) == pytest.approx(-0.072, rel=1e-3)
    # the values SPEC §1 reports: -1.96, -7.29, -33.4 at n = 1e4, 1e6, 1e8
    np.testing.assert_allclose(under, [-1.96, -7.29, -33.4], rtol=3e-3)


# ------------------------------------------------------------------------- diffusion
def test_diffusion_is_n_times_the_covariance_of_one_layer():
    """n Cov(V'^{ab}, V'^{cd}) = c^2 (E[phi_a phi_b phi_c phi_d] - E[phi_a phi_b] E[phi_c phi_d]) -> Sigma.

    One layer: V' = c (1/n) sum_i phi_s(z_i) phi_s(z_i)^T with z_i iid N(0, V) (SPEC §1).
    Quadrature at n = 1e3, 1e4, 1e5 extrapolated in 1/n (tanh, a = 1, normalized).
    """
    phi = as_activation("tanh").numpy()
    V = as_matrix(1.3, 0.6, -0.5)
    z1, z2 = np.meshgrid(GH_NODES[20:80], GH_NODES[20:80], indexing="ij")
    w = np.outer(GH_WEIGHTS[20:80], GH_WEIGHTS[20:80])
    x, y = cholesky_pair(V[0, 0], V[1, 1], V[0, 1], z1, z2)
    widths = [1e3, 1e4, 1e5]
    per_width = []
    for n in widths:
        s = np.sqrt(n)
        f = [s * phi(x / s), s * phi(y / s)]
        c = 1 / np.sum(GH_WEIGHTS * (s * phi(GH_NODES / s)) ** 2)
        second = np.array([[np.sum(w * f[i] * f[j]) for j in range(2)] for i in range(2)])
        fourth = np.einsum("pq,apq,bpq,cpq,dpq->abcd", w, f, f, f, f)
        per_width.append(c**2 * (fourth - np.einsum("ab,cd->abcd", second, second)))
    reference = extrapolate([1 / n for n in widths], np.stack(per_width).reshape(3, -1))
    derived = derive_sde("tanh").diffusion(V)
    assert derived.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(derived.reshape(-1), reference, rtol=1e-7, atol=1e-10)
    # and at finite width the covariance differs at O(1/n): the check is not vacuous
    assert np.max(np.abs(per_width[0].reshape(-1) - reference)) > 1e-5
