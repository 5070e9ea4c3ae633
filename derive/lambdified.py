"""Numeric functions generated from the symbolic results (lambdify), vectorised over (..., m, m).

Nothing here retypes a formula: every function is ``sympy.lambdify`` of an expression owned by
:class:`derive.covariance_sde.CovarianceSDE`, wrapped so that it broadcasts over leading axes
and returns float64 of the right shape even when the expression is a constant.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

MODULES = {"numpy": ["scipy", "numpy"], "mpmath": "mpmath"}


def scalar_function(expr: sp.Expr, args, backend: str = "numpy"):
    """``lambdify(args, expr)`` with common-subexpression elimination; numpy results broadcast."""
    if backend not in MODULES:
        raise ValueError(f"backend must be one of {sorted(MODULES)}, got {backend!r}")
    f = sp.lambdify(args, expr, modules=MODULES[backend], cse=True)
    if backend == "mpmath":
        return f

    def numeric(*values):
        values = [np.asarray(x, dtype=np.float64) for x in values]
        out = np.asarray(f(*values), dtype=np.float64)
        shape = np.broadcast_shapes(*(x.shape for x in values))
        return out if out.shape == shape else np.broadcast_to(out, shape).copy()
    numeric.__doc__ = f"Generated from {sp.sstr(expr)}"
    return numeric


def pairwise_matrix_function(pairwise, A, B, R):
    """V (..., m, m) -> b(V^aa, V^bb, V^ab) applied to every entry (..., m, m)."""
    f = scalar_function(pairwise, (A, B, R))

    def drift(V):
        V = np.asarray(V, dtype=np.float64)
        d = np.diagonal(V, axis1=-2, axis2=-1)
        return f(d[..., :, None], d[..., None, :], V)
    drift.__doc__ = f"b^ab = {sp.sstr(pairwise)} with A = V^aa, B = V^bb, R = V^ab."
    return drift


def correlation_form_matrix_function(nu_times_g, rho, G):
    """V -> nu(rho^ab) sqrt(V^aa V^bb), for drifts written in the correlation rho and the scale G.

    rho is clipped to [-1, 1] (rounding can push it out) and entries with V^aa V^bb = 0 give 0.
    """
    f = scalar_function(nu_times_g, (rho, G))

    def drift(V):
        V = np.asarray(V, dtype=np.float64)
        d = np.diagonal(V, axis1=-2, axis2=-1)
        g = np.sqrt(np.clip(d[..., :, None] * d[..., None, :], 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(g > 0, V / np.where(g > 0, g, 1.0), 0.0)
        return f(np.clip(r, -1.0, 1.0), g)
    drift.__doc__ = f"b^ab = {sp.sstr(nu_times_g)} with rho = V^ab/sqrt(V^aa V^bb), G = sqrt(V^aa V^bb)."
    return drift


def diffusion_tensor_function(entry, vag, vbd, vad, vbg):
    """V (..., m, m) -> Sigma (..., m, m, m, m), Sigma^{ab,cd} = entry(V^ac, V^bd, V^ad, V^bc)."""
    f = scalar_function(entry, (vag, vbd, vad, vbg))

    def diffusion(V):
        V = np.asarray(V, dtype=np.float64)
        return f(V[..., :, None, :, None], V[..., None, :, None, :],
                 V[..., :, None, None, :], V[..., None, :, :, None])
    diffusion.__doc__ = f"Sigma^(ab,cd) = {sp.sstr(entry)}"
    return diffusion
