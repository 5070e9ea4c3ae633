"""The ``covsde`` command line: parse arguments, call the API, format. Nothing else lives here.

Each sub-command is a module of this package exposing ``register(subparsers)``, which adds its
parser and sets ``func(args) -> int`` as the default. The names offered as choices (schemes,
noises, backends, checks, ...) come from the library through :mod:`covsde.choices`.

What a user sees when something is wrong is decided here, once:

- an argument argparse refuses (a value outside an option's range, :mod:`covsde.option_types`),
  an error the user can fix (``CovsdeError``: ``InputError``, ``ActivationError``) or a request too
  large for memory prints ONE line on stderr and exits with status 2; the library's Python advice
  is rewritten as options (:mod:`covsde.command_line_advice`);
- NumPy/SciPy warnings are recorded, not printed, and said in one "note" line when the command
  finishes (:mod:`covsde.numerical_warnings`); an error line is then the only line;
- outputs (``--out``, ``--figures``, ``--markdown``) are tried before the work starts
  (:mod:`covsde.output_file`, :mod:`covsde.figure_directory`).
"""
from __future__ import annotations

import argparse
import importlib
import os
import re
import sys

from covsde.command_line_advice import command_line_message, option_names
from covsde.derive.errors import CovsdeError
from covsde.numerical_warnings import RecordedWarnings

#: Sub-command modules, in the order ``covsde --help`` lists them.
COMMAND_MODULES = (
    "covsde.derive_command",      # covsde derive, covsde stability
    "covsde.activations_command", # covsde activations
    "covsde.simulate_command",    # covsde simulate, covsde compare
    "covsde.sweep_command",       # covsde sweep
    "covsde.kernel_command",      # covsde kernel
    "covsde.design_command",      # covsde design
    "covsde.check_command",       # covsde check
    "covsde.bench_command",       # covsde bench
)

#: A negative number as a value, not an option: -1, -.5, -1e-3, -2.5E+4, -inf, -nan. argparse's own
#: pattern (r'^-\d+$|^-\d*\.\d+$') misses exponents, so "--c-minus -1e-3" failed with "expected one
#: argument".
NEGATIVE_NUMBER = re.compile(r"^-(?:(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf(?:inity)?|nan)$", re.I)


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line and exit status 2, and which reads a negative
    number in any float notation as a value (:data:`NEGATIVE_NUMBER`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_NUMBER

    def _get_values(self, action, arg_strings):
        # argparse drops a "--" given as an option's value ("--steps=--") and passes [] or the default
        # on, so the command ran with a value nobody typed; here "--" is the value, and is checked
        if action.option_strings and action.nargs is None and arg_strings == ["--"]:
            value = self._get_value(action, "--")
            self._check_value(action, value)
            return value
        return super()._get_values(action, arg_strings)

    def error(self, message):
        message = " ".join(message.split())
        if re.search(r"required: .*\bACT\b", message):    # "covsde derive -x": read as an option
            message += f"; an ACT that starts with '-' goes after '--', e.g. {self.prog} -- '-x'"
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def version() -> str:
    """The installed version of covsde (package metadata)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version
    try:
        return installed_version("covsde")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The ``covsde`` parser; ``parser.commands`` maps each sub-command name to its parser."""
    parser = OneLineParser(
        prog="covsde",
        description="Derive, solve and check the Neural Covariance SDE and related infinite "
                    "depth-and-width limits of neural networks at initialization.")
    parser.add_argument("--version", action="version", version=f"covsde {version()}",
                        help="print the version of covsde and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser,
                                help="what to do; 'covsde COMMAND --help' describes each")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    parser.commands = sub.choices
    return parser


def error_line(exc: BaseException, command: argparse.ArgumentParser) -> str:
    """What follows "covsde NAME: error: " for an error a user can fix: one line, command-line advice."""
    if isinstance(exc, MemoryError):
        detail = str(exc) or "the request does not fit in memory"
        return f"not enough memory ({detail}); give smaller sizes"
    return command_line_message(str(exc), option_names(command))


def main(argv=None) -> int:
    """Run ``covsde`` with ``argv`` (default ``sys.argv[1:]``) and return its exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:   # --help, --version (0) or a bad argument (2, one line already on stderr)
        return exc.code if isinstance(exc.code, int) else 2
    prefix = f"covsde {args.command}"
    with RecordedWarnings() as recorded:
        try:
            status = int(args.func(args) or 0)
        except (CovsdeError, MemoryError) as exc:
            print(f"{prefix}: error: {error_line(exc, parser.commands[args.command])}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"{prefix}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:         # `covsde ... | head`: the reader left; nothing to say
            _silence_stdout()
            return 0
    note = recorded.note()
    if note:
        print(f"{prefix}: note: {note}", file=sys.stderr)
    return status


def _silence_stdout():
    """Point stdout at /dev/null so that Python's final flush after a broken pipe stays quiet."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":
    sys.exit(main())
