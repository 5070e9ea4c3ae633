"""Checks shared by every solver: covariance matrices, counts, times, numbers and tolerances.

One place decides what a valid covariance matrix, count (steps, paths, width, …), time, real
number and tolerance are, so that every entry point (SDE solvers, kernel ODE, finite networks,
CLI) accepts and refuses the same things with the same sentence.  A number is a real number:
``bool``, ``str``, ``None``, complex values (even with a zero imaginary part) and arrays of them
are refused rather than converted, so that nothing is silently made real or parsed from text.
Seeds are checked where they become random streams
(:func:`covsde.solvers.random_streams.seed_sequence`); how much memory and work one call may take
is :mod:`covsde.solvers.resource_limits`'s business.
"""
from __future__ import annotations

import numbers

import numpy as np

from covsde.derive.errors import InputError

#: Relative tolerances: asymmetry allowed before refusing, and negative eigenvalue allowed (round-off).
SYMMETRY_TOL = 1e-12
PSD_TOL = 1e-10
#: Largest entry of a covariance matrix: its products must stay finite (sqrt of the largest float64).
LARGEST_ENTRY = float(np.sqrt(np.finfo(np.float64).max))
#: Largest count accepted (2^53: every integer up to it is exact in float64).
MAX_COUNT = 2 ** 53
#: Smallest relative tolerance an adaptive integrator can honour: 100 machine epsilons (as
#: ``scipy.integrate.solve_ivp``, which otherwise raises it with a warning).
SMALLEST_RTOL = 100 * np.finfo(np.float64).eps


def real_array(value, name: str) -> np.ndarray:
    """``value`` as a float64 array after checking it holds real numbers (InputError otherwise).

    Refused: complex entries (even 1 + 0j: nothing is silently made real), booleans, text,
    None, ragged nesting and objects that are not numbers.
    """
    if value is None:
        raise InputError(f"{name} must be a real number or array of them, got None")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a real number or array of them (not a ragged list)") from None
    if raw.dtype == object and all(isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))
                                   for x in raw.ravel()):
        try:                                   # e.g. SymPy or Fraction entries: real numbers
            raw = np.array(raw, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            raise InputError(f"{name} has entries that do not fit a float64") from None
    kind = raw.dtype.kind
    if kind == "c":
        raise InputError(f"{name} must be real, got complex values; give the real part explicitly "
                         f"(e.g. np.real({name})) if that is what you mean")
    if kind not in "iuf" or raw.dtype == object:
        what = {"b": "booleans", "U": "text", "S": "bytes", "O": "objects that are not real numbers"}
        raise InputError(f"{name} must be a real number or array of them, got "
                         f"{what.get(kind, raw.dtype.name)}")
    try:
        return np.array(raw, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be a real number or array of them") from None


def real_number(value, name: str) -> float:
    """A real number (int, float, NumPy real scalar, SymPy number; not bool, str, complex) as float."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a real number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be a real number that fits a float64, got {value!r}") from None


def positive_number(value, name: str, *, allow_inf: bool = False) -> float:
    """A real number > 0, finite unless ``allow_inf``, as float; else InputError."""
    x = real_number(value, name)
    if not (x > 0 and (allow_inf or np.isfinite(x))):
        raise InputError(f"{name} must be a positive{'' if allow_inf else ' finite'} number, got {value!r}")
    return x


def finite_number(value, name: str) -> float:
    """A finite real number as float; else InputError."""
    x = real_number(value, name)
    if not np.isfinite(x):
        raise InputError(f"{name} must be a finite number, got {value!r}")
    return x


def tolerance(value, name: str, *, relative: bool = False) -> float:
    """A finite positive tolerance as float (a relative one at least SMALLEST_RTOL); else InputError."""
    x = positive_number(value, name)
    if relative and x < SMALLEST_RTOL:
        raise InputError(f"{name} = {x:g} is below {SMALLEST_RTOL:.3g} (100 machine epsilons), the smallest "
                         "relative tolerance an adaptive integrator can honour")
    return x


def sde_with(sde, *methods: str, name: str = "sde"):
    """``sde`` after checking it has callable ``methods`` (e.g. "drift"); else InputError."""
    missing = [m for m in methods if not callable(getattr(sde, m, None))]
    if missing:
        raise InputError(f"{name} must be a covariance SDE from covsde.derive.derive_sde (an object with "
                         f"{', '.join(f'{m}(...)' for m in methods)}), got {type(sde).__name__}")
    return sde


def symmetric_psd(V, name: str = "V0", *, stacked: bool = False) -> np.ndarray:
    """V as float64, exactly symmetrised, after checking it is a finite symmetric PSD matrix.

    Parameters
    ----------
    V : array_like, (m, m) (a scalar is read as 1×1), or (..., m, m) when ``stacked``
    name : str
        How the error message calls it (e.g. ``"V0"``, ``"--V0"``, ``"Q0"``).

    Raises
    ------
    InputError
        One sentence naming what is wrong: shape, non-finite entries, asymmetry, or the
        smallest eigenvalue when V is not positive semi-definite.
    """
    V = real_array(V, name)
    if V.ndim == 0:
        V = V.reshape(1, 1)
    if (V.ndim != 2 and not (stacked and V.ndim > 2)) or V.shape[-1] != V.shape[-2] or V.shape[-1] == 0:
        raise InputError(f"{name} must be a square (m, m) matrix"
                         f"{' (or a stack of them)' if stacked else ''}, got shape {V.shape}")
    if not np.all(np.isfinite(V)):
        raise InputError(f"{name} has non-finite entries; give a finite symmetric PSD matrix")
    largest = float(np.max(np.abs(V)))
    if largest > LARGEST_ENTRY:
        raise InputError(f"{name} has an entry of size {largest:.3g}, beyond {LARGEST_ENTRY:.3g} = sqrt(largest "
                         "float64): products of entries (the diffusion V⊗V, the drift) overflow; rescale it")
    scale = max(1.0, largest)
    if np.max(np.abs(V - np.swapaxes(V, -1, -2))) > SYMMETRY_TOL * scale:
        raise InputError(f"{name} is not symmetric; give a symmetric matrix (e.g. (V + V.T)/2)")
    V = (V + np.swapaxes(V, -1, -2)) / 2
    smallest = float(np.linalg.eigvalsh(V).min())
    if smallest < -PSD_TOL * scale * V.shape[-1]:
        raise InputError(f"{name} is not positive semi-definite (smallest eigenvalue {smallest:.3g}); "
                         "give a covariance matrix")
    return V


def covariance_per_path(V0, paths: int, name: str = "V0") -> np.ndarray:
    """V0 (m, m) or one per path (paths, m, m), symmetric PSD -> (paths or 1, m, m) float64."""
    V0 = symmetric_psd(V0, name, stacked=True)
    if V0.ndim > 3:
        raise InputError(f"{name} must be a square m×m matrix or (paths, m, m), got shape {V0.shape}")
    if V0.ndim == 3 and V0.shape[0] != paths:
        raise InputError(f"{name} holds {V0.shape[0]} matrices but paths = {paths}; "
                         f"give one {name} or one per path")
    return V0 if V0.ndim == 3 else V0[None]


def count(value, name: str, minimum: int = 1) -> int:
    """An integer >= minimum (an integral float such as 1e5 counts), as int; else InputError."""
    integral = isinstance(value, numbers.Integral) and not isinstance(value, bool)
    if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
        integral = True
    if not integral or value < minimum:
        what = {0: "a non-negative integer", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
        raise InputError(f"{name} must be {what}, got {value!r}")
    if value > MAX_COUNT:
        try:
            shown = f"{float(value):.3g}"
        except OverflowError:
            shown = "more than 1e308"
        raise InputError(f"{name} = {shown} is beyond any memory or time; give at most 2**53")
    return int(value)


def positive_time(T, name: str = "T") -> float:
    """A finite time > 0 as float (a real number: not bool, str or complex); else InputError."""
    if isinstance(T, (bool, np.bool_)) or not isinstance(T, numbers.Real):
        raise InputError(f"{name} must be a positive time, got {T!r}")
    try:
        T = float(T)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{name} must be a positive time that fits a float64, got {T!r}") from None
    if not (np.isfinite(T) and T > 0):
        raise InputError(f"{name} must be a positive time, got {T}")
    return T


def save_steps(save_at, T: float, steps: int):
    """Requested save times in [0, T] -> (step indices (k,), the times on the grid of ``steps`` steps);
    (None, None) when ``save_at`` is None."""
    if save_at is None:
        return None, None
    times = np.atleast_1d(real_array(save_at, "save_at"))
    if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times < 0) or np.any(times > T * (1 + 1e-12)):
        raise InputError(f"save_at must be times in [0, T] = [0, {T}]")
    idx = np.rint(times / T * steps).astype(np.int64)
    return idx, idx * (T / steps)
