"""Numeric functions generated from the symbolic results (lambdify), vectorised over (..., m, m).

Nothing here retypes a formula: every function is ``sympy.lambdify`` of an expression owned by
:class:`covsde.derive.covariance_sde.CovarianceSDE`, wrapped so that it broadcasts over leading axes
and returns float64 of the right shape even when the expression is a constant.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

MODULES = {"numpy": ["scipy", "numpy"], "mpmath": "mpmath"}


def broadcast_friendly(expr: sp.Expr, small=()) -> sp.Expr:
    """The same expression with every sum ordered so that numbers and terms in the ``small``
    symbols (arrays that broadcast, e.g. the diagonal (..., m, 1)) are added before full-size ones.

    ``R*(-A - B + 2)`` becomes ``R*((2 - A) - B)``: two full-size passes instead of three.
    The value is unchanged; only numpy's evaluation order is.
    """
    if expr.is_Atom:
        return expr
    args = [broadcast_friendly(a, small) for a in expr.args]
    if expr.is_Add:
        def rank(term):
            free = term.free_symbols
            if not free:
                return 0
            for i, group in enumerate(small):
                if free <= set(group):
                    return i + 1
            return len(small) + 1
        args.sort(key=rank)
        out = args[0]
        for term in args[1:]:
            out = sp.Add(out, term, evaluate=False)
        return out
    return expr.func(*args, evaluate=False) if (expr.is_Mul or expr.is_Pow) else expr.func(*args)


def scalar_function(expr: sp.Expr, args, backend: str = "numpy", small=()):
    """``lambdify(args, expr)`` with common-subexpression elimination; numpy results broadcast.

    ``small``: groups of symbols bound to broadcasting (small) arrays, added first in sums.
    """
    if backend not in MODULES:
        raise ValueError(f"backend must be one of {sorted(MODULES)}, got {backend!r}")
    if backend == "numpy" and small:
        from sympy.printing.numpy import SciPyPrinter
        printer = SciPyPrinter({"order": "none", "fully_qualified_modules": False})
        f = sp.lambdify(args, broadcast_friendly(expr, small), modules=MODULES[backend],
                        printer=printer, cse=True)
    else:
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
