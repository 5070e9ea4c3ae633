"""What finite width predicts for a design: the law of rho_T at depth-to-width ratio T = d/n.

DKS/TAT and the mean ODE fix the parameters with infinitely wide layers. At width n and depth d the
covariance of a shaped MLP follows the Neural Covariance SDE up to T = d/n (Li, Nica & Roy 2022;
SPEC §1), so the same parameters give a random output correlation rho_T, and the norm may explode.

* ReLU-like family: rho solves the autonomous SDE d rho = [nu(rho) - rho(1 - rho^2)/2] dt +
  (1 - rho^2) dW; its law comes deterministically from the Fokker-Planck equation
  (:func:`covsde.solvers.correlation_density`); the diagonal is a geometric Brownian motion, which
  never explodes.
* Smooth activations: Monte Carlo of the 2x2 matrix SDE (:func:`covsde.solvers.simulate_sde`,
  Euler-Maruyama); rho_T over the paths that did not explode, and the fraction that did.
* ResNets: finite ResNets themselves (:func:`covsde.solvers.simulate_resnet`, the exact chain
  sampler), since their covariance has no shaped-SDE limit at fixed width (SPEC §2).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: The quantiles reported.
QUANTILES = (0.05, 0.5, 0.95)
#: Monte Carlo paths and steps per unit time of the smooth-family prediction.
PREDICTION_PATHS = 4000
STEPS_PER_UNIT_TIME = 200
#: Fokker-Planck grid of the ReLU-like prediction (mean and quantiles accurate to ~1e-5).
FOKKER_PLANCK_GRID = (4000, 2000)


@dataclass(frozen=True)
class FiniteWidthPrediction:
    """The law of rho_T at finite width for designed parameters.

    width, depth : the network; T = depth/width; mean, std : of rho_T; quantiles : rho_T at
    :data:`QUANTILES`; fraction_exploded : of the norm by T; standard_error : of ``mean`` (Monte
    Carlo, else 0); method : how it was computed (one line).
    """

    width: int
    depth: int
    T: float
    mean: float
    std: float
    quantiles: tuple
    fraction_exploded: float
    standard_error: float
    method: str

    def line(self) -> str:
        q = ", ".join(f"{v:.4g}" for v in self.quantiles)
        se = f" ± {self.standard_error:.2g}" if self.standard_error else ""
        return (f"width {self.width}, depth {self.depth} (T = {self.T:g}): E[rho_T] = {self.mean:.4g}{se}, "
                f"q05/q50/q95 = {q}, fraction exploded {self.fraction_exploded:.3g}  [{self.method}]")


def correlation_law_relu_like(sde, rho0: float, T: float, *, grid=FOKKER_PLANCK_GRID):
    """The Fokker-Planck law of rho_T for a numeric ReLU-like SDE (``correlation_drift``)."""
    from covsde.solvers import correlation_density
    return correlation_density(sde, rho0, T, grid=grid[0], time_steps=grid[1])


def correlation_sample_smooth(sde, V0, T: float, *, paths=PREDICTION_PATHS, steps=None, seed=0):
    """rho_T of the non-exploded paths and the fraction exploded, from the 2x2 matrix SDE."""
    from covsde.solvers import simulate_sde
    steps = steps or max(int(np.ceil(STEPS_PER_UNIT_TIME * T)), 20)
    result = simulate_sde(sde, V0, T, steps=steps, paths=paths, seed=seed, progress=False)
    kept = ~result.exploded
    rho = result.correlation[kept, 0, 1]
    rho = rho[np.isfinite(rho)]
    return rho, result.fraction_exploded, steps


def depth_for(width: int, T: float) -> int:
    return max(int(round(T * width)), 1)


def predict_shaped(family, value: float, rho0: float, T: float, width: int, seed: int = 0,
                   q0: float = 1.0) -> FiniteWidthPrediction:
    """The finite-width law of rho_T for a shaped MLP with the designed parameter ``value``."""
    depth = depth_for(width, T)
    T_net = depth / width
    sde = family.covariance_sde(value)
    if family.family == "relu_like":
        law = correlation_law_relu_like(sde, rho0, T_net)
        return FiniteWidthPrediction(width, depth, T_net, law.mean, law.std,
                                     tuple(float(x) for x in law.quantile(QUANTILES)), 0.0, 0.0,
                                     "Fokker-Planck of the correlation SDE")
    V0 = q0 * np.array([[1.0, rho0], [rho0, 1.0]])
    rho, exploded, steps = correlation_sample_smooth(sde, V0, T_net, seed=seed)
    if rho.size == 0:
        return FiniteWidthPrediction(width, depth, T_net, float("nan"), float("nan"), (float("nan"),) * 3,
                                     exploded, float("nan"), "every SDE path exploded")
    return FiniteWidthPrediction(width, depth, T_net, float(rho.mean()), float(rho.std()),
                                 tuple(float(x) for x in np.quantile(rho, QUANTILES)), exploded,
                                 float(rho.std(ddof=1) / np.sqrt(rho.size)) if rho.size > 1 else float("nan"),
                                 f"covariance SDE, {rho.size + int(round(exploded * PREDICTION_PATHS))} "
                                 f"Euler paths, {steps} steps, seed {seed}")
