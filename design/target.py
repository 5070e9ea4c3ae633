"""The contract of a design target, and the registry the CLI and :func:`covsde.design.solve` read.

Adding a target is one file: a subclass of :class:`Target` with a ``name`` (registered on class
creation, the value of ``covsde design --target``), a docstring that defines the quantity it
matches, and three methods:

``family(activation, free, **options)``
    The one-parameter family to solve over (default :func:`covsde.design.family.design_family`:
    ReLU-like c±, the shaping constant a, or a symbolic coefficient).
``solve(family, seed)``
    A :class:`Solution`: the parameter value, the quantity achieved there, the solver used, and the
    standard error of the value when the quantity is a Monte Carlo estimate. A target out of reach
    raises :class:`covsde.derive.InputError` naming the reachable range.
``predict(family, value, width, seed)``
    What finite width predicts for the designed value (:mod:`covsde.design.finite_width`), or None
    when the target is itself a finite-width target.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from covsde.derive import InputError

#: name -> Target subclass, filled as the target modules are imported.
TARGETS: dict = {}


@dataclass(frozen=True)
class Solution:
    """What a target's ``solve`` returns.

    value : the parameter value; achieved : the target quantity there; solver : how it was found;
    standard_error : of ``value`` (Monte Carlo targets), else None; alternatives : other exact
    solutions (e.g. both signs of alpha when only alpha^2 matters); note : one line, or "".
    """

    value: float
    achieved: float
    solver: str
    standard_error: float | None = None
    alternatives: tuple = ()
    note: str = ""
    extra: dict = field(default_factory=dict)


class Target(ABC):
    """A quantity of the network to be matched by choosing one parameter (the module docstring).

    Class attributes: ``name`` (registry key), ``quantity`` (what is matched, in words),
    ``infinite_width`` (True when the quantity is an infinite-width one, so that the result also
    reports a finite-width prediction).
    """

    name: str = ""
    quantity: str = ""
    infinite_width: bool = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name:
            TARGETS[cls.name] = cls

    def family(self, activation, free=None, **options):
        from .family import design_family
        return design_family(activation, free, **options)

    @abstractmethod
    def solve(self, family, seed: int = 0) -> Solution:
        """Find the parameter value; raise InputError with the reachable range when none exists."""

    def predict(self, family, value: float, width: int, seed: int = 0):
        """The finite-width prediction for the designed value (None: no prediction)."""
        return None

    @property
    def goal(self) -> float:
        """The target value of the quantity."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line: the quantity and its target value."""
        return f"{self.quantity} = {self.goal:g}"


def target_from_name(name: str, **options) -> Target:
    """The registered target ``name`` built with ``options`` (its constructor's keywords)."""
    from . import targets  # noqa: F401  (registers the built-in targets)
    if name not in TARGETS:
        raise InputError(f"unknown design target {name!r}; available: {', '.join(TARGETS)}")
    try:
        return TARGETS[name](**options)
    except TypeError as exc:
        raise InputError(f"design target {name!r}: {exc}") from None


def probability(value, name: str) -> float:
    """A number in [0, 1] (InputError otherwise)."""
    value = real(value, name)
    if not 0.0 <= value <= 1.0:
        raise InputError(f"{name} must lie in [0, 1], got {value}")
    return value


def correlation_value(value, name: str) -> float:
    """A correlation in [-1, 1] (InputError otherwise)."""
    value = real(value, name)
    if not -1.0 <= value <= 1.0:
        raise InputError(f"{name} must be a correlation in [-1, 1], got {value}")
    return value


def real(value, name: str) -> float:
    from covsde.solvers.input_validation import finite_number
    return finite_number(value, name)


def positive(value, name: str) -> float:
    from covsde.solvers.input_validation import positive_number
    return positive_number(value, name)
