"""What a benchmark returns, and the combined markdown table for the README.

Every benchmark measures a ratio against a baseline timed IN THE SAME RUN (never a number
remembered from another machine) and returns a :class:`BenchmarkReport` of :class:`Ratio` rows.
A ratio's target is a :class:`covsde.verdict.Criterion` (``at_least(5)``, ``at_most(1.1)``), the
same verdict type the paper checks use.
"""
from __future__ import annotations

import datetime
import os
import platform
from dataclasses import dataclass, field

import numpy as np

from covsde.verdict import Criterion


@dataclass(frozen=True)
class Ratio:
    """One measured ratio (or exponent, or time) and its target.

    Attributes
    ----------
    what : str
        What is compared, e.g. "chain vs weights, n = d = 128 (per network)".
    value : float
        The ratio (baseline time / our time for speed-ups).
    detail : str
        The two measured times behind it, with their noise.
    target : Criterion or None
        e.g. ``covsde.verdict.at_least(5)``; None for a number shown without a target.
    unit : str
        How to print the value: "×" for ratios, "" for exponents, "s" for seconds.
    """

    what: str
    value: float
    detail: str
    target: Criterion | None = None
    unit: str = "×"

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self.value)

    @property
    def verdict(self) -> str:
        return {None: "", True: "met", False: "NOT met"}[self.met]

    @property
    def shown(self) -> str:
        if not np.isfinite(self.value):
            return "n/a"
        digits = f"{self.value:.3g}" if abs(self.value) < 1000 else f"{self.value:,.0f}"
        return f"{digits}{' ' + self.unit if self.unit == 's' else self.unit}"


@dataclass
class BenchmarkReport:
    """The outcome of one benchmark script.

    Attributes
    ----------
    number : int
        Its row number in the combined table (``covsde bench`` runs the benchmarks in this order).
    name : str
        The name ``covsde bench NAME`` takes.
    title : str
    ratios : list of Ratio
        The headline numbers (they go into the combined table).
    skipped : str or None
        Why the benchmark (or part of it) did not run, e.g. a library that is not installed.
    seconds : float
        How long the benchmark took.
    """

    number: int
    name: str
    title: str
    ratios: list = field(default_factory=list)
    skipped: str | None = None
    seconds: float = 0.0


def machine_description() -> dict:
    """Date, core count (``nproc``), CPU model, Python and NumPy versions."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    except OSError:
        load = "n/a"
    return {"date": datetime.date.today().isoformat(), "cores": cores, "cpu": cpu,
            "python": platform.python_version(), "numpy": np.__version__, "load": load}


def markdown_table(reports, machine: dict, quick: bool) -> str:
    """The combined table: one row per ratio, with the machine in the caption."""
    lines = [f"Benchmarks ({'quick' if quick else 'full'} run) on {machine['date']}: "
             f"{machine['cores']} cores (`nproc`), {machine['cpu']}, Python {machine['python']}, "
             f"NumPy {machine['numpy']}, load average at the start {machine['load']}. "
             "Every ratio is against a baseline timed in the same run; times are the best of "
             "several repeats, ± their spread.",
             "",
             "| # | benchmark | measured | value | target | met | times (best, ± spread) |",
             "|---|---|---|---|---|---|---|"]
    for report in reports:
        if not report.ratios:
            lines.append(f"| {report.number} | {report.title} | skipped: {report.skipped} | | | | |")
            continue
        for ratio in report.ratios:
            lines.append(f"| {report.number} | {report.title} | {ratio.what} | {ratio.shown} | "
                         f"{ratio.target or ''} | {ratio.verdict} | {ratio.detail} |")
        if report.skipped:
            lines.append(f"| {report.number} | {report.title} | skipped: {report.skipped} | | | | |")
    return "\n".join(lines)


def print_table(header, rows) -> None:
    """A plain aligned text table on stdout (each benchmark's own detail)."""
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(header)]
    print("  " + "  ".join(str(h).ljust(w) for h, w in zip(header, widths)))
    for row in rows:
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)))
