"""``covsde simulate`` and ``covsde compare``: the SDE by Monte Carlo, and finite networks against it."""
from __future__ import annotations

import numpy as np

from covsde import option_types
from covsde.choices import BACKENDS, NOISES, SAMPLING_METHODS, SCHEMES
from covsde.derive.errors import InputError
from covsde.derive_command import add_activation_arguments, sde_from_arguments
from covsde.output_file import writable_file


def parse_matrix(text: str, name: str = "--V0") -> np.ndarray:
    """Parse "1,0.3;0.3,1" (rows by ';', entries by ',') into a symmetric PSD float64 matrix."""
    try:
        rows = [[float(v) for v in row.split(",")] for row in text.strip().split(";")]
    except ValueError:
        raise InputError(f"{name} must be numbers like '1,0.3;0.3,1' (rows by ';', entries by ','), "
                         f"got {text!r}") from None
    m = len(rows)
    if any(len(r) != m for r in rows):
        raise InputError(f"{name} must be a square matrix like '1,0.3;0.3,1', got {text!r}")
    from covsde.solvers.input_validation import symmetric_psd
    return symmetric_psd(rows, name)


def register(sub):
    p = sub.add_parser("simulate", help="Monte Carlo of the covariance SDE",
                       description="Simulate the Neural Covariance SDE dV = b(V) dt + Sigma(V)^(1/2) dB "
                                   "of an activation and summarise V_T and rho_T.")
    add_activation_arguments(p)
    p.add_argument("--T", type=option_types.positive_float, default=1.0,
                   help="time horizon T = depth/width (default 1)")
    p.add_argument("--V0", default="1,0.3;0.3,1",
                   help="initial covariance, rows by ';', entries by ',' (default '1,0.3;0.3,1')")
    p.add_argument("--paths", type=option_types.positive_int, default=100_000,
                   help="number of paths (default 100000)")
    p.add_argument("--steps", type=option_types.positive_int, default=1000, help="time steps (default 1000)")
    p.add_argument("--no-step-check", dest="check_step", action="store_false",
                   help="run even when T/steps is far outside the scheme's stable range (the run is "
                        "refused otherwise, with the step count that would be sound)")
    p.add_argument("--scheme", choices=SCHEMES, default="euler", metavar="SCHEME",
                   help="SDE scheme, one of %(choices)s (default euler): euler has weak order 1; lie keeps "
                        "V PSD by construction; strang has weak order 2 (10-20 steps reach a weak error "
                        "of 1e-3 at T = 1)")
    p.add_argument("--noise", choices=NOISES, default="gaussian", metavar="NOISE",
                   help="Brownian increments, one of %(choices)s (default gaussian); rademacher signs make "
                        "a weak scheme: laws and expectations, not paths; euler only")
    p.add_argument("--backend", choices=BACKENDS, default="numpy", metavar="BACKEND",
                   help="one of %(choices)s (default numpy, the reference); numba compiles euler or "
                        "strang for m <= 2 and needs the fast extra")
    p.add_argument("--seed", type=option_types.seed, default=0, help="random seed, an integer >= 0 (default 0)")
    p.add_argument("--workers", type=option_types.positive_int, default=1,
                   help="processes (default 1); the numbers do not depend on it")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="save V_T, the exploded mask and the settings to FILE (numpy .npz format, "
                        "written under exactly this name); with --stream the statistics and histograms")
    add_scale_arguments(p)
    p.add_argument("--stream", action="store_true",
                   help="keep streaming statistics instead of paths (means, covariances, histograms of "
                        "rho_T and log V_T): memory does not grow with --paths; quantiles come from the "
                        "histograms, to the resolution printed")
    p.set_defaults(func=run_simulate)

    c = sub.add_parser("compare", help="finite shaped networks vs the SDE",
                       description="Sample finite shaped MLPs (exact covariance chain) of the given width "
                                   "and depth, simulate the SDE at T = depth/width, and print KS and "
                                   "Wasserstein-1 distances of rho and log V.")
    add_activation_arguments(c)
    c.add_argument("--width", type=option_types.positive_int, default=128,
                   help="width n of the finite networks (default 128)")
    c.add_argument("--depth", type=option_types.positive_int, default=128,
                   help="depth d of the finite networks; the SDE runs to T = d/n (default 128)")
    c.add_argument("--networks", type=option_types.positive_int, default=2000,
                   help="number of finite networks sampled (default 2000)")
    c.add_argument("--V0", default="1,0.3;0.3,1",
                   help="covariance of the inputs, rows by ';', entries by ',' (default '1,0.3;0.3,1')")
    c.add_argument("--paths", type=option_types.positive_int, default=20_000, help="SDE paths (default 20000)")
    c.add_argument("--steps", type=option_types.positive_int, default=None,
                   help="SDE steps (default: 1000 T, at least 200)")
    c.add_argument("--method", choices=SAMPLING_METHODS, default="chain", metavar="METHOD",
                   help="finite-network sampler, one of %(choices)s (default chain: exact in law, "
                        "O(n m^2) per layer; weights: literal weight matrices)")
    c.add_argument("--seed", type=option_types.seed, default=0,
                   help="random seed, an integer >= 0 (default 0; the SDE paths use seed + 1)")
    c.set_defaults(func=run_compare)


def add_scale_arguments(p):
    """``--scheduler ADDRESS``, ``--dask W`` and ``--dask-timeout S``: where the chunks run."""
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="run the chunks on the Dask cluster whose scheduler listens at ADDRESS, e.g. "
                        "tcp://10.0.0.5:8786 (needs the dask extra); the numbers do not depend on it")
    p.add_argument("--dask", type=option_types.positive_int, default=None, metavar="W",
                   help="run the chunks on a local Dask cluster of W worker processes (needs the dask extra)")
    p.add_argument("--dask-timeout", type=option_types.positive_float, default=10.0, metavar="S",
                   help="seconds to wait for the scheduler of --scheduler to answer (default 10)")


def executor_context(args):
    """A context giving the executor of --scheduler / --dask (a Dask client), or None."""
    import contextlib
    if args.scheduler is not None and args.dask is not None:
        raise InputError("give one of --scheduler ADDRESS (a running cluster) or --dask W (a local cluster)")
    if (args.scheduler is not None or args.dask is not None) and getattr(args, "workers", 1) > 1:
        raise InputError("--workers starts local processes; with --scheduler or --dask the Dask workers "
                         "run the chunks, so leave --workers at 1")
    if args.scheduler is None and args.dask is None:
        return contextlib.nullcontext(None)
    from covsde.solvers.dask_cluster import dask_client
    if args.scheduler is not None:
        return dask_client(scheduler=args.scheduler, timeout=args.dask_timeout)
    return dask_client(workers=args.dask)


def streaming_table(result) -> str:
    """Mean and std of V^ab and rho^ab (from the streamed moments) and histogram quantiles of rho^ab
    and log V^aa over the paths that did not explode, with the quantiles' resolution."""
    header = f"{'quantity':<10} {'mean':>11} {'std':>11} {'q05':>11} {'q50':>11} {'q95':>11}"
    lines = [header, "-" * len(header)]
    m = result.m
    mean, std = result.mean, result.std
    for name in result.names:
        quantiles = ""
        if name.startswith("rho"):
            quantiles = "".join(f" {result.quantile(name, q).value:11.5g}" for q in (0.05, 0.5, 0.95))
        lines.append(f"{name:<10} {mean[name]:11.5g} {std[name]:11.5g}{quantiles}")
    for a in range(m):
        name = f"log V^{a + 1}{a + 1}"
        quantiles = "".join(f" {result.quantile(name, q).value:11.5g}" for q in (0.05, 0.5, 0.95))
        lines.append(f"{name:<10} {'':>11} {'':>11}{quantiles}")
    rho_width = float(np.max(np.diff(result.plan.rho_edges)))
    log_width = float(np.max(np.diff(result.plan.log_v_edges)))
    lines.append(f"quantiles from histograms: rho to {rho_width:.3g}, log V to {log_width:.3g}; "
                 f"{result.statistics.n} of {result.paths} paths")
    return "\n".join(lines)


def _correlations(V):
    d = np.sqrt(np.einsum("...ii->...i", V))
    with np.errstate(divide="ignore", invalid="ignore"):
        return V / (d[..., :, None] * d[..., None, :])


def summary_table(V: np.ndarray, exploded=None) -> str:
    """Mean and quantiles of each entry V^ab and correlation rho^ab (a < b) over paths."""
    V = np.asarray(V)
    keep = np.ones(len(V), bool) if exploded is None else ~np.asarray(exploded)
    Vk = V[keep]
    m = V.shape[-1]
    rho = _correlations(Vk)
    header = f"{'quantity':<10} {'mean':>11} {'std':>11} {'q05':>11} {'q50':>11} {'q95':>11}"
    lines = [header, "-" * len(header)]

    def row(name, x):
        x = x[np.isfinite(x)]
        if x.size == 0:
            lines.append(f"{name:<10} {'(none)':>11}")
            return
        q = np.quantile(x, [0.05, 0.5, 0.95])
        lines.append(f"{name:<10} {x.mean():11.5g} {x.std():11.5g} {q[0]:11.5g} {q[1]:11.5g} {q[2]:11.5g}")

    for a in range(m):
        for b in range(a, m):
            row(f"V^{a + 1}{b + 1}", Vk[:, a, b])
    for a in range(m):
        for b in range(a + 1, m):
            row(f"rho^{a + 1}{b + 1}", rho[:, a, b])
    return "\n".join(lines)


def run_simulate(args) -> int:
    from covsde.solvers import simulate_sde
    out = None if args.out is None else writable_file(args.out, "--out")
    V0 = parse_matrix(args.V0)
    sde = sde_from_arguments(args)
    with executor_context(args) as executor:
        result = simulate_sde(sde, V0, args.T, steps=args.steps, paths=args.paths, seed=args.seed,
                              check_step=args.check_step,
                              scheme=args.scheme, workers=args.workers, noise=args.noise,
                              backend=args.backend, executor=executor,
                              reduce="statistics" if args.stream else None)
    print(f"{sde.activation.name} ({sde.convention}), drift b^ab = {sde.drift_expr}")
    print(f"T = {args.T:g}, {args.steps} steps ({args.scheme}, {args.noise} noise, {args.backend}), "
          f"{args.paths} paths, seed {args.seed}")
    print(f"fraction exploded by T: {result.fraction_exploded:.6g}")
    if args.stream:
        print(streaming_table(result))
    else:
        print(summary_table(result.V, result.exploded))
    if out is not None:
        with open(out, "wb") as handle:     # a file object: numpy appends no ".npz" to the name
            settings = dict(V0=V0, T=args.T, steps=args.steps, paths=args.paths, seed=args.seed,
                            scheme=args.scheme, activation=sde.activation.name)
            if args.stream:
                st = result.statistics
                np.savez(handle, names=np.array(result.names), mean=st.mean, covariance=result.covariance,
                         n=st.n, exploded=st.exploded, rho_histogram=st.rho_histogram,
                         rho_edges=result.plan.rho_edges, log_v_histogram=st.log_v_histogram,
                         log_v_edges=result.plan.log_v_edges,
                         explosion_time_histogram=st.explosion_time_histogram,
                         explosion_time_edges=result.explosion_time_edges, **settings)
            else:
                np.savez(handle, V=result.V, exploded=result.exploded,
                         explosion_time=result.explosion_time, **settings)
        print(f"saved to {args.out}")
    return 0


def run_compare(args) -> int:
    from covsde.solvers import compare, simulate_mlp, simulate_sde
    V0 = parse_matrix(args.V0)
    sde = sde_from_arguments(args)
    if sde.parameters:
        names = [symbol.name for symbol in sde.parameters]
        raise InputError(f"the activation has free parameters {names}; give each a value with --param "
                         f"NAME=VALUE, e.g. --param {names[0]}=0.1")
    T = args.depth / args.width
    steps = args.steps if args.steps is not None else max(200, int(round(1000 * T)))
    nets = simulate_mlp(sde.activation, V0=V0, width=args.width, depth=args.depth,
                        networks=args.networks, seed=args.seed, a=float(sde.a),
                        exponent=sde.exponent, convention=sde.convention, method=args.method,
                        layers=[args.depth])
    paths = simulate_sde(sde, V0, T, steps=steps, paths=args.paths, seed=args.seed + 1)
    print(f"{sde.activation.name}: {args.networks} networks (width {args.width}, depth {args.depth}, "
          f"{args.method}) vs {args.paths} SDE paths at T = {T:g} ({steps} steps)")
    print(compare(nets, paths.V[~paths.exploded]))
    return 0
