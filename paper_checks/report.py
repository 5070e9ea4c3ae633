"""Claim-versus-measurement tables for the paper checks.

Every check returns a :class:`CheckReport`: one :class:`Claim` per row, each with the value the
paper (or SPEC) states, the value measured here, and the tolerance the verdict uses. Tolerances
come from the experiment itself (standard errors from the sample size, KS critical values at a
stated level, quadrature error estimates), never tuned to make a row pass.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from covsde.verdict import KINDS, Criterion

#: Default level of the KS tests in the checks.
KS_ALPHA = 1e-3
#: Standard deviation of the Kolmogorov distribution, sqrt(pi^2/12 - (pi/2) ln(2)^2): the spread
#: of sqrt(N P / (N + P)) KS between two samples of one law.
KOLMOGOROV_SD = float(np.sqrt(np.pi ** 2 / 12 - np.pi / 2 * np.log(2) ** 2))


@dataclass
class Claim:
    """One row of a check: the value a paper states, the value measured here, and the verdict.

    The verdict is ``self.criterion.met(measured)`` (:class:`covsde.verdict.Criterion`):

    kind : "close" (|measured - expected| <= tolerance), "at_most" (measured <= expected +
           tolerance), "at_least" (measured >= expected - tolerance).
    """

    name: str
    expected: float
    measured: float
    tolerance: float = 0.0
    kind: str = "close"
    note: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:   # refused when the claim is made, not when the table prints
            raise ValueError(f"claim kind must be one of {', '.join(KINDS)}, got {self.kind!r}")

    @property
    def criterion(self) -> Criterion:
        return Criterion(self.kind, self.expected, self.tolerance)

    @property
    def passed(self) -> bool:
        return self.criterion.met(self.measured)

    def expected_text(self) -> str:
        sign = KINDS[self.kind]
        return f"{sign + ' ' if sign else ''}{self.expected:.6g}"


@dataclass
class CheckReport:
    """The result of one paper check: its claims, figures and settings."""

    name: str
    title: str
    claims: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.claims)

    def add(self, *args, **kwargs) -> Claim:
        claim = Claim(*args, **kwargs)
        self.claims.append(claim)
        return claim

    def __str__(self) -> str:
        w = max([len(c.name) for c in self.claims] + [5])
        header = f"{'claim':<{w}}  {'expected':>12}  {'measured':>12}  {'tolerance':>10}  verdict"
        lines = [f"== {self.name}: {self.title}", header, "-" * len(header)]
        for c in self.claims:
            lines.append(f"{c.name:<{w}}  {c.expected_text():>12}  {c.measured:>12.6g}  "
                         f"{c.tolerance:>10.3g}  {'PASS' if c.passed else 'FAIL'}"
                         + (f"  ({c.note})" if c.note else ""))
        if self.settings:
            lines.append("settings: " + ", ".join(f"{k}={v}" for k, v in self.settings.items()))
        for fig in self.figures:
            lines.append(f"figure: {fig}")
        lines.append(f"{'PASSED' if self.passed else 'FAILED'} in {self.seconds:.1f} s")
        return "\n".join(lines)


def pyplot():
    """matplotlib.pyplot with the Agg backend, or None when the ``plot`` extra is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def save_figure(fig, figure_dir, name) -> str | None:
    """Save a matplotlib figure as PNG under figure_dir; return its path."""
    if fig is None or figure_dir is None:
        return None
    path = Path(figure_dir)
    path.mkdir(parents=True, exist_ok=True)
    out = path / f"{name}.png"
    fig.savefig(out, dpi=120, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return str(out)


def ks_critical_value(n_a: int, n_b: int | None = None, alpha: float = KS_ALPHA) -> float:
    """KS critical value at level alpha: one-sample (exact, ``scipy.stats.kstwo``) when n_b is None,
    else two-sample (asymptotic): sqrt(-ln(alpha/2)/2) sqrt((n_a + n_b)/(n_a n_b))."""
    if n_b is None:
        from scipy import stats
        return float(stats.kstwo.isf(alpha, n_a))
    return float(np.sqrt(-np.log(alpha / 2) / 2) * np.sqrt((n_a + n_b) / (n_a * n_b)))


def ks_noise_sd(n_a: int, n_b: int) -> float:
    """Standard deviation of the two-sample KS distance between samples of one law (asymptotic)."""
    return KOLMOGOROV_SD * np.sqrt(1.0 / n_a + 1.0 / n_b)
