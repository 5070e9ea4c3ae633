"""Benchmark 4's diffrax row solves the covariance SDE that covsde solves (not a timing test).

diffrax integrates (V11, V12, V22) with the drift lambdified from ``sde.drift_expr`` and the 3×3
noise matrix of L S Lᵀ; ``simulate_sde`` steps V with its own noise construction. Both are
Euler–Maruyama at dt = 1e-3, so at T = 0.2 their laws share the O(dt) bias and their Monte Carlo
estimates may differ only by sampling noise: |z| < 5 for E[V11_T] and for the variances of V11_T,
V12_T, V22_T (each variance scales with the square of one noise row; a 10 % error in the noise
moves them by about 9 standard errors at 20,000 paths).
"""
import os

import pytest

pytest.importorskip("jax")
pytest.importorskip("diffrax")

from benchmarks.sde_libraries import diffrax_agreement  # noqa: E402
from derive import derive_sde  # noqa: E402


def test_diffrax_euler_matches_simulate_sde_moments_within_five_standard_errors():
    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    agreement, non_finite = diffrax_agreement(derive_sde("tanh"), paths=20_000, steps=200, seed=11)
    assert non_finite <= 20                       # Euler leaving the PSD cone is rare at T = 0.2
    for moment in agreement:
        assert abs(moment.z) < 5, str(moment)
    if affinity is not None:                      # jax was started pinned to one core; restored after
        assert os.sched_getaffinity(0) == affinity
