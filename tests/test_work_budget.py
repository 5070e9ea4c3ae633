"""The symbolic work budget holds whatever else owns SIGALRM.

A CI harness (or ``timeout``-style wrapper) may set an interval timer and exec Python; the timer
survives exec. The budget used to step aside when it found ITIMER_REAL running, so the derivation of
an expression SymPy cannot finish ran without a bound until the harness killed the whole run. A
harness may also start Python with SIGALRM blocked (signal masks survive fork and exec), and then
the alarm stays pending for ever. These tests put such a state in place and check that (a) the
budget still stops the work at its own deadline, (b) an outer timer is re-armed with the time it had
left, (c) an outer deadline that comes first still fires under its own handler, and (d) a blocked
SIGALRM is unblocked for the work and blocked again after.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from covsde.derive import ActivationError, derive_sde
from covsde.derive.work_budget import symbolic_budget

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX interval timers")

#: x/0 in disguise: SymPy's series cannot finish it, so only the budget ends the derivation
NEVER_ENDS = "x/(sin(x)**2 + cos(x)**2 - 1)"


@pytest.fixture
def outer_timer():
    """An ITIMER_REAL of 600 s with a recording handler, as a harness would leave it; removed after."""
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(time.monotonic()))
    signal.setitimer(signal.ITIMER_REAL, 600.0)
    yield fired
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def test_the_budget_stops_work_while_an_outer_timer_runs_and_re_arms_it(outer_timer, monkeypatch):
    monkeypatch.setenv("COVSDE_SYMPY_SECONDS", "0.5")
    with pytest.raises(ActivationError, match="budget of 0.5 s"):
        derive_sde(NEVER_ENDS)
    # timer states, not speeds: inside a budget the armed timer is the budget's own deadline (not the
    # outer 600 s, not shorter); after it the outer timer is back with about what it had left
    with symbolic_budget("a check", seconds=5.0):
        armed, _ = signal.getitimer(signal.ITIMER_REAL)
    assert 4.0 < armed <= 5.0
    left, _ = signal.getitimer(signal.ITIMER_REAL)
    assert 590.0 < left <= 600.0
    assert outer_timer == []


def test_an_outer_deadline_before_the_budget_fires_under_its_own_handler(outer_timer):
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    with symbolic_budget("a loop", seconds=5.0):       # no ActivationError: the outer alarm is not the budget's
        armed, _ = signal.getitimer(signal.ITIMER_REAL)
        while not outer_timer:
            time.sleep(0.01)
    assert armed <= 0.2                                   # armed for the earlier (outer) deadline
    assert len(outer_timer) == 1                          # delivered once, to the outer handler
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0  # one-shot outer timer: nothing re-armed


def test_without_an_outer_timer_nothing_is_left_armed(monkeypatch):
    monkeypatch.setenv("COVSDE_SYMPY_SECONDS", "0.3")
    before = signal.getsignal(signal.SIGALRM)
    with pytest.raises(ActivationError, match="budget of 0.3 s"):
        derive_sde(NEVER_ENDS)
    assert signal.getitimer(signal.ITIMER_REAL)[0] == 0
    assert signal.getsignal(signal.SIGALRM) is before


#: what a harness may do before it execs Python (all survive exec): arm a timer, block or ignore SIGALRM
INHERITED = {
    "an interval timer": "signal.setitimer(signal.ITIMER_REAL, 3600.0)",
    "SIGALRM blocked": "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})",
    "SIGALRM ignored": "signal.signal(signal.SIGALRM, signal.SIG_IGN)",
}


@pytest.mark.parametrize("inherited", list(INHERITED))
def test_what_a_harness_leaves_across_exec_does_not_disable_the_budget(inherited):
    """The CI situation end to end: the harness's state, exec a fresh Python, derive for ever."""
    child = textwrap.dedent(f"""
        from covsde.derive import ActivationError, derive_sde
        try:
            derive_sde({NEVER_ENDS!r})
        except ActivationError as err:
            assert "budget of 1 s" in str(err), err
            print("stopped by the budget")
    """)
    launcher = "import os, signal, sys\n" + INHERITED[inherited] + \
        "\nos.execv(sys.executable, [sys.executable, '-c', sys.argv[1]])\n"
    env = dict(os.environ, COVSDE_SYMPY_SECONDS="1")
    done = subprocess.run([sys.executable, "-c", launcher, child], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stopped by the budget")
