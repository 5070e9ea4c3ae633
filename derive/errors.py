"""Exceptions raised by covsde: each carries one actionable sentence."""


class CovsdeError(ValueError):
    """Base class for user-facing errors (the CLI turns them into exit status 2)."""


class ActivationError(CovsdeError):
    """The activation cannot be parsed, or has no shaped limit (reason in the message)."""


class InputError(CovsdeError):
    """A numeric input (V0, T, paths, shapes) is outside what is accepted."""
