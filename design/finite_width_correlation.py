"""Target 2: the finite-width mean output correlation, E[rho_T] = eta, under the covariance SDE.

At width n and depth d the covariance follows the Neural Covariance SDE to T = d/n (Li, Nica & Roy
2022; SPEC §1), and rho_T is random. The target asks that its mean be eta.

* ReLU-like family: E[rho_T] from the Fokker-Planck density of the autonomous correlation SDE
  (:func:`covsde.solvers.correlation_density`): deterministic, bracket scan and Brent on a coarse
  grid (500 cells, 250 BDF2 steps: E[rho_T] to ~1e-4), then secant steps on the fine grid
  (4000 cells, 500 steps: to ~3e-7) from the coarse root.
* Smooth activations: E[rho_T] over the paths that do not explode, by Euler-Maruyama Monte Carlo of
  the 2x2 matrix SDE with the same seed at every parameter value (common random numbers), so the
  root-finder sees one frozen smooth function of p (:func:`covsde.design.root_finding.monte_carlo_root`);
  the standard error of the solution is SE(E[rho_T]) / |d E[rho_T]/dp| (delta method).
"""
from __future__ import annotations

import numpy as np

from .finite_width import correlation_sample_smooth
from .root_finding import bracketed_root, monte_carlo_root
from .target import Solution, Target, correlation_value, positive

COARSE_GRID = (500, 250)
FINE_GRID = (4000, 500)


class FiniteWidthCorrelation(Target):
    """E[rho_T] of the covariance SDE from V(0) = q0 [[1, rho0], [rho0, 1]] equals eta.

    Parameters
    ----------
    eta : float in [-1, 1]
    T : float > 0
        Depth-to-width ratio d/n, default 1.
    rho0 : float in (-1, 1)
        Input correlation, default 0.
    q0 : float > 0
        Input squared norm per dimension (smooth families; the ReLU-like rho does not depend on it).
    paths, steps : int
        Monte Carlo paths and Euler steps (smooth families).
    """

    name = "finite-correlation"
    quantity = "E[rho_T] of the covariance SDE"
    infinite_width = False

    def __init__(self, eta, T=1.0, rho0=0.0, q0=1.0, paths=4000, steps=200):
        self.eta = correlation_value(eta, "eta")
        self.T = positive(T, "T")
        self.rho0 = correlation_value(rho0, "rho0")
        self.q0 = positive(q0, "q0")
        self.paths, self.steps = int(paths), int(steps)

    @property
    def goal(self) -> float:
        return self.eta

    def describe(self) -> str:
        return f"E[rho_T] at T = {self.T:g} from rho0 = {self.rho0:g} equals {self.eta:g}"

    def mean_correlation_relu_like(self, family, p: float, grid=FINE_GRID) -> float:
        from covsde.solvers import correlation_density
        return correlation_density(family.at(p), self.rho0, self.T, grid=grid[0], time_steps=grid[1]).mean

    def mean_correlation_smooth(self, family, p: float, seed: int):
        """(mean, standard error) of rho_T over non-exploded paths, the same seed at every p."""
        V0 = self.q0 * np.array([[1.0, self.rho0], [self.rho0, 1.0]])
        rho, _, _ = correlation_sample_smooth(family.at(p), V0, self.T, paths=self.paths,
                                              steps=self.steps, seed=seed)
        if rho.size < 2:
            return float("nan"), float("nan")
        return float(rho.mean()), float(rho.std(ddof=1) / np.sqrt(rho.size))

    def solve(self, family, seed: int = 0) -> Solution:
        what = f"E[rho_T] at T = {self.T:g}"
        if family.family == "relu_like":
            coarse = bracketed_root(lambda p: self.mean_correlation_relu_like(family, p, COARSE_GRID),
                                    self.eta, family.bounds, what=what, parameter=family.free, xtol=1e-8,
                                    points=9)
            fine = secant_refinement(lambda p: self.mean_correlation_relu_like(family, p) - self.eta,
                                     coarse.value, 1e-4 * (family.bounds[1] - family.bounds[0]), family.bounds)
            value, gap, evaluations = fine
            return Solution(value, self.eta + gap,
                            f"Fokker-Planck density of rho (deterministic): bracket scan and Brent on "
                            f"{COARSE_GRID[0]} cells, secant on {FINE_GRID[0]} cells, "
                            f"{coarse.evaluations + evaluations} density solves")
        root = monte_carlo_root(lambda p: self.mean_correlation_smooth(family, p, seed), self.eta,
                                family.bounds, what=what, parameter=family.free)
        return Solution(root.value, root.achieved,
                        f"Monte Carlo ({self.paths} Euler paths, {self.steps} steps, seed {seed}, common "
                        f"random numbers) + bracket scan and Brent, {root.evaluations} runs",
                        standard_error=root.standard_error)


def secant_refinement(g, p0: float, h: float, bounds, *, steps=6, tol=1e-12):
    """The root of g near p0 by secant steps (p0, p0 + h, ...), kept inside ``bounds``;
    returns (root, g(root), evaluations of g)."""
    f0 = g(p0)
    p1 = min(max(p0 + h, bounds[0]), bounds[1])
    if p1 == p0:
        p1 = p0 - h
    f1 = g(p1)
    evaluations = 2
    for _ in range(steps):
        if abs(f1) <= tol or f1 == f0:
            break
        p0, p1 = p1, min(max(p1 - f1 * (p1 - p0) / (f1 - f0), bounds[0]), bounds[1])
        f0, f1 = f1, g(p1)
        evaluations += 1
    return (p1, f1, evaluations) if abs(f1) <= abs(f0) else (p0, f0, evaluations)
