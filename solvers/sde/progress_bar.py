"""A progress bar on stderr for long runs: tqdm when importable, else a carriage-return line."""
from __future__ import annotations

import sys
import time


class ProgressBar:
    """Counts ``total`` units of work; shown only once a run passes ~2 s.

    ``enabled``: True, False, or None (shown when stderr is a tty).
    """

    def __init__(self, total: int, enabled, label: str = "simulate_sde"):
        if enabled is None:
            enabled = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
        self.enabled, self.total, self.done, self.label = bool(enabled), total, 0, label
        self.t0 = time.perf_counter()
        self.bar = None

    def update(self, n: int):
        if not self.enabled:
            return
        self.done += n
        elapsed = time.perf_counter() - self.t0
        if elapsed < 2.0:
            return
        if self.bar is None:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=self.total, initial=self.done, unit="path-step",
                                unit_scale=True, file=sys.stderr)
                return
            except ImportError:
                self.bar = False
        if self.bar:
            self.bar.update(n)
        else:
            frac = min(self.done / self.total, 1.0)
            eta = elapsed * (1 - frac) / max(frac, 1e-12)
            sys.stderr.write(f"\r{self.label}: {frac:6.1%}  {elapsed:6.1f} s elapsed, ~{eta:.0f} s left")
            sys.stderr.flush()

    def close(self):
        if not self.enabled:
            return
        if self.bar:
            self.bar.close()
        elif self.bar is False:
            sys.stderr.write("\n")
            sys.stderr.flush()
