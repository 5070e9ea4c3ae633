"""The Neural Covariance SDE of a shaped MLP, derived symbolically (Li, Nica & Roy 2022).

    dV_t = b(V_t) dt + Sigma(V_t)^(1/2) dB_t,
    b^ab = b(V^aa, V^bb, V^ab)   (one pairwise formula for every entry),
    Sigma^{ab,cd} = V^ac V^bd + V^ad V^bc.

For smooth activations b is the leading coefficient of n (c E[phi_s(x) phi_s(y)] - R)
(:mod:`covsde.derive.shaping`); for the ReLU-like family b^ab = nu(rho^ab) sqrt(V^aa V^bb) with
nu(rho) = (c+ - c-)^2 / (2 pi) (sqrt(1 - rho^2) - rho arccos rho) (Li, Nica & Roy 2022, Thm 3.9),
written once (:func:`relu_like_drift`); nu, the correlation SDE and the norm drift are derived from it.
Every numeric function on the object is generated from these expressions.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from . import lambdified
from .activation import Activation, as_activation
from .errors import ActivationError
from .norm_stability import NormStability, classify_norm, v
from .shaping import A, B, R, CONVENTIONS, angle_form, critical_shaping

rho = sp.Symbol("rho", real=True)
G = sp.Symbol("G", nonnegative=True)
_VAG, _VBD, _VAD, _VBG = sp.symbols("V_ag V_bd V_ad V_bg", real=True)
#: Sigma^{ab,cd} = V^ac V^bd + V^ad V^bc (Li, Nica & Roy 2022, Thm 3.2).
DIFFUSION_ENTRY = _VAG * _VBD + _VAD * _VBG


def diffusion_entry(V, a, b, c, d):
    """Sigma^{ab,cd} = V^ac V^bd + V^ad V^bc of :data:`DIFFUSION_ENTRY` for the entries of V."""
    return DIFFUSION_ENTRY.subs({_VAG: V[a, c], _VBD: V[b, d], _VAD: V[a, d], _VBG: V[b, c]},
                                simultaneous=True)


def relu_like_drift(c_plus, c_minus):
    """The ReLU-like drift b(A, B, R) = nu(rho) sqrt(A B), rho = R / sqrt(A B), in A, B, R.

    nu(rho) = (c+ - c-)^2 / (2 pi) (sqrt(1 - rho^2) - rho arccos rho) (Li, Nica & Roy 2022, Thm 3.9;
    SPEC §1), multiplied out as (c+ - c-)^2 / (2 pi) (sqrt(A B - R^2) - R arccos(R / sqrt(A B))) so
    that the drift has no 0/0 at A B = 0. This is the one place the formula is written.
    """
    return (c_plus - c_minus) ** 2 / (2 * sp.pi) * (sp.sqrt(A * B - R**2) - R * sp.acos(R / sp.sqrt(A * B)))


def relu_like_nu(c_plus, c_minus):
    """nu(rho) = b(1, 1, rho) of :func:`relu_like_drift` (b is homogeneous of degree 1 in A, B, R),
    a SymPy expression in rho: (c+ - c-)^2/(2 pi) (sqrt(1 - rho^2) - rho acos(rho))."""
    return relu_like_drift(c_plus, c_minus).subs({A: 1, B: 1, R: rho}, simultaneous=True)


@dataclass(frozen=True, repr=False)
class CovarianceSDE:
    """A derived covariance SDE: symbolic expressions plus numeric functions generated from them.

    Attributes
    ----------
    activation : Activation
    convention : {"normalized", "unnormalized"}
    a : sympy.Expr
        Shaping constant of s = a n^p (smooth family).
    order : int or None
        q of the first non-vanishing order in 1/s (None: zero drift, e.g. linear).
    exponent : sympy.Rational or None
        Critical exponent p = 1/q; 1/2 for the ReLU-like family (s± = 1 + c±/sqrt(n)).
    drift_expr : sympy.Expr
        The pairwise drift b(A, B, R), A = V^aa, B = V^bb, R = V^ab.
    norm_drift_expr : sympy.Expr
        One-input drift b(v, v, v) of dV = b(V) dt + sqrt(2) V dB.
    stability : NormStability

    Frozen: the numeric functions are generated on first use into a private cache (a dict
    filled in place).  In a notebook the object shows its whole derivation as LaTeX
    (:func:`covsde.derive.latex_report.notebook_latex`).
    """

    activation: Activation
    convention: str
    a: sp.Expr
    order: int | None
    exponent: sp.Rational | None
    drift_expr: sp.Expr
    norm_drift_expr: sp.Expr
    stability: NormStability
    _nu: sp.Expr | None = None
    _numeric: dict = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------- symbolic API
    @property
    def family(self) -> str:
        return self.activation.family

    @property
    def parameters(self) -> tuple:
        """Free symbols of the drift other than A, B, R (activation parameters, a)."""
        free = self.drift_expr.free_symbols - {A, B, R}
        return tuple(sorted(free, key=lambda s: s.name))

    @property
    def diffusion_expr(self) -> sp.Expr:
        """Sigma^{ab,cd} = V^ac V^bd + V^ad V^bc in the symbols V_ag, V_bd, V_ad, V_bg."""
        return DIFFUSION_ENTRY

    @property
    def phi2(self):
        """phi''(0) of the normalised activation (None for the ReLU-like family)."""
        return None if self.family != "smooth" else self.activation.taylor_coefficients(3)[2]

    @property
    def phi3(self):
        """phi'''(0) of the normalised activation (None for the ReLU-like family)."""
        return None if self.family != "smooth" else self.activation.taylor_coefficients(3)[3]

    def drift_matrix(self, m: int) -> sp.Matrix:
        """The m×m drift in the symbols V^{ij} (i <= j), for display and symbolic work."""
        V = covariance_symbols(m)
        return sp.Matrix(m, m, lambda i, j: self.drift_expr.subs(
            {A: V[i, i], B: V[j, j], R: V[i, j]}, simultaneous=True))

    def diffusion_tensor(self, m: int) -> sp.Array:
        """Sigma as an m×m×m×m SymPy array in the symbols V^{ij}."""
        V = covariance_symbols(m)
        return sp.Array([[[[diffusion_entry(V, a, b, c, d) for d in range(m)]
                           for c in range(m)] for b in range(m)] for a in range(m)])

    def correlation_sde(self):
        """Drift and diffusion of rho = V^ab / sqrt(V^aa V^bb) by Itô's formula, in rho, A, B.

        For the ReLU-like family the result is autonomous:
        d rho = [nu(rho) - rho (1 - rho^2)/2] dt + (1 - rho^2) dW (Li, Nica & Roy 2022, Prop 3.10).
        """
        if "correlation" not in self._numeric:
            self._numeric["correlation"] = _correlation_by_ito(self.drift_expr)
        return self._numeric["correlation"]

    def subs(self, values: dict | None = None, **kwargs) -> "CovarianceSDE":
        """The SDE with parameters (activation parameters or ``a``) given values."""
        values = dict(values or {}, **kwargs)
        a = values.pop("a", self.a)
        if self.family == "relu_like":
            cp = values.pop("c_plus", self.activation.c_plus)
            cm = values.pop("c_minus", self.activation.c_minus)
            if values:
                raise ActivationError(f"unknown parameters {sorted(values)} for the ReLU-like family")
            return derive_sde("relu", c_plus=cp, c_minus=cm, convention=self.convention)
        return derive_sde(self.activation.subs(values), a=a, convention=self.convention)

    # -------------------------------------------------------------- numeric API
    def _require_numeric(self):
        if self.parameters:
            raise ActivationError(
                f"the SDE has free parameters {[s.name for s in self.parameters]}; give them "
                f"values first, e.g. sde.subs({self.parameters[0].name}=1)")

    def drift(self, V):
        """Numeric drift b(V): V (..., m, m) -> (..., m, m), generated from ``drift_expr``."""
        if "drift" not in self._numeric:
            self._require_numeric()
            if self.family == "relu_like":
                self._numeric["drift"] = lambdified.correlation_form_matrix_function(
                    self._nu * G, rho, G)
            else:
                self._numeric["drift"] = lambdified.pairwise_matrix_function(self._numeric_drift_expr, A, B, R)
        return self._numeric["drift"](V)

    def diffusion(self, V):
        """Numeric diffusion Sigma(V): V (..., m, m) -> (..., m, m, m, m)."""
        if "diffusion" not in self._numeric:
            self._numeric["diffusion"] = lambdified.diffusion_tensor_function(
                DIFFUSION_ENTRY, _VAG, _VBD, _VAD, _VBG)
        return self._numeric["diffusion"](V)

    def norm_drift(self, v_values):
        """Numeric one-input drift b(v) of dV = b(V) dt + sqrt(2) V dB."""
        if "norm" not in self._numeric:
            self._require_numeric()
            self._numeric["norm"] = lambdified.scalar_function(self.norm_drift_expr, (v,))
        return self._numeric["norm"](v_values)

    def correlation_drift(self, rho_values):
        """Numeric drift of the ReLU-like correlation SDE, nu(rho) - rho (1 - rho^2)/2."""
        if self.family != "relu_like":
            raise ActivationError("the correlation SDE is autonomous only for the ReLU-like "
                                  "family; for smooth activations simulate the matrix SDE")
        if "correlation_drift" not in self._numeric:
            self._require_numeric()
            drift, _ = self.correlation_sde()
            self._numeric["correlation_drift"] = lambdified.scalar_function(drift, (rho,))
        return self._numeric["correlation_drift"](np.clip(rho_values, -1.0, 1.0))

    def pairwise_drift_function(self, backend: str = "numpy"):
        """b(A, B, R) as a scalar function, numpy (vectorised) or mpmath (arbitrary precision)."""
        self._require_numeric()
        return lambdified.scalar_function(self.drift_expr, (A, B, R), backend=backend)

    @property
    def _numeric_drift_expr(self):
        """drift_expr for numeric code: unchanged when smooth (a polynomial) or ReLU-like (its NumPy drift
        clips rho itself), else with the arguments of
        arccos and sqrt clipped to their real domain (:func:`covsde.derive.codegen.within_real_domain`)."""
        if self.family != "kinked":       # polynomial, or the ReLU-like form kept as it has always run
            return self.drift_expr
        from .codegen import within_real_domain
        return within_real_domain(self.drift_expr)

    # ------------------------------------------------------------------ display
    def latex(self, standalone: bool = False, inputs: int | None = None, steps: bool = False) -> str:
        """LaTeX in a paper's conventions (:mod:`covsde.derive.latex_report`).

        Parameters
        ----------
        standalone : bool
            A complete document that compiles with pdflatex (else the body, to paste).
        inputs : int, optional
            Also the m×m drift matrix for this many inputs.
        steps : bool
            The derivation appendix (:mod:`covsde.derive.latex_appendix`): setting and symbols,
            Taylor coefficients, shaping and its critical exponent, the Gaussian moments, drift,
            diffusion, norm SDE and verdict, with references; else the labelled equations
            (``covsde:<activation>:<snippet>``) of activation, Taylor expansion, shaping, drift,
            diffusion, SDE, norm SDE and verdict.
        """
        from .latex_report import sde_latex
        return sde_latex(self, standalone=standalone, inputs=inputs, steps=steps)

    def _repr_latex_(self):
        """The full derivation for notebooks, from the same snippets as :meth:`latex`: activation
        (and normalisation), Taylor expansion, shaping, drift b^ij, diffusion Sigma, the SDE, the
        norm SDE, k, the regime, the explosion probability and stationary law where they exist."""
        from .latex_report import notebook_latex
        return notebook_latex(self)

    def __repr__(self):
        return (f"CovarianceSDE({self.activation.name}, convention={self.convention}, a={self.a}, "
                f"exponent={self.exponent}, drift={sp.sstr(self.drift_expr)}, "
                f"k={sp.sstr(self.stability.k)}, regime={self.stability.regime})")

    def __reduce__(self):
        """Pickle as a specification, re-derived (once per process) on arrival
        (:mod:`covsde.derive.sde_specification`): the numeric cache holds closures."""
        from .sde_specification import sde_from_specification, sde_specification
        return sde_from_specification, (sde_specification(self),)

    # ------------------------------------------------------- compiled kernels
    def compiled_drift(self):
        """The drift as compiled (numba) kernels take it, so that the solvers need no SymPy.

        Returns
        -------
        key : str
            ``sympy.srepr(drift_expr)``: equal for equal drifts, a cache key for compiled kernels.
        pairwise : callable
            b(A, B, R) on floats, generated by :func:`covsde.derive.codegen.to_callable` with the
            ``"math"`` backend in the evaluation order of the NumPy ``drift`` (numbers and terms in
            A, then in B, first), so a kernel built on it rounds as the NumPy reference does.
        vanishes_on_diagonal : bool
            b(a, a, a) = 0 identically for a > 0 (the ReLU-like family: nu(1) = 0), where a kernel
            may skip the diagonal drift; the formula gives exactly 0.0 there too (acos(1) = 0).

        Raises
        ------
        ActivationError
            When the drift still has free parameters (give them values with ``subs`` first).
        """
        if "compiled_drift" not in self._numeric:
            self._require_numeric()
            a = sp.Symbol("a", positive=True)
            on_diagonal = sp.simplify(self.drift_expr.subs({A: a, B: a, R: a}, simultaneous=True))
            pairwise = lambdified.scalar_function(self._numeric_drift_expr, (A, B, R), "math", small=((A,), (B,)))
            self._numeric["compiled_drift"] = (sp.srepr(self.drift_expr), pairwise, on_diagonal == 0)
        return self._numeric["compiled_drift"]


def covariance_symbols(m: int) -> sp.Matrix:
    """A symmetric m×m matrix of real symbols V^{ij} (1-based, i <= j)."""
    if m < 1:
        raise ActivationError(f"the number of inputs must be at least 1, got {m}")
    syms = {}
    for i in range(m):
        for j in range(i, m):
            syms[(i, j)] = sp.Symbol(f"V^{{{i + 1}{j + 1}}}", real=True)
    return sp.Matrix(m, m, lambda i, j: syms[(min(i, j), max(i, j))])


def _correlation_by_ito(pairwise):
    """Itô's formula for rho = R / sqrt(A B) under the matrix SDE with m = 2."""
    a_, b_, r_ = sp.symbols("a_ b_ r_", positive=True)
    state = (a_, b_, r_)
    rho_expr = r_ / sp.sqrt(a_ * b_)
    drifts = (pairwise.subs({A: a_, B: a_, R: a_}, simultaneous=True),
              pairwise.subs({A: b_, B: b_, R: b_}, simultaneous=True),
              pairwise.subs({A: a_, B: b_, R: r_}, simultaneous=True))
    # Sigma entries for (V11, V22, V12): Cov(dV^ab, dV^cd) = Sigma^{ab,cd}
    V = {(0, 0): a_, (1, 1): b_, (0, 1): r_, (1, 0): r_}
    idx = ((0, 0), (1, 1), (0, 1))
    cov = [[diffusion_entry(V, *p, *q) for q in idx] for p in idx]
    grad = [sp.diff(rho_expr, s) for s in state]
    drift = sum(g * d for g, d in zip(grad, drifts))
    drift += sp.Rational(1, 2) * sum(sp.diff(rho_expr, s, t) * cov[i][j]
                                     for i, s in enumerate(state) for j, t in enumerate(state))
    var = sum(grad[i] * grad[j] * cov[i][j] for i in range(3) for j in range(3))
    to_rho = {r_: rho * sp.sqrt(a_ * b_)}
    drift = sp.simplify(drift.subs(to_rho))
    diffusion = sp.sqrt(sp.factor(sp.simplify(var.subs(to_rho))))
    back = {a_: A, b_: B}
    return sp.simplify(drift.subs(back)), sp.simplify(diffusion.subs(back))


def _parse_a(a):
    """The shaping constant: a positive real number, or a SymPy expression in parameters."""
    from .activation import _as_sympy_number
    a = _as_sympy_number(a, "a (the shaping constant)")
    if a.free_symbols:
        a = a.subs({s: sp.Symbol(s.name, positive=True) for s in a.free_symbols})
    elif not (a.is_real and a > 0):
        raise ActivationError(f"the shaping constant a must be positive, got {a}")
    return a


def derive_sde(activation, a=1, convention: str = "normalized", **params) -> CovarianceSDE:
    """Derive the Neural Covariance SDE of a shaped MLP from its activation.

    Parameters
    ----------
    activation : str, sympy.Expr or Activation
        A built-in name (tanh, sin, atan, erf, sinh, gelu, silu, swish, softplus, linear,
        identity, relu), a string expression in x (parsed safely) or a SymPy expression.
    a : number, str or sympy.Expr, default 1
        Shaping constant: s = a n^p. May be symbolic (``"a"``).
    convention : {"normalized", "unnormalized"}
        ``normalized`` (the paper's): c^-1 = E[phi_s(w)^2]; ``unnormalized``: c = 1.
    **params
        ``c_plus``, ``c_minus`` for the ReLU-like family; values of activation parameters.

    Returns
    -------
    CovarianceSDE

    Examples
    --------
    >>> sde = derive_sde("tanh")
    >>> sde.drift_expr
    R*(-A - B + 2)
    >>> sde.stability.k, sde.stability.regime
    (-2, 'stationary')
    """
    if convention not in CONVENTIONS:
        raise ActivationError(f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}")
    act = as_activation(activation, **params)
    if act.family == "relu_like" and not (isinstance(a, (int, float)) and a == 1):
        raise ActivationError("the ReLU-like family is shaped by c_plus and c_minus "
                              "(s± = 1 + c±/sqrt(n)); the shaping constant a does not apply")
    a = _parse_a(a)
    shaping = critical_shaping(act, convention, a=a)
    if shaping.order is None:
        drift_expr = sp.Integer(0)
    elif act.family == "smooth":
        drift_expr = sp.factor_terms(sp.expand(shaping.coefficient / a**shaping.order))
    else:
        drift_expr = angle_form(shaping.coefficient / a**shaping.order)
    norm = drift_expr.subs({A: v, B: v, R: v}, simultaneous=True)
    norm = sp.factor(norm) if act.family == "smooth" else sp.factor_terms(sp.expand(norm))
    nu = drift_expr.subs({A: 1, B: 1, R: rho}, simultaneous=True) if act.family == "relu_like" else None
    return CovarianceSDE(activation=act, convention=convention, a=a, order=shaping.order,
                         exponent=shaping.exponent, drift_expr=drift_expr,
                         norm_drift_expr=norm, stability=classify_norm(norm), _nu=nu)
