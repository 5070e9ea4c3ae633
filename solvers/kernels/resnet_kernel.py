"""Hayou's ResNet kernel: the infinite-depth ODE and the finite-depth recursion (SPEC §2).

Network (SPEC §2): Y_l = Y_{l-1} + alpha_{l,L} W_l phi(Y_{l-1}) / sqrt(n), with kernel
q_l^{ab} = <Y_l(a), Y_l(b)> / n. At infinite width (Hayou & Yang 2023, arXiv 2302.00453)

    q_l = q_{l-1} + alpha_{l,L}^2 F_phi(q_{l-1}),    F_phi(Q)^{ab} = E[phi(Z_a) phi(Z_b)], Z ~ N(0, Q),

and with branch scales alpha_{l,L} = alpha(l/L) / sqrt(L), L -> infinity, the kernel solves

    dq/dt = alpha(t)^2 F_phi(q),    t in [0, 1]

(uniform branches alpha = 1/sqrt(L) give dq/dt = F_phi(q)). The recursion is the explicit Euler
scheme of this ODE with step 1/L, so it converges to it at first order in 1/L.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from covsde.derive import InputError
from covsde.derive.branch_schedule import schedule_function

from covsde.solvers import result_display as display
from covsde.solvers.input_validation import LARGEST_ENTRY, count, real_array, real_number, tolerance
from covsde.solvers.kernels.gaussian_expectation import _finite_or_refuse, gaussian_kernel_map, validate_covariance
from covsde.solvers.resource_limits import DOUBLE, STEP_OVERHEAD, check_memory, path_step_limit

#: The integrators of ``scipy.integrate.solve_ivp`` accepted by name.
INTEGRATORS = ("RK23", "RK45", "DOP853", "Radau", "BDF", "LSODA")


@dataclass(frozen=True, repr=False)
class KernelResult:
    """The ResNet kernel at time t.

    Attributes
    ----------
    q : ndarray, (m, m)
        The kernel at time ``t`` (symmetric).
    t : float
    saved : ndarray, (k, m, m) or None
        The kernel at the times ``save_at`` (None when none were asked for).
    save_at : ndarray, (k,) or None
    nfev : int
        Evaluations of F_phi (each O(m^2), times the quadrature nodes for activations without a
        closed form).
    method : str
        ``"ode"`` with the integrator's name, or ``"recursion"`` with the depth.
    success : bool
    message : str

    The kernel is deterministic: no seed, no paths.  Notebooks show the settings and the entries
    q^ab(t) and correlations rho^ab(t) (:mod:`covsde.solvers.result_display`).
    """

    q: np.ndarray
    t: float
    saved: np.ndarray | None
    save_at: np.ndarray | None
    nfev: int
    method: str
    success: bool
    message: str

    def _settings(self) -> dict:
        return {"m": int(self.q.shape[-1]), "t": self.t, "method": self.method, "nfev": self.nfev,
                "success": self.success}

    def __repr__(self) -> str:
        return display.settings_repr("KernelResult", self._settings() | {"message": self.message})

    def _repr_html_(self) -> str:
        values = {name: float(x) for name, x in display.covariance_samples(self.q, name="q").items()}
        return display.html_report("KernelResult", self.message, self._settings(),
                                   [display.values_table(values, "value at t")])


def resnet_kernel(phi, Q0, *, t=1.0, alpha=None, rtol=1e-8, atol=1e-10, method="ode",
                  integrator="DOP853", depth=None, degree=None, save_at=None) -> KernelResult:
    """Solve Hayou's ResNet kernel ODE dq/dt = alpha(t)^2 F_phi(q), q(0) = Q0 (SPEC §2).

    Parameters
    ----------
    phi : str, sympy.Expr, Activation or PlainActivation
        The plain branch activation as written (``max(x, 0)`` for "relu"; ``Activation.raw``): any
        phi with finite Gaussian second moments, cos, x**2, exp(-x**2), abs, Heaviside, elu, ...
        (:func:`covsde.solvers.kernels.gaussian_expectation.gaussian_kernel_map`).
    Q0 : array_like, (m, m)
        The input Gram matrix q_0^{ab} = <x_a, x_b>/n0: symmetric positive semi-definite.
    t : float
        Final time (1 for the whole network), > 0.
    alpha : None, float, callable, str or sympy.Expr
        Branch schedule alpha(t) with alpha_{l,L} = alpha(l/L)/sqrt(L); None means alpha = 1; an
        expression in t (``"sqrt(2*t)"``) is parsed by :func:`covsde.derive.branch_schedule.schedule_function`.
    rtol, atol : float
        Tolerances of ``scipy.integrate.solve_ivp``.
    method : {"ode", "recursion"}
        ``"recursion"`` returns :func:`resnet_kernel_recursion` at ``depth`` layers instead.
    integrator : str
        ``solve_ivp`` method (default DOP853, 8th order).
    depth : int, optional
        Number of layers L for ``method="recursion"``.
    degree : int, optional
        Nodes per dimension of the Hermite/trapezoid rules for activations without a closed form.
    save_at : array_like, optional
        Times in [0, t] at which to keep the kernel as well.

    Returns
    -------
    KernelResult
    """
    Q0 = _validate_gram(Q0)
    t = _validate_time(t)
    schedule = _schedule(alpha)
    save_at = _validate_save_at(save_at, t)
    rtol, atol = tolerance(rtol, "rtol", relative=True), tolerance(atol, "atol")
    if not (isinstance(integrator, str) and integrator in INTEGRATORS):
        raise InputError(f"integrator must be one of {list(INTEGRATORS)} (solve_ivp's methods), got {integrator!r}")
    F = gaussian_kernel_map(phi, degree=degree)
    if method == "recursion":
        if depth is None:
            raise InputError("method='recursion' needs depth=L, the number of layers")
        depth = count(depth, "depth", 1)
        layers = resnet_kernel_recursion(F, Q0, depth=depth, alpha=schedule, t=t, return_layers=save_at is not None)
        saved = None
        if save_at is not None:
            index = np.rint(save_at / t * depth).astype(int)
            saved, layers = layers[index], layers[-1]
        return KernelResult(layers, t, saved, save_at, int(depth), f"recursion (L = {depth})", True,
                            f"{depth} layers of q_l = q_(l-1) + alpha_(l,L)^2 F(q_(l-1))")
    if method != "ode":
        raise InputError(f"method must be 'ode' or 'recursion', got {method!r}")

    m = Q0.shape[0]
    rows, cols = np.triu_indices(m)
    diagonal_position = np.flatnonzero(rows == cols)     # where q^{aa} sits in the packed vector
    left = diagonal_position[rows]
    right = diagonal_position[cols]

    F.check_work(rows.size, caller="resnet_kernel")
    budget = path_step_limit() / max(STEP_OVERHEAD, rows.size * F.evaluations_per_entry)
    evaluations = [0]

    def rhs(time, packed):
        evaluations[0] += 1
        if evaluations[0] > budget:
            raise _OverBudget
        scale = schedule(time) ** 2
        return scale * F.pairs(packed[left], packed[right], packed)

    try:
        with np.errstate(over="ignore", invalid="ignore"):
            solution = solve_ivp(rhs, (0.0, t), Q0[rows, cols], method=integrator, rtol=rtol, atol=atol,
                                 t_eval=None if save_at is None else np.unique(np.append(save_at, t)))
    except _OverBudget:
        raise InputError(f"resnet_kernel stopped after {budget:.3g} evaluations of F (the path-step limit "
                         f"{path_step_limit():.3g}, COVSDE_PATH_STEP_LIMIT) before reaching t = {t:g}; "
                         "use a smaller t, looser tolerances or a closed-form activation") from None
    if not solution.success:
        message = f"{solution.message}: try a larger rtol/atol or a stiff integrator (integrator='Radau')"
        return KernelResult(_unpack(solution.y[:, -1], m, rows, cols), float(solution.t[-1]), None, save_at,
                            int(solution.nfev), f"ode ({integrator})", False, message)
    q = _unpack(solution.y[:, -1], m, rows, cols)
    saved = None
    if save_at is not None:
        where = np.searchsorted(solution.t, save_at)
        saved = np.stack([_unpack(solution.y[:, i], m, rows, cols) for i in where])
    return KernelResult(q, t, saved, save_at, int(solution.nfev), f"ode ({integrator})", True,
                        str(solution.message))


def resnet_kernel_recursion(phi, Q0, *, depth, alpha=None, t=1.0, return_layers=False, degree=None):
    """The infinite-width kernel of a depth-L ResNet: q_l = q_{l-1} + alpha_{l,L}^2 F_phi(q_{l-1}).

    alpha_{l,L}^2 = (t/L) alpha(l t / L)^2 (SPEC §2; Hayou & Yang 2023), l = 1..L; with t = 1 and
    alpha = 1 this is alpha_{l,L} = 1/sqrt(L). It is the explicit Euler scheme of the ODE
    dq/dt = alpha(t)^2 F_phi(q), so q_L - q(t) = O(1/L).

    Parameters
    ----------
    phi : str, sympy.Expr, Activation, PlainActivation or GaussianKernelMap
        The plain branch activation (any phi with finite Gaussian second moments).
    Q0 : array_like, (m, m)
        Symmetric PSD input Gram matrix.
    depth : int
        Number of residual layers L >= 1.
    alpha : None, float, callable, str or sympy.Expr
        Branch schedule alpha(t); None means 1 (see :func:`resnet_kernel`).
    t : float
        Total time (> 0).
    return_layers : bool
        Return every layer, shape (L + 1, m, m), instead of the last.

    Returns
    -------
    q : ndarray, (m, m) or (L + 1, m, m)
    """
    Q0 = _validate_gram(Q0)
    t = _validate_time(t)
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 1:
        raise InputError(f"depth must be an integer >= 1, got {depth!r}")
    depth = count(depth, "depth", 1)
    schedule = _schedule(alpha)
    F = phi if callable(getattr(phi, "pairs", None)) else gaussian_kernel_map(phi, degree=degree)
    m = Q0.shape[0]
    rows, cols = np.triu_indices(m)
    if return_layers:
        check_memory("resnet_kernel_recursion", [((depth + 1) * (m * m + rows.size + 16) * DOUBLE,
                                                  f"the kernels of {depth + 1:.3g} layers")],
                     "use return_layers=False or fewer layers")
    if hasattr(F, "check_work"):
        F.check_work(rows.size, calls=depth, caller="resnet_kernel_recursion")
    diagonal_position = np.flatnonzero(rows == cols)
    left, right = diagonal_position[rows], diagonal_position[cols]
    packed = Q0[rows, cols].copy()
    layers = [packed.copy()] if return_layers else None
    step = t / depth
    with np.errstate(over="ignore", invalid="ignore"):
        for layer in range(1, depth + 1):
            packed = packed + step * schedule(layer * step) ** 2 * F.pairs(packed[left], packed[right], packed)
            if return_layers:
                layers.append(packed)
    _finite_or_refuse(packed, getattr(F, "name", "phi"))
    if return_layers:
        return np.stack([_unpack(p, m, rows, cols) for p in layers])
    return _unpack(packed, m, rows, cols)


def _unpack(packed, m, rows, cols):
    q = np.empty((m, m), dtype=np.float64)
    q[rows, cols] = packed
    q[cols, rows] = packed
    return q


def _validate_gram(Q0):
    Q0 = validate_covariance(Q0, "Q0")
    if Q0.ndim != 2:
        raise InputError(f"Q0 must be one (m, m) Gram matrix, got shape {Q0.shape}")
    return Q0


def _validate_time(t):
    t = real_number(t, "t")
    if not np.isfinite(t) or t <= 0:
        raise InputError(f"t must be a positive finite number, got {t}")
    return t


def _validate_save_at(save_at, t):
    if save_at is None:
        return None
    save_at = np.atleast_1d(real_array(save_at, "save_at"))
    if save_at.ndim != 1 or save_at.size == 0 or not np.all(np.isfinite(save_at)) or np.any(save_at < 0) \
            or np.any(save_at > t) or np.any(np.diff(save_at) <= 0):
        raise InputError(f"save_at must be a non-empty list of increasing times in [0, t = {t}]")
    return save_at


def _schedule(alpha):
    """alpha(t) as a function of one float; None -> 1, a number -> constant, an expression in t
    (text or SymPy) -> the function derive generates for it."""
    alpha = schedule_function(alpha)
    if alpha is None:
        return lambda time: 1.0
    if callable(alpha):
        def schedule(time):
            value = alpha(time)
            if isinstance(value, np.ndarray) and value.shape == ():
                value = value[()]
            value = real_number(value, f"alpha(t) at t = {time}")
            if not abs(value) <= LARGEST_ENTRY:
                raise InputError(f"alpha(t) = {value:.3g} at t = {time}: alpha^2 is not finite; "
                                 "give a finite schedule below 1e154")
            return value
        return schedule
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real):
        raise InputError(f"alpha must be a real number or a function of t, got {alpha!r}")
    value = real_number(alpha, "alpha")
    if not abs(value) <= LARGEST_ENTRY:
        raise InputError(f"alpha must be finite and at most 1e154 in size (alpha^2 is used), got {value}")
    return lambda time: value


class _OverBudget(Exception):
    """Raised inside the right-hand side when the evaluations of F pass the path-step limit."""
