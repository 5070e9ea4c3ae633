"""``covsde design ACT --target NAME ...``: choose the parameter that makes a target hold.

Parses the arguments, calls :func:`covsde.design.solve` and prints its report; a target out of
reach is an InputError, which the CLI prints as one line with the reachable range (exit 2).
"""
from __future__ import annotations

from covsde import option_types
from covsde.choices import LibraryNames
from covsde.derive.errors import InputError
from covsde.derive_command import add_parameter_argument, parameter_values


def _targets():
    from covsde.design import TARGETS
    return TARGETS


#: ``--target``: the keys of ``covsde.design.TARGETS``.
TARGET_NAMES = LibraryNames(_targets)

#: Which command-line options each target takes (its constructor's keywords).
OPTIONS = {
    "correlation": ("eta", "T", "rho0"),
    "finite-correlation": ("eta", "T", "rho0", "paths"),
    "norm-k": ("value", "T"),
    "stationary-mean": ("value", "T"),
    "explosion": ("value", "V0", "T", "paths"),
    "resnet-ratio": ("value", "schedule", "depth"),
    "resnet-correlation": ("eta", "rho0", "schedule", "depth"),
    "tat": ("eta", "depth", "rho0"),
    "dks": ("value", "depth"),
}


def register(sub):
    p = sub.add_parser("design", help="choose the shaping that hits a target, at infinite and finite width",
                       description="Solve for one free parameter of an activation family (ReLU-like c-/c+, the "
                                   "shaping constant a, a coefficient such as beta in 'x + 0.1*x**2 + beta*x**3', "
                                   "the ResNet branch scale, TAT's leaky-ReLU slope) so that a target holds, and "
                                   "print what the finite-width SDE predicts for an infinite-width design. "
                                   "Targets: correlation (rho(T) of the mean ODE = eta), finite-correlation "
                                   "(E[rho_T] of the SDE = eta), norm-k (k = value), stationary-mean (mean of the "
                                   "stationary norm law = value), explosion (P(norm explodes | V0) = value), "
                                   "resnet-ratio (q(1)/q(0) = value), resnet-correlation (rho(1) = eta), tat "
                                   "(C_f(0) of depth leaky-ReLU layers = eta), dks (input scale and shift, output shift and scale of a "
                                   "smooth activation with C_f'(1) = value over depth layers). A target out of reach exits with "
                                   "status 2 and its reachable range.")
    p.add_argument("activation", metavar="ACT", help="relu (free c_minus), leaky_relu (tat), a smooth name (free a) "
                                                     "or an expression in x with one free coefficient")
    p.add_argument("--target", required=True, choices=TARGET_NAMES, metavar="NAME",
                   help="what to hit, one of %(choices)s")
    p.add_argument("--eta", type=option_types.finite_float, default=None, help="target correlation")
    p.add_argument("--value", type=option_types.finite_float, default=None,
                   help="target value (norm-k, stationary-mean, explosion, resnet-ratio; dks: the slope zeta > 1)")
    p.add_argument("--T", type=option_types.positive_float, default=None,
                   help="depth-to-width ratio d/n (correlation, finite-correlation; default 1); for explosion "
                        "the horizon of a Monte Carlo probability (default: in finite time, closed form)")
    p.add_argument("--rho0", type=option_types.finite_float, default=None, help="input correlation (default 0)")
    p.add_argument("--depth", type=option_types.positive_int, default=None,
                   help="depth L (tat, dks: default 100; resnet targets: of the finite ResNets, default the width)")
    p.add_argument("--V0", type=option_types.positive_float, default=None, help="initial squared norm (explosion)")
    p.add_argument("--schedule", default=None, metavar="EXPR", help="ResNet branch schedule alpha(t) to scale")
    p.add_argument("--free", default=None, help="the parameter to solve for (default: c_minus, the one free "
                                                "coefficient, or a)")
    p.add_argument("--bounds", default=None, metavar="LO,HI", help="search interval of the free parameter")
    p.add_argument("--c-plus", type=option_types.finite_float, default=None, help="ReLU-like c+ when not free")
    p.add_argument("--c-minus", type=option_types.finite_float, default=None, help="ReLU-like c- when not free")
    p.add_argument("--a", type=option_types.positive_float, default=1.0,
                   help="shaping constant when it is not free (default 1)")
    add_parameter_argument(p)
    p.add_argument("--width", type=option_types.positive_int, default=100,
                   help="width of the finite-width prediction (default 100; depth = T * width)")
    p.add_argument("--paths", type=option_types.positive_int, default=None,
                   help="Monte Carlo paths (finite-correlation of smooth activations, explosion by T)")
    p.add_argument("--seed", type=option_types.seed, default=0, help="random seed, an integer >= 0 (default 0)")
    p.add_argument("--no-prediction", action="store_true", help="skip the finite-width prediction")
    p.set_defaults(func=run)


def _bounds(text):
    if text is None:
        return None
    parts = text.split(",")
    try:
        lo, hi = (option_types.finite_float(part.strip()) for part in parts)
    except (ValueError, TypeError):
        raise InputError(f"--bounds takes LO,HI, e.g. --bounds -5,0, got {text!r}") from None
    return (lo, hi)


def run(args) -> int:
    from covsde.design import solve
    given = {"eta": args.eta, "value": args.value, "T": args.T, "rho0": args.rho0, "depth": args.depth,
             "V0": args.V0, "schedule": args.schedule, "paths": args.paths}
    allowed = OPTIONS[args.target]
    unused = [name for name, value in given.items() if value is not None and name not in allowed]
    if unused:
        raise InputError(f"--target {args.target} does not take --{unused[0]}; it takes "
                         + ", ".join(f"--{name}" for name in allowed))
    needed = "eta" if "eta" in allowed else "value"
    if given[needed] is None:
        raise InputError(f"--target {args.target} needs --{needed}")
    options = {name: given[name] for name in allowed if given[name] is not None}
    result = solve(args.activation, args.target, free=args.free, bounds=_bounds(args.bounds), width=args.width,
                   predict=not args.no_prediction, seed=args.seed, a=args.a, c_plus=args.c_plus,
                   c_minus=args.c_minus, params=parameter_values(args.param), **options)
    print(result)
    return 0
