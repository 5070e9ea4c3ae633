"""The SymPy-derived weak order 2 step of the zero-drift covariance flow (covsde.derive.noise_flow_expansion).

Checked against independent mathematics, not against its own construction:
- the Cholesky series it uses against SymPy's own ``Matrix.cholesky`` expanded in ε;
- the one-step moments E f(N_Δ) of the expansion (w ~ N(0, Δ) by Isserlis, x, y = ±1) against the
  generator of Σ(V)_{ab,cd} = V_ac V_bd + V_ad V_bc (SPEC §1): f + Δ Lf + Δ²/2 L²f at V = I, to
  O(Δ³) — the local condition of weak order 2 (Kloeden & Platen 1992, Thm 14.5.2);
- m = 1 against the closed form exp(sqrt2 W − Δ) of geometric Brownian motion.
"""
import itertools

import numpy as np
import pytest
import sympy as sp

from covsde.derive import InputError
from covsde.derive.noise_flow_expansion import cholesky_series_at_identity, noise_flow_expansion


@pytest.mark.parametrize("m", [2, 3])
def test_cholesky_series_matches_sympy_cholesky(m):
    eps = sp.Symbol("epsilon")
    D = sp.Matrix(m, m, lambda i, j: sp.Symbol(f"d{min(i, j)}{max(i, j)}"))
    L1, L2 = cholesky_series_at_identity(D)
    L = (sp.eye(m) + eps * D).cholesky(hermitian=False)
    for i in range(m):
        for j in range(m):
            series = sp.series(L[i, j], eps, 0, 3).removeO()
            assert sp.simplify(series - (int(i == j) + eps * L1[i, j] + eps ** 2 * L2[i, j])) == 0


def _expect(expr, gaussian, dt):
    """E[expr] for w_j ~ N(0, dt) (``gaussian``) and every other symbol an independent sign ±1."""
    expr = sp.expand(expr)
    syms = sorted(expr.free_symbols - {dt}, key=str)
    if not syms:
        return expr
    total = 0
    for monomial, coefficient in sp.Poly(expr, *syms).terms():
        value = coefficient
        for s, power in zip(syms, monomial):
            if power % 2:
                value = 0
                break
            if s in gaussian:
                value *= sp.factorial2(power - 1) * dt ** (power // 2)
        total += value
    return sp.expand(total)


def _generator(m):
    V = sp.Matrix(m, m, lambda i, j: sp.Symbol(f"v{min(i, j)}{max(i, j)}"))
    coords = [(i, j) for i in range(m) for j in range(i, m)]
    symbols = [V[i, j] for i, j in coords]

    def L(f):
        out = 0
        for a, (p, q) in enumerate(coords):
            for b, (r, s) in enumerate(coords):
                sigma = V[p, r] * V[q, s] + V[p, s] * V[q, r]
                out += sp.Rational(1, 2) * sigma * sp.diff(f, symbols[a], symbols[b])
        return sp.expand(out)
    return coords, symbols, L


@pytest.mark.parametrize("m, degree", [(1, 4), (2, 3), (3, 2)])
def test_one_step_moments_match_the_generator_to_order_dt_cubed(m, degree):
    e = noise_flow_expansion(m)
    dt = e.dt
    coords, symbols, L = _generator(m)
    at_identity = {s: int(i == j) for s, (i, j) in zip(symbols, coords)}
    substitute = {s: e.N[i, j] for s, (i, j) in zip(symbols, coords)}
    monomials = [sp.Mul(*c) for d in range(1, degree + 1)
                 for c in itertools.combinations_with_replacement(symbols, d)]
    for f in monomials:
        exact = sp.expand((f + dt * L(f) + dt ** 2 / 2 * L(L(f))).subs(at_identity))
        scheme = _expect(f.subs(substitute, simultaneous=True), set(e.w), dt)
        difference = sp.expand(scheme - exact)
        # every term left over is O(dt^3)
        assert difference == 0 or sp.Poly(difference, dt).monoms()[-1][0] >= 3, (f, difference)


def test_m1_matches_geometric_brownian_motion_moments():
    """m = 1: V_Δ = exp(sqrt2 W_Δ − Δ) exactly, E V_Δ^k = exp(k(k−1)Δ); the expansion
    1 + sqrt2 w + w² − Δ matches these for k = 1 … 5 to O(Δ³)."""
    e = noise_flow_expansion(1)
    w, dt = e.w[0], e.dt
    assert sp.expand(e.N[0, 0] - (1 + sp.sqrt(2) * w + w ** 2 - dt)) == 0
    for k in range(1, 6):
        exact = sp.series(sp.exp(k * (k - 1) * dt), dt, 0, 3).removeO()
        difference = sp.expand(_expect(e.N[0, 0] ** k, {w}, dt) - exact)
        assert difference == 0 or sp.Poly(difference, dt).monoms()[-1][0] >= 3, (k, difference)


def test_numeric_step_is_the_expression_and_has_mean_identity():
    """The lambdified step evaluates the SymPy expression; E N_Δ = I exactly (a martingale)."""
    e = noise_flow_expansion(2)
    f = e.numeric()
    rng = np.random.default_rng(0)
    w, x, y = rng.standard_normal(3), rng.choice([-1.0, 1.0], 3), rng.choice([-1.0, 1.0], 3)
    subs = {**dict(zip(e.w, w)), **dict(zip(e.x, x)), **dict(zip(e.y, y)), e.dt: 0.1}
    got = f(*w, *x, *y, 0.1)
    for value, (i, j) in zip(got, zip(*np.triu_indices(2))):
        assert np.isclose(float(e.N[i, j].subs(subs)), value, rtol=1e-14)
    mean = e.N.applyfunc(lambda entry: _expect(entry, set(e.w), e.dt))
    assert mean == sp.eye(2)


@pytest.mark.parametrize("m", [0, 9, 2.5])
def test_bad_m_raises_input_error(m):
    with pytest.raises(InputError):
        noise_flow_expansion(m)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_math_backend_is_the_numpy_backend_to_the_last_bit(m):
    """The scalar (numba-ready) step rounds exactly as the vectorised one: same code, same order."""
    e = noise_flow_expansion(m)
    k = len(e.w)
    rng = np.random.default_rng(m)
    w = rng.standard_normal((k, 50)) * 0.3
    x, y = rng.choice([-1.0, 1.0], (k, 50)), rng.choice([-1.0, 1.0], (k, 50))
    vectorised = e.numeric("numpy")(*w, *x, *y, 0.07)
    scalar = e.numeric("math")
    for p in range(50):
        got = scalar(*w[:, p], *x[:, p], *y[:, p], 0.07)
        assert all(g == v[p] for g, v in zip(got, vectorised))
