"""Exploding and vanishing norms: classification of the one-input norm SDE.

With one input the covariance SDE is the scalar SDE dV = b(V) dt + sqrt(2) V dB, where
b(v) = v p(v) for a polynomial p (Li, Nica & Roy 2022, Sec. 3.3; SPEC §1 "The norm"). Feller's
boundary classification with the scale density s'(v) = v^(-p0) exp(-P(v)),
P(v) = sum_{j>=1} p_j v^j / j, gives:

* leading coefficient of p positive: the norm explodes in finite time with probability
  P(V0) = int_0^V0 s' / int_0^inf s' (1 when p0 >= 1). For the q = 2 drift k v (v - 1)
  (normalized) this is gammainc(1 + k, k V0); for k v^2 (unnormalized) 1 - exp(-k V0).
* otherwise no explosion; if p0 > 1 and p has a negative leading coefficient, V_t converges in law
  to the stationary density proportional to v^(p0 - 2) exp(P(v)) (Gamma(|k| - 1, rate |k|) for
  q = 2, k < -1); if p0 <= 1, V_t -> 0 ("vanishes"); a constant p0 > 1 gives V_t -> inf without
  explosion ("grows").

``k`` is the leading coefficient of p. For q = 2 it is (3/4 phi''(0)^2 + phi'''(0)) / a^2, the
paper's iff-criterion for explosion: k > 0.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp

from . import gamma_tail
from .codegen import to_callable
from .errors import ActivationError, InputError

v = sp.Symbol("v", positive=True)
V0 = sp.Symbol("V_0", positive=True)

REGIMES = ("explodes", "vanishes", "stationary", "grows")


def exponent_polynomial(p, root: int = 1) -> sp.Expr:
    """P(v) = sum_{j>=1} p_j v^(j/r) r / j for b(v) = v (p_0 + p_1 v^(1/r) + p_2 v^(2/r) + ...), so that
    P'(v) = (p(v) - p_0)/v, the scale density is v^(-p_0) exp(-P(v)) and the stationary density
    v^(p_0 - 2) exp(P(v)) (Feller). r = ``root`` is 1 for smooth activations (a polynomial p) and 2
    when one-sided (kinked) activations bring in sqrt(v)."""
    r = sp.Integer(root)
    return sum(p[j] * v**(sp.Integer(j) / r) * r / j for j in range(1, len(p)))


def scale_density(p, root: int = 1) -> sp.Expr:
    """s'(v) = v^(-p_0) exp(-P(v)) of dV = V p(V) dt + sqrt(2) V dB (diffusion coefficient V^2)."""
    return v ** (-p[0]) * sp.exp(-exponent_polynomial(p, root))


def log_scale_density(p, root: int = 1) -> sp.Expr:
    """log s'(v) = -p_0 log v - P(v): the scale density in log space, for coefficients beyond floats."""
    return -p[0] * sp.log(v) - exponent_polynomial(p, root)


def stationary_density(p, root: int = 1) -> sp.Expr:
    """The unnormalised stationary density v^(p_0 - 2) exp(P(v)) (the speed density 1/(V^2 s'(V)))."""
    return v ** (p[0] - 2) * sp.exp(exponent_polynomial(p, root))


@dataclass(frozen=True)
class NormStability:
    """The stability verdict for the norm of a shaped network.

    Attributes
    ----------
    norm_drift : sympy.Expr
        b(v) of dV = b(V) dt + sqrt(2) V dB.
    k : sympy.Expr
        The leading coefficient of b(v)/v (for q = 2: (3/4 phi''(0)^2 + phi'''(0)) / a^2).
    regime : str or dict
        One of "explodes", "vanishes", "stationary", "grows"; with free parameters, a dict
        mapping each possible regime to the SymPy relation on the parameters where it holds.
    explosion_condition : sympy relational or bool
        Where finite-time explosion has positive probability.

    Frozen; numeric densities are generated on first use into a private cache.  In a notebook it
    shows the norm SDE, k and the verdict as LaTeX.
    """

    norm_drift: sp.Expr
    k: sp.Expr
    regime: object
    explosion_condition: object
    _p: tuple = field(repr=False, default=())
    #: p is a polynomial in v^(1/root): 1 for smooth activations, 2 with sqrt(v) terms (kinked ones)
    _root: int = field(repr=False, default=1)
    _numeric: dict = field(repr=False, compare=False, default_factory=dict)

    def _repr_latex_(self):
        """The norm SDE, k and the verdict (with P(explosion) when the norm explodes)."""
        from .latex_report import SNIPPET_TITLES, aligned_display, norm_sde_snippet, regime_label, \
            stability_snippet
        return aligned_display([
            (SNIPPET_TITLES["norm_sde"], norm_sde_snippet(self.norm_drift)),
            (SNIPPET_TITLES["stability"] + f" ({regime_label(self)})", stability_snippet(self))])

    # ------------------------------------------------------------------ helpers
    @property
    def is_symbolic(self) -> bool:
        return bool(self.norm_drift.free_symbols - {v})

    def _require_numeric(self, what):
        if self.is_symbolic:
            names = sorted(s.name for s in self.norm_drift.free_symbols - {v})
            raise ActivationError(f"{what} needs numeric parameters; substitute {names} first "
                                  "(derive_sde(..., alpha=0.1) or sde.subs(alpha=0.1))")

    def explosion_probability_expr(self):
        """P(explosion in finite time | V_0) as a SymPy expression in V_0 (closed form when q = 2)."""
        p = self._p
        if self._root != 1:
            s_prime = scale_density(p, self._root)
            return sp.Integral(s_prime, (v, 0, V0)) / sp.Integral(s_prime, (v, 0, sp.oo))
        if len(p) == 2 and p[0] == -p[1]:          # normalized, q = 2: k v (v - 1)
            kk = p[1]
            return sp.Piecewise((sp.lowergamma(1 + kk, kk * V0) / sp.gamma(1 + kk), kk > 0),
                                (0, True))
        if len(p) == 2 and p[0] == 0:               # unnormalized, q = 2: k v^2
            kk = p[1]
            return sp.Piecewise((1 - sp.exp(-kk * V0), kk > 0), (0, True))
        s_prime = scale_density(p)
        return sp.Integral(s_prime, (v, 0, V0)) / sp.Integral(s_prime, (v, 0, sp.oo))

    def _mpmath(self, name, density):
        """The density (a function of p) as an mpmath function of v, generated once."""
        if name not in self._numeric:
            self._numeric[name] = to_callable(density(self._p, self._root), (v,), "mpmath")
        return self._numeric[name]

    def explosion_probability(self, V0_value, *, T=None):
        """P(the norm explodes in finite time | V(0) = V0) for one input (time 0 to infinity).

        Parameters
        ----------
        V0_value : float or array_like
            Initial squared norm V(0) > 0 (per input dimension, as in SPEC §1).
        """
        if T is not None:
            raise InputError("explosion_probability is over [0, infinity); for a finite horizon "
                             "use covsde.solvers.simulate_norm")
        self._require_numeric("explosion_probability")
        x = np.asarray(V0_value, dtype=np.float64)
        if np.any(~np.isfinite(x)) or np.any(x <= 0):
            raise InputError(f"V0 must be positive and finite, got {V0_value}")
        if self.regime != "explodes":
            return np.zeros_like(x)[()] + 0.0
        p = [_mp(c) for c in self._p]
        if self._root != 1:
            log_s = self._mpmath("log scale", log_scale_density)
            out = np.vectorize(lambda t: _explosion_by_scale_integral(p, log_s, t, self._root))(x)
            return out[()]
        if len(p) == 2 and self._p[0] == -self._p[1]:      # normalized q = 2: P(1 + k, k V0)
            k = p[1]
            if k <= gamma_tail.ASYMPTOTIC_FROM:
                import scipy.special  # lazy: scipy's import time dominates the CLI's start-up
                return scipy.special.gammainc(1 + float(k), float(k) * x)[()]
            out = np.vectorize(lambda t: float(gamma_tail.explosion_gamma(k, t)))(x)
            return out[()]
        if len(p) == 2 and self._p[0] == 0:                  # unnormalized q = 2: 1 - exp(-k V0)
            out = np.vectorize(lambda t: float(-mpmath.expm1(-p[1] * t)))(x)
            return out[()]
        if p[0] >= 1:
            return np.ones_like(x)[()]
        log_s = self._mpmath("log scale", log_scale_density)
        out = np.vectorize(lambda t: _explosion_by_scale_integral(p, log_s, t))(x)
        return out[()]

    @property
    def stationary_mean(self):
        """Mean of the long-run law (float) in the stationary regime, else None (no scipy.stats).

        The density is proportional to v^(p0 - 2) exp(P(v)), P(v) = sum_j p_j v^j / j.
        """
        if self.is_symbolic or self.regime != "stationary":
            return None
        density = self._mpmath("stationary", stationary_density)
        return float(mpmath.quad(lambda t: t * density(t), [0, 1, mpmath.inf])
                     / mpmath.quad(density, [0, 1, mpmath.inf]))

    @property
    def stationary_law(self):
        """The long-run law of V_t (scipy.stats frozen distribution) in the stationary regime, else None."""
        if self.is_symbolic or self.regime != "stationary":
            return None
        import scipy.stats  # lazy: scipy.stats takes about a second to import
        p = [float(c) for c in self._p]
        higher = [j for j in range(1, len(p)) if p[j] != 0]
        if len(higher) == 1:
            j = higher[0] / self._root
            # density ∝ v^(p0-2) exp(p_j v^j / j) (j = j'/r for p_j' v^(j'/r)): generalized gamma, c = j
            shape = (p[0] - 1) / j
            scale = (j / abs(p[higher[0]])) ** (1.0 / j)
            if j == 1:
                return scipy.stats.gamma(a=p[0] - 1, scale=scale)
            return scipy.stats.gengamma(a=shape, c=j, scale=scale)
        return _numeric_stationary_law(self._mpmath("stationary", stationary_density))


def _mp(c):
    """An exact SymPy coefficient as an mpmath number, without passing through float (k may be
    1e400 or exp(exp(exp(10))), far beyond the float range)."""
    value = sp.N(c, 30)
    if not value.is_Number or not value.is_real:
        raise InputError(f"the coefficient {c} of the norm drift is not a real number")
    with mpmath.workdps(30):
        return mpmath.mpf(sp.Float(value)._mpf_)


def _explosion_by_scale_integral(p, log_s, V0_value, root=1):
    """int_0^V0 s' / int_0^inf s' with log s' = ``log_s`` (:func:`log_scale_density`), in mpmath.

    log s' peaks where p(v) = 0 with width 1/sqrt(|p'(v*)|/v*); the quadrature is split there and
    done by two rules (tanh-sinh, Gauss-Legendre). They must agree to 1e-8, else InputError:
    a number is never printed that the rules do not both support.
    """
    with mpmath.workdps(30):
        t0 = mpmath.mpf(V0_value)
        poly = lambda t: sum(p[j] * t**(mpmath.mpf(j) / root) for j in range(len(p)))
        # p is a polynomial in w = v^(1/root): its positive roots w give v = w^root
        roots = [r.real ** root for r in mpmath.polyroots(list(reversed(p)), maxsteps=200, extraprec=200)
                 if abs(r.imag) < 1e-20 and r.real > 0]
        peak = max(roots, key=log_s) if roots else mpmath.mpf(1)
        slope = abs(mpmath.diff(poly, peak)) if roots else mpmath.mpf(1)
        width = 1 / mpmath.sqrt(max(slope / peak, mpmath.mpf("1e-30")))
        top = log_s(peak)
        s = lambda t: mpmath.exp(log_s(t) - top) if t > 0 else mpmath.mpf(0)
        marks = sorted({m for m in [peak + c * width for c in (-16, -4, -1, 0, 1, 4, 16)] if m > 0})
        # near 0, s' ~ v^(-p0) (integrable, p0 < 1): the second rule integrates the first piece
        # after v = u^m, m = ceil(1/(1 - p0)), which makes the integrand bounded at u = 0
        m = int(mpmath.ceil(1 / (1 - p[0]))) if p[0] > 0 else 1

        def piecewise(points, method):
            total = mpmath.mpf(0)
            for lo, hi in zip(points[:-1], points[1:]):
                if lo == 0 and m > 1 and method == "gauss-legendre":
                    total += mpmath.quad(lambda u: s(u**m) * m * u ** (m - 1), [0, hi ** (mpmath.mpf(1) / m)],
                                         method=method)
                else:
                    total += mpmath.quad(s, [lo, hi], method=method)
            return total

        results = []
        for method in ("tanh-sinh", "gauss-legendre"):
            below = [mpmath.mpf(0)] + [mk for mk in marks if mk < t0] + [t0]
            above = [t0] + [mk for mk in marks if mk > t0] + [mpmath.inf]
            inside = piecewise(below, method)
            outside = piecewise(above, method)
            results.append(inside / (inside + outside))
    if not all(mpmath.isfinite(r) for r in results) or abs(results[0] - results[1]) > 1e-8:
        raise InputError(
            f"the explosion probability from V0 = {V0_value} cannot be evaluated reliably (two "
            f"quadrature rules give {mpmath.nstr(results[0], 8)} and {mpmath.nstr(results[1], 8)}); "
            "use covsde simulate for a Monte Carlo estimate")
    return float(results[0])


def _numeric_stationary_law(dens):
    """A scipy.stats law with the density dens (an mpmath function of v, unnormalised) on (0, inf)."""
    import scipy.stats
    Z = float(mpmath.quad(dens, [0, 1, mpmath.inf]))

    class _Stationary(scipy.stats.rv_continuous):
        def _pdf(self, t):
            return np.vectorize(lambda s: float(dens(s)) / Z)(t)

    return _Stationary(a=0.0, name="stationary_norm")()


def classify_norm(norm_drift: sp.Expr) -> NormStability:
    """Classify the one-input SDE dV = b(V) dt + sqrt(2) V dB, b(v) = v p(v) with p a polynomial in v
    (smooth activations) or in sqrt(v) (one-sided ones: half-space moments bring in sqrt(A), sqrt(B)).

    Feller's test on the scale density v^(-p_0) exp(-P(v)): the leading coefficient of p (the
    highest power of v) decides explosion; p_0 = p(0) decides between a stationary law and
    vanishing (see the module docstring)."""
    ratio = sp.expand(sp.powsimp(sp.expand(norm_drift / v)))
    powers = {}
    for term in sp.Add.make_args(ratio):
        if term == 0:
            continue
        coeff, power = term.as_independent(v, as_Add=False)
        exponent = sp.Integer(0) if power == 1 else power.as_base_exp()[1] if power.as_base_exp()[0] == v else None
        if exponent is None or not exponent.is_Rational or exponent < 0:
            raise ActivationError(f"the norm drift {norm_drift} is not v times a polynomial in v or sqrt(v)")
        powers[exponent] = powers.get(exponent, sp.Integer(0)) + coeff
    root = int(sp.ilcm(1, 1, *[e.q for e in powers]))
    if root > 2:
        raise ActivationError(f"the norm drift {norm_drift} is not v times a polynomial in v or sqrt(v)")
    degree = int(max(powers, default=0) * root)
    p = tuple(sp.simplify(powers.get(sp.Integer(j) / root, sp.Integer(0))) for j in range(degree + 1))
    while len(p) > 1 and p[-1] == 0:
        p = p[:-1]
    lead = p[-1] if len(p) > 1 else sp.Integer(0)
    p0 = p[0]
    symbolic = any(c.free_symbols for c in p)
    if not symbolic:
        if lead > 0:
            regime = "explodes"
        elif lead < 0 and p0 > 1:
            regime = "stationary"
        elif lead == 0 and p0 > 1:
            regime = "grows"
        else:
            regime = "vanishes"
        condition = sp.true if regime == "explodes" else sp.false
    else:
        condition = sp.simplify(lead > 0)
        stationary = sp.simplify(sp.And(lead < 0, p0 > 1))
        regions = {
            "explodes": condition,
            "stationary": stationary,
            "vanishes": sp.simplify(sp.And(sp.Not(condition), sp.Not(stationary))),
        }
        regime = {name: where for name, where in regions.items() if where is not sp.false}
    return NormStability(norm_drift=norm_drift, k=lead, regime=regime,
                         explosion_condition=condition, _p=p, _root=root)
