"""The infinite-width-first limit: the mean ODE dV/dt = b(V) of the covariance SDE (SPEC §1).

Taking n → ∞ before d (or T = d/n → 0 with t fixed in units of layers/n) kills the noise, whose
covariance Σ(V) dt is O(1/n) per layer, and leaves the deterministic flow dV/dt = b(V) with b the
covariance SDE's drift (Li, Nica, Roy 2022, arXiv 2206.02768).  Solved by scipy's ``solve_ivp`` on
the m(m+1)/2 entries of the upper triangle, so the solution is symmetric by construction.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from covsde.derive.errors import InputError

from covsde.solvers import result_display as display
from covsde.solvers.input_validation import covariance_per_path, positive_time, real_array, sde_with, tolerance
from covsde.solvers.resource_limits import STEP_OVERHEAD, check_path_steps, path_step_limit, vectorised_steps
from covsde.solvers.sde.step_size import drift_rate

#: The integrators of ``scipy.integrate.solve_ivp`` accepted by name.
ODE_METHODS = ("RK23", "RK45", "DOP853", "Radau", "BDF", "LSODA")
#: Explicit integrators: (h·r they stay stable for on the negative real axis, drift evaluations per
#: step) (Hairer & Wanner, Solving ODEs II, §IV.2: RK23 ≈ 2.5, RK45 ≈ 3.3, DOP853 ≈ 6).  Their step
#: cannot pass that limit whatever the tolerance, so a drift of rate r takes T r / limit steps.
EXPLICIT_STABILITY = {"RK23": (2.5, 3), "RK45": (3.3, 6), "DOP853": (6.0, 12)}


@dataclass(frozen=True, repr=False)
class MeanODEResult:
    """Outcome of :func:`solve_mean_ode`.

    V : (m, m) at T (nan when the solution blew up before T); t : (k,) the save times;
    saved : (k, m, m) V at those times; success, message, status : as returned by ``solve_ivp``
    (the message says so when the solution blows up); rtol, atol, method : settings; T : the
    final time asked for.  The ODE is deterministic: no seed, no paths.

    Notebooks show the settings and the entries V^ab(T) and correlations rho^ab(T)
    (:mod:`covsde.solvers.result_display`).
    """

    V: np.ndarray
    t: np.ndarray
    saved: np.ndarray
    success: bool
    status: int
    message: str
    rtol: float
    atol: float
    method: str
    T: float

    def _settings(self) -> dict:
        return {"m": int(self.V.shape[-1]), "T": self.T, "method": self.method, "rtol": self.rtol,
                "atol": self.atol, "success": self.success}

    def __repr__(self) -> str:
        return display.settings_repr("MeanODEResult", self._settings() | {"message": self.message})

    def _repr_html_(self) -> str:
        values = {name: float(x) for name, x in display.covariance_samples(self.V).items()}
        return display.html_report("MeanODEResult", self.message, self._settings() | {"status": self.status},
                                   [display.values_table(values, "value at T")])


def solve_mean_ode(sde, V0, T, *, rtol=1e-9, atol=1e-12, save_at=None, method="DOP853") -> MeanODEResult:
    """Solve dV/dt = b(V), V(0) = V0, up to T (SPEC §1; b = ``sde.drift``).

    Parameters
    ----------
    sde : object with ``drift(V)``, V (..., m, m) -> (..., m, m).
    V0 : (m, m) symmetric PSD (a scalar is taken as 1×1).
    T : positive final time.
    rtol, atol : solve_ivp tolerances: finite and positive, rtol at least 100 machine epsilons.
    save_at : times in [0, T] (default: [0, T]).
    method : solve_ivp method ("DOP853" default; "Radau"/"LSODA" for stiff drifts or long times:
        an explicit method whose stability limit would need more steps than the path-step limit of
        :mod:`covsde.solvers.resource_limits` allows is refused with this advice).

    Returns
    -------
    MeanODEResult.  If the solution blows up before T (finite-time explosion of the ODE, e.g.
    dV/dt = k V(V − 1) with k > 0, V0 > 1), ``success`` is False and the message says so.
    """
    sde_with(sde, "drift")
    V0 = covariance_per_path(V0, 1)[0]
    T = positive_time(T)
    rtol, atol = tolerance(rtol, "rtol", relative=True), tolerance(atol, "atol")
    if not (isinstance(method, str) and method in ODE_METHODS):
        raise InputError(f"method must be one of {list(ODE_METHODS)} (solve_ivp's integrators), got {method!r}")
    m = V0.shape[0]
    if method in EXPLICIT_STABILITY:
        limit, evaluations = EXPLICIT_STABILITY[method]
        steps = T * drift_rate(sde.drift, V0[None]) / limit
        check_path_steps("solve_mean_ode", vectorised_steps(steps * evaluations, m * (m + 1) // 2),
                         f"about {steps:.3g} steps of {method}, whose step the drift's rate of change at V0 "
                         f"keeps below {limit}/rate however loose the tolerance",
                         "use a stiff integrator (method='LSODA' or 'Radau') or a smaller T")
    iu = np.triu_indices(m)
    t_eval = np.array([0.0, float(T)]) if save_at is None else np.atleast_1d(real_array(save_at, "save_at"))
    if t_eval.ndim != 1 or not np.all(np.isfinite(t_eval)) or np.any(t_eval < 0) or np.any(t_eval > T) \
            or np.any(np.diff(t_eval) < 0):
        raise InputError(f"save_at must be increasing times in [0, T] = [0, {T}]")

    def full(y):
        V = np.empty((m, m))
        V[iu] = y
        V[iu[1], iu[0]] = y
        return V

    budget = path_step_limit() / max(STEP_OVERHEAD, m * (m + 1) // 2)     # drift evaluations allowed
    evaluations = [0]

    def rhs(_t, y):
        evaluations[0] += 1
        if evaluations[0] > budget:
            raise _OverBudget
        return sde.drift(full(y))[iu]

    def blow_up(_t, y):
        return 1e150 - np.max(np.abs(y))
    blow_up.terminal = True

    try:
        with np.errstate(over="ignore", invalid="ignore"):      # a blow-up is reported by the event below
            sol = solve_ivp(rhs, (0.0, float(T)), V0[iu], method=method, rtol=rtol, atol=atol,
                            events=blow_up, dense_output=True)
    except _OverBudget:
        raise InputError(f"solve_mean_ode stopped after {budget:.3g} drift evaluations (the path-step limit "
                         f"{path_step_limit():.3g}, COVSDE_PATH_STEP_LIMIT) before reaching T = {T:g}: the "
                         "integrator's steps are far below T; use a smaller T"
                         + (" or a stiff integrator (method='LSODA')" if method in EXPLICIT_STABILITY else "")
                         ) from None
    reached = sol.t[-1]
    saved = np.full((len(t_eval), m, m), np.nan)
    inside = t_eval <= reached
    if inside.any():
        saved[inside] = [full(y) for y in sol.sol(t_eval[inside]).T]
    success = bool(sol.success) and sol.status == 0
    message = sol.message
    last = np.max(np.abs(sol.y[:, -1]))
    if not success and (sol.status == 1 or last > 1e6 * max(1.0, np.max(np.abs(V0)))):
        success = False
        message = (f"the solution blows up near t = {reached:.6g} < T (|V| = {last:.3g}): "
                   f"the mean ODE explodes in finite time from this V0")
    V_end = full(sol.y[:, -1]) if success else np.full((m, m), np.nan)
    return MeanODEResult(V=V_end, t=t_eval, saved=saved, success=success, status=int(sol.status),
                         message=message, rtol=float(rtol), atol=float(atol), method=method, T=float(T))


class _OverBudget(Exception):
    """Raised inside the right-hand side when the drift evaluations pass the path-step limit."""
