"""Target 1: the infinite-width output correlation at depth, rho(T) = eta, from the mean ODE.

With infinitely wide layers the covariance of a shaped MLP follows the mean ODE dV/dt = b(V) of the
covariance SDE (the noise, O(1/n) per layer, is gone; Li, Nica & Roy 2022; SPEC §1), with t = l/n.
Started from V(0) = q0 [[1, rho0], [rho0, 1]], the output correlation is
rho(T) = V^12(T) / sqrt(V^11(T) V^22(T)). The target asks rho(T) = eta: the shaped counterpart of
the TAT condition on the composed C-map, C_f(0) = eta (Zhang et al. 2022, §4.2, eq. 8 with the
network's C-map the L-fold composition of the local one).
"""
from __future__ import annotations

import numpy as np

from .finite_width import predict_shaped
from .root_finding import bracketed_root
from .target import Solution, Target, correlation_value, positive


class CorrelationAtDepth(Target):
    """rho(T) of the mean ODE dV/dt = b(V) from V(0) = q0 [[1, rho0], [rho0, 1]] equals eta.

    Parameters
    ----------
    eta : float in [-1, 1]
        Target output correlation.
    T : float > 0
        The ODE time (depth/width of the network it stands for), default 1.
    rho0 : float in (-1, 1)
        Input correlation, default 0 (orthogonal inputs, as in TAT).
    q0 : float > 0
        Input squared norm per dimension, default 1.
    """

    name = "correlation"
    quantity = "rho(T) of the mean ODE"

    def __init__(self, eta, T=1.0, rho0=0.0, q0=1.0):
        self.eta = correlation_value(eta, "eta")
        self.T = positive(T, "T")
        self.rho0 = correlation_value(rho0, "rho0")
        self.q0 = positive(q0, "q0")

    @property
    def goal(self) -> float:
        return self.eta

    def describe(self) -> str:
        return f"rho(T = {self.T:g}) of the mean ODE from rho0 = {self.rho0:g} equals {self.eta:g}"

    def correlation(self, family, p: float) -> float:
        """rho(T) of the mean ODE at parameter value p (nan where the ODE blows up before T)."""
        from covsde.solvers import solve_mean_ode
        V0 = self.q0 * np.array([[1.0, self.rho0], [self.rho0, 1.0]])
        result = solve_mean_ode(family.at(p), V0, self.T, rtol=1e-10, atol=1e-12)
        if not result.success:
            return float("nan")
        V = result.V
        return float(V[0, 1] / np.sqrt(V[0, 0] * V[1, 1]))

    def solve(self, family, seed: int = 0) -> Solution:
        root = bracketed_root(lambda p: self.correlation(family, p), self.eta, family.bounds,
                              what=f"rho(T = {self.T:g}) of the mean ODE", parameter=family.free)
        return Solution(root.value, root.achieved,
                        f"mean ODE (solve_ivp DOP853, rtol 1e-10) + bracket scan and Brent, "
                        f"{root.evaluations} ODE solves")

    def predict(self, family, value, width, seed=0):
        return predict_shaped(family, value, self.rho0, self.T, width, seed, self.q0)
