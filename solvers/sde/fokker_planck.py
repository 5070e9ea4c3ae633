"""Density of the ReLU-like correlation ρ_t, deterministically, from its Fokker–Planck equation.

SPEC §1 (Li, Nica, Roy 2022): for ReLU-like activations the correlation solves the autonomous SDE
dρ = μ(ρ) dt + (1 − ρ²) dW on [−1, 1], μ(ρ) = ν(ρ) − ρ(1 − ρ²)/2 (``sde.correlation_drift``), so its
density solves ∂p/∂t = −∂_ρ(μ p) + ½ ∂²_ρ((1 − ρ²)² p).

Method.  We solve it in x = artanh ρ, where the diffusion is constant.  By Itô's formula
(d artanh/dρ = 1/(1 − ρ²), d² artanh/dρ² = 2ρ/(1 − ρ²)²):

    dx = a(x) dt + dW,    a(x) = μ(ρ)/(1 − ρ²) + ρ,   ρ = tanh x,

and q(x, t) solves ∂q/∂t = −∂_x(a q − ½ ∂_x q).  Why this variable: the diffusion 1 − ρ² degenerates
at ρ = ±1 and the density can pile up there (ρ → ±1 is where the correlation goes); in x the
diffusion is constant, a uniform x-grid is exponentially fine near ρ = ±1 (cell width in ρ is
(1 − ρ²) h), and the ends become far-away zero-flux walls that hold negligible mass.

Discretisation: finite volumes on a uniform grid of cells, Scharfetter–Gummel (exponentially
fitted, Chang–Cooper type) fluxes F_{i+½} = (D/h)[B(−Pe) q_i − B(Pe) q_{i+1}], D = ½, Pe = a h/D,
B(z) = z/(e^z − 1), positive for any Péclet number, so the large drift a ≈ ν(−1) cosh² x near
ρ = −1 needs no special care; zero flux at both walls; BDF2 in time after one backward-Euler step
(L-stable, no oscillations from the delta initial condition), sparse LU once per step size.
The columns of the operator sum to zero, so total mass is conserved to rounding (~1e−13).
The initial condition is a discrete delta: mass split linearly between the two cells around
artanh ρ0.  The domain [x_lo, x_hi] is chosen from the drift's range over it so that a Brownian
motion with that drift leaves it with probability below 1e−12 by T (and |x| ≤ 30, beyond which ρ
is ±1 in double precision).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sps
import scipy.sparse.linalg as spla

from covsde.derive.errors import InputError

from covsde.solvers import result_display as display
from covsde.solvers.input_validation import count, positive_time, real_array, real_number, sde_with
from covsde.solvers.resource_limits import DOUBLE, check_memory, check_path_steps, vectorised_steps

X_MAX = 30.0
#: Largest drift of the total mass from 1 accepted (it is ~1e-13 for a sound time step; a step so
#: large that I − dt A loses the identity to rounding moves it, and the density is then wrong).
MASS_TOLERANCE = 1e-6
#: Doubles per cell held at once (drift at faces, three diagonals, two sparse LU factors with
#: their indices, the masses of three time levels, cell edges and centres), for the memory check.
DOUBLES_PER_CELL = 24


@dataclass(frozen=True, repr=False)
class CorrelationDensity:
    """Density of ρ_t from the Fokker–Planck equation.

    Attributes
    ----------
    x : (N,) cell centres in x = artanh ρ; x_edges : (N+1,)
    rho : (N,) = tanh(x), the ρ-nodes; rho_edges : (N+1,)
    mass : (N,) probability of each cell at T (sums to 1)
    density : (N,) density of ρ at the nodes: mass / (cell width in ρ)
    save_at, saved_mass : the times and the cell masses (k, N) at those times (or None)
    T, rho0 : settings
    message : one line summary (grid, time steps, total mass).

    The equation is deterministic: no seed, and ρ cannot explode.  Notebooks show the settings and
    the mean, std and 5/50/95 % quantiles of ρ_T under the computed law
    (:mod:`covsde.solvers.result_display`).
    """

    x: np.ndarray
    x_edges: np.ndarray
    rho: np.ndarray
    rho_edges: np.ndarray
    mass: np.ndarray
    T: float
    rho0: float
    save_at: np.ndarray | None = None
    saved_mass: np.ndarray | None = None
    message: str = ""

    @property
    def density(self) -> np.ndarray:
        return self.mass / np.diff(self.rho_edges)

    @property
    def total_mass(self) -> float:
        return float(np.sum(self.mass))

    @property
    def mean(self) -> float:
        """E ρ_T = sum_i mass_i ρ_i (each cell's mass at its node ρ_i = tanh x_i)."""
        return float(np.sum(self.mass * self.rho) / np.sum(self.mass))

    @property
    def std(self) -> float:
        """sqrt(E ρ_T² − (E ρ_T)²) with the masses at the nodes, as :attr:`mean`."""
        second = float(np.sum(self.mass * self.rho ** 2) / np.sum(self.mass))
        return float(np.sqrt(max(second - self.mean ** 2, 0.0)))

    def quantile(self, p):
        """The r with P(ρ_T ≤ r) = p: the inverse of :meth:`cdf` (p may be an array in [0, 1])."""
        F = np.concatenate([[0.0], np.cumsum(self.mass)]) / np.sum(self.mass)
        return np.tanh(np.interp(np.asarray(p, dtype=np.float64), F, self.x_edges))

    def cdf(self, r, mass=None):
        """P(ρ_T ≤ r), piecewise linear in x between cell edges (r may be an array)."""
        mass = self.mass if mass is None else mass
        F = np.concatenate([[0.0], np.cumsum(mass)])
        with np.errstate(divide="ignore"):
            x = np.arctanh(np.clip(np.asarray(r, dtype=np.float64), -1.0, 1.0))
        return np.interp(x, self.x_edges, F, left=0.0, right=1.0)

    def _settings(self) -> dict:
        return {"T": self.T, "rho0": self.rho0, "cells": int(self.mass.size)}

    def __repr__(self) -> str:
        return display.settings_repr("CorrelationDensity", self._settings() | {"message": self.message})

    def _repr_html_(self) -> str:
        q = self.quantile(display.QUANTILES)
        header = ("quantity", "mean", "std", "q05", "q50", "q95")
        rows = [("rho", self.mean, self.std, q[0], q[1], q[2])]
        settings = self._settings() | {"total mass": self.total_mass}
        return display.html_report("CorrelationDensity", self.message, settings, [(header, rows)])


def _bernoulli(z):
    """B(z) = z/(e^z − 1), B(0) = 1, evaluated without overflow."""
    z = np.asarray(z, dtype=np.float64)
    out = np.ones_like(z)
    small = np.abs(z) < 1e-8
    big = ~small
    with np.errstate(over="ignore"):
        out[big] = z[big] / np.expm1(z[big])
    out[small] = 1.0 - z[small] / 2.0
    return out


def _x_drift(sde, x):
    """a(x) = μ(ρ)/(1 − ρ²) + ρ = ν(ρ)/sech² x + ρ/2, ρ = tanh x (see module docstring).

    Written through ν(ρ) = μ(ρ) + ρ(1 − ρ²)/2 (both from the same rounded ρ) and the exact
    sech² x, so that where tanh x rounds to ±1 the drift keeps its limit ν(±1)/sech² x ± 1/2.
    """
    rho = np.tanh(x)
    sech2 = 1.0 / np.cosh(x) ** 2
    nu = sde.correlation_drift(rho) + 0.5 * rho * (1.0 - rho * rho)
    return nu / sech2 + 0.5 * rho


def correlation_density(sde, rho0, T, *, grid=4000, time_steps=2000, save_at=None) -> CorrelationDensity:
    """Density of ρ_T for the ReLU-like correlation SDE by its Fokker–Planck equation (SPEC §1).

    Parameters
    ----------
    sde : a ReLU-like ``derive_sde`` object (uses ``sde.correlation_drift``).
    rho0 : initial correlation in (−1, 1).
    T : positive time.
    grid : number of finite-volume cells in x = artanh ρ.
    time_steps : BDF2 steps from 0 to T.
    save_at : times in (0, T] at which to keep the cell masses too.

    Returns
    -------
    CorrelationDensity (``.cdf(r)``, ``.density``, ``.mass``; mass conserved to ~1e−13).
    """
    sde_with(sde, "correlation_drift")
    T = positive_time(T)
    rho0 = real_number(rho0, "rho0")
    if not -1.0 < rho0 < 1.0:
        raise InputError(f"rho0 must lie in the open interval (-1, 1), got {rho0}")
    grid, time_steps = count(grid, "grid", 10), count(time_steps, "time_steps", 2)
    saves = 0 if save_at is None else np.size(real_array(save_at, "save_at"))
    check_memory("correlation_density", [(grid * DOUBLES_PER_CELL * DOUBLE, f"a grid of {grid:.3g} cells"),
                                         (grid * saves * DOUBLE, f"the masses at {saves} save times")],
                 "use a smaller grid (or fewer save_at times)")
    check_path_steps("correlation_density", vectorised_steps(time_steps, grid),
                     f"{time_steps:.3g} time steps of {grid:.3g} cells", "use fewer cells or time steps")
    x0 = float(np.arctanh(rho0))
    x_lo, x_hi = _domain(sde, x0, T)
    edges = np.linspace(x_lo, x_hi, grid + 1)
    h = edges[1] - edges[0]
    centres = 0.5 * (edges[:-1] + edges[1:])
    A = _generator_matrix(_x_drift(sde, edges[1:-1]), h)

    q = np.zeros(grid)
    j = int(np.clip(np.floor((x0 - centres[0]) / h), 0, grid - 2))
    w = np.clip((x0 - centres[j]) / h, 0.0, 1.0)
    q[j], q[j + 1] = 1.0 - w, w                      # cell masses

    dt = T / time_steps
    save_idx = None
    saved = None
    if save_at is not None:
        times = np.atleast_1d(real_array(save_at, "save_at"))
        if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times <= 0) or np.any(times > T * (1 + 1e-12)):
            raise InputError(f"save_at must be times in (0, T] = (0, {T}]")
        save_idx = np.maximum(np.rint(times / dt).astype(int), 1)
        saved = np.empty((len(times), grid))
    eye = sps.identity(grid, format="csc")
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            be = spla.splu((eye - dt * A).tocsc())
            bdf2 = spla.splu((eye - (2.0 / 3.0) * dt * A).tocsc())
    except RuntimeError as exc:                       # SuperLU: "Factor is exactly singular"
        raise InputError(f"the Fokker–Planck step matrix I - dt A cannot be factorised ({exc}); use more "
                         "time_steps or a smaller T") from None
    prev = q
    q = be.solve(q)
    for n in range(1, time_steps + 1):
        if n > 1:
            q, prev = bdf2.solve((4.0 * q - prev) / 3.0), q
        if save_idx is not None:
            saved[save_idx == n] = q
    mass = float(np.sum(q))
    if not abs(mass - 1.0) <= MASS_TOLERANCE:
        raise InputError(f"the total mass moved to {mass:.6g} (it is conserved to ~1e-13 when I - dt A keeps its "
                         f"identity): the time step T/time_steps = {dt:.3g} is too large for this grid; use more "
                         "time_steps or a smaller T")
    return CorrelationDensity(x=centres, x_edges=edges, rho=np.tanh(centres), rho_edges=np.tanh(edges),
                              mass=q, T=float(T), rho0=float(rho0),
                              save_at=None if save_idx is None else save_idx * dt, saved_mass=saved,
                              message=f"Fokker-Planck in x = artanh(rho): {grid} cells on [{x_lo:.3g}, "
                                      f"{x_hi:.3g}], {time_steps} BDF2 steps to T = {T:g}; "
                                      f"mass {np.sum(q):.15g}")


def _domain(sde, x0, T):
    """[x_lo, x_hi] ∋ x0 that a path of dx = a dt + dW leaves by T with probability < 1e−12."""
    probe = np.linspace(-X_MAX, X_MAX, 6001)
    a = _x_drift(sde, probe)
    spread = 7.5 * np.sqrt(T) + 1.0
    a_right = max(float(np.max(a[probe >= x0])), 0.0)
    a_left = min(float(np.min(a[probe <= x0])), 0.0)
    return max(x0 + a_left * T - spread, -X_MAX), min(x0 + a_right * T + spread, X_MAX)


def _generator_matrix(a_faces, h):
    """Sparse A with dq/dt = A q for cell masses q, Scharfetter–Gummel fluxes, zero-flux walls.

    Flux through interior face i+½ (between cells i and i+1): F = (D/h)[B(−Pe) q_i/h − B(Pe) q_{i+1}/h]·h
    in terms of masses, D = ½, Pe = a h / D.  Cell i loses F, cell i+1 gains F.
    """
    D = 0.5
    pe = a_faces * h / D
    right = D / h**2 * _bernoulli(-pe)      # rate from cell i to i+1
    left = D / h**2 * _bernoulli(pe)        # rate from cell i+1 to i
    N = len(a_faces) + 1
    diag = np.zeros(N)
    diag[:-1] -= right
    diag[1:] -= left
    return sps.diags([diag, right, left], [0, -1, 1], shape=(N, N), format="csc")
