"""Target 3: the law of the norm. One input's squared norm solves dV = b(V) dt + sqrt(2) V dB
(Li, Nica & Roy 2022, Sec. 3.3; SPEC §1 "The norm"), with b(v) = v p(v) and k the leading
coefficient of p; for the q = 2 normalized drift b = k v (v - 1), k = (3/4 phi''(0)^2 + phi'''(0))/a^2.
Three targets:

* ``norm-k``: k = kappa. Solved symbolically (``sympy.solve`` of k(p) = kappa).
* ``stationary-mean``: the long-run law exists and has mean mu. For the q = 2 normalized drift the
  law is Gamma(|k| - 1, rate |k|) when k < -1, with mean (|k| - 1)/|k| = 1 + 1/k, so the relation
  is algebraic, k(p) = -1/(1 - mu), and is solved symbolically; other drifts numerically
  (bracket and Brent on ``stability.stationary_mean``).
* ``explosion``: P(the norm explodes | V0) is at most a value: the boundary value of p where the
  probability equals it. Over [0, infinity) (``T=None``) by ``stability.explosion_probability``
  (gammainc(1 + k, k V0) for q = 2, Feller's scale integral otherwise); by a finite T by Monte Carlo
  of the norm SDE (:func:`covsde.solvers.simulate_norm`, log-Euler) with common random numbers.

When no parameter value reaches the target the refusal names the range k(p) covers (and the
stationary means it allows).
"""
from __future__ import annotations

import numpy as np
import sympy as sp
from sympy.calculus.util import function_range

from covsde.derive import InputError
from covsde.derive.norm_stability import classify_norm

from .finite_width import predict_shaped
from .root_finding import bracketed_root, monte_carlo_root
from .target import Solution, Target, positive, probability, real


def set_text(s) -> str:
    """A SymPy set as text: intervals as [a, b), (a, oo); anything else as sympy prints it."""
    if isinstance(s, sp.Interval):
        return (f"{'(' if s.left_open else '['}{sp.sstr(s.start)}, {sp.sstr(s.end)}"
                f"{')' if s.right_open else ']'}")
    return sp.sstr(s)


def parameter_domain(family):
    """Where p lives, as a SymPy set: (0, oo) for the shaping constant a, the real line otherwise."""
    return sp.Interval.open(0, sp.oo) if family.free == "a" else sp.S.Reals


def k_range(family):
    """The set of values k(p) takes on the parameter's domain (``sympy.calculus.util.function_range``)."""
    k = family.norm_k()
    if family.symbol not in k.free_symbols:
        return sp.FiniteSet(k)
    return function_range(k, family.symbol, parameter_domain(family))


def solve_for_k(family, kappa, describe: str) -> tuple:
    """Real solutions p of k(p) = kappa on the parameter's domain, closest to 0 first (symbolic)."""
    k = family.norm_k()
    if family.symbol not in k.free_symbols:
        raise InputError(f"{describe}: k = {k} for every {family.free} in {family.name}; it cannot be moved")
    roots = sp.solveset(sp.Eq(k, kappa), family.symbol, parameter_domain(family))
    if not isinstance(roots, sp.FiniteSet) or not roots:
        raise InputError(f"{describe}: no real {family.free} solves k = {sp.sstr(k)} = {sp.sstr(kappa)}; "
                         f"k takes values in {set_text(k_range(family))}")
    values = sorted((float(r) for r in roots), key=lambda x: (abs(x), -x))
    return tuple(values), roots


def _is_quadratic_normalized(family) -> bool:
    """b(v) = k v (v - 1): the q = 2 drift of the normalized convention (p = (-k, k))."""
    p = family.sde.stability._p
    return len(p) == 2 and sp.simplify(p[0] + p[1]) == 0


class NormK(Target):
    """k, the leading coefficient of the norm drift b(v)/v, equals kappa (symbolic solve)."""

    name = "norm-k"
    quantity = "k of the norm SDE"

    def __init__(self, value, T=1.0):
        self.value = real(value, "the target k")
        self.T = positive(T, "T")

    @property
    def goal(self):
        return self.value

    def solve(self, family, seed=0):
        kappa = sp.nsimplify(self.value, rational=True)
        values, exact = solve_for_k(family, kappa, f"k = {self.value:g}")
        k = family.norm_k()
        achieved = float(k.subs(family.symbol, values[0]))
        return Solution(values[0], achieved, f"symbolic: sympy.solveset of k = {sp.sstr(k)} = {sp.sstr(kappa)}",
                        alternatives=values[1:], extra={"exact": sp.sstr(exact)})

    def predict(self, family, value, width, seed=0):
        return predict_shaped(family, value, 0.0, self.T, width, seed)


class StationaryMean(Target):
    """The norm's long-run law exists (regime "stationary") and its mean is mu (0 < mu < 1 for q = 2)."""

    name = "stationary-mean"
    quantity = "mean of the stationary norm law"

    def __init__(self, value, T=1.0):
        self.value = positive(value, "the target stationary mean")
        self.T = positive(T, "T")

    @property
    def goal(self):
        return self.value

    def solve(self, family, seed=0):
        k = family.norm_k()
        if _is_quadratic_normalized(family):
            allowed = sp.Interval.open(-sp.oo, -1)
            covered = k_range(family)
            reachable = sp.Intersection(covered, allowed)
            if reachable is sp.S.EmptySet:
                raise InputError(
                    f"no {family.free} gives {family.name} a stationary norm law with mean {self.value:g}: "
                    f"k = {sp.sstr(k)} takes values in {set_text(covered)}, and a stationary law needs "
                    f"k < -1 (its mean is then 1 + 1/k); reachable stationary means: none")
            if not self.value < 1:
                raise InputError(f"the stationary norm law of the q = 2 drift k v (v - 1) has mean 1 + 1/k "
                                 f"in (0, 1); {self.value:g} is out of reach")
            kappa = -1 / (1 - sp.nsimplify(self.value, rational=True))
            values, exact = solve_for_k(family, kappa, f"stationary mean {self.value:g}")
            achieved = family.covariance_sde(values[0]).stability.stationary_mean
            return Solution(values[0], achieved,
                            f"symbolic: mean (|k| - 1)/|k| of Gamma(|k| - 1, rate |k|) = {self.value:g} "
                            f"<=> k = {sp.sstr(k)} = {sp.sstr(kappa)} (sympy.solveset)",
                            alternatives=values[1:], extra={"exact": sp.sstr(exact)})

        def mean_at(p):
            stability = classify_norm(family.sde.norm_drift_expr.subs(family.symbol, sp.nsimplify(p)))
            return np.nan if stability.stationary_mean is None else stability.stationary_mean
        root = bracketed_root(mean_at, self.value, family.bounds, what="the stationary mean of the norm",
                              parameter=family.free, xtol=1e-10)
        return Solution(root.value, root.achieved, f"numeric: Feller stationary density, mpmath quadrature, "
                                                   f"bracket scan and Brent, {root.evaluations} evaluations")

    def predict(self, family, value, width, seed=0):
        return predict_shaped(family, value, 0.0, self.T, width, seed)


class ExplosionProbability(Target):
    """P(the norm explodes | V(0) = V0) equals the allowed maximum: over [0, oo) when T is None
    (closed form / Feller), else by time T (Monte Carlo, common random numbers)."""

    name = "explosion"
    quantity = "P(norm explodes)"

    def __init__(self, value, V0=1.0, T=None, paths=4000, steps=400, horizon=1.0):
        self.value = probability(value, "the explosion probability")
        self.V0 = positive(V0, "V0")
        self.T = None if T is None else positive(T, "T")
        self.paths, self.steps = int(paths), int(steps)
        self.horizon = positive(horizon if T is None else T, "T")

    @property
    def goal(self):
        return self.value

    def describe(self):
        by = "in finite time" if self.T is None else f"by T = {self.T:g}"
        return f"P(norm explodes {by} | V0 = {self.V0:g}) at most {self.value:g}"

    def solve(self, family, seed=0):
        if self.T is None:
            def probability_at(p):
                stability = classify_norm(family.sde.norm_drift_expr.subs(family.symbol, sp.nsimplify(p)))
                return float(stability.explosion_probability(self.V0))
            root = bracketed_root(probability_at, self.value, family.bounds,
                                  what=f"P(explosion | V0 = {self.V0:g})", parameter=family.free, xtol=1e-10)
            return Solution(root.value, root.achieved,
                            f"closed form / Feller scale integral + bracket scan and Brent, {root.evaluations} "
                            "evaluations", note="the probability is at most the target on one side of this value")
        from covsde.solvers import simulate_norm

        def estimate(p):
            result = simulate_norm(family.at(p), self.V0, self.T, steps=self.steps, paths=self.paths, seed=seed)
            f = result.fraction_exploded
            return f, float(np.sqrt(max(f * (1 - f), 1.0 / self.paths) / self.paths))
        root = monte_carlo_root(estimate, self.value, family.bounds,
                                what=f"P(explosion by T = {self.T:g} | V0 = {self.V0:g})", parameter=family.free)
        return Solution(root.value, root.achieved,
                        f"Monte Carlo of the norm SDE ({self.paths} log-Euler paths, {self.steps} steps, seed "
                        f"{seed}, common random numbers) + bracket scan and Brent, {root.evaluations} runs",
                        standard_error=root.standard_error,
                        note="the probability is at most the target on one side of this value")

    def predict(self, family, value, width, seed=0):
        return predict_shaped(family, value, 0.0, self.horizon, width, seed, self.V0)
