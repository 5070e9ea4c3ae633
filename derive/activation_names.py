"""Which free names an activation string may use, and the nearest known name to a misspelt one.

A free name in an activation string is a parameter only when it reads as one: a single letter
other than ``x`` (``a``, ``c``), a Greek letter's name as SymPy spells it (``alpha``, ``beta``,
``lamda``, ...), either optionally followed by digits or by an underscore and letters or digits
(``a1``, ``alpha_2``, ``c_0``, ``c_plus``), or a name the caller declared
(``parse_activation_string(text, declared=("gain",))``, ``--param gain=0.5`` on the command line).
Anything else is taken for a misspelt function or activation and refused with the nearest known
names ("did you mean 'alpha'?"), so that ``elo`` never silently becomes a free parameter.
"""
from __future__ import annotations

import difflib
import re

from sympy.core.alphabets import greeks

from .errors import ActivationError

#: Greek letter names a parameter may have (SymPy's spelling; ``lambda`` is a Python keyword, so
#: SymPy and covsde write ``lamda``; ``pi`` is the constant).
GREEK_NAMES = tuple(sorted({*greeks, "lamda"} - {"lambda", "pi"}))

_PARAMETER_NAME = re.compile(
    r"(?:[A-Za-wyz]|" + "|".join(GREEK_NAMES) + r")(?:_?[0-9]+|_[A-Za-z0-9]+)?")

#: The longest name accepted as a parameter or a declaration.
MAX_NAME_LENGTH = 20


def is_parameter_name(name: str) -> bool:
    """True when ``name`` reads as a parameter without being declared: a single letter other than
    ``x`` or a Greek letter's name, optionally with a suffix (``a1``, ``alpha_2``, ``c_plus``)."""
    return _PARAMETER_NAME.fullmatch(name) is not None


def checked_declarations(declared, reserved) -> frozenset:
    """The declared parameter names as a set, each checked to be a plain identifier that is not
    ``x``, a function or a constant (``reserved``).

    Raises
    ------
    ActivationError
        For a declaration that is not a string, not an identifier, starts with ``_``, is longer
        than :data:`MAX_NAME_LENGTH` or is reserved.
    """
    if isinstance(declared, str):
        declared = (declared,)
    names = set()
    for name in declared or ():
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_") \
                or len(name) > MAX_NAME_LENGTH:
            raise ActivationError(f"cannot declare {name!r} as a parameter: declare plain names such as "
                                  f"'gain' (letters, digits, '_', at most {MAX_NAME_LENGTH} characters)")
        if name in reserved:
            raise ActivationError(f"cannot declare {name!r} as a parameter: it is the variable x, a "
                                  "function or a constant of activation strings")
        names.add(name)
    return frozenset(names)


def restricted_edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
    neighbouring letters each cost 1 (Damerau 1964), so ``seul`` is 1 from ``selu``, 2 from ``elu``."""
    previous2, previous = None, list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def closest_names(word: str, candidates, limit: int = 2) -> list:
    """The known names nearest to ``word`` (case ignored): the close matches of
    :func:`difflib.get_close_matches`, those at the smallest :func:`restricted_edit_distance` kept
    (at most ``limit``)."""
    by_lowered = {}
    for name in sorted(set(candidates)):
        by_lowered.setdefault(name.lower(), name)
    lowered = word.lower()
    close = difflib.get_close_matches(lowered, list(by_lowered), n=8, cutoff=0.6)
    if not close:
        return []
    distances = {name: restricted_edit_distance(lowered, name) for name in close}
    best = min(distances.values())
    return [by_lowered[name] for name in close if distances[name] == best][:limit]


def did_you_mean(word: str, candidates) -> str:
    """``"did you mean 'elu'?"`` (or ``'elu' or 'selu'``), or ``""`` when nothing is close."""
    names = closest_names(word, candidates)
    if not names:
        return ""
    return "did you mean " + " or ".join(repr(name) for name in names) + "?"
