"""Benchmark 1 (the headline): weak error vs seconds, plain Euler vs the weak order 2 methods.

The target (weak error 1e-3 reached ≥ 5× faster than plain Euler) is carried by the Strang
scheme (``scheme="strang"``: Strang splitting of the drift flow and the SymPy-derived weak order 2
noise flow, :mod:`covsde.solvers.sde.schemes`).  Its study is one coupled run (:func:`euler_and_strang`):
Euler at N = 32 … 192 and Strang at N = 4 … 32 on the same matrix Brownian paths, errors measured
path by path against 2 f(Y^384) − f(Y^192) of Euler on those paths; N(ε) and seconds as below, the
cost per step of each measured with ``simulate_sde`` in this run.  Richardson extrapolation
(weak order 2 by another route) is kept as a second comparison, without a target.

m = 2, V_0 = [[1, .3], [.3, 1]], T = 1, quantities E[V11_T], E[V12_T], E[ρ_T], for the shaped tanh
SDE and the ReLU-like one (c+ = 0, c- = -1; full run). One call of
:func:`covsde.solvers.sde.richardson.richardson_expectation` runs Euler at N = 4 … 128 steps and the
extrapolation R(N) = 2 E f(Y^{2N}) - E f(Y^N) (weak order 2) at N = 4 … 64, all on the same
Brownian paths; the reference is the finest extrapolation R(64) and each error is measured path
by path against it (so its Monte Carlo noise is small; it is printed).

Time to accuracy ε = 1e-3 (per path; both methods need the same number of paths for the same
statistical error, so only the bias matters): N(ε) is the first N whose error is below ε with
2 standard errors to spare; beyond the measured N the error is extrapolated as C/N (Euler) or
C/N² (Richardson) from the finest level. Seconds = N(ε) × the measured cost per step
(``simulate_sde`` Euler per path-step at N = 128; ``richardson_expectation`` per path per base
step at N = 32, which runs 3N Euler steps on 2N steps of noise). Target: Richardson ≥ 5× faster than Euler.

The Lie scheme and the law of ρ_T come from a second, coupled run (:func:`coupled_final_states`):
one matrix Brownian motion G (iid N(0, dt) entries) per path drives Euler (through
``normals_from_brownian``, the symmetric part of dG) and Lie (all of dG) at N = 4 … 64 steps and
Euler at N_ref = 256 and 512, the coarse increments being sums of the fine ones. Its references,
on the same paths: 2 f(Y^512) - f(Y^256) for the expectations (Lie rows) and the Euler law at
N_ref = 512 for ρ_T. The law error is the two-sample KS distance sup |F_N - F_ref| of the sampled
ρ_T; on coupled samples its Monte Carlo noise is below that of independent samples of that size,
whose mean sqrt(pi/2) ln 2 sqrt(2/P) (the KS noise floor) is printed; the Euler reference's own
law error is about 1/8 of Euler's at N = 64 (weak order 1). Richardson extrapolation applies to expectations,
not to laws, so it has no KS row; the 1e-3 target is on expectations.
Figure (with matplotlib): |error| vs seconds per 10^5 paths, log-log, one panel per quantity,
saved as time_to_accuracy.png in the figure folder (``covsde bench --figures DIR``).
"""
from __future__ import annotations

import numpy as np

from pathlib import Path

from covsde.verdict import at_least

from .report import BenchmarkReport, Ratio, print_table
from .timing import format_seconds, time_call

NUMBER = 1
TITLE = "Time to accuracy (weak error 1e-3)"
EPSILON = 1e-3
V0 = np.array([[1.0, 0.3], [0.3, 1.0]])
T = 1.0
BASE_STEPS = (4, 8, 16, 32, 64)
QUANTITIES = ("E[V11_T]", "E[V12_T]", "E[rho_T]")
LAW = "law of rho_T (KS)"
LAW_STEPS = (256, 512)            # Euler reference levels of the coupled run (N_ref = 512)
# the weak order 2 study (Euler vs Strang, one coupled run): Euler reference 2 E(384) - E(192)
STRANG_STEPS = (4, 6, 8, 12, 16, 24, 32)
EULER_STEPS = (32, 48, 64, 96, 128, 192)
STRANG_REFERENCE = (192, 384)
FIGURE_NAME = "time_to_accuracy.png"
#: Mean of the Kolmogorov distribution, sqrt(pi/2) ln 2: sqrt(P/2) KS between two independent
#: samples of size P of one law averages this (the KS noise floor).
KOLMOGOROV_MEAN = float(np.sqrt(np.pi / 2) * np.log(2))


def quantities(V):
    """(V11, V12, ρ) per path: (P, 3); ρ = 0 where a variance is 0 (a coarse Euler step can reach it)."""
    scale = np.sqrt(np.clip(V[:, 0, 0] * V[:, 1, 1], 0.0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(scale > 0, np.clip(V[:, 0, 1] / np.where(scale > 0, scale, 1.0), -1.0, 1.0), 0.0)
    return np.stack([V[:, 0, 0], V[:, 0, 1], rho], axis=1)


def coupled_final_states(sde, schemes, *, paths, seed, chunk=10_000, T=T):
    """V_T for each (scheme name, N) in ``schemes``, all driven by one matrix Brownian path per sample.

    G has iid N(0, dt) entries on the finest grid; the increment of a coarse step is the sum of the
    fine increments inside it, turned into the scheme's normals by ``scheme.normals_from_brownian``
    (Euler and Strang: the symmetric part of dG, SPEC §1; Lie: all of dG).  A scheme that also takes
    signs (Strang's Lévy-area substitute, ``scheme.sign_count``) gets them from a second stream.
    Euler and Strang finals are projected onto the PSD cone (eigenvalue clipping), as ``simulate_sde``
    reports them.  Returns {(name, N): (P, m, m)}.
    """
    import math

    from covsde.solvers.sde.schemes import get_scheme
    from covsde.solvers.sde.symmetric_noise import project_psd
    finest = max(n for _, n in schemes)
    if any(finest % n for _, n in schemes):
        raise ValueError(f"every step count must divide the finest, {finest}")
    coarsest = math.gcd(*(n for _, n in schemes))        # outer steps: every level is a multiple
    m, per = V0.shape[-1], finest // coarsest
    rng = np.random.default_rng(seed)
    signs_rng = np.random.default_rng([seed, 1])
    out = {key: [] for key in schemes}
    for start in range(0, paths, chunk):
        P = min(chunk, paths - start)
        states = {key: np.array(np.broadcast_to(V0, (P, m, m))) for key in schemes}
        for _ in range(coarsest):
            fine = rng.standard_normal((per, P, m, m)) * np.sqrt(T / finest)
            for (name, n) in schemes:
                scheme, dt = get_scheme(name), T / n
                increments = fine.reshape(n // coarsest, per * coarsest // n, P, m, m).sum(axis=1)
                signs = getattr(scheme, "sign_count", lambda m: 0)(m)
                for dG in increments:
                    z = scheme.normals_from_brownian(dG, dt)
                    if signs:
                        z = np.concatenate([z, 2.0 * signs_rng.integers(0, 2, size=(signs, P)) - 1.0])
                    states[name, n], _ = scheme.step(states[name, n], sde.drift, dt, z)
        for (name, n), V in states.items():
            if not np.all(np.isfinite(V)):
                raise FloatingPointError(f"{name} N = {n} produced non-finite states")
            out[name, n].append(V if name == "lie" else project_psd(V))
    return {key: np.concatenate(parts) for key, parts in out.items()}


def _compiled_steps(sde, names, m):
    """{name: step(V, dt, z) -> V} for the schemes among ``names`` that have a compiled m = 2 kernel."""
    if m != 2 or not _numba_installed():
        return {}
    from covsde.solvers.sde.compiled.compiled_steps import matrices_from_rows as _matrices
    from covsde.solvers.sde.schemes import get_scheme
    out = {}
    for name in sorted(names):
        if not get_scheme(name).has_compiled_step:
            continue
        compiled = get_scheme(name).compiled_step(sde, m)
        kernel, repair = compiled.kernel, compiled.repair

        def step(V, dt, z, kernel=kernel, repair=repair, **flags):
            X = np.ascontiguousarray(V[:, (0, 0, 1), (0, 1, 1)].T)
            Y = np.empty_like(X)
            if kernel(X, Y, z, dt, np.inf, *flags.values()):
                rows = np.flatnonzero(np.isnan(Y).any(axis=0))
                if rows.size:                       # singular or non-PSD states: the NumPy route
                    Y[:, rows] = repair(_matrices(X[:, rows]), sde.drift, dt, z[:, rows],
                                        **flags)[0][:, (0, 0, 1), (0, 1, 1)].T
            return _matrices(Y)
        out[name] = step
    return out


def ks_distance(a, b):
    """Two-sample Kolmogorov–Smirnov distance sup_x |F_a(x) - F_b(x)| of two 1-d samples."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                               - np.searchsorted(b, grid, side="right") / b.size)))


def steps_to_accuracy(steps, error, standard_error, order, epsilon=EPSILON):
    """(N, how): steps needed for a weak error <= ε.

    "measured": the first N with |error| + 2 se <= ε there and at every finer N. Otherwise the
    error at the finest N is extrapolated as C / N^order (or the finest N is kept when its error
    is already below ε but not by 2 standard errors).
    """
    steps = np.asarray(steps, dtype=float)
    below = np.abs(error) + 2 * standard_error <= epsilon
    for i in range(len(steps)):
        if np.all(below[i:]):
            return steps[i], "measured"
    finest, size = steps[-1], abs(error[-1])
    if size <= epsilon:
        return finest, f"N = {finest:.0f}, within noise"
    return finest * (size / epsilon) ** (1 / order), f"extrapolated from N = {finest:.0f}"


def run(quick: bool, figure_dir=None) -> BenchmarkReport:
    from covsde.derive import derive_sde
    report = BenchmarkReport(NUMBER, "time_to_accuracy", TITLE)
    from covsde.solvers.sde.driver import simulate_sde
    from covsde.solvers.sde.richardson import richardson_expectation
    paths = 40_000 if quick else 400_000
    law_paths = 20_000 if quick else 100_000
    strang_paths = 40_000 if quick else 1_000_000
    cases = [("tanh", derive_sde("tanh"))]
    if not quick:
        cases.append(("relu-like (c+ = 0, c- = -1)", derive_sde("relu", c_plus=0, c_minus=-1)))

    # cost per step, measured in this run at the finest step counts of the study (a coarse Euler step
    # is slower: it leaves the PSD cone more often and is repaired), m = 2, 20,000 paths
    probe_paths, euler_steps, richardson_steps = 20_000, 2 * BASE_STEPS[-1], BASE_STEPS[-2]
    cost = {}
    for scheme in ("euler", "lie"):
        cost[scheme] = time_call(lambda: simulate_sde(cases[0][1], V0, T, steps=euler_steps, paths=probe_paths,
                                                      seed=1, scheme=scheme, progress=False),
                                 repeat=3).best / (probe_paths * euler_steps)
    euler_cost, lie_cost = cost["euler"], cost["lie"]
    richardson_cost = time_call(lambda: richardson_expectation(cases[0][1], V0, T, quantities,
                                                               steps=richardson_steps, paths=probe_paths,
                                                               seed=1),
                                repeat=3).best / (probe_paths * richardson_steps)
    strang_cost = time_call(lambda: simulate_sde(cases[0][1], V0, T, steps=euler_steps, paths=probe_paths,
                                                 seed=1, scheme="strang", progress=False),
                            repeat=3).best / (probe_paths * euler_steps)
    print(f"  cost per path per step: Euler (simulate_sde, N = {euler_steps}) {euler_cost * 1e9:.0f} ns; "
          f"Lie (simulate_sde, scheme='lie', N = {euler_steps}) {lie_cost * 1e9:.0f} ns "
          f"({lie_cost / euler_cost:.2f}× Euler); "
          f"Richardson (richardson_expectation, N = {richardson_steps}, per base step) "
          f"{richardson_cost * 1e9:.0f} ns ({richardson_cost / euler_cost:.2f}× Euler); "
          f"Strang (simulate_sde, scheme='strang', N = {euler_steps}) {strang_cost * 1e9:.0f} ns "
          f"({strang_cost / euler_cost:.2f}× Euler); the Euler / Strang ratios below time whole runs at the N "
          "each needs (simulate_sde, 20,000 paths, best of 3)")

    curves = {}       # label -> {quantity -> {scheme -> (seconds, |error|, standard error)}}
    for label, sde in cases:
        result = richardson_expectation(sde, V0, T, quantities, steps=list(BASE_STEPS), paths=paths, seed=7)
        law = _law_and_lie(sde, law_paths)
        weak2 = euler_and_strang(sde, strang_paths)
        floor = KOLMOGOROV_MEAN * np.sqrt(2.0 / law_paths)
        print(f"  {label}: {paths:,} paths, reference R({BASE_STEPS[-1]}); Lie rows and the law of rho_T "
              f"from {law_paths:,} coupled paths against Euler N_ref = {LAW_STEPS[-1]} on the same paths "
              f"(KS noise floor, the mean KS of two independent samples of that size of one law: {floor:.1e}; "
              "coupled samples are less noisy; the reference's own law error is about 1/8 of Euler N = 64's); "
              "error ± standard error:")
        rows = []
        for j, n in enumerate(result.euler_steps):
            ks = f"{law['euler'][n][0]:.2e}" if n in law["euler"] else ""
            rows.append([f"Euler N = {n}", f"{format_seconds(n * euler_cost * 1e5)}"]
                        + [f"{result.euler_deviation[j, q]:+.2e} ± {result.euler_deviation_standard_error[j, q]:.0e}"
                           for q in range(len(QUANTITIES))] + [ks])
        for n in BASE_STEPS:
            ks, mean, se = law["lie"][n]
            rows.append([f"Lie N = {n}", f"{format_seconds(n * lie_cost * 1e5)}"]
                        + [f"{mean[q]:+.2e} ± {se[q]:.0e}" for q in range(len(QUANTITIES))] + [f"{ks:.2e}"])
        for i, n in enumerate(result.steps[:-1]):
            rows.append([f"Richardson N = {n}", f"{format_seconds(n * richardson_cost * 1e5)}"]
                        + [f"{result.deviation[i, q]:+.2e} ± {result.deviation_standard_error[i, q]:.0e}"
                           for q in range(len(QUANTITIES))] + ["n/a: expectations only"])
        print_table(["scheme", "s / 10^5 paths", *QUANTITIES, LAW + ", no target"], rows)
        print(f"  {label}, weak order 2 study: Euler and Strang on {strang_paths:,} shared Brownian paths, "
              f"reference 2 E(Y^{STRANG_REFERENCE[1]}) - E(Y^{STRANG_REFERENCE[0]}) of Euler on the same paths; "
              "error ± standard error:")
        rows = []
        for name, cost_per_step in (("euler", euler_cost), ("strang", strang_cost)):
            levels, error, se = weak2[name]
            for j, n in enumerate(levels):
                rows.append([f"{name.capitalize()} N = {n}", format_seconds(n * cost_per_step * 1e5)]
                            + [f"{error[j, q]:+.2e} ± {se[j, q]:.0e}" for q in range(len(QUANTITIES))])
        print_table(["scheme", "s / 10^5 paths", *QUANTITIES], rows)

        curves[label] = {name: {
            "Euler": (result.euler_steps * euler_cost * 1e5, np.abs(result.euler_deviation[:, q]),
                      result.euler_deviation_standard_error[:, q]),
            "Lie": (np.array(BASE_STEPS) * lie_cost * 1e5, np.abs([law["lie"][n][1][q] for n in BASE_STEPS]),
                    np.array([law["lie"][n][2][q] for n in BASE_STEPS])),
            "Richardson": (result.steps[:-1] * richardson_cost * 1e5, np.abs(result.deviation[:-1, q]),
                           result.deviation_standard_error[:-1, q]),
            "Strang": (weak2["strang"][0] * strang_cost * 1e5, np.abs(weak2["strang"][1][:, q]),
                       weak2["strang"][2][:, q])} for q, name in enumerate(QUANTITIES)}
        curves[label][LAW] = {
            "Euler": (np.array(BASE_STEPS) * euler_cost * 1e5, np.array([law["euler"][n][0] for n in BASE_STEPS]),
                      None),
            "Lie": (np.array(BASE_STEPS) * lie_cost * 1e5, np.array([law["lie"][n][0] for n in BASE_STEPS]), None),
            "floor": floor}
        for q, name in enumerate(QUANTITIES):
            n_euler, how_euler = steps_to_accuracy(result.euler_steps, result.euler_deviation[:, q],
                                                   result.euler_deviation_standard_error[:, q], 1)
            n_rich, how_rich = steps_to_accuracy(result.steps[:-1], result.deviation[:-1, q],
                                                 result.deviation_standard_error[:-1, q], 2)
            if how_euler == "measured" and n_euler == result.euler_steps[0] and \
                    np.all(np.abs(result.euler_deviation[:, q]) < 3 * result.euler_deviation_standard_error[:, q]):
                print(f"    {name}: Euler is unbiased here (zero-drift diagonal: geometric Brownian motion)")
                continue
            t_euler, t_rich = n_euler * euler_cost, n_rich * richardson_cost
            ratio = t_euler / t_rich if np.isfinite(t_rich) else float("nan")
            print(f"    {name}: Euler needs N ≈ {n_euler:.0f} ({how_euler}), Richardson N ≈ {n_rich:.0f} "
                  f"({how_rich}): {format_seconds(t_euler * 1e5)} vs {format_seconds(t_rich * 1e5)} per 10^5 paths")
            report.ratios.append(Ratio(f"{label} {name}: Euler / Richardson time to weak error 1e-3", ratio,
                                       f"Euler N ≈ {n_euler:.0f} ({how_euler}) vs Richardson N ≈ {n_rich:.0f} "
                                       f"({how_rich}); {paths:,} paths; no target (Strang carries it)", None))
            levels, error, se = weak2["euler"]
            n_euler, how_euler = steps_to_accuracy(levels, error[:, q], se[:, q], 1)
            levels, error, se = weak2["strang"]
            n_strang, how_strang = steps_to_accuracy(levels, error[:, q], se[:, q], 2)
            seconds = {(scheme, backend): run_seconds(sde, scheme, backend, n_euler if scheme == "euler" else n_strang)
                       for scheme in ("euler", "strang") for backend in BACKENDS}
            for backend in BACKENDS:
                t_euler, t_strang = seconds["euler", backend], seconds["strang", backend]
                print(f"    {name}: Euler needs N ≈ {n_euler:.0f} ({how_euler}), Strang N ≈ {n_strang:.0f} "
                      f"({how_strang}); {backend}: {format_seconds(t_euler * 1e5)} vs "
                      f"{format_seconds(t_strang * 1e5)} per 10^5 paths")
            best = "numba" if "numba" in BACKENDS else "numpy"
            report.ratios.append(Ratio(
                f"{label} {name}: Euler / Strang (weak order 2) time to weak error 1e-3, {best}",
                seconds["euler", best] / seconds["strang", best],
                f"Euler N ≈ {n_euler:.0f} ({how_euler}) vs Strang N ≈ {n_strang:.0f} ({how_strang}), whole runs "
                f"with backend={best!r} for both; numpy for both: "
                f"{seconds['euler', 'numpy'] / seconds['strang', 'numpy']:.2f}×; {strang_paths:,} coupled paths",
                at_least(5)))
        n = BASE_STEPS[-1]
        report.ratios.append(Ratio(
            f"{label} law of rho_T: KS distance to Euler N_ref = {LAW_STEPS[-1]}, Euler N = {n}",
            law["euler"][n][0],
            f"Lie N = {n}: {law['lie'][n][0]:.2e}; {law_paths:,} coupled paths, KS noise floor "
            f"(independent samples) {floor:.1e}; no target (the 1e-3 target is on expectations; "
            "Richardson applies to expectations, not laws)", None, unit=""))
    print("  (Lie has weak order 1 like Euler and costs more per step, so it is not faster to a given "
          "weak error; Richardson applies to expectations, not to the law of rho_T)")
    if figure_dir is not None:
        _plot(curves, Path(figure_dir) / FIGURE_NAME)
    return report


def _numba_installed():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


BACKENDS = ("numpy", "numba") if _numba_installed() else ("numpy",)


def run_seconds(sde, scheme, backend, steps, paths=20_000, _cache={}):
    """Best-of-3 seconds per path of a whole ``simulate_sde`` run (m = 2, V0, T) with ``steps`` steps:
    the time a user waits for that accuracy, set-up, PSD repairs and the final check included."""
    from covsde.solvers.sde.driver import simulate_sde
    steps = int(np.ceil(steps))
    key = (id(sde), scheme, backend, steps)
    if key not in _cache:
        with np.errstate(all="ignore"):
            simulate_sde(sde, V0, T, steps=4, paths=BLOCK_PATHS, seed=0, scheme=scheme, backend=backend)  # compile
            _cache[key] = time_call(lambda: simulate_sde(sde, V0, T, steps=steps, paths=paths, seed=1,
                                                         scheme=scheme, backend=backend, progress=False),
                                    repeat=3).best / paths
    return _cache[key]


BLOCK_PATHS = 4096


def coupled_symmetric_final_states(sde, schemes, *, paths, seed, chunk=8_192):
    """As :func:`coupled_final_states` for schemes driven by the symmetric noise only (Euler, Strang):
    the k = m(m+1)/2 Brownian components W^j of S = Σ_j E_j W^j are drawn on the finest grid and
    summed over each coarse step (z = ΔW / sqrt(dt)), Strang's area signs come from a second stream,
    and the compiled kernels step the paths when numba is installed."""
    import math

    from covsde.solvers.sde.schemes import get_scheme
    from covsde.solvers.sde.symmetric_noise import project_psd
    finest = max(n for _, n in schemes)
    coarsest = math.gcd(*(n for _, n in schemes))
    m = V0.shape[-1]
    k, per = m * (m + 1) // 2, finest // coarsest
    rng, signs_rng = np.random.default_rng(seed), np.random.default_rng([seed, 1])
    compiled = _compiled_steps(sde, {name for name, _ in schemes}, m)
    out = {key: [] for key in schemes}
    for start in range(0, paths, chunk):
        P = min(chunk, paths - start)
        states = {key: np.array(np.broadcast_to(V0, (P, m, m))) for key in schemes}
        done = {key: 0 for key in schemes}
        for _ in range(coarsest):
            fine = rng.standard_normal((per, k, P)) * np.sqrt(T / finest)
            for (name, n) in schemes:
                scheme, dt = get_scheme(name), T / n
                increments = fine.reshape(n // coarsest, per * coarsest // n, k, P).sum(axis=1) / np.sqrt(dt)
                signs = getattr(scheme, "sign_count", lambda m: 0)(m)
                for z in increments:
                    flags = {}
                    if signs:
                        z = np.concatenate([z, 2.0 * signs_rng.integers(0, 2, size=(signs, P)) - 1.0])
                    if getattr(scheme, "merges_half_steps", False):     # as simulate_sde steps it
                        done[name, n] += 1
                        flags = dict(lead=done[name, n] == 1, trail=0.5 if done[name, n] == n else 1.0)
                    if name in compiled:
                        states[name, n] = compiled[name](states[name, n], dt, np.ascontiguousarray(z), **flags)
                    else:
                        states[name, n], _ = scheme.step(states[name, n], sde.drift, dt, z, **flags)
        for key, V in states.items():
            if not np.all(np.isfinite(V)):
                raise FloatingPointError(f"{key} produced non-finite states")
            out[key].append(project_psd(V))
    return {key: np.concatenate(parts) for key, parts in out.items()}


def euler_and_strang(sde, paths, seed=13):
    """Weak errors of Euler (N in EULER_STEPS) and Strang (N in STRANG_STEPS) from one coupled run.

    All are driven by the same matrix Brownian path on the grid of 384 steps (Strang's Lévy-area
    signs come from their own stream); the reference is 2 f(Y^384) - f(Y^192) of Euler on the same
    path, so each error is measured path by path against it.  Returns
    {"euler": (steps, error (k, 3), standard error (k, 3)), "strang": (...)}.
    """
    schemes = ([("euler", n) for n in sorted(set(EULER_STEPS) | set(STRANG_REFERENCE))]
               + [("strang", n) for n in STRANG_STEPS])
    finals = coupled_symmetric_final_states(sde, schemes, paths=paths, seed=seed)
    coarse, fine = (quantities(finals["euler", n]) for n in STRANG_REFERENCE)
    reference = 2 * fine - coarse
    out = {}
    for name, levels in (("euler", EULER_STEPS), ("strang", STRANG_STEPS)):
        errors = [quantities(finals[name, n]) - reference for n in levels]
        out[name] = (np.array(levels), np.array([e.mean(axis=0) for e in errors]),
                     np.array([e.std(axis=0, ddof=1) / np.sqrt(paths) for e in errors]))
    return out


def _law_and_lie(sde, law_paths):
    """From one coupled run: {"euler": {N: (KS,)}, "lie": {N: (KS, mean error (3,), standard error (3,))}}.

    KS is the distance of the ρ_T sample at N to the Euler ρ_T sample at N_ref = LAW_STEPS[-1] on the
    same paths; Lie's expectation errors are against 2 f(Y^512) - f(Y^256), path by path.
    """
    schemes = [(name, n) for name in ("euler", "lie") for n in BASE_STEPS] + [("euler", n) for n in LAW_STEPS]
    finals = coupled_final_states(sde, schemes, paths=law_paths, seed=11)
    fine, finer = quantities(finals["euler", LAW_STEPS[0]]), quantities(finals["euler", LAW_STEPS[1]])
    reference = 2 * finer - fine
    out = {"euler": {}, "lie": {}}
    for (name, n), V in finals.items():
        values = quantities(V)
        ks = ks_distance(values[:, 2], finer[:, 2])
        if name == "lie":
            error = values - reference
            out[name][n] = (ks, error.mean(axis=0), error.std(axis=0, ddof=1) / np.sqrt(law_paths))
        elif n in BASE_STEPS:
            out[name][n] = (ks,)
    return out


def _plot(curves, figure):
    """|error| vs seconds per 10^5 paths, log-log: one row per activation, one panel per quantity,
    saved as PNG to ``figure`` (a path)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  figure skipped: matplotlib is not installed (pip install matplotlib)")
        return
    BOTTOM = 1e-4         # noqa: N806  (the y-axis floor; errors this small are Monte Carlo noise here)
    styles = {"Euler": ("C0", "o"), "Lie": ("C2", "s"), "Richardson": ("C3", "^"), "Strang": ("C1", "D")}
    panels = (*QUANTITIES, LAW)
    fig, axes = plt.subplots(len(curves), len(panels), figsize=(4.2 * len(panels), 3.6 * len(curves)),
                             squeeze=False)
    for row, (label, by_quantity) in enumerate(curves.items()):
        for col, name in enumerate(panels):
            ax = axes[row, col]
            for scheme, data in by_quantity[name].items():
                if scheme == "floor":
                    ax.axhline(data, color="grey", ls=":", lw=1, label="KS noise floor (independent samples)")
                    continue
                seconds, error, se = data
                color, marker = styles[scheme]
                shown = np.maximum(error, BOTTOM)      # an error below the axis is drawn on it
                ax.loglog(seconds, shown, color=color, marker=marker, label=scheme)
                if se is not None:
                    ax.errorbar(seconds, shown, yerr=[np.minimum(2 * se, shown - BOTTOM), 2 * se],
                                color=color, ls="none", capsize=2)
            ax.axhline(EPSILON, color="k", ls="--", lw=1,
                       label="1e-3 (target, expectations)" if name != LAW else "1e-3")
            ax.set_title(f"{label}: {name.replace('rho', 'ρ')}", fontsize=9)
            ax.set_xlabel("seconds per 10^5 paths")
            ax.set_ylabel("KS distance to reference" if name == LAW else "|weak error| (± 2 s.e.)")
            ax.set_ylim(bottom=BOTTOM)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=110)
    plt.close(fig)
    print(f"  figure: {figure}")


if __name__ == "__main__":
    from . import main_for
    raise SystemExit(main_for("time_to_accuracy"))
