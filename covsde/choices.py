"""The names the command line offers, read from the library's own constants (never retyped).

This is the one place the CLI learns which schemes, noises, backends, conventions, checks,
benchmarks and built-in activations exist; the sub-command modules pass these to ``choices=``.
The solver names are read on first use (:class:`LibraryNames`), so ``covsde derive`` does not
import the numerical solvers just to build the ``covsde simulate`` parser.
"""
from __future__ import annotations

from collections.abc import Sequence


class LibraryNames(Sequence):
    """A tuple of names read from the library the first time it is looked at.

    ``argparse`` only tests membership (``value in choices``) when the argument is given and
    iterates the names when it prints help, so a parser built with these costs no import.
    """

    def __init__(self, read):
        self._read = read
        self._names = None

    def _load(self) -> tuple:
        if self._names is None:
            self._names = tuple(self._read())
        return self._names

    def __getitem__(self, index):
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())

    def __contains__(self, name) -> bool:
        return name in self._load()

    def __repr__(self) -> str:
        return repr(self._load())


def _schemes():
    from covsde.solvers.sde.schemes import SCHEMES
    return SCHEMES


def _noises():
    from covsde.solvers.random_streams import NOISES
    return NOISES


def _backends():
    from covsde.solvers.sde.driver import BACKENDS
    return BACKENDS


def _conventions():
    from covsde.derive.shaping import CONVENTIONS
    return CONVENTIONS


def _activations():
    from covsde.derive.activation_library import builtin_names
    return builtin_names()


def _checks():
    from covsde.paper_checks import CHECKS
    return CHECKS


def _benchmarks():
    from covsde.benchmarks import BENCHMARKS
    return BENCHMARKS


#: ``simulate --scheme``: the keys of ``covsde.solvers.sde.schemes.SCHEMES``.
SCHEMES = LibraryNames(_schemes)
#: ``simulate --noise``: ``covsde.solvers.random_streams.NOISES``.
NOISES = LibraryNames(_noises)
#: ``simulate --backend``: ``covsde.solvers.sde.driver.BACKENDS``.
BACKENDS = LibraryNames(_backends)
#: ``--convention``: ``covsde.derive.shaping.CONVENTIONS``.
CONVENTIONS = LibraryNames(_conventions)
#: Built-in activation names (``ACT``): ``covsde.derive.activation_library``.
ACTIVATIONS = LibraryNames(_activations)
#: ``covsde check NAME``: ``covsde.paper_checks.CHECKS``.
CHECKS = LibraryNames(_checks)
#: ``covsde bench NAME``: ``covsde.benchmarks.BENCHMARKS``.
BENCHMARKS = LibraryNames(_benchmarks)
#: ``compare --method``: the finite-network samplers of ``covsde.solvers.networks`` (``method=``).
#: The library has no constant for them yet (each simulator checks ``("chain", "weights")``
#: itself); point this at one when it does.
SAMPLING_METHODS = ("chain", "weights")
