"""``covsde.design.solve``: find the parameter value that makes a target hold, and say what finite width does."""
from __future__ import annotations

import time

from covsde.derive import InputError

from .design_result import DesignResult
from .target import Target, target_from_name

#: Width of the finite-width prediction when none is given.
DEFAULT_WIDTH = 100


def solve(activation, target, *, free=None, bounds=None, width=DEFAULT_WIDTH, predict=True, seed=0,
          a=1, c_plus=None, c_minus=None, params=None, **target_options) -> DesignResult:
    """Solve for one free parameter of an activation family so that a target holds.

    Parameters
    ----------
    activation : str, sympy.Expr or Activation
        ``"relu"`` (the ReLU-like family, free c_minus or c_plus), ``"leaky_relu"`` (TAT), a
        built-in smooth name (free: the shaping constant ``a``) or an expression with one free
        coefficient (``"x + 0.1*x**2 + beta*x**3"``).
    target : Target or str
        A target object, or a registered name (:data:`covsde.design.TARGETS`) whose options are
        ``target_options``:

        1. ``"correlation"`` (eta, T=1, rho0=0): rho(T) of the mean ODE dV/dt = b(V) equals eta;
        2. ``"finite-correlation"`` (eta, T=1, rho0=0, paths, steps): E[rho_T] of the covariance
           SDE equals eta (Fokker-Planck for the ReLU-like family, Monte Carlo with common random
           numbers otherwise, with the standard error of the solution);
        3. ``"norm-k"`` (value), ``"stationary-mean"`` (value), ``"explosion"`` (value, V0=1, T=None):
           the norm SDE's k, the mean of its stationary law, or its explosion probability;
        4. ``"resnet-ratio"`` (value), ``"resnet-correlation"`` (eta, rho0=0), with ``schedule``
           alpha(t) optional: the ResNet branch scale for the kernel ODE at t = 1;
        5. ``"tat"`` (eta, depth=100): TAT's leaky-ReLU slope, C composed depth times sends 0 to eta;
           ``"dks"`` (value=zeta, depth=100): DKS's input scale and shift, output shift and scale of a
           smooth activation (Q(1) = 1, C(0) = 0, Q'(1) = 1, C'(1) = zeta^(1/L)).
    free : str, optional
        The parameter to solve for (default: see :func:`covsde.design.design_family`).
    bounds : (lo, hi), optional
        Where to search for it.
    width : int
        Width of the finite-width prediction (depth = T width, or the target's depth).
    predict : bool
        Compute the finite-width prediction of an infinite-width design.
    seed : int
        Seed of every Monte Carlo run (the same seed at every iteration of a root-finder).
    a, c_plus, c_minus, params : the values of the parameters that are not free.

    Returns
    -------
    DesignResult

    Raises
    ------
    InputError
        When no parameter value reaches the target: the message gives the reachable range.
    """
    if isinstance(target, str):
        target = target_from_name(target, **target_options)
    elif target_options:
        raise InputError(f"options {sorted(target_options)} go with a target name, not a Target object")
    if not isinstance(target, Target):
        raise InputError(f"target must be a design target or its name, got {type(target).__name__}")
    from covsde.solvers.input_validation import count
    width = count(width, "width", 1)
    options = {}
    if bounds is not None:
        options["bounds"] = bounds
    if target.family.__func__ is Target.family:
        options.update(a=a, c_plus=c_plus, c_minus=c_minus, **(params or {}))
    start = time.perf_counter()
    family = target.family(activation, free, **options)
    solution = target.solve(family, seed=seed)
    seconds = time.perf_counter() - start
    parameters = dict(getattr(family, "fixed", {}) or {})
    parameters[family.free] = solution.value
    if "output_scale" in solution.extra:
        parameters["output_scale"] = solution.extra["output_scale"]
    parameters.update(solution.extra.get("parameters", {}))
    prediction = None
    if predict and target.infinite_width:
        prediction = target.predict(family, solution.value, width, seed)
    return DesignResult(activation=family.name, target=target, free=family.free, value=float(solution.value),
                        parameters=parameters, achieved=float(solution.achieved),
                        residual=float(solution.achieved - target.goal), solver=solution.solver,
                        standard_error=solution.standard_error, alternatives=tuple(solution.alternatives),
                        prediction=prediction, seconds=seconds, note=solution.note, extra=dict(solution.extra))
