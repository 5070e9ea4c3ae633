"""Target 4: the ResNet branch scale that gives a kernel at t = 1.

A depth-L ResNet Y_l = Y_{l-1} + alpha_{l,L} W_l phi(Y_{l-1})/sqrt(n) with branch scales
alpha_{l,L} = s alpha(l/L)/sqrt(L) has, at infinite width and as L -> infinity, the kernel ODE
dq/dt = s^2 alpha(t)^2 F_phi(q), F_phi(Q)^{ab} = E[phi(Z_a) phi(Z_b)], Z ~ N(0, Q)
(Hayou & Yang 2023, arXiv 2302.00453; SPEC §2). The free parameter is the branch scale s (the
constant branch alpha = s when no schedule is given, else the scale of the schedule alpha(t)).
Targets: ``resnet-ratio`` q^11(1)/q^11(0) = r for one input, and ``resnet-correlation``
rho(1) = q^12(1)/sqrt(q^11(1) q^22(1)) = eta for two inputs of correlation rho0. Both are solved
by a bracket scan and Brent on s in [0, s_max]; at s = 0 the kernel does not move, so the
reachable range starts at the input's own value.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from covsde.derive import InputError, as_activation

from .finite_width import QUANTILES, FiniteWidthPrediction
from .root_finding import bracketed_root
from .target import Solution, Target, correlation_value, positive

#: Default search interval of the branch scale s.
SCALE_BOUNDS = (0.0, 5.0)
#: Finite ResNets of the prediction.
PREDICTION_NETWORKS = 400


@dataclass(frozen=True)
class ResNetFamily:
    """The branch activation phi (plain), the schedule alpha(t) (None: constant 1), the bounds of s."""

    activation: object
    schedule: object
    bounds: tuple
    free: str = "branch_scale"
    family: str = "resnet"

    @property
    def name(self) -> str:
        return self.activation.name

    def scaled_schedule(self, s: float):
        """t -> s alpha(t) for :func:`covsde.solvers.resnet_kernel` (a number when alpha is constant)."""
        if self.schedule is None:
            return float(s)
        from covsde.derive import schedule_function
        alpha = schedule_function(self.schedule)
        if not callable(alpha):
            return float(s) * float(alpha)
        return lambda t: float(s) * alpha(t)


class _ResNetTarget(Target):
    """Shared parts of the two ResNet targets."""

    def __init__(self, q0=1.0, schedule=None, depth=None):
        self.q0 = positive(q0, "q0")
        self.schedule = schedule
        self.depth = depth

    def family(self, activation, free=None, bounds=None, **options):
        if free not in (None, "branch_scale", "alpha"):
            raise InputError(f"the ResNet targets solve for the branch scale (free='branch_scale'), got {free!r}")
        if options:
            raise InputError(f"the ResNet targets take no options {sorted(options)}")
        bounds = SCALE_BOUNDS if bounds is None else tuple(float(b) for b in bounds)
        if not (0 <= bounds[0] < bounds[1] and np.isfinite(bounds[1])):
            raise InputError(f"bounds of the branch scale must satisfy 0 <= lo < hi < inf, got {bounds}")
        return ResNetFamily(as_activation(activation), self.schedule, bounds)

    def kernel(self, family, s: float, Q0):
        from covsde.solvers import resnet_kernel
        result = resnet_kernel(family.activation, Q0, t=1.0, alpha=family.scaled_schedule(s), rtol=1e-10,
                               atol=1e-12)
        return result.q if result.success else np.full_like(Q0, np.nan)

    def finite_resnets(self, family, value, Q0, width, seed):
        from covsde.solvers import simulate_resnet
        depth = int(self.depth or width)
        schedule = family.scaled_schedule(value)
        if callable(schedule):
            alpha = np.array([schedule(l / depth) for l in range(1, depth + 1)]) / np.sqrt(depth)
        else:
            alpha = schedule / np.sqrt(depth)
        samples = simulate_resnet(family.activation, Q0=Q0, width=width, depth=depth, alpha=alpha,
                                  networks=PREDICTION_NETWORKS, seed=seed, layers=[-1])
        return samples.q[:, -1], depth


class ResNetNormRatio(_ResNetTarget):
    """q^11(1)/q^11(0) = ratio for one input of squared norm q0 (kernel ODE, SPEC §2)."""

    name = "resnet-ratio"
    quantity = "q(1)/q(0) of the ResNet kernel ODE"

    def __init__(self, value, q0=1.0, schedule=None, depth=None):
        super().__init__(q0, schedule, depth)
        self.value = positive(value, "the target ratio q(1)/q(0)")

    @property
    def goal(self):
        return self.value

    def solve(self, family, seed=0):
        Q0 = np.array([[self.q0]])
        root = bracketed_root(lambda s: self.kernel(family, s, Q0)[0, 0] / self.q0, self.value, family.bounds,
                              what="q(1)/q(0) of the kernel ODE", parameter="branch scale")
        return Solution(root.value, root.achieved, f"kernel ODE (solve_ivp DOP853) + bracket scan and Brent, "
                                                   f"{root.evaluations} ODE solves")

    def predict(self, family, value, width, seed=0):
        q, depth = self.finite_resnets(family, value, np.array([[self.q0]]), width, seed)
        ratio = q[:, 0, 0] / self.q0
        ok = np.isfinite(ratio)
        r = ratio[ok]
        return FiniteWidthPrediction(width, depth, 1.0, float(r.mean()), float(r.std()),
                                     tuple(float(x) for x in np.quantile(r, QUANTILES)), float(np.mean(~ok)),
                                     float(r.std(ddof=1) / np.sqrt(r.size)),
                                     f"{PREDICTION_NETWORKS} finite ResNets (chain sampler), q(1)/q(0), seed {seed}")


class ResNetCorrelation(_ResNetTarget):
    """rho(1) of the kernel ODE from Q0 = q0 [[1, rho0], [rho0, 1]] equals eta (SPEC §2)."""

    name = "resnet-correlation"
    quantity = "rho(1) of the ResNet kernel ODE"

    def __init__(self, eta, rho0=0.0, q0=1.0, schedule=None, depth=None):
        super().__init__(q0, schedule, depth)
        self.eta = correlation_value(eta, "eta")
        self.rho0 = correlation_value(rho0, "rho0")

    @property
    def goal(self):
        return self.eta

    def describe(self):
        return f"rho(1) of the ResNet kernel ODE from rho0 = {self.rho0:g} equals {self.eta:g}"

    def _Q0(self):
        return self.q0 * np.array([[1.0, self.rho0], [self.rho0, 1.0]])

    def solve(self, family, seed=0):
        def correlation(s):
            q = self.kernel(family, s, self._Q0())
            return q[0, 1] / np.sqrt(q[0, 0] * q[1, 1])
        root = bracketed_root(correlation, self.eta, family.bounds, what="rho(1) of the kernel ODE",
                              parameter="branch scale")
        return Solution(root.value, root.achieved, f"kernel ODE (solve_ivp DOP853) + bracket scan and Brent, "
                                                   f"{root.evaluations} ODE solves")

    def predict(self, family, value, width, seed=0):
        q, depth = self.finite_resnets(family, value, self._Q0(), width, seed)
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = q[:, 0, 1] / np.sqrt(q[:, 0, 0] * q[:, 1, 1])
        ok = np.isfinite(rho)
        r = rho[ok]
        return FiniteWidthPrediction(width, depth, 1.0, float(r.mean()), float(r.std()),
                                     tuple(float(x) for x in np.quantile(r, QUANTILES)), float(np.mean(~ok)),
                                     float(r.std(ddof=1) / np.sqrt(r.size)),
                                     f"{PREDICTION_NETWORKS} finite ResNets (chain sampler), seed {seed}")
