"""Closed-form Gaussian kernels F_phi(Q)^{ab} = E[phi(Z_a) phi(Z_b)], Z ~ N(0, Q) (SPEC §2).

Each closed form is written once, here, as a SymPy expression in the covariances Q^{aa}, Q^{bb},
Q^{ab} and the correlation rho = Q^{ab} / sqrt(Q^{aa} Q^{bb}); numbers come from it through
:func:`covsde.derive.codegen.to_callable` (numpy for the solvers, mpmath for the high-precision
reference), never from a retyped formula:

- ReLU, phi = max(x, 0) (Cho & Saul 2009, arc-cosine kernel of degree 1):
  F^{ab} = sqrt(Q^{aa} Q^{bb}) / (2 pi) (sqrt(1 - rho^2) + (pi - arccos rho) rho).
- phi = c erf(k x) (Williams 1997):
  F^{ab} = c^2 (2/pi) arcsin(2 k^2 Q^{ab} / sqrt((1 + 2 k^2 Q^{aa}) (1 + 2 k^2 Q^{bb}))).
- phi = c x: F^{ab} = c^2 Q^{ab}.

Adding a closed form is one entry of :data:`CLOSED_FORM_KERNELS`: a :class:`ClosedFormKernel` with
the expression and a ``match`` that says which activations it covers and with which parameters.
The expressions keep rho as its own symbol so that the caller computes it once, clipped to [-1, 1]
(rounding can push Q^{ab} / sqrt(Q^{aa} Q^{bb}) out of it, where arccos is not defined);
:meth:`GaussianKernelClosedForm.in_covariances` substitutes it for display and symbolic work.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy as sp

from .activation import Activation, as_activation
from .activation_parser import X
from .codegen import to_callable

QAA, QBB, QAB = sp.symbols("Q_aa Q_bb Q_ab", real=True)
#: The correlation Q^{ab} / sqrt(Q^{aa} Q^{bb}), an argument of its own (see the module docstring).
RHO = sp.Symbol("rho", real=True)
#: The arguments of every generated kernel function, in order.
KERNEL_ARGUMENTS = (QAA, QBB, QAB, RHO)

_C, _K = sp.symbols("c k", real=True)


@dataclass(frozen=True)
class ClosedFormKernel:
    """A closed form of E[phi(Z_a) phi(Z_b)] for a family of activations.

    Attributes
    ----------
    name : str
        Short name (also ``GaussianKernelMap.method``).
    family : str
        The activations it covers, in words.
    expression : sympy.Expr
        F^{ab} in :data:`QAA`, :data:`QBB`, :data:`QAB`, :data:`RHO` and the family's parameters.
    match : callable
        Activation -> {parameter symbol: value} when the activation belongs to the family, else None.
    source : str
        Where the formula comes from.
    """

    name: str
    family: str
    expression: sp.Expr
    match: Callable[[Activation], dict | None]
    source: str


def _match_relu(activation: Activation):
    """The ReLU-like family: its plain (ResNet branch) activation is max(x, 0) whatever c+, c- are."""
    return {} if activation.family == "relu_like" else None


def _match_scaled(pattern):
    """Match the raw activation against ``pattern`` in the wild parameters c, k (non-zero)."""
    c, k = sp.Wild("c", exclude=[X]), sp.Wild("k", exclude=[X])
    wild = {_C: c, _K: k}
    template = pattern.subs(wild)

    def match(activation: Activation):
        if activation.family != "smooth":
            return None
        found = activation.raw.match(template)
        if not found:
            return None
        values = {symbol: found[w] for symbol, w in wild.items() if w in found}
        if any(value == 0 for value in values.values()):
            return None
        return values
    return match


#: The closed forms, tried in this order (SPEC §2).
CLOSED_FORM_KERNELS = (
    ClosedFormKernel(
        name="relu", family="max(x, 0) (the ReLU-like family's plain activation)",
        expression=sp.sqrt(QAA * QBB) / (2 * sp.pi) * (sp.sqrt(1 - RHO**2) + (sp.pi - sp.acos(RHO)) * RHO),
        match=_match_relu, source="Cho & Saul 2009, arc-cosine kernel of degree 1"),
    ClosedFormKernel(
        name="erf", family="c erf(k x)",
        expression=_C**2 * 2 / sp.pi * sp.asin(
            2 * _K**2 * QAB / sp.sqrt((1 + 2 * _K**2 * QAA) * (1 + 2 * _K**2 * QBB))),
        match=_match_scaled(_C * sp.erf(_K * X)), source="Williams 1997"),
    ClosedFormKernel(
        name="linear", family="c x", expression=_C**2 * QAB,
        match=_match_scaled(_C * X), source="E[Z_a Z_b] = Q^{ab}"),
)


@dataclass(frozen=True)
class GaussianKernelClosedForm:
    """The closed-form F_phi of one activation, with its parameters given values.

    Attributes
    ----------
    name : str
        The closed form's name ("relu", "erf", "linear").
    expression : sympy.Expr
        F^{ab} in Q_aa, Q_bb, Q_ab and rho (:data:`KERNEL_ARGUMENTS`).
    source : str
    """

    name: str
    expression: sp.Expr
    source: str

    def in_covariances(self) -> sp.Expr:
        """F^{ab} in Q_aa, Q_bb, Q_ab only (rho = Q_ab / sqrt(Q_aa Q_bb) substituted)."""
        return self.expression.subs(RHO, QAB / sp.sqrt(QAA * QBB))

    def function(self, backend: str = "numpy"):
        """F as a function f(q_aa, q_bb, q_ab, rho) of the named codegen backend.

        ``rho`` must be q_ab / sqrt(q_aa q_bb) clipped to [-1, 1] (0 where a variance vanishes);
        numpy arguments broadcast, mpmath arguments are ``mpmath.mpf``.
        """
        return to_callable(self.expression, KERNEL_ARGUMENTS, backend)


def gaussian_kernel_closed_form(activation) -> GaussianKernelClosedForm | None:
    """The closed form of F_phi(Q)^{ab} = E[phi(Z_a) phi(Z_b)] for the plain activation, or None.

    Parameters
    ----------
    activation : str, sympy.Expr or Activation
        Anything :func:`covsde.derive.as_activation` accepts; the plain (unnormalised) activation
        ``Activation.raw`` is meant, and ``max(x, 0)`` for the ReLU-like family (SPEC §2).

    Returns
    -------
    GaussianKernelClosedForm or None
        The first entry of :data:`CLOSED_FORM_KERNELS` that matches, None when none does.
    """
    activation = activation if isinstance(activation, Activation) else as_activation(activation)
    for kernel in CLOSED_FORM_KERNELS:
        values = kernel.match(activation)
        if values is not None:
            return GaussianKernelClosedForm(kernel.name, kernel.expression.subs(values), kernel.source)
    return None
