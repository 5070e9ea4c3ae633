"""Target 5 for smooth activations: Deep Kernel Shaping at finite depth L (Martens et al. 2021).

DKS (Martens, Ballard, Desjardins, Swirszcz, Dalibard, Sohl-Dickstein & Schoenholz 2021, arXiv
2110.01765, §4-5) transforms an activation phi into phi_hat(x) = gamma (phi(alpha x + beta) + delta)
(input scale alpha, input shift beta, output shift delta, output scale gamma) so that the local
maps of a layer satisfy

    Q(1) = 1,   C(0) = 0,   Q'(1) = 1,   C'(1) = zeta^(1/L),

the last making the composed C-map of a plain MLP of depth L have slope C_f'(1) = zeta (their
"maximal slope function" x^L for a plain network). With u = alpha z + beta, z ~ N(0, 1):

* C(0) = E[phi_hat]^2 / Q(1) = 0 gives delta = -E[phi(u)];
* Q(1) = E[phi_hat(z)^2] = 1 gives gamma = 1 / sd(phi(u));
* C'(1) = E[phi_hat'(z)^2] = gamma^2 alpha^2 E[phi'(u)^2];
* Q'(1) = d/dq E[phi_hat(sqrt(q) z)^2] at q = 1 = E[phi_hat'^2] + E[phi_hat phi_hat''] (Price's
  theorem) = gamma^2 alpha^2 (E[phi'(u)^2] + E[(phi(u) + delta) phi''(u)]).

The two remaining equations in (alpha, beta) are solved by ``scipy.optimize.root`` (hybr) from the
starting points the ``dks`` package tries first (alpha in (1, 0.1), beta in (0, 1, -1)). phi, phi'
and phi'' are generated from the SymPy expression by :func:`covsde.derive.codegen.to_callable`; the
Gaussian averages use the trapezoidal rule on [-10, 10] (geometric convergence for integrands analytic
in a strip; Trefethen & Weideman 2014), as covsde's Gaussian kernel map does.
"""
from __future__ import annotations

import numpy as np

from covsde.derive import InputError, as_activation
from covsde.derive.activation_parser import X
from covsde.derive.codegen import to_callable

from .target import Solution, Target, positive

#: Trapezoidal rule for E[f(z)], z ~ N(0, 1).
_NODES = np.linspace(-10.0, 10.0, 801)
_WEIGHTS = np.exp(-_NODES**2 / 2)
_WEIGHTS /= _WEIGHTS.sum()
#: The starting points (input scale, input shift) of the dks package, in its order.
STARTS = tuple((a, b) for a in (1.0, 0.1) for b in (0.0, 1.0, -1.0))


class SmoothActivationFamily:
    """A smooth activation phi (as given, not normalised) with phi, phi', phi'' as numpy functions."""

    free = "input_scale"
    family = "dks"

    def __init__(self, activation):
        act = as_activation(activation)
        if act.family != "smooth":
            raise InputError("the DKS target applies to smooth activations; for leaky ReLU use --target tat")
        if act.parameters:
            raise InputError(f"give the parameters {[s.name for s in act.parameters]} values first")
        self.name = act.name
        self.functions = tuple(to_callable(act.raw.diff(X, k), (X,), "numpy") for k in range(3))
        self.bounds = (0.0, np.inf)

    def transform(self, alpha: float, beta: float):
        """(delta, gamma, C'(1), Q'(1)) of phi_hat for input scale alpha and shift beta (module docstring)."""
        phi, d1, d2 = (f(alpha * _NODES + beta) for f in self.functions)
        mean = float(_WEIGHTS @ phi)
        variance = float(_WEIGHTS @ (phi - mean) ** 2)
        if not variance > 0:
            return mean, np.inf, np.nan, np.nan
        gamma2 = 1.0 / variance
        slope = gamma2 * alpha**2 * float(_WEIGHTS @ d1**2)
        q_slope = slope + gamma2 * alpha**2 * float(_WEIGHTS @ ((phi - mean) * d2))
        return -mean, float(np.sqrt(gamma2)), slope, q_slope


class DKSSmooth(Target):
    """DKS for a smooth activation: Q(1) = 1, C(0) = 0, Q'(1) = 1 and C'(1) = zeta^(1/L) (Martens et al. 2021)."""

    name = "dks"
    quantity = "C_f'(1) of the DKS-transformed network"
    infinite_width = False      # the transformed activation is no shaped family: no SDE prediction

    def __init__(self, value=1.5, depth=100):
        self.zeta = positive(value, "the DKS slope target zeta")
        if not self.zeta > 1:
            raise InputError(f"the DKS slope target zeta must exceed 1 (C_f'(1) >= 1 always), got {self.zeta}")
        if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
            raise InputError(f"depth must be an integer >= 1, got {depth!r}")
        self.depth = int(depth)

    @property
    def goal(self):
        return self.zeta

    def describe(self):
        return f"C_f'(1) of {self.depth} DKS layers equals {self.zeta:g}, with Q(1) = 1, C(0) = 0, Q'(1) = 1"

    def family(self, activation, free=None, **options):
        if free not in (None, "input_scale"):
            raise InputError(f"the DKS target solves for the input scale and shift, got free={free!r}")
        if options:
            raise InputError(f"the DKS target takes no options {sorted(options)}")
        return SmoothActivationFamily(activation)

    def solve(self, family, seed=0):
        from scipy.optimize import root
        local = self.zeta ** (1.0 / self.depth)

        def residual(p):
            _, _, slope, q_slope = family.transform(p[0], p[1])
            return np.array([q_slope - 1.0, slope - local])

        for start in STARTS:
            with np.errstate(all="ignore"):
                found = root(residual, np.array(start), method="hybr")
            if found.success and found.x[0] > 0 and np.all(np.abs(residual(found.x)) < 1e-9):
                break
        else:
            raise InputError(f"no input scale and shift of {family.name} meet the DKS conditions with C'(1) = "
                             f"{local:.6g} (zeta = {self.zeta:g} over {self.depth} layers) from the dks starting "
                             "points")
        alpha, beta = (float(v) for v in found.x)
        delta, gamma, slope, q_slope = family.transform(alpha, beta)
        return Solution(alpha, slope ** self.depth,
                        f"scipy.optimize.root (hybr) on Q'(1) = 1, C'(1) = zeta^(1/L), {found.nfev} evaluations",
                        extra={"parameters": {"input_shift": beta, "output_shift": delta, "output_scale": gamma},
                               "local_q_slope": q_slope})
