"""The pieces of an activation on each side of 0: what a one-sided Taylor expansion at 0 starts from.

Kinked activations are written with ``Piecewise``, ``Max``, ``Min``, ``Abs``, ``Heaviside`` or
``sign``. Each is rewritten as a ``Piecewise`` in x and every ``Piecewise`` is replaced by the piece
that holds on (0, h) (the right side) or on (-h, 0) (the left side), where h is half the distance from
0 to the nearest other breakpoint. The two pieces are ordinary expressions, analytic at 0 on their own
side (checked later by the Taylor engine); an activation smooth at 0 has two equal pieces.

Breakpoints away from 0 (hardtanh at ±1, hardswish at ±3) do not enter the shaped limit: s phi(x/s)
only sees phi near 0. :func:`one_sided_pieces` says so in its ``note``.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .activation_parser import X
from .errors import ActivationError
from .work_budget import symbolic_budget

#: Functions that are rewritten as Piecewise before the sides are taken.
KINKED_FUNCTIONS = (sp.Abs, sp.Max, sp.Min, sp.Heaviside, sp.sign, sp.Piecewise)


@dataclass(frozen=True)
class OneSidedPieces:
    """The activation's expressions on x > 0 near 0 (``right``) and on x < 0 near 0 (``left``).

    ``breakpoints`` are the real points where a piece changes (0 included when there is a kink
    or jump at 0); ``note`` is a sentence for reports when some breakpoints lie away from 0.
    """

    right: sp.Expr
    left: sp.Expr
    breakpoints: tuple
    note: str | None

    @property
    def agree(self) -> bool:
        """Whether the two pieces are the same expression (then phi is analytic at 0 if they are)."""
        return self.right == self.left


def is_piecewise(expr: sp.Expr) -> bool:
    """Whether ``expr`` uses one of :data:`KINKED_FUNCTIONS`."""
    return any(expr.has(f) for f in KINKED_FUNCTIONS)


def as_piecewise(expr: sp.Expr) -> sp.Expr:
    """``expr`` with Abs, Max, Min, Heaviside and sign rewritten as Piecewise in x (same values)."""
    out = expr
    for f in (sp.Heaviside, sp.sign, sp.Abs, sp.Max, sp.Min):
        if out.has(f):
            out = out.rewrite(sp.Piecewise) if f is not sp.Heaviside else out.replace(
                sp.Heaviside, lambda *a: sp.Piecewise((0, a[0] < 0), (1, a[0] > 0),
                                                      (a[1] if len(a) > 1 else sp.Rational(1, 2), True)))
    return out


def one_sided_pieces(expr: sp.Expr, name: str = "") -> OneSidedPieces:
    """Split ``expr`` into its pieces on the two sides of 0 (see the module docstring).

    Raises
    ------
    ActivationError
        When a condition depends on a parameter, or cannot be decided near 0.
    """
    name = name or sp.sstr(expr)
    if not is_piecewise(expr):
        return OneSidedPieces(right=expr, left=expr, breakpoints=(), note=None)
    with symbolic_budget(f"the pieces of {name} at 0"):
        pw = as_piecewise(expr)
        conditions = [c for p in pw.atoms(sp.Piecewise) for _, c in p.args]
        for cond in conditions:
            extra = cond.free_symbols - {X}
            if extra:
                raise ActivationError(
                    f"{name}: the condition {cond} depends on {sorted(s.name for s in extra)}; the "
                    "pieces of a piecewise activation must be chosen by x alone")
        points = sorted(_breakpoints(conditions), key=float)
        positive = [p for p in points if p > 0]
        negative = [p for p in points if p < 0]
        h_right = (min(positive) if positive else sp.Integer(1)) / 2
        h_left = (max(negative) if negative else sp.Integer(-1)) / 2
        right = sp.simplify(_choose(pw, h_right, name)) if pw.has(sp.Piecewise) else pw
        left = sp.simplify(_choose(pw, h_left, name)) if pw.has(sp.Piecewise) else pw
    away = [p for p in points if p != 0]
    note = None
    if away:
        shown = ", ".join(sp.sstr(p) for p in away)
        note = (f"{name} is piecewise away from 0 (breakpoints at {shown}); only the piece at 0 matters "
                f"for the shaped limit: phi(x) = {sp.sstr(right)}"
                + ("" if right == left else f" for x > 0 and {sp.sstr(left)} for x < 0"))
    return OneSidedPieces(right=right, left=left, breakpoints=tuple(points), note=note)


def _breakpoints(conditions) -> set:
    """Real x where some relational in the conditions changes truth value."""
    points = set()
    for cond in conditions:
        for rel in cond.atoms(sp.core.relational.Relational):
            difference = rel.lhs - rel.rhs
            if not difference.has(X):
                continue
            try:
                roots = sp.solve(difference, X)
            except NotImplementedError:
                raise ActivationError(f"cannot locate where the condition {rel} changes; write the "
                                      "pieces with conditions linear in x") from None
            for r in roots:
                if r.is_real and r.is_number:
                    points.add(sp.nsimplify(r))
    return points


def _choose(expr, point, name):
    """Replace every Piecewise in ``expr`` (innermost first) by the piece that holds at ``point``."""
    if expr.is_Atom:
        return expr
    args = [_choose(a, point, name) for a in expr.args] if not isinstance(expr, sp.Piecewise) else None
    if isinstance(expr, sp.Piecewise):
        for piece, cond in expr.args:
            truth = cond.subs(X, point) if cond not in (sp.true, sp.false) else cond
            if truth not in (sp.true, sp.false):
                truth = sp.simplify(truth)
            if truth == sp.true:
                return _choose(piece, point, name)
            if truth != sp.false:
                raise ActivationError(f"{name}: cannot decide the condition {cond} near 0")
        raise ActivationError(f"{name}: no piece of {expr} holds near 0")
    return expr.func(*args)
