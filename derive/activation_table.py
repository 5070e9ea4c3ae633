"""The shaped limit of every built-in activation, as one table (``covsde activations``, the README).

For each name of :data:`covsde.derive.activation_library.BUILTIN_ACTIVATIONS` (with its default
parameters): the family the engine finds (smooth, kinked, ReLU-like), the critical exponent p of
s = n^p, the one-input norm drift b(v) with its leading coefficient k, and the regime of the norm;
activations with no shaped limit (a first-order kink at 0: leaky ReLU with a fixed slope, SELU,
ReLU6) say so. Every entry is computed by :func:`covsde.derive.derive_sde`; nothing is typed here.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .activation_library import BUILTIN_ACTIVATIONS, RELU_LIKE_NAMES
from .covariance_sde import derive_sde
from .errors import ActivationError
from .norm_stability import v


@dataclass(frozen=True)
class BuiltinLimit:
    """One row: ``exponent`` and ``norm_drift``/``k``/``regime`` are None when there is no shaped limit
    (then ``reason`` is the first sentence of the engine's explanation)."""

    name: str
    family: str | None
    exponent: sp.Expr | None
    norm_drift: sp.Expr | None
    k: sp.Expr | None
    regime: str | None
    reason: str | None = None


def builtin_limits() -> list:
    """The shaped limit of each built-in (defaults), in the library's order; ``relu`` as the ReLU-like
    family with its default c+ = 0, c- = -1."""
    rows = []
    names = [n for n in BUILTIN_ACTIVATIONS if n not in RELU_LIKE_NAMES[1:]]
    for name in names:
        try:
            sde = derive_sde(name)
        except ActivationError as exc:
            rows.append(BuiltinLimit(name, None, None, None, None, None,
                                     reason=str(exc).split(". ")[0]))
            continue
        rows.append(BuiltinLimit(name, sde.family, sde.exponent, sde.norm_drift_expr, sde.stability.k,
                                 sde.stability.regime))
    return rows


def builtin_table() -> str:
    """The rows of :func:`builtin_limits` as a Markdown table (what ``covsde activations`` prints)."""
    V = sp.Symbol("V")
    lines = ["| activation | family | exponent p (s = a n^p) | norm drift b(V) | k | regime |",
             "|---|---|---|---|---|---|"]
    for row in builtin_limits():
        if row.reason is not None:
            lines.append(f"| {row.name} | first-order kink | none | no shaped limit: {row.reason.split(': ', 1)[1]} "
                         "| | |")
            continue
        p = "any (zero drift)" if row.exponent is None else sp.sstr(row.exponent)
        drift = sp.sstr(row.norm_drift.subs(v, V))
        lines.append(f"| {row.name} | {row.family} | {p} | {drift} | {sp.sstr(row.k)} | {row.regime} |")
    return "\n".join(lines)
