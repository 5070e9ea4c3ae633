"""The contract every one-step scheme of the covariance SDE dV = b(V) dt + Σ(V)^{1/2} dB fulfils.

How to add a scheme
-------------------
Write one file in :mod:`covsde.solvers.sde.schemes` holding one subclass of :class:`Scheme`.
Nothing else changes: the package finds its modules when it is imported, and defining the class
registers it under its ``name``, so ``simulate_sde(..., scheme="name")`` runs it and the CLI offers
it.  (A subclass defined anywhere else, e.g. in a test, registers too; pass ``register=False`` in
the class statement for a scheme used only as an object, ``simulate_sde(..., scheme=MyScheme())``.)

The driver (:mod:`covsde.solvers.sde.driver`) owns the loop over steps, the random numbers
(:mod:`covsde.solvers.random_streams`), saving, explosions and processes; a scheme declares what it
needs and does one step.  It declares, as class attributes,

``name``              the name it is registered and reported under (str).
``weak_order``        global order of E f(V_T) in Δt (Kloeden & Platen 1992, §14.1).
``strong_order``      global order of E|V_T − V_T^{Δt}| in Δt on a shared Brownian path.
``noises``            increments it accepts (:data:`covsde.solvers.random_streams.NOISES`);
                      default ("gaussian",).  "rademacher" replaces each normal by a sign ±1,
                      which keeps weak order 1 for an Euler-type scheme (no strong order).
``merges_half_steps`` default False.  True when its step is D(trail Δt) ∘ N(Δt) ∘ D(Δt/2 if lead)
                      with a drift flow D, so that the driver can merge the trailing drift
                      half-step of one step with the leading one of the next (then ``step`` takes
                      the keywords ``lead`` and ``trail``, below).

and implements, with m the number of inputs (V is m × m),

``normal_count(m)``   standard normals per path-step (e.g. m(m+1)/2 for the symmetric noise).
``sign_count(m)``     signs ±1 per path-step it needs besides (default 0; Strang: its Lévy-area
                      substitute), stacked below the normals.
``normals_from_brownian(dG, dt)``
                      the normals z (normal_count(m), ...) that drive it with the matrix Brownian
                      increment dG (..., m, m), iid N(0, dt) entries: how a test runs two schemes,
                      or two step sizes, on one Brownian path.
``step(V, drift, dt, z)``
                      one step of every path.  V (P, m, m) symmetric PSD, ``drift`` the NumPy
                      b: (P, m, m) -> (P, m, m), z (normal_count(m) + sign_count(m), P).  Returns
                      (V_new (P, m, m) symmetric, failed (P,) bool: V was not PSD and was
                      projected before being factorised).  Every operation must be per path, so
                      that a path's numbers do not depend on its chunk.  A merging scheme's step
                      also takes ``lead`` (apply the leading drift half-step) and ``trail`` (the
                      trailing drift step in units of Δt: 0.5, or 1 when it takes the next
                      step's leading half too).  ``step`` must not write into V: the driver keeps
                      it as the last state before the step (what an exploded path reports when
                      its new state is not finite).

and may override

``max_stable_dt(sde, V0)``
                      the largest Δt inside the scheme's stable range at the starting states V0
                      (P, m, m) (:mod:`covsde.solvers.sde.step_size`): 1/r with r the rates of
                      change that limit it.  The default, for a scheme with an explicit drift step
                      and the linear noise L S Lᵀ, is 1/max(drift rate, noise rate m + 1); Lie
                      (exact noise) uses the drift rate only, Strang (sub-stepped drift) the noise
                      rate.  ``simulate_sde`` refuses Δt > max_stable_dt unless ``check_step=False``
                      and asks for the steps that make Δt ≤ 0.1 max_stable_dt (a sound step).

Optionally it provides a compiled kernel:

``compiled_step(sde, m)``
                      a :class:`covsde.solvers.sde.compiled.compiled_steps.CompiledStep` (a numba
                      kernel doing the same arithmetic as ``step`` on rows (V11, V12, V22), and
                      the NumPy route for the paths it cannot take), built for ``sde`` and m; or
                      None (the default) when the scheme has none.  ``backend="numba"`` uses it.
"""
from __future__ import annotations

import abc
import inspect
import numbers

from covsde.solvers.random_streams import NOISES
from covsde.solvers.sde.step_size import drift_rate, max_dt_of_rate, noise_rate

_REGISTRY: dict = {}


class Scheme(abc.ABC):
    """A one-step scheme for the covariance SDE; the module docstring is the contract."""

    name: str
    weak_order: float
    strong_order: float
    noises: tuple = ("gaussian",)
    merges_half_steps: bool = False

    def __init_subclass__(cls, register: bool = True, **kwargs):
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls):
            return
        missing = [a for a in ("name", "weak_order", "strong_order") if not hasattr(cls, a)]
        if missing:
            raise TypeError(f"scheme {cls.__name__} must declare {', '.join(missing)} "
                            "(see covsde.solvers.sde.scheme)")
        if not (isinstance(cls.name, str) and cls.name):
            raise TypeError(f"scheme {cls.__name__}: name must be a non-empty string, got {cls.name!r}")
        for order in ("weak_order", "strong_order"):
            value = getattr(cls, order)
            if not (isinstance(value, numbers.Real) and value >= 0):
                raise TypeError(f"scheme {cls.__name__}: {order} must be a non-negative number, got {value!r}")
        unknown = [n for n in cls.noises if n not in NOISES]
        if unknown or not cls.noises:
            raise TypeError(f"scheme {cls.__name__}: noises must be taken from {list(NOISES)}, "
                            f"got {cls.noises!r}")
        if register:
            if cls.name in _REGISTRY:
                raise TypeError(f"a scheme named {cls.name!r} is already registered "
                                f"({type(_REGISTRY[cls.name]).__qualname__}); choose another name")
            _REGISTRY[cls.name] = cls()

    @abc.abstractmethod
    def normal_count(self, m: int) -> int:
        """Standard normals per path-step."""

    def sign_count(self, m: int) -> int:
        """Signs ±1 per path-step besides the normals (stacked below them)."""
        return 0

    @abc.abstractmethod
    def normals_from_brownian(self, dG, dt: float):
        """z (normal_count(m), ...) for the matrix Brownian increment dG (..., m, m), iid N(0, dt)."""

    @abc.abstractmethod
    def step(self, V, drift, dt: float, z):
        """One step of every path: (V_new (P, m, m), failed (P,) bool)."""

    def compiled_step(self, sde, m: int):
        """The compiled step for ``sde`` at m (a ``CompiledStep``), or None: no compiled kernel."""
        return None

    def max_stable_dt(self, sde, V0) -> float:
        """The largest Δt of the stable range at V0 (P, m, m): 1/max(drift rate, m + 1) for an
        explicit drift step and the linear noise L S Lᵀ (:mod:`covsde.solvers.sde.step_size`)."""
        return max_dt_of_rate(max(drift_rate(sde.drift, V0), noise_rate(V0.shape[-1])))

    @property
    def has_compiled_step(self) -> bool:
        """Whether the scheme overrides :meth:`compiled_step`."""
        return type(self).compiled_step is not Scheme.compiled_step

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, weak_order={self.weak_order}, " \
               f"strong_order={self.strong_order})"


def registered_schemes() -> dict:
    """name -> scheme object, in the order the schemes were defined (a copy)."""
    return dict(_REGISTRY)
