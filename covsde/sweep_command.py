"""``covsde sweep``: a grid of streaming simulations over parameters × V0 × T (:func:`covsde.sweep`)."""
from __future__ import annotations

import numpy as np

from covsde import option_types
from covsde.choices import BACKENDS, NOISES, SCHEMES
from covsde.derive.errors import InputError
from covsde.simulate_command import add_scale_arguments, executor_context, parse_matrix

#: Columns printed per cell (those present).
SHOWN = ("fraction_exploded", "mean rho^12", "q50 rho^12", "q50 log V^11")


def parse_values(text: str, name: str) -> list:
    """"START:STOP:COUNT" (COUNT evenly spaced values, both ends included), "v1,v2,..." or "v"
    -> a list of finite floats."""
    text = text.strip()
    try:
        if ":" in text:
            start, stop, number = text.split(":")
            number = int(number)
            if number < 1:
                raise ValueError
            values = np.linspace(float(start), float(stop), number)
        else:
            values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InputError(f"{name} takes START:STOP:COUNT (e.g. -0.5:0.5:21) or values separated by "
                         f"commas (e.g. 0.1,0.2), got {text!r}") from None
    values = [float(v) for v in values]
    if not all(np.isfinite(values)):
        raise InputError(f"{name} values must be finite numbers, got {text!r}")
    return values


def register(sub):
    p = sub.add_parser("sweep", help="a grid of streaming simulations over parameters, V0 and T",
                       description="Simulate the covariance SDE of an activation on a grid of parameter "
                                   "values x V0 x T, each cell a seeded streaming simulation, and write "
                                   "one row per cell (JSON or CSV; Parquet with pandas and pyarrow). "
                                   "Run it again with the same --out to resume an interrupted sweep.")
    p.add_argument("activation", metavar="ACT", help="built-in name or an expression in x, e.g. 'x + alpha*x**2'")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUES",
                   help="a parameter and its grid (repeatable): NAME=START:STOP:COUNT or NAME=v1,v2; e.g. "
                        "--param alpha=-0.5:0.5:21 (c_plus, c_minus for relu; a for the shaping constant)")
    p.add_argument("--V0", action="append", default=None, metavar="MATRIX",
                   help="an initial covariance, rows by ';', entries by ',' (repeatable; default '1,0.3;0.3,1')")
    p.add_argument("--T", default="1", metavar="TIMES",
                   help="time horizons: START:STOP:COUNT or t1,t2 (default 1)")
    p.add_argument("--convention", choices=("normalized", "unnormalized"), default="normalized",
                   metavar="CONVENTION", help="one of %(choices)s (default normalized)")
    p.add_argument("--paths", type=option_types.positive_int, default=100_000, help="paths per cell (default 100000)")
    p.add_argument("--steps", type=option_types.positive_int, default=200, help="time steps per cell (default 200)")
    p.add_argument("--no-step-check", dest="check_step", action="store_false",
                   help="run cells whose T/steps is far outside the scheme's stable range")
    p.add_argument("--scheme", choices=SCHEMES, default="euler", metavar="SCHEME",
                   help="SDE scheme, one of %(choices)s (default euler)")
    p.add_argument("--noise", choices=NOISES, default="gaussian", metavar="NOISE",
                   help="increments, one of %(choices)s (default gaussian)")
    p.add_argument("--backend", choices=BACKENDS, default="numpy", metavar="BACKEND",
                   help="one of %(choices)s (default numpy)")
    p.add_argument("--seed", type=option_types.seed, default=0, help="root seed of the sweep (default 0)")
    p.add_argument("--workers", type=option_types.positive_int, default=1,
                   help="local processes, one cell each at a time (default 1); the numbers do not depend on it")
    add_scale_arguments(p)
    p.add_argument("--out", default=None, metavar="FILE",
                   help="the table: FILE.json, FILE.csv or FILE.parquet, rewritten after every cell; an "
                        "existing FILE from the same sweep is resumed")
    p.add_argument("--no-resume", dest="resume", action="store_false",
                   help="simulate every cell again, overwriting --out")
    p.add_argument("--figure", default=None, metavar="FILE",
                   help="also draw a heat map of the median rho^12 to FILE (needs matplotlib)")
    p.set_defaults(func=run_sweep)


def run_sweep(args) -> int:
    from covsde.solvers.parameter_sweep import sweep
    params = {}
    for item in args.param:
        name, sep, values = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--param takes NAME=VALUES, e.g. --param alpha=-0.5:0.5:21, got {item!r}")
        params[name.strip()] = parse_values(values, f"--param {name.strip()}")
    V0 = [parse_matrix(text) for text in (args.V0 or ["1,0.3;0.3,1"])]
    T = parse_values(args.T, "--T")
    if any(t <= 0 for t in T):
        raise InputError(f"--T must be positive times, got {args.T!r}")
    if args.figure is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise InputError("--figure needs matplotlib: pip install matplotlib (or the covsde 'plot' extra)") from None
    with executor_context(args) as executor:
        result = sweep(args.activation, params=params or None, V0=V0, T=T, steps=args.steps, paths=args.paths,
                       seed=args.seed, convention=args.convention, scheme=args.scheme, noise=args.noise,
                       backend=args.backend, check_step=args.check_step, executor=executor,
                       workers=args.workers, out=args.out, resume=args.resume)
    keys = list(result.parameters) + (["V0"] if len(V0) > 1 else []) + ["T"]
    shown = [c for c in SHOWN if c in result.columns]
    widths = [max(10, len(k)) for k in keys + shown]
    print(" ".join(f"{k:>{w}}" for k, w in zip(keys + shown, widths)))
    for row in result.rows:
        cells = [row[k] for k in keys + shown]
        print(" ".join(f"{v:>{w}.5g}" if isinstance(v, float) else f"{v!s:>{w}}" for v, w in zip(cells, widths)))
    print(result.message)
    if args.figure is not None:
        result.heatmap(args.figure)
        print(f"heat map saved to {args.figure}")
    return 0
