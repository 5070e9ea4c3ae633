"""The ``type=`` functions of the numeric options: text on the command line -> a checked number.

argparse calls these while it parses, so a value outside an option's range is refused before a
command starts, in one line naming the option (``covsde simulate: error: argument --steps: must be
a positive integer, got '0'``), the same sentence wherever the option appears (``simulate --steps``
and ``compare --steps`` refuse alike). Beyond the range each option states, a float must be a
normal float64: ``1e400`` (overflows to inf), ``nan`` and subnormal values such as ``1e-320``
(which float64 stores with fewer digits than were typed) are refused rather than silently changed.
"""
from __future__ import annotations

import argparse
import math
import sys

#: The smallest positive normal float64 (2.2e-308): below it a typed value loses digits.
SMALLEST_NORMAL = sys.float_info.min


def _ascii(text: str) -> None:
    """Refuse digits other than 0-9: Python reads '١' (Arabic-Indic one) as 1, a user may not mean it."""
    if not text.isascii():
        raise argparse.ArgumentTypeError(f"must be a number written with the digits 0-9, got {text!r}")


def _real(text: str) -> float:
    """``text`` as a finite float64 that keeps the digits typed (not inf, nan or subnormal)."""
    _ascii(text)
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if math.isnan(value):
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}")
    if math.isinf(value):
        beyond = "" if "inf" in text.lower() else " (beyond float64's largest, 1.8e+308)"
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}{beyond}")
    if value != 0 and abs(value) < SMALLEST_NORMAL:
        raise argparse.ArgumentTypeError(f"must be 0 or at least {SMALLEST_NORMAL:.3g} in size (smaller "
                                         f"numbers lose digits in float64), got {text!r}")
    return value


def finite_float(text: str) -> float:
    """Any finite real number (``--c-plus``, ``--c-minus``)."""
    return _real(text)


def positive_float(text: str) -> float:
    """A finite number > 0 (``--T``, ``--t``, ``--V0`` of ``stability``)."""
    value = _real(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def tolerance(text: str) -> float:
    """A relative tolerance, strictly between 0 and 1 (``--rtol``)."""
    value = _real(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a relative tolerance between 0 and 1 (e.g. 1e-8), "
                                         f"got {text!r}")
    return value


def _integer(text: str) -> int:
    """``text`` as an int: integer literals (``100000``, ``100_000``) or integral ``1e5``."""
    _ascii(text)
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
    if not (math.isfinite(value) and value.is_integer()):
        raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}")
    return int(value)


def positive_int(text: str) -> int:
    """An integer >= 1 (``--paths``, ``--steps``, ``--workers``, ``--width``, ...)."""
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def seed(text: str) -> int:
    """A random seed: an integer >= 0 (numpy's SeedSequence takes no negative seeds)."""
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {text!r}")
    return value


def integer_between(low: int, high: int):
    """A type for an integer in [low, high] (``derive --inputs``: 1 to 12)."""
    def between(text: str) -> int:
        value = _integer(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be an integer from {low} to {high}, got {text!r}")
        return value
    return between

