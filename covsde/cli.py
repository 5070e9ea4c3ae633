"""The ``covsde`` command line: parse arguments, call the API, format. Nothing else lives here.

Each sub-command is a module of this package exposing ``register(subparsers)``, which adds its
parser and sets ``func(args) -> int`` as the default. Errors the user can fix (``CovsdeError``,
bad arguments) print one line on stderr and exit with status 2. The names offered as choices
(schemes, noises, backends, checks, ...) come from the library through :mod:`covsde.choices`.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from covsde.derive.errors import CovsdeError

#: Sub-command modules, in the order ``covsde --help`` lists them.
COMMAND_MODULES = (
    "covsde.derive_command",      # covsde derive, covsde stability
    "covsde.simulate_command",    # covsde simulate, covsde compare
    "covsde.kernel_command",      # covsde kernel
    "covsde.check_command",       # covsde check
    "covsde.bench_command",       # covsde bench
)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="covsde",
        description="Derive, solve and check the Neural Covariance SDE and related infinite "
                    "depth-and-width limits of neural networks at initialization.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv=None) -> int:
    """Run ``covsde`` with ``argv`` (default ``sys.argv[1:]``) and return its exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:   # --help (0) or a bad argument (2, one line already on stderr)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.func(args) or 0)
    except CovsdeError as exc:
        print(f"covsde {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
