"""Warnings raised during a command, said in one sentence instead of NumPy's and SciPy's raw text.

A run of ``covsde simulate`` whose paths explode, or a kernel ODE near a singular schedule, makes
NumPy and SciPy warn (``RuntimeWarning: overflow encountered in multiply``, ``IntegrationWarning``),
each with a file name and a line of library source. The command line records them instead and, when
the command finishes, prints one line on stderr::

    covsde simulate: note: numerical warning during the run: overflow encountered in multiply (and 1 other kind)

When the command fails the error line is the only line: the warnings that led to it are dropped.
Warnings meant for developers (deprecations) are dropped always.
"""
from __future__ import annotations

import warnings

#: Categories that concern the code, not the numbers of this run: never shown to a user.
DEVELOPER_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning, ImportWarning,
                      ResourceWarning, SyntaxWarning)
#: The longest part of a warning's text the note quotes.
QUOTE_LENGTH = 120


class RecordedWarnings:
    """A context in which warnings are recorded (each distinct one once), not printed.

    Attributes
    ----------
    kinds : dict
        The first line of each distinct warning's text -> how many times it was recorded.
    """

    def __init__(self):
        self.kinds = {}
        self._catcher = warnings.catch_warnings()

    def __enter__(self) -> "RecordedWarnings":
        self._catcher.__enter__()
        warnings.simplefilter("default")     # once per location, so a loop of 10^6 steps records one
        warnings.showwarning = self._record
        return self

    def __exit__(self, *exc_info):
        return self._catcher.__exit__(*exc_info)

    def _record(self, message, category, filename, lineno, file=None, line=None):
        if issubclass(category, DEVELOPER_WARNINGS):
            return
        text = " ".join(str(message).split()) or category.__name__
        if len(text) > QUOTE_LENGTH:
            text = text[:QUOTE_LENGTH].rsplit(" ", 1)[0] + " ..."
        self.kinds[text] = self.kinds.get(text, 0) + 1

    def note(self) -> str | None:
        """One sentence naming the first warning and how many other kinds there were; None if none."""
        if not self.kinds:
            return None
        first, *others = self.kinds
        more = f" (and {len(others)} other kind{'s' if len(others) > 1 else ''})" if others else ""
        return f"numerical warning during the run: {first}{more}"
