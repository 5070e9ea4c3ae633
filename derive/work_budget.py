"""A wall-clock budget for symbolic work that has no useful bound of its own.

SymPy's ``series``, ``simplify`` and ``solve`` can run for minutes on a 100-character expression.
``symbolic_budget(what)`` stops such a call after ``seconds`` and raises :class:`ActivationError`
naming the bound that was hit, instead of hanging.  The budget is ``COVSDE_SYMPY_SECONDS``
(environment, default 20 s).  It uses ``SIGALRM``, so it applies in the main thread of a POSIX
process; elsewhere the work runs without a budget (it is still bounded by the expression-size
limits of the parser and the degree limits of the derivation).
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading

from .errors import ActivationError

DEFAULT_SECONDS = 20.0


def budget_seconds() -> float:
    """The budget in seconds: ``COVSDE_SYMPY_SECONDS`` or 20."""
    text = os.environ.get("COVSDE_SYMPY_SECONDS", "")
    try:
        value = float(text) if text else DEFAULT_SECONDS
    except ValueError:
        value = DEFAULT_SECONDS
    return value if value > 0 else DEFAULT_SECONDS


class _OverBudget(BaseException):
    """Raised inside the budgeted block by the alarm (BaseException: SymPy's `except Exception`
    clauses must not swallow it)."""


@contextlib.contextmanager
def symbolic_budget(what: str, seconds: float | None = None):
    """Run the block under a wall-clock budget; past it raise ActivationError saying ``what`` ran out."""
    seconds = budget_seconds() if seconds is None else float(seconds)
    usable = (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    def _alarm(signum, frame):
        raise _OverBudget()

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _OverBudget:
        raise ActivationError(
            f"{what} took longer than the symbolic work budget of {seconds:g} s; simplify the "
            "expression, or raise the budget with the environment variable COVSDE_SYMPY_SECONDS") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
