"""The one code-generation boundary: a SymPy expression in, a plain callable for a named backend out.

SymPy stops here.  ``covsde.solvers`` never imports SymPy: it receives callables made by
:func:`to_callable` (through the methods of the derived objects, e.g.
``CovarianceSDE.pairwise_drift_function(backend)``), never expressions.

Backends
--------
``"numpy"``
    vectorised over arrays that broadcast together; returns float64 of the broadcast shape even
    when the expression is a constant (scipy special functions available).
``"math"``
    a pure-Python scalar function of floats built on the ``math`` module, evaluated in the same
    order as the numpy backend (so the two round identically); ready for ``numba.njit``.
``"mpmath"``
    a scalar function for arbitrary precision (``mpmath.mpf`` in, ``mpmath.mpf`` out).

A tuple or list of expressions gives a function returning a tuple of values (one per expression),
sharing common subexpressions.
"""
from __future__ import annotations

import numpy as np
import sympy as sp

#: The backends :func:`to_callable` generates code for.
BACKENDS = ("numpy", "math", "mpmath")

_MODULES = {"numpy": ["scipy", "numpy"], "math": "math", "mpmath": "mpmath"}


def broadcast_friendly(expr: sp.Expr, small=()) -> sp.Expr:
    """The same expression with every sum ordered so that numbers and terms in the ``small``
    symbols (arrays that broadcast, e.g. the diagonal (..., m, 1)) are added before full-size ones.

    ``R*(-A - B + 2)`` becomes ``R*((2 - A) - B)``: two full-size passes instead of three.
    The value is unchanged; only the evaluation order is.
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


def within_real_domain(expr: sp.Expr) -> sp.Expr:
    """The same expression with the arguments of arccos clipped to [-1, 1] and those of square roots
    of sums clipped at 0, for numeric code: at R = ±sqrt(AB) (equal inputs, the diagonal) rounding
    may push R/sqrt(AB) just past 1 or AB - R^2 just below 0, where the exact value is on the edge.
    ``Min``/``Max`` print as numpy.minimum/maximum and as the builtins min/max (numba-ready)."""
    def clip_acos(e):
        return sp.acos(sp.Min(1, sp.Max(-1, e.args[0])))

    def clip_sqrt(e):
        return sp.Pow(sp.Max(0, e.base), e.exp)
    out = expr.replace(lambda e: isinstance(e, sp.acos), clip_acos)
    return out.replace(lambda e: e.is_Pow and e.base.is_Add and e.exp.is_Rational and e.exp.q == 2
                       and e.base.is_nonnegative is not True, clip_sqrt)


def _printer(backend: str):
    """Printers that keep the (broadcast-friendly) order of sums as given."""
    settings = {"order": "none", "fully_qualified_modules": False}
    if backend == "numpy":
        from sympy.printing.numpy import SciPyPrinter
        return SciPyPrinter(settings)
    if backend == "math":
        from sympy.printing.pycode import PythonCodePrinter
        return PythonCodePrinter(settings)
    return None


def to_callable(expr, args, backend: str = "numpy", *, small=()):
    """Generate a callable ``f(*args)`` evaluating ``expr`` (or a tuple of expressions).

    Parameters
    ----------
    expr : sympy.Expr or sequence of sympy.Expr
    args : sequence of sympy.Symbol (or of sequences of symbols, unpacked from sequences)
    backend : {"numpy", "math", "mpmath"}
    small : sequence of groups of symbols bound to small broadcasting arrays (numpy), added first
        in sums; the math backend uses the same order so that both backends round identically.

    Returns
    -------
    callable
        ``sympy.lambdify`` of the expression with common subexpressions eliminated; for the numpy
        backend a single expression is wrapped to return float64 of the broadcast shape.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    several = isinstance(expr, (tuple, list))
    exprs = [sp.sympify(e) for e in expr] if several else [sp.sympify(expr)]
    if backend in ("numpy", "math") and small:
        exprs = [broadcast_friendly(e, small) for e in exprs]
    body = tuple(exprs) if several else exprs[0]
    printer = _printer(backend) if small else None        # the same printer for numpy and math
    f = sp.lambdify(tuple(args), body, modules=_MODULES[backend], printer=printer, cse=True)
    if backend != "numpy" or several:
        return f

    def numeric(*values):
        values = [np.asarray(x, dtype=np.float64) for x in values]
        out = np.asarray(f(*values), dtype=np.float64)
        shape = np.broadcast_shapes(*(x.shape for x in values))
        return out if out.shape == shape else np.broadcast_to(out, shape).copy()
    numeric.__doc__ = f"Generated from {sp.sstr(body)}"
    return numeric
