"""Benchmark 8: how long the symbolic derivation takes, per built-in activation and cold.

``derive_sde(name)`` is timed for every built-in activation with every cache emptied first
(SymPy's cache and derive's own ``lru_cache``s), so each time is a first derivation; the median
over repeats is reported (target < 0.5 s). Kinked activations (elu, celu, softsign) go through the
one-sided engine; those without a shaped limit are timed up to their explained refusal. The full run times each activation in a fresh
interpreter instead. ``covsde derive tanh`` is timed as a whole new process, imports included
(target < 2 s). Here the "ratio" is the time itself in seconds.
"""
from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time

from covsde.verdict import at_most

from .report import BenchmarkReport, Ratio, print_table

NUMBER = 8
TITLE = "Derivation time"

#: Run in a child interpreter: time derive_sde(name) with empty caches, print JSON seconds.
_CHILD = """
import json, sys, time, functools, gc
import sympy
import covsde.derive
from covsde.derive import derive_sde

def clear_caches():
    sympy.core.cache.clear_cache()
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("covsde.derive"):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()

names, repeat = json.loads(sys.argv[1]), int(sys.argv[2])
out = {}
for name in names:
    samples = []
    for _ in range(repeat):
        clear_caches()
        gc.collect()
        start = time.perf_counter()
        try:
            derive_sde(name)
        except covsde.derive.ActivationError:      # no shaped limit (a first-order kink): the refusal is timed
            pass
        samples.append(time.perf_counter() - start)
    out[name] = samples
print(json.dumps(out))
"""


def builtin_activations():
    """Every built-in name (the ReLU-like family once); the ones without a shaped limit (selu,
    leaky_relu, relu6) time the derivation up to its explained refusal."""
    from covsde.derive.activation_library import BUILTIN_ACTIVATIONS, RELU_LIKE_NAMES
    return [name for name in BUILTIN_ACTIVATIONS if name not in RELU_LIKE_NAMES[1:]]


def _child_times(names, repeat):
    result = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(names), str(repeat)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _cold_command():
    script = shutil.which("covsde")
    return [script, "derive", "tanh"] if script else [sys.executable, "-m", "covsde.cli", "derive", "tanh"]


def run(quick: bool, figure_dir=None) -> BenchmarkReport:
    report = BenchmarkReport(NUMBER, "derivation", TITLE)
    names = builtin_activations()
    repeat = 3 if quick else 5
    if quick:   # one interpreter, caches emptied before every derivation
        times = _child_times(names, repeat)
        how = "caches emptied before each call"
    else:       # a fresh interpreter per activation (first call) plus cache-cleared repeats
        times = {}
        for name in names:
            times.update(_child_times([name], repeat))
        how = "fresh interpreter per activation, caches emptied before each call"
    rows = [[name, f"{statistics.median(t):.3f}", f"{max(t):.3f}"] for name, t in times.items()]
    print(f"  derive_sde(name), {how}; seconds over {repeat} repeats:")
    print_table(["activation", "median", "max"], rows)
    slowest = max(times, key=lambda name: statistics.median(times[name]))
    report.ratios.append(Ratio(f"slowest built-in derivation ({slowest}), median", statistics.median(times[slowest]),
                               f"median over {repeat}; all {len(names)}: "
                               + ", ".join(f"{n} {statistics.median(t):.2f}" for n, t in times.items()),
                               at_most(0.5), unit="s"))
    command = _cold_command()
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    print(f"  `{' '.join(['covsde'] + command[-2:])}` cold process: "
          + ", ".join(f"{s:.2f} s" for s in samples))
    report.ratios.append(Ratio("`covsde derive tanh`, whole cold process (best of 3)", min(samples),
                               "runs: " + ", ".join(f"{s:.2f} s" for s in samples), at_most(2.0), unit="s"))
    return report


if __name__ == "__main__":
    from . import main_for
    raise SystemExit(main_for("derivation"))
