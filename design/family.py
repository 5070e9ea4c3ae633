"""A family of shaped activations with one free parameter: the object every design target solves over.

The free parameter is one of

* ``c_minus`` or ``c_plus`` of the ReLU-like family phi_s(x) = s+ max(x, 0) + s- min(x, 0),
  s± = 1 + c±/sqrt(n) (Li, Nica & Roy 2022, Thm 3.9; SPEC §1);
* the shaping constant ``a`` of a smooth activation, s = a sqrt(n) (SPEC §1);
* a symbolic coefficient of a smooth activation, e.g. ``alpha`` in ``x + alpha*x**2``.

The family derives the covariance SDE once with the parameter left symbolic
(:func:`covsde.derive.derive_sde`) and generates numeric functions that take the parameter as
one more argument (:func:`covsde.derive.codegen.to_callable`), so that a root-finder evaluates
the drift at a new value without a new derivation. :meth:`DesignFamily.covariance_sde` gives the
derived SDE at one value (``sde.subs``), for the final simulations and the report.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from covsde.derive import A, B, R, InputError, as_activation, derive_sde
from covsde.derive.codegen import to_callable
from covsde.derive.covariance_sde import rho as RHO
from covsde.derive.norm_stability import v as NORM_V

#: Default search interval of each kind of free parameter (``bounds=`` overrides it).
DEFAULT_BOUNDS = {"relu_like": (-20.0, 20.0), "a": (0.05, 20.0), "coefficient": (-10.0, 10.0)}


@dataclass(frozen=True, repr=False)
class DesignFamily:
    """Activations phi_p with one free parameter p, and their covariance SDE as a function of p.

    Attributes
    ----------
    activation : Activation
        The activation with the free parameter still symbolic (ReLU-like: c_plus or c_minus).
    free : str
        The parameter's name: ``c_minus``, ``c_plus``, ``a`` or a coefficient's name.
    symbol : sympy.Symbol
        The parameter's symbol in ``sde``.
    sde : CovarianceSDE
        The covariance SDE with ``symbol`` free and every other parameter fixed.
    bounds : (float, float)
        Where the numeric searches look for p.
    fixed : dict
        The values given to the other parameters (``a`` for smooth families).
    """

    activation: object
    free: str
    symbol: sp.Symbol
    sde: object
    bounds: tuple
    fixed: dict
    _numeric: dict = field(default_factory=dict, compare=False)

    @property
    def family(self) -> str:
        return self.activation.family

    @property
    def name(self) -> str:
        return self.activation.name

    def __repr__(self):
        return f"DesignFamily({self.name}, free={self.free}, bounds={self.bounds})"

    # ------------------------------------------------------------- numeric, p as an argument
    def _generated(self, key, expr, args):
        if key not in self._numeric:
            self._numeric[key] = to_callable(expr, (*args, self.symbol), "numpy")
        return self._numeric[key]

    def drift(self, V, p: float):
        """b(V) at parameter value p, V (..., m, m) -> (..., m, m) (the derived pairwise drift)."""
        f = self._generated("drift", self.sde.drift_expr, (A, B, R))
        V = np.asarray(V, dtype=np.float64)
        d = np.diagonal(V, axis1=-2, axis2=-1)
        with np.errstate(invalid="ignore"):
            return f(d[..., :, None], d[..., None, :], V, p)

    def correlation_drift(self, rho, p: float):
        """The ReLU-like correlation drift nu(rho) - rho (1 - rho^2)/2 at p (Itô, derived once)."""
        if self.family != "relu_like":
            raise InputError("the correlation SDE is autonomous only for the ReLU-like family")
        drift, _ = self.sde.correlation_sde()
        f = self._generated("correlation", drift, (RHO,))
        return f(np.clip(rho, -1.0, 1.0), p)

    def norm_drift(self, v, p: float):
        """The one-input drift b(v) of dV = b(V) dt + sqrt(2) V dB at p."""
        f = self._generated("norm", self.sde.norm_drift_expr, (NORM_V,))
        return f(v, p)

    def norm_k(self):
        """k(p), the leading coefficient of the norm drift b(v)/v, as a SymPy expression in p."""
        return self.sde.stability.k

    def at(self, p: float) -> "FamilyMember":
        """The SDE's numeric functions at p, for the solvers (``drift``; ``correlation_drift``)."""
        return FamilyMember(self, float(p))

    def covariance_sde(self, p: float):
        """The derived :class:`CovarianceSDE` at p (``sde.subs``)."""
        return self.sde.subs({self.free: _exact(p)})

    def activation_at(self, p: float):
        """The activation with p given its value (ReLU-like: c_plus, c_minus numbers)."""
        if self.family == "relu_like":
            values = {"c_plus": self.activation.c_plus, "c_minus": self.activation.c_minus}
            values[self.free] = _exact(p)
            return as_activation("relu", **values)
        return self.activation.subs({self.free: _exact(p)})


@dataclass(frozen=True)
class FamilyMember:
    """One member of a :class:`DesignFamily`: duck-types the SDE object the solvers take."""

    family: DesignFamily
    p: float

    def drift(self, V):
        return self.family.drift(V, self.p)

    def correlation_drift(self, rho):
        return self.family.correlation_drift(rho, self.p)

    def norm_drift(self, v):
        return self.family.norm_drift(v, self.p)


def _exact(p):
    """p as an exact SymPy number (floats by their shortest repr), so that derivations stay exact."""
    return sp.nsimplify(sp.Float(repr(float(p))), rational=True)


def design_family(activation, free: str | None = None, *, a=1, c_plus=None, c_minus=None,
                  bounds=None, **params) -> DesignFamily:
    """Build the :class:`DesignFamily` of ``activation`` with the parameter ``free`` left free.

    Parameters
    ----------
    activation : str, sympy.Expr or Activation
        A built-in name, ``"relu"``/``"leaky_relu"`` for the ReLU-like family, or an expression in x
        whose free names are coefficients (``"x + alpha*x**2"``).
    free : str, optional
        The parameter to solve for. Default: ``c_minus`` for the ReLU-like family, the expression's
        one free coefficient when it has exactly one, else the shaping constant ``a``.
    a : number
        The shaping constant of a smooth family when it is not the free parameter.
    c_plus, c_minus : number, optional
        The ReLU-like constant that is not free (defaults 0 and -1, as in ``derive_sde``).
    bounds : (float, float), optional
        The search interval of p (default :data:`DEFAULT_BOUNDS`; for the ReLU-like ``c_minus``
        the default is (c_plus - 20, c_plus), for ``c_plus`` (c_minus, c_minus + 20): the drift
        depends on (c+ - c-)^2 only, so one side is enough).
    **params
        Values of the activation's other coefficients.
    """
    spec = activation
    act = as_activation(spec) if not (isinstance(spec, str) and spec.strip().lower() in
                                      ("relu", "relu_like", "leaky_relu")) else None
    if act is None or act.family == "relu_like":
        name = spec.strip().lower() if isinstance(spec, str) else "relu"
        free = free or "c_minus"
        if free not in ("c_minus", "c_plus"):
            raise InputError(f"the ReLU-like family's free parameter is c_minus or c_plus, got {free!r}")
        if params or a != 1:
            raise InputError("the ReLU-like family takes only c_plus and c_minus (s± = 1 + c±/sqrt(n))")
        other = "c_plus" if free == "c_minus" else "c_minus"
        other_value = {"c_plus": c_plus, "c_minus": c_minus}[other]
        other_value = {"c_plus": 0, "c_minus": -1}[other] if other_value is None else other_value
        values = {free: free, other: other_value}
        sde = derive_sde(name, **values)
        symbol = next(s for s in sde.parameters if s.name == free)
        fixed_value = float(sp.sympify(sde.activation.c_plus if other == "c_plus" else sde.activation.c_minus))
        default = (fixed_value - 20.0, fixed_value) if free == "c_minus" else (fixed_value, fixed_value + 20.0)
        return DesignFamily(sde.activation, free, symbol, sde, _bounds(bounds, default),
                            {other: fixed_value})
    if c_plus is not None or c_minus is not None:
        raise InputError("c_plus and c_minus apply only to the ReLU-like family ('relu')")
    if params:
        act = act.subs(params)
    names = [s.name for s in act.parameters]
    if free is None:
        if len(names) > 1:
            raise InputError(f"{act.name} has the free parameters {names}: say which one to solve for "
                             f"with free=..., and give the others values")
        free = names[0] if names else "a"
    if free == "a":
        if names:
            raise InputError(f"give the coefficients {names} values (e.g. {names[0]}=0.1) to solve for a")
        sde = derive_sde(act, a="a")
        symbol = next(s for s in sde.parameters if s.name == "a")
        return DesignFamily(act, "a", symbol, sde, _bounds(bounds, DEFAULT_BOUNDS["a"]), {})
    if free not in names:
        raise InputError(f"{act.name} has no parameter {free!r}; its parameters are {names or 'none'} "
                         "(and the shaping constant a)")
    others = [n for n in names if n != free]
    if others:
        raise InputError(f"give the other parameters {others} values (e.g. {others[0]}=0.1)")
    sde = derive_sde(act, a=a)
    symbol = next(s for s in sde.parameters if s.name == free)
    return DesignFamily(act, free, symbol, sde, _bounds(bounds, DEFAULT_BOUNDS["coefficient"]),
                        {"a": float(sp.sympify(a))})


def _bounds(bounds, default):
    if bounds is None:
        return tuple(float(b) for b in default)
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise InputError(f"bounds must be two numbers (lo, hi), got {bounds!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise InputError(f"bounds must be finite with lo < hi, got {bounds!r}")
    return (lo, hi)
