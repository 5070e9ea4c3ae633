"""ResNet branch schedules alpha(t) given as text or SymPy, turned into numeric functions of t.

A depth-L ResNet with branch scales alpha_{l,L} = alpha(l/L) / sqrt(L) has the kernel ODE
dq/dt = alpha(t)^2 F_phi(q) (SPEC §2; Hayou & Yang 2023, arXiv 2302.00453). The solvers take
alpha as a number or a function of one float; a schedule written as an expression in ``t``
(``"sqrt(2*t)"``, or a SymPy expression) is parsed here, safely, and generated with
:func:`covsde.derive.codegen.to_callable`, so that SymPy stays in derive/.
"""
from __future__ import annotations

import sympy as sp

from .activation_parser import parse_activation_string
from .codegen import to_callable
from .errors import ActivationError, InputError

#: The time variable of a schedule.
T = sp.Symbol("t", real=True)


def schedule_function(alpha):
    """alpha(t) as a function of one float when it is given as text or as a SymPy expression in t.

    Parameters
    ----------
    alpha : str, sympy.Expr, or anything else
        ``"sqrt(2*t)"`` (parsed safely, :func:`covsde.derive.parse_activation_string`) or a SymPy
        expression whose only free symbol is named ``t``. Anything else (None, a number, a callable)
        is returned unchanged, for the solver to check.

    Returns
    -------
    callable or the input
        ``time -> float(alpha(time))``, evaluated by the numpy backend of the codegen boundary.
    """
    if isinstance(alpha, str):
        try:
            expr = parse_activation_string(alpha)
        except ActivationError as exc:
            raise InputError(f"cannot parse the schedule alpha = {alpha!r} ({exc}); give an expression "
                             "in t such as 'sqrt(2*t)'") from None
    elif isinstance(alpha, sp.Basic):
        expr = alpha
    else:
        return alpha
    if not isinstance(expr, sp.Expr):
        raise InputError(f"the schedule alpha must be an expression in t, got {expr}")
    names = sorted({s.name for s in expr.free_symbols} - {"t"})
    if names:
        raise InputError(f"the schedule alpha may only use the variable t, got {names}")
    expr = expr.subs({s: T for s in expr.free_symbols})
    function = to_callable(expr, (T,), "numpy")

    def schedule(time):
        return float(function(time))
    schedule.__doc__ = f"alpha(t) = {sp.sstr(expr)}"
    return schedule
