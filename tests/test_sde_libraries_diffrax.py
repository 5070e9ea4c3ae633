"""Benchmark 4's diffrax row solves the covariance SDE that covsde solves (not a timing test).

diffrax integrates (V11, V12, V22) with the drift lambdified from ``sde.drift_expr`` and the 3×3
noise matrix of L S Lᵀ; ``simulate_sde`` steps V with its own noise construction. Both are
Euler–Maruyama at dt = 1e-3, so at T = 0.2 their laws share the O(dt) bias and their Monte Carlo
estimates may differ only by sampling noise: |z| < 5 for E[V11_T] and for the variances of V11_T,
V12_T, V22_T (each variance scales with the square of one noise row; a 10 % error in the noise
moves them by about 9 standard errors at 20,000 paths).
"""
import importlib.util
import json
import subprocess
import sys

import pytest

if importlib.util.find_spec("jax") is None or importlib.util.find_spec("diffrax") is None:
    pytest.skip("jax and diffrax are not installed (the optional bench extra)", allow_module_level=True)

# jax starts threads at import; the rest of the suite forks worker processes, so jax is imported
# only in a child process, never in the pytest process
SCRIPT = """
import json, os
affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
from covsde.benchmarks.sde_libraries import diffrax_agreement
from covsde.derive import derive_sde
agreement, non_finite = diffrax_agreement(derive_sde("tanh"), paths=20_000, steps=200, seed=11)
after = sorted(os.sched_getaffinity(0)) if affinity is not None else None
print(json.dumps({"z": [m.z for m in agreement], "text": [str(m) for m in agreement],
                  "non_finite": int(non_finite), "affinity_restored": affinity == after}))
"""


def test_diffrax_euler_matches_simulate_sde_moments_within_five_standard_errors():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["non_finite"] <= 20             # Euler leaving the PSD cone is rare at T = 0.2
    for z, text in zip(result["z"], result["text"]):
        assert abs(z) < 5, text
    assert result["affinity_restored"]            # jax was started pinned to one core; restored after
