"""Target 5: the unshaped TAT condition for leaky ReLU at finite depth L (Zhang et al. 2022).

TAT (Tailored Activation Transformations; Zhang, Botev & Martens 2022, arXiv 2203.08120, §5)
chooses the negative slope alpha of leaky ReLU, with output scale sqrt(2/(1 + alpha^2)) so that
the Q-map is the identity, such that the network's composed C-map sends c0 = 0 to eta: for a plain
MLP of L layers, C_alpha^{(L)}(0) = eta (their eq. (9) with the network's maximal C value that of
the whole composition). The maps come from covsde's own Gaussian kernel map
(:mod:`covsde.design.unshaped_maps`), so a user can check or replace a DKS/TAT run.

Shaped counterpart: a leaky ReLU with slopes (1, alpha) at width n is the ReLU-like family with
c+ = 0, c- = sqrt(n) (alpha - 1) (Li, Nica & Roy 2022; SPEC §1, §6), and the normalized
convention's c = 2/(1 + alpha^2) is TAT's output scale squared. One layer moves the correlation by
C_alpha(c) - c = (1 - alpha)^2 (sqrt(1 - c^2) - c arccos c)/(pi (1 + alpha^2)) = nu(c)/L + O(L^-3/2)
with (c+ - c-)^2 = L (1 - alpha)^2, so L layers follow the mean ODE d rho/dt = nu(rho) to t = 1 and
sqrt(L) (1 - alpha(L)) tends to the |c-| of the shaped design rho(1) = eta (target ``correlation``).
The finite-width prediction uses that map: at width n, c- = sqrt(n) (alpha - 1) and T = L/n.
"""
from __future__ import annotations

import numpy as np

from covsde.derive import InputError

from .finite_width import predict_shaped
from .target import Solution, Target, correlation_value
from .unshaped_maps import tat_negative_slope


class LeakyReLUFamily:
    """Leaky ReLU with negative slope alpha in [0, 1] (TAT's output scale): the free parameter."""

    free = "negative_slope"
    family = "leaky_relu"
    name = "leaky_relu"
    bounds = (0.0, 1.0)


class TATLeakyReLU(Target):
    """C_alpha composed ``depth`` times at c0 equals eta (TAT for leaky ReLU, Zhang et al. 2022, §5)."""

    name = "tat"
    quantity = "C_f(0) of the unshaped leaky-ReLU network"

    def __init__(self, eta, depth=100, rho0=0.0):
        self.eta = correlation_value(eta, "eta")
        if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
            raise InputError(f"depth must be an integer >= 1, got {depth!r}")
        self.depth = int(depth)
        self.rho0 = correlation_value(rho0, "rho0")

    @property
    def goal(self):
        return self.eta

    def describe(self):
        return f"C_f({self.rho0:g}) of {self.depth} leaky-ReLU layers (TAT) equals {self.eta:g}"

    def family(self, activation, free=None, **options):
        name = activation.strip().lower() if isinstance(activation, str) else activation
        if name not in ("leaky_relu", "relu", "relu_like"):
            raise InputError(f"the TAT target applies to leaky ReLU (ACT leaky_relu), got {activation!r}")
        if free not in (None, "negative_slope", "alpha"):
            raise InputError(f"the TAT target solves for the negative slope, got free={free!r}")
        if options:
            raise InputError(f"the TAT target takes no options {sorted(options)}")
        return LeakyReLUFamily()

    def solve(self, family, seed=0):
        alpha, achieved, _ = tat_negative_slope(self.eta, self.depth, self.rho0)
        return Solution(alpha, achieved,
                        f"composed C-map from covsde's ReLU kernel map, {self.depth} layers, vectorised "
                        f"multisection", extra={"output_scale": float(np.sqrt(2.0 / (1.0 + alpha**2))),
                                                "shaped_constant": float(np.sqrt(self.depth) * (1.0 - alpha))})

    def predict(self, family, value, width, seed=0):
        from .family import design_family
        relu = design_family("relu", "c_minus", c_plus=0)
        c_minus = np.sqrt(width) * (value - 1.0)
        T = self.depth / width
        prediction = predict_shaped(relu, c_minus, self.rho0, T, width, seed)
        return prediction
