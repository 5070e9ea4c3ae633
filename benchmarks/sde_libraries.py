"""Benchmark 4: ``simulate_sde`` vs generic SDE libraries, at equal accuracy.

Equal accuracy means the same scheme and step: Euler–Maruyama, dt = 1e-3, shaped tanh, m = 2,
V_0 = [[1, .3], [.3, 1]]. Each library integrates the state (V11, V12, V22) with the same drift
(lambdified from ``sde.drift_expr``, not retyped) and the same exact noise: for V = L Lᵀ,
dV = L S Lᵀ with S symmetric Gaussian (SPEC §1), written as a 3×3 diffusion matrix acting on
3 independent Brownian motions ("general" noise).

* torchsde (``pip install torch==2.13.0 torchsde``): batched, float64, ``method="euler"``;
* sdeint (``pip install sdeint``): one path per call, ``itoEuler``;
* diffrax (``pip install "jax[cpu]" diffrax``): float64, ``Euler()`` on
  ``MultiTerm(ODETerm(f), ControlTerm(g, UnsafeBrownianPath))``, ``jit`` of a ``vmap`` over paths (one
  PRNG key per path), CPU; compile time is excluded from the timing and printed beside it.  A
  printed check compares E[V11_T] and the variances of V11_T, V12_T, V22_T at T = 0.2 with
  ``simulate_sde``'s, in standard errors: the two solve the same SDE.

Ours is timed with the default Gaussian NumPy Euler and, where numba is installed, the compiled
step with Gaussian and with Rademacher increments (the simplified weak Euler scheme: same weak
order 1 as every Euler here, so the same accuracy for laws and expectations at the same dt; it has
no strong order, which none of these comparisons uses). The headline ratio is for the fastest.

A library that is not installed is skipped with a line saying how to install it (the optional
``bench`` extra). Targets: ≥ 30× faster than torchsde, ≥ 1000× faster than sdeint (per path-step);
diffrax is measured and reported without a target.
"""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass

import numpy as np
import sympy as sp

from covsde.verdict import at_least

from .report import BenchmarkReport, Ratio, print_table
from .timing import format_seconds, time_call

NUMBER = 4
TITLE = "Against generic SDE libraries"
DT = 1e-3
V0 = np.array([[1.0, 0.3], [0.3, 1.0]])


def _pairwise_drift(sde):
    """b(A, B, R) from the symbolic drift, as arithmetic that works on numpy floats and torch tensors."""
    from covsde.derive import A, B, R
    return sp.lambdify((A, B, R), sde.drift_expr, modules=[{"sqrt": np.sqrt}, "math"])


def _noise_matrix(v11, v12, v22, sqrt, zeros_like, stack):
    """3×3 g with d(V11, V12, V22) = g dW, W 3 standard Brownian motions: the rows of L S Lᵀ.

    L = [[l11, 0], [l21, l22]] (Cholesky), S = [[sqrt2 dW1, dW2], [dW2, sqrt2 dW3]]:
    (L S Lᵀ)_11 = l11² sqrt2 dW1, (L S Lᵀ)_12 = l11 l21 sqrt2 dW1 + l11 l22 dW2,
    (L S Lᵀ)_22 = l21² sqrt2 dW1 + 2 l21 l22 dW2 + l22² sqrt2 dW3.
    """
    root2 = 2.0 ** 0.5
    l11 = sqrt(v11)
    l21 = v12 / l11
    l22 = sqrt(v22 - l21 * l21)
    zero = zeros_like(v11)
    return stack([stack([root2 * v11, zero, zero]),
                  stack([root2 * l11 * l21, l11 * l22, zero]),
                  stack([root2 * l21 * l21, 2.0 * l21 * l22, root2 * l22 * l22])])


def _time_torchsde(sde, paths, steps, repeat):
    import torch
    import torchsde
    torch.set_num_threads(1)
    b = _pairwise_drift(sde)

    class CovarianceSDE(torch.nn.Module):
        noise_type = "general"
        sde_type = "ito"

        def f(self, t, y):
            v11, v12, v22 = y[:, 0], y[:, 1], y[:, 2]
            return torch.stack([b(v11, v11, v11), b(v11, v22, v12), b(v22, v22, v22)], dim=1)

        def g(self, t, y):
            v11, v12, v22 = y[:, 0], y[:, 1], y[:, 2]
            G = _noise_matrix(v11, v12, v22, torch.sqrt, torch.zeros_like, lambda xs: torch.stack(xs, 0))
            return G.permute(2, 0, 1)          # (paths, 3 state, 3 noise)

    model = CovarianceSDE()
    y0 = torch.tensor([[V0[0, 0], V0[0, 1], V0[1, 1]]], dtype=torch.float64).repeat(paths, 1)
    ts = torch.tensor([0.0, steps * DT], dtype=torch.float64)
    torch.manual_seed(0)

    def solve():
        with torch.no_grad():
            return torchsde.sdeint(model, y0, ts, method="euler", dt=DT)
    return time_call(solve, repeat=repeat), torch.__version__


def _time_sdeint(sde, paths, steps, repeat):
    import sdeint
    b = _pairwise_drift(sde)

    def f(y, t):
        return np.array([b(y[0], y[0], y[0]), b(y[0], y[2], y[1]), b(y[2], y[2], y[2])])

    def G(y, t):
        return _noise_matrix(y[0], y[1], y[2], np.sqrt, np.zeros_like, np.array)

    y0 = np.array([V0[0, 0], V0[0, 1], V0[1, 1]])
    tspan = np.linspace(0.0, steps * DT, steps + 1)
    rng = np.random.default_rng(0)

    def solve():
        for _ in range(paths):
            sdeint.itoEuler(f, G, y0, tspan, generator=rng)
    return time_call(solve, repeat=repeat, warmup=0)


def _import_jax_on_one_cpu_thread():
    """Import jax for float64 on the CPU, on one core where jax is not imported yet.

    XLA's CPU client runs work on an intra-op thread pool sized from the CPUs the process may use
    (its affinity), and jax exposes no setting for it; ``--xla_cpu_multi_thread_eigen=false`` only
    covers Eigen kernels.  So the backend is started with the process pinned to one core (its pool
    threads keep that affinity) and the affinity is then restored for the rest of the process.
    All this only works if this is the first import of jax in the process; the caller measures
    CPU time / wall time of a solve and reports what it got.
    """
    if "jax" in sys.modules:
        import jax
        jax.config.update("jax_enable_x64", True)
        return jax
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else None
    try:
        if allowed:
            os.sched_setaffinity(0, {min(allowed)})
        import jax
        jax.config.update("jax_enable_x64", True)
        jax.devices("cpu")                 # starts the CPU backend and its thread pools
    finally:
        if allowed:
            os.sched_setaffinity(0, allowed)
    return jax


def _diffrax_solver(sde, steps):
    """``solve(keys) -> (len(keys), 3)`` final (V11, V12, V22) at T = steps·DT: diffrax Euler, jit(vmap)."""
    jax = _import_jax_on_one_cpu_thread()
    import diffrax
    import jax.numpy as jnp
    from covsde.derive import A, B, R
    b = sp.lambdify((A, B, R), sde.drift_expr, modules="jax")

    def f(t, y, args):
        return jnp.stack([b(y[0], y[0], y[0]), b(y[0], y[2], y[1]), b(y[2], y[2], y[2])])

    def g(t, y, args):
        return _noise_matrix(y[0], y[1], y[2], jnp.sqrt, jnp.zeros_like, jnp.stack)

    y0 = jnp.array([V0[0, 0], V0[0, 1], V0[1, 1]], dtype=jnp.float64)

    def one_path(key):
        brownian = diffrax.UnsafeBrownianPath(shape=(3,), key=key)
        terms = diffrax.MultiTerm(diffrax.ODETerm(f), diffrax.ControlTerm(g, brownian))
        solution = diffrax.diffeqsolve(terms, diffrax.Euler(), 0.0, steps * DT, dt0=DT, y0=y0,
                                       saveat=diffrax.SaveAt(t1=True), max_steps=steps + 1,
                                       adjoint=diffrax.ForwardMode())   # UnsafeBrownianPath needs it
        return solution.ys[0]
    return jax.jit(jax.vmap(one_path))


def _path_keys(paths, seed):
    jax = _import_jax_on_one_cpu_thread()
    return jax.random.split(jax.random.key(seed), paths)


def _time_diffrax(sde, paths, steps, repeat):
    """Timing of the compiled solve (compile excluded), compile seconds, CPU/wall, versions."""
    jax = _import_jax_on_one_cpu_thread()
    import diffrax
    keys = _path_keys(paths, seed=0)
    start = time.perf_counter()
    solve = _diffrax_solver(sde, steps).lower(keys).compile()
    compile_seconds = time.perf_counter() - start

    def run():
        return solve(keys).block_until_ready()
    timing = time_call(run, repeat=repeat)
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    cpu_per_wall = (time.process_time() - cpu) / (time.perf_counter() - wall)
    return timing, compile_seconds, cpu_per_wall, f"jax {jax.__version__}, diffrax {diffrax.__version__}"


@dataclass(frozen=True)
class MomentAgreement:
    """One statistic of V_T by diffrax and by ``simulate_sde`` (independent noise), with standard errors.

    Attributes
    ----------
    name : str
        e.g. "mean V11_T", "var V12_T".
    diffrax_value, diffrax_se, covsde_value, covsde_se : float
        Monte Carlo estimates and their standard errors.
    z : float
        (diffrax_value - covsde_value) / sqrt(diffrax_se² + covsde_se²): about N(0, 1) when both
        solve the same SDE with the same scheme and step (they share the O(dt) weak bias).
    """

    name: str
    diffrax_value: float
    diffrax_se: float
    covsde_value: float
    covsde_se: float
    z: float

    def __str__(self) -> str:
        return (f"diffrax {self.name} {self.diffrax_value:.4f} ± {self.diffrax_se:.4f} vs covsde "
                f"{self.covsde_value:.4f} ± {self.covsde_se:.4f} ({self.z:+.1f} se)")


def _mean_and_se(x):
    return x.mean(), x.std(ddof=1) / np.sqrt(x.size)


def _variance_and_se(x):
    """Sample variance and its delta-method standard error, std((x - x̄)²) / sqrt(n)."""
    squares = (x - x.mean()) ** 2
    return x.var(ddof=1), squares.std(ddof=1) / np.sqrt(x.size)


def diffrax_agreement(sde, *, paths=20_000, steps=200, seed=0):
    """E[V11_T] and Var of V11_T, V12_T, V22_T at T = steps·DT: diffrax Euler vs ``simulate_sde``.

    Both are Euler–Maruyama at the same dt (ours with Gaussian increments, NumPy), so they share the
    O(dt) weak bias and differ only by Monte Carlo noise.  The mean carries the drift (and the noise
    through it: dE[V11] = -2 Var(V11) dt for tanh); each variance grows with the square of one row
    of the 3×3 noise matrix, so a wrong row shows there.  Paths on which diffrax's Euler left the
    PSD cone (a NaN from sqrt; ``simulate_sde`` projects them instead) are dropped and counted.

    Returns
    -------
    (list of MomentAgreement, number of non-finite diffrax paths)
    """
    from covsde.solvers.sde.driver import simulate_sde
    ends = np.asarray(_diffrax_solver(sde, steps)(_path_keys(paths, seed)))
    finite = np.all(np.isfinite(ends), axis=1)
    theirs = ends[finite]
    V = simulate_sde(sde, V0, steps * DT, steps=steps, paths=paths, seed=seed, progress=False).V
    ours = np.stack([V[:, 0, 0], V[:, 0, 1], V[:, 1, 1]], axis=1)
    statistics = [("mean V11_T", 0, _mean_and_se), ("var V11_T", 0, _variance_and_se),
                  ("var V12_T", 1, _variance_and_se), ("var V22_T", 2, _variance_and_se)]
    rows = []
    for name, column, estimate in statistics:
        (value_theirs, se_theirs), (value_ours, se_ours) = estimate(theirs[:, column]), estimate(ours[:, column])
        rows.append(MomentAgreement(name, float(value_theirs), float(se_theirs), float(value_ours),
                                    float(se_ours), float((value_theirs - value_ours) / np.hypot(se_theirs, se_ours))))
    return rows, int(paths - finite.sum())


_CHILD = """
import json, sys
from covsde.benchmarks.sde_libraries import _time_diffrax, diffrax_agreement
from covsde.derive import derive_sde
paths, steps, repeat = (int(a) for a in sys.argv[1:4])
sde = derive_sde("tanh")
timing, compile_seconds, cpu_per_wall, versions = _time_diffrax(sde, paths, steps, repeat)
agreement, dropped = diffrax_agreement(sde)
print(json.dumps({"best": timing.best, "timing": str(timing), "compile_seconds": compile_seconds,
                  "cpu_per_wall": cpu_per_wall, "versions": versions,
                  "agreement": [str(a) for a in agreement], "dropped": dropped}))
"""


def _diffrax_in_child(paths, steps, repeat):
    """Time diffrax and run its moment check in a fresh Python process; the results as a dict."""
    import json
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-c", _CHILD, str(paths), str(steps), str(repeat)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool, figure_dir=None) -> BenchmarkReport:
    from covsde.derive import derive_sde
    report = BenchmarkReport(NUMBER, "sde_libraries", TITLE)
    from covsde.solvers.sde.driver import simulate_sde
    sde = derive_sde("tanh")
    repeat = 2 if quick else 3
    steps = 50 if quick else 200
    paths = 20_000 if quick else 50_000
    from covsde.solvers.sde.compiled.generated_drift import numba_available
    variants = [("gaussian", "numpy")]
    if numba_available():
        variants += [("gaussian", "numba"), ("rademacher", "numba")]
    else:
        variants += [("rademacher", "numpy")]
    rows, ours = [], {}
    for noise, backend in variants:
        timing = time_call(lambda: simulate_sde(sde, V0, steps * DT, steps=steps, paths=paths, seed=1,
                                                noise=noise, backend=backend, progress=False), repeat=repeat)
        ours[noise, backend] = timing.best / (paths * steps)
        rows.append([f"covsde simulate_sde euler, {noise}, {backend}", f"{paths:,} × {steps}",
                     f"{ours[noise, backend] * 1e9:.1f} ns", str(timing), ""])
    best = min(ours, key=ours.get)
    ours_per, plain_per = ours[best], ours["gaussian", "numpy"]
    best_name = f"{best[0]}, {best[1]}"
    skipped, notes = [], []
    try:
        torch_timing, torch_version = _time_torchsde(sde, paths, steps, repeat)
    except ImportError:
        skipped.append("torchsde not installed (pip install torch==2.13.0 torchsde, or the `bench` extra)")
    else:
        per = torch_timing.best / (paths * steps)
        rows.append([f"torchsde euler, general noise, float64 (torch {torch_version})", f"{paths:,} × {steps}",
                     f"{per * 1e9:.1f} ns", str(torch_timing), f"{per / ours_per:.1f}"])
        report.ratios.append(Ratio(f"torchsde / simulate_sde ({best_name}), Euler dt = 1e-3 (per path-step)",
                                   per / ours_per, f"{per * 1e9:.0f} ns vs {ours_per * 1e9:.1f} ns per path-step",
                                   at_least(30)))
        report.ratios.append(Ratio("torchsde / simulate_sde (gaussian, numpy: the default)", per / plain_per,
                                   f"{per * 1e9:.0f} ns vs {plain_per * 1e9:.1f} ns per path-step"))
    try:
        import sdeint  # noqa: F401
    except ImportError:
        skipped.append("sdeint not installed (pip install sdeint, or the `bench` extra)")
    else:
        sdeint_paths = 10 if quick else 50
        timing = _time_sdeint(sde, sdeint_paths, steps, repeat=repeat)
        per = timing.best / (sdeint_paths * steps)
        rows.append(["sdeint itoEuler (one path per call)", f"{sdeint_paths:,} × {steps}",
                     f"{per * 1e9:.0f} ns", str(timing), f"{per / ours_per:.0f}"])
        report.ratios.append(Ratio(f"sdeint / simulate_sde ({best_name}), Euler dt = 1e-3 (per path-step)",
                                   per / ours_per, f"{format_seconds(per)} vs {ours_per * 1e9:.1f} ns per path-step",
                                   at_least(1000)))
        report.ratios.append(Ratio("sdeint / simulate_sde (gaussian, numpy: the default)", per / plain_per,
                                   f"{format_seconds(per)} vs {plain_per * 1e9:.1f} ns per path-step"))
    import importlib.util
    if importlib.util.find_spec("diffrax") is None or importlib.util.find_spec("jax") is None:
        skipped.append('diffrax not installed (pip install "jax[cpu]" diffrax, or the `bench` extra)')
    else:
        # jax starts a thread pool at import, and later benchmarks fork worker processes: jax runs in
        # a child process only
        d = _diffrax_in_child(paths, steps, repeat)
        per = d["best"] / (paths * steps)
        threads = f"CPU/wall {d['cpu_per_wall']:.2f}" + (" (one thread)" if d["cpu_per_wall"] < 1.1 else "")
        rows.append([f"diffrax Euler, float64, jit(vmap) ({d['versions']})", f"{paths:,} × {steps}",
                     f"{per * 1e9:.1f} ns", d["timing"], f"{per / ours_per:.1f}"])
        report.ratios.append(Ratio(f"diffrax / simulate_sde ({best_name}), Euler dt = 1e-3 (per path-step)",
                                   per / ours_per, f"{per * 1e9:.0f} ns vs {ours_per * 1e9:.1f} ns per path-step; "
                                   f"compile {format_seconds(d['compile_seconds'])} not timed; {threads}"))
        report.ratios.append(Ratio("diffrax / simulate_sde (gaussian, numpy: the default)", per / plain_per,
                                   f"{per * 1e9:.0f} ns vs {plain_per * 1e9:.1f} ns per path-step"))
        notes.append(f"diffrax: compile {format_seconds(d['compile_seconds'])} (excluded from its time), {threads}")
        notes.append(f"same SDE? Euler dt = {DT:g}, T = 0.2, 20,000 paths each"
                     + (f" ({d['dropped']} diffrax paths non-finite, dropped)" if d["dropped"] else "") + ":")
        notes += [f"  {line}" for line in d["agreement"]]
    print(f"  Euler–Maruyama, dt = {DT:g}, tanh, m = 2 (state V11, V12, V22, 3 Brownian motions):")
    for row in rows[:len(variants)]:
        row[4] = f"{float(row[2].split()[0]) * 1e-9 / ours_per:.2f}"
    print_table(["solver", "paths × steps", "per path-step", "time", f"× covsde ({best_name})"], rows)
    for note in notes:
        print(f"  {note}")
    report.skipped = "; ".join(skipped) or None
    return report


if __name__ == "__main__":
    from . import main_for
    raise SystemExit(main_for("sde_libraries"))
