"""A wall-clock budget for symbolic work that has no useful bound of its own.

SymPy's ``series``, ``simplify`` and ``solve`` can run for minutes on a 100-character expression.
``symbolic_budget(what)`` stops such a call after ``seconds`` and raises :class:`ActivationError`
naming the bound that was hit, instead of hanging.  The budget is ``COVSDE_SYMPY_SECONDS``
(environment, default 20 s).  It uses ``SIGALRM``, so it applies in the main thread of a POSIX
process, whatever the process inherited (a blocked SIGALRM is unblocked for the budgeted work, an
interval timer already running is kept and re-armed; see :func:`symbolic_budget`); elsewhere the
work runs without a budget (it is still bounded by the expression-size
limits of the parser and the degree limits of the derivation).
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
import time

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
    """Run the block under a wall-clock budget; past it raise ActivationError saying ``what`` ran out.

    A SIGALRM blocked in the signal mask (a harness can start Python with it blocked: masks survive
    fork and exec) is unblocked for the block and blocked again after.  An interval timer that is
    already running (a harness that set ``alarm`` before exec-ing Python, an enclosing budget) is
    honoured, not skipped: the budget's timer runs to the earlier of the two
    deadlines; if the outer one comes first its handler and timer are put back and it fires as it
    would have, and otherwise the outer timer is re-armed afterwards with the time it had left.
    """
    seconds = budget_seconds() if seconds is None else float(seconds)
    if not (hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()):
        yield
        return
    outer_left, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    previous = signal.getsignal(signal.SIGALRM)
    start = time.monotonic()
    armed = True

    def _restore_outer():
        nonlocal armed
        if not armed:
            return
        armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        if outer_left > 0:
            left = outer_left - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), outer_interval)

    def _alarm(signum, frame):
        if outer_left > 0 and outer_left <= seconds and time.monotonic() - start < seconds:
            _restore_outer()  # the outer deadline came first: let it fire under its own handler
            return
        raise _OverBudget()

    # a SIGALRM blocked in the signal mask (inherited across fork and exec) would stay pending for ever
    blocked = hasattr(signal, "pthread_sigmask") and signal.SIGALRM in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    signal.signal(signal.SIGALRM, _alarm)
    if blocked:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGALRM])
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer_left) if outer_left > 0 else seconds)
    try:
        yield
    except _OverBudget:
        raise ActivationError(
            f"{what} took longer than the symbolic work budget of {seconds:g} s; simplify the "
            "expression, or raise the budget with the environment variable COVSDE_SYMPY_SECONDS") from None
    finally:
        _restore_outer()
        if blocked:
            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
