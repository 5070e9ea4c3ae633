"""Scalar root-finding for the design targets: bracket by a scan, then Brent; the reachable range.

Every target reduces to g(p) = eta for one parameter p in an interval [lo, hi].

* Deterministic g (ODEs, the Fokker-Planck density, kernel maps): g is evaluated on a uniform scan
  of [lo, hi]; the first sign change of g - eta brackets a root, which Brent's method
  (``scipy.optimize.brentq``) refines. When g - eta has no sign change on the scan, the target is
  out of reach and :class:`covsde.derive.InputError` names the range of g seen on the scan (the
  *reachable range*).
* Monte Carlo g (the covariance SDE for smooth activations): the estimate is computed with the
  same seed at every p (common random numbers), so p -> g_hat(p) is one fixed smooth function of p
  with the noise frozen; the same bracket-and-Brent search finds its root p_hat exactly (Brent is a
  safeguarded secant method). The root's standard error is the delta method,
  SE(p_hat) = SE(g_hat(p_hat)) / |g_hat'(p_hat)|, the slope by a central difference on the
  same random numbers (Glasserman 2004, Monte Carlo Methods in Financial Engineering, §7.1).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from covsde.derive import CovsdeError, InputError

#: Points of the bracketing scan.
SCAN_POINTS = 17


@dataclass(frozen=True)
class Root:
    """p with g(p) = target: ``value``, ``achieved`` = g(value), ``evaluations`` of g,
    ``reachable`` = (min, max) of g on the scan, ``standard_error`` (Monte Carlo only, else None)."""

    value: float
    achieved: float
    evaluations: int
    reachable: tuple
    standard_error: float | None = None


def bracketed_root(g, target: float, bounds, *, what: str, parameter: str, xtol=1e-12,
                   points=SCAN_POINTS) -> Root:
    """Solve g(p) = target for p in ``bounds`` (scan, then Brent in the first bracket).

    Parameters
    ----------
    g : callable float -> float
        The achieved quantity as a function of the parameter (nan where it is not defined).
    target : float
    bounds : (lo, hi)
    what : str
        The quantity in words, for the refusal ("rho(T) of the mean ODE").
    parameter : str
        The parameter's name, for the refusal.

    Raises
    ------
    InputError
        When g - target has no sign change on the scan: the message gives the reachable range.
    """
    calls = [0]

    def counted(p):
        calls[0] += 1
        try:
            return _finite_or_nan(g(p))
        except CovsdeError:             # e.g. an ODE that blows up before T: no value there
            return float("nan")

    ps = np.linspace(bounds[0], bounds[1], points)
    values = np.array([counted(p) for p in ps])
    finite = np.isfinite(values)
    if not finite.any():
        raise InputError(f"{what} is not defined anywhere on {parameter} in [{bounds[0]:g}, {bounds[1]:g}]; "
                         "give other bounds")
    reachable = (float(np.min(values[finite])), float(np.max(values[finite])))
    exact = np.flatnonzero(finite & (values == target))
    if exact.size:
        p = float(ps[exact[0]])
        return Root(p, float(values[exact[0]]), calls[0], reachable)
    sign = np.sign(values - target)
    for i in range(points - 1):
        if finite[i] and finite[i + 1] and sign[i] != sign[i + 1]:
            p = brentq(lambda q: counted(q) - target, ps[i], ps[i + 1], xtol=xtol, rtol=4 * np.finfo(float).eps)
            return Root(float(p), float(counted(p)), calls[0], reachable)
    raise InputError(f"no {parameter} in [{bounds[0]:g}, {bounds[1]:g}] reaches {what} = {target:g}: "
                     f"the reachable range is [{reachable[0]:.6g}, {reachable[1]:.6g}] (other bounds= may "
                     "reach further)")


def monte_carlo_root(estimate, target: float, bounds, *, what: str, parameter: str,
                     points=9, xtol=1e-6) -> Root:
    """Solve E[g](p) = target when g is estimated by Monte Carlo with a fixed seed.

    Parameters
    ----------
    estimate : callable float -> (mean, standard error)
        The Monte Carlo estimate at p, always with the same random numbers (common random numbers).

    Returns
    -------
    Root with ``standard_error`` = SE(mean at the root) / |slope| (delta method, module docstring).
    """
    errors = {}

    def mean(p):
        m, se = estimate(p)
        errors[float(p)] = se
        return m

    root = bracketed_root(mean, target, bounds, what=what, parameter=parameter, xtol=xtol, points=points)
    h = max(1e-3 * (bounds[1] - bounds[0]), 1e-4)
    lo, hi = max(root.value - h, bounds[0]), min(root.value + h, bounds[1])
    slope = (mean(hi) - mean(lo)) / (hi - lo)
    se_mean = errors.get(root.value)
    if se_mean is None:
        mean(root.value)
        se_mean = errors[root.value]
    se = float(se_mean / abs(slope)) if slope != 0 else float("inf")
    return Root(root.value, root.achieved, root.evaluations + 2, root.reachable, standard_error=se)


def _finite_or_nan(x) -> float:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return x if np.isfinite(x) else float("nan")
