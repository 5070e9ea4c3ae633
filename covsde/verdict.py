"""One verdict type: does a measured number meet its criterion?

The paper checks (a claim: measured vs the value a paper states, within a tolerance) and the
benchmarks (a ratio against its target) both decide pass or fail with a :class:`Criterion`, so the
rule is written once:

    "close"     |measured - reference| <= tolerance
    "at_most"   measured <= reference + tolerance
    "at_least"  measured >= reference - tolerance

A measurement that is not finite (nan, ±inf) meets no criterion: a run that produced no number
has not shown anything. How a report prints a criterion is the report's business
(``covsde.paper_checks.report``, ``covsde.benchmarks.report``); the verdict is this module's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

#: The kinds of criterion, with the sign a table prints before the reference value.
KINDS = {"close": "", "at_most": "<=", "at_least": ">="}


@dataclass(frozen=True)
class Criterion:
    """A pass/fail rule for one measured number.

    Attributes
    ----------
    kind : {"close", "at_most", "at_least"}
        "close": ``|measured - reference| <= tolerance``; "at_most": ``measured <= reference +
        tolerance``; "at_least": ``measured >= reference - tolerance``.
    reference : float
        The value a paper states, or the bound a target sets.
    tolerance : float
        Slack allowed by the experiment (a standard error times z, a quadrature error bound); 0 for
        a hard bound.
    """

    kind: str
    reference: float
    tolerance: float = 0.0

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"criterion kind must be one of {', '.join(KINDS)}, got {self.kind!r}")

    def met(self, measured: float) -> bool:
        """True when ``measured`` is finite and satisfies the criterion."""
        if not math.isfinite(measured):
            return False
        if self.kind == "close":
            return abs(measured - self.reference) <= self.tolerance
        if self.kind == "at_most":
            return measured <= self.reference + self.tolerance
        return measured >= self.reference - self.tolerance

    def __str__(self) -> str:
        """``≤ 1.5``, ``≥ 5`` or ``2 ± 0.1`` (with the tolerance when it is not zero)."""
        if self.kind == "close":
            return f"{self.reference:g} ± {self.tolerance:g}"
        sign = "≤" if self.kind == "at_most" else "≥"
        slack = f" (± {self.tolerance:g})" if self.tolerance else ""
        return f"{sign} {self.reference:g}{slack}"


def close_to(reference: float, tolerance: float) -> Criterion:
    """``|measured - reference| <= tolerance``."""
    return Criterion("close", float(reference), float(tolerance))


def at_most(bound: float, tolerance: float = 0.0) -> Criterion:
    """``measured <= bound + tolerance``."""
    return Criterion("at_most", float(bound), float(tolerance))


def at_least(bound: float, tolerance: float = 0.0) -> Criterion:
    """``measured >= bound - tolerance``."""
    return Criterion("at_least", float(bound), float(tolerance))
