"""How much memory and work one solver call may take: estimated before anything is allocated.

A single number (``paths=10**12``, ``width=10**9``, ``degree=30000``, ``depth=10**9``) must not
exhaust the machine or run for days: every solver estimates, from its arguments alone, the bytes of
every array it holds at once (results such as V (paths, m, m), saved states, per-chunk working
arrays, one random stream per block of paths or per network) and, for work that is obviously huge,
its path-steps; it refuses (``InputError``) before allocating when either passes its limit, with
the estimate, the limit and what to change in the message::

    simulate_sde needs 30.2 GiB (29.8 GiB for the final states V (paths, m, m) of 1e+09 paths);
    the limit is 11.5 GiB (half the physical memory; set COVSDE_MEMORY_LIMIT to change it); use
    fewer paths

Limits (read at each call, so a changed environment variable takes effect at once):

``COVSDE_MEMORY_LIMIT``
    bytes one call may hold, e.g. ``8GiB``, ``500MB``, ``2e9`` (units: k/M/G/T with or without
    ``B``/``iB``, all binary: 1 G = 2^30 bytes); ``inf`` disables the check.  Default
    ``MEMORY_FRACTION`` (half) of the physical memory (``os.sysconf``), and never more than the
    address space left under a ``resource.RLIMIT_AS`` limit, so that a process run under ``ulimit -v``
    refuses instead of dying with ``MemoryError``.
``COVSDE_PATH_STEP_LIMIT``
    path-steps one call may take (default ``PATH_STEP_LIMIT`` = 1e11: 20 minutes to 3 hours at the 10–100
    ns a path-step costs); ``inf`` disables the check.  Work that is not a path-step is counted in
    the same unit: one finite-network layer of one network costs width·m² (chain) or width²·m
    (weights) path-steps, one quadrature node of one kernel entry one path-step, one cell of the
    Fokker–Planck grid per time step one path-step.  A vectorised step costs at least
    ``STEP_OVERHEAD`` path-steps (the NumPy call overhead, tens of microseconds), so a million steps
    of one path count as 10^9.

Estimates are of the arrays the solver itself allocates (within a factor of about two: temporaries
of NumPy expressions are counted as a few extra working arrays), not of the interpreter and the
libraries already loaded.
"""
from __future__ import annotations

import math
import os
import re

from covsde.derive.errors import InputError

#: Default share of the physical memory one call may hold.
MEMORY_FRACTION = 0.5
#: Default path-steps one call may take.
PATH_STEP_LIMIT = 1e11
#: Path-steps one vectorised step costs at least (its Python/NumPy call overhead).
STEP_OVERHEAD = 1000
#: Bytes of one child SeedSequence (a random stream of a block of paths or of a network), and of
#: one Generator built on it (measured with tracemalloc: ~380 and ~550 bytes).
STREAM_BYTES = 400
GENERATOR_BYTES = 600
#: Bytes of one float64.
DOUBLE = 8

MEMORY_VARIABLE = "COVSDE_MEMORY_LIMIT"
WORK_VARIABLE = "COVSDE_PATH_STEP_LIMIT"

_UNITS = {"": 1, "k": 2 ** 10, "m": 2 ** 20, "g": 2 ** 30, "t": 2 ** 40}


def physical_memory() -> float | None:
    """Bytes of physical memory (``os.sysconf``), or None where the system does not say."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    if pages <= 0 or size <= 0:
        return None
    return float(pages) * float(size)


def address_space_left() -> float | None:
    """Bytes of address space left under a ``resource.RLIMIT_AS`` soft limit, or None (no limit)."""
    try:
        import resource
        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, AttributeError, ValueError, OSError):
        return None
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    used = 0.0
    try:
        with open("/proc/self/statm") as statm:
            used = float(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    return max(float(soft) - used, 0.0)


def parse_bytes(text: str) -> float:
    """'8GiB', '500 MB', '2e9', 'inf' -> bytes (binary units: 1 G = 2^30); InputError otherwise."""
    match = re.fullmatch(r"\s*([0-9.eE+-]+|inf)\s*([kKmMgGtT]?)(i?[bB])?\s*", str(text))
    try:
        value = float(match.group(1)) * _UNITS[match.group(2).lower()] if match else math.nan
    except ValueError:
        value = math.nan
    if not value > 0:
        raise InputError(f"{MEMORY_VARIABLE}={text!r} is not a size; give bytes such as 8GiB, 500MB or 2e9")
    return value


def memory_limit() -> tuple[float, str]:
    """(bytes one call may hold, where that limit comes from) — see the module docstring."""
    text = os.environ.get(MEMORY_VARIABLE)
    if text is not None and text.strip():
        return parse_bytes(text), f"set by {MEMORY_VARIABLE}"
    physical = physical_memory()
    limit, source = math.inf, f"no physical memory size known; set {MEMORY_VARIABLE} to limit it"
    if physical is not None:
        limit = MEMORY_FRACTION * physical
        source = f"half the physical memory; set {MEMORY_VARIABLE} to change it"
    left = address_space_left()
    if left is not None and left < limit:
        limit, source = left, f"the address space left under the process's RLIMIT_AS; set {MEMORY_VARIABLE} lower"
    return limit, source


def path_step_limit() -> float:
    """Path-steps one call may take: ``COVSDE_PATH_STEP_LIMIT`` or :data:`PATH_STEP_LIMIT`."""
    text = os.environ.get(WORK_VARIABLE)
    if text is None or not text.strip():
        return PATH_STEP_LIMIT
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0:
        raise InputError(f"{WORK_VARIABLE}={text!r} is not a positive number of path-steps (e.g. 1e12, inf)")
    return value


def format_bytes(size: float) -> str:
    """Bytes in binary units with three significant digits: 3.2e10 -> '29.8 GiB'."""
    for unit, scale in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size:.0f} bytes"


def check_memory(caller: str, parts, advice: str) -> float:
    """Refuse (InputError) when the arrays ``parts`` would hold more than :func:`memory_limit`.

    Parameters
    ----------
    caller : the function's name, as the message starts.
    parts : iterable of (bytes, what) — every array held at once, e.g.
        ``(paths * m * m * 8, f"the final states V (paths, m, m) of {paths:.3g} paths")``.
    advice : what to change, e.g. ``"use fewer paths"``.

    Returns
    -------
    The estimated total in bytes.
    """
    parts = [(float(size), what) for size, what in parts]
    total = sum(size for size, _ in parts)
    limit, source = memory_limit()
    if total > limit:
        size, what = max(parts)
        raise InputError(f"{caller} needs {format_bytes(total)} ({format_bytes(size)} for {what}); "
                         f"the limit is {format_bytes(limit)} ({source}); {advice}")
    return total


def check_path_steps(caller: str, path_steps: float, what: str, advice: str) -> float:
    """Refuse (InputError) when ``path_steps`` (see the module docstring) passes :func:`path_step_limit`."""
    limit = path_step_limit()
    if path_steps > limit:
        raise InputError(f"{caller} would take {path_steps:.3g} path-steps ({what}); the limit is "
                         f"{limit:.3g} ({WORK_VARIABLE}); {advice}")
    return float(path_steps)


def vectorised_steps(calls: float, size: float) -> float:
    """Path-steps of ``calls`` vectorised steps over ``size`` elements each (at least STEP_OVERHEAD)."""
    return float(calls) * max(float(size), STEP_OVERHEAD)
