"""Numeric functions generated from the symbolic results (lambdify), vectorised over (..., m, m).

Nothing here retypes a formula: every function is ``sympy.lambdify`` of an expression owned by
:class:`covsde.derive.covariance_sde.CovarianceSDE`, wrapped so that it broadcasts over leading axes
and returns float64 of the right shape even when the expression is a constant.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .codegen import broadcast_friendly, to_callable  # noqa: F401  (broadcast_friendly re-exported)


def scalar_function(expr: sp.Expr, args, backend: str = "numpy", small=()):
    """``to_callable(expr, args, backend)``: the code-generation boundary of :mod:`covsde.derive.codegen`."""
    return to_callable(expr, args, backend, small=small)


def pairwise_matrix_function(pairwise, A, B, R):
    """V (..., m, m) -> b(V^aa, V^bb, V^ab) applied to every entry (..., m, m)."""
    f = scalar_function(pairwise, (A, B, R), small=((A,), (B,)))

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
