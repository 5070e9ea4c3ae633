"""The derived drift as compiled kernels use it, and the cache of compiled kernels.

The drift is generated, not retyped: ``sde.compiled_drift()`` hands over b(A, B, R) as pure-Python
``math`` code from :mod:`covsde.derive.codegen` (b^{ab} = b(V^aa, V^bb, V^ab), SPEC §1), evaluated
in the NumPy drift's order, with a string key of the drift and whether b(a, a, a) vanishes
identically; here it is compiled by ``numba.njit``.  SymPy stays in derive/.
"""
from __future__ import annotations

from covsde.derive.errors import InputError

#: Compiled kernels and drifts: (what, drift key, m) -> compiled function.
_KERNELS: dict = {}


def numba_available() -> bool:
    """Whether numba can be imported (the optional ``fast`` extra)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def drift_key(sde, m: int) -> str:
    """The cache key of ``sde``'s drift, after checking the compiled backend applies: numba
    installed, m = 1 or 2, an SDE derived by :func:`covsde.derive.derive_sde` without free
    parameters (``ActivationError`` otherwise)."""
    if not numba_available():
        raise InputError("backend='numba' needs numba: pip install numba (or the covsde 'fast' extra)")
    if m not in (1, 2):
        raise InputError(f"backend='numba' supports m = 1 and 2, got m = {m}; use backend='numpy'")
    if not hasattr(sde, "compiled_drift"):
        raise InputError("backend='numba' compiles the drift of an SDE from covsde.derive.derive_sde "
                         "(its compiled_drift()); use backend='numpy' for other SDE objects")
    key, _, _ = sde.compiled_drift()
    return key


def jitted_drift(sde):
    """(b(A, B, R), b(a, a, a)) of ``sde`` compiled by numba (inlined into the kernels), cached by
    drift key.  Where b(a, a, a) vanishes identically for a > 0 the diagonal drift returns 0.0
    without evaluating b (the generic formula gives exactly 0.0 there too)."""
    key, pairwise, vanishes_on_diagonal = sde.compiled_drift()
    if ("drift", key) not in _KERNELS:
        import numba
        drift = numba.njit(error_model="numpy", inline="always")(pairwise)
        if vanishes_on_diagonal:
            @numba.njit(error_model="numpy", inline="always")
            def diagonal(a):
                return 0.0 if a > 0.0 else drift(a, a, a)
        else:
            @numba.njit(error_model="numpy", inline="always")
            def diagonal(a):
                return drift(a, a, a)
        _KERNELS["drift", key] = (drift, diagonal)
    return _KERNELS["drift", key]


def cached_kernel(scheme: str, sde, m: int, build):
    """The kernel of ``scheme`` for ``sde`` at m: ``build(drift, diagonal, m)`` once per drift key,
    then cached (processes forked later inherit it)."""
    key = drift_key(sde, m)
    if (scheme, key, m) not in _KERNELS:
        _KERNELS[scheme, key, m] = build(*jitted_drift(sde), m)
    return _KERNELS[scheme, key, m]
