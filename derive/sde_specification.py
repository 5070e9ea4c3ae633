"""Derived objects as specifications: what a worker process needs to rebuild them (pickling).

A :class:`covsde.derive.covariance_sde.CovarianceSDE` holds SymPy expressions and, once used,
lambdified functions (local closures) that do not pickle.  To travel to another process (the
``spawn`` start method, a Dask worker on another machine) it is sent as its *specification* —
the activation (its built-in name, or the SymPy ``srepr`` of its raw expression), the family,
c+ and c−, the convention and the shaping constant a — and re-derived on arrival.  Re-derivation
is cached per specification (:func:`sde_from_specification`, an ``lru_cache``), so a worker
process derives and lambdifies once however many chunks of paths it receives.

The ``__reduce__`` methods of :class:`~covsde.derive.activation.Activation` and
:class:`~covsde.derive.covariance_sde.CovarianceSDE` call :func:`activation_specification` and
:func:`sde_specification`; pickling therefore works at any point of an object's life (before and
after its first ``drift`` call), and the round trip gives an object with the same expressions
(``drift_expr``, ``norm_drift_expr``) and the same numbers.

Security: like every pickle, a specification is evaluated (``sympy.sympify`` of an ``srepr``);
unpickle only data you trust.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from .activation_library import SMOOTH_ACTIVATIONS


@dataclass(frozen=True)
class ActivationSpecification:
    """An activation as text: enough to rebuild it exactly in another process.

    Attributes
    ----------
    name : str
        Its name (a built-in name, or the text it came from).
    raw : str or None
        ``sympy.srepr`` of the raw expression; None when it is the built-in activation ``name``
        (or for the ReLU-like family).
    family : {"smooth", "kinked", "relu_like"}
    c_plus, c_minus : str or None
        ``srepr`` of the ReLU-like slope constants (the ReLU-like family, or slopes added to
        another activation).
    """

    name: str
    raw: str | None
    family: str
    c_plus: str | None = None
    c_minus: str | None = None


@dataclass(frozen=True)
class SDESpecification:
    """A derived covariance SDE as text: its activation, convention and shaping constant a."""

    activation: ActivationSpecification
    convention: str
    a: str


def activation_specification(act) -> ActivationSpecification:
    """The specification of an :class:`~covsde.derive.activation.Activation`."""
    if act.family == "relu_like":
        return ActivationSpecification(act.name, None, act.family, sp.srepr(act.c_plus), sp.srepr(act.c_minus))
    builtin = SMOOTH_ACTIVATIONS.get(act.name)
    raw = None if builtin is not None and sp.sympify(builtin) == act.raw else sp.srepr(act.raw)
    if act.has_slopes:      # ReLU-like slopes added to another activation (with_slopes)
        return ActivationSpecification(act.name, raw, act.family, sp.srepr(act.c_plus), sp.srepr(act.c_minus))
    return ActivationSpecification(act.name, raw, act.family)


def sde_specification(sde) -> SDESpecification:
    """The specification of a :class:`~covsde.derive.covariance_sde.CovarianceSDE`."""
    return SDESpecification(activation_specification(sde.activation), sde.convention, sp.srepr(sde.a))


@lru_cache(maxsize=256)
def activation_from_specification(spec: ActivationSpecification):
    """The activation of ``spec``, built once per process (cached by specification)."""
    from .activation import _expression_activation, relu_like
    if spec.family == "relu_like":
        return relu_like(sp.sympify(spec.c_plus), sp.sympify(spec.c_minus), name=spec.name)
    raw = SMOOTH_ACTIVATIONS[spec.name] if spec.raw is None else sp.sympify(spec.raw)
    slopes = None if spec.c_plus is None else (sp.sympify(spec.c_plus), sp.sympify(spec.c_minus))
    return _expression_activation(spec.name, raw, slopes=slopes)


@lru_cache(maxsize=256)
def sde_from_specification(spec: SDESpecification):
    """The covariance SDE of ``spec``, derived once per process (cached by specification), so
    that its numeric functions are generated once per process too."""
    from .covariance_sde import derive_sde
    act = activation_from_specification(spec.activation)
    if act.family == "relu_like":
        return derive_sde(act, convention=spec.convention)
    return derive_sde(act, a=sp.sympify(spec.a), convention=spec.convention)
