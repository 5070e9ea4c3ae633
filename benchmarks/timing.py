"""Wall-clock timing for the benchmarks: the best of several repeats, and how noisy they were.

On a small machine other processes steal time in bursts, so the minimum over repeats is the
best estimate of what the code costs; the spread (max - min) / min says how noisy the run was
and is printed next to every ratio.
"""
from __future__ import annotations

import gc
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Seconds per call of one timed function.

    Attributes
    ----------
    best : float
        Minimum over the repeats (the reported time).
    median : float
    spread : float
        (max - min) / min over the repeats: 0.05 means the repeats differed by 5 %.
    repeats : int
    """

    best: float
    median: float
    spread: float
    repeats: int

    def __str__(self) -> str:
        return f"{format_seconds(self.best)} (±{self.spread:.0%} over {self.repeats})"


def time_call(fn, *, repeat: int = 3, warmup: int = 1) -> Timing:
    """Time ``fn()`` ``repeat`` times after ``warmup`` untimed calls; garbage collection paused."""
    for _ in range(warmup):
        fn()
    samples = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    finally:
        if enabled:
            gc.enable()
    samples.sort()
    best = samples[0]
    return Timing(best=best, median=samples[len(samples) // 2],
                  spread=(samples[-1] - best) / best if best > 0 else 0.0, repeats=repeat)


def format_seconds(seconds: float) -> str:
    """3.2 ns, 41 µs, 12.5 ms, 2.31 s."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if abs(seconds) >= scale or unit == "ns":
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"
