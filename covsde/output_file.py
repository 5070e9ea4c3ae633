"""Files a command writes (``--out``, ``--markdown``): tried before the run, written under exactly
the name given.

A run of minutes must not end in "No such file or directory". :func:`writable_file` creates the
folder if need be and writes a test file into it BEFORE the run starts; the result is then written
to exactly the path given and reported under that name (``--out run`` writes ``run``, not numpy's
``run.npz``; ``numpy.load`` reads it either way).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from covsde.derive.errors import InputError


def writable_file(requested: str, option: str) -> Path:
    """The path ``requested``, known to be writable: its folder exists (created if need be) and takes
    a new file, and the path is not a folder.

    Parameters
    ----------
    requested : str
        The option's argument, e.g. ``"runs/run.npz"``.
    option : str
        How the error message calls it, e.g. ``"--out"``.

    Raises
    ------
    InputError
        When the path is a folder, or its folder cannot be created or written.
    """
    path = Path(requested)
    if not requested or path.is_dir():
        raise InputError(f"{option} {requested!r} is a folder, not a file name; give a file such as "
                         f"{Path(requested or '.') / 'result'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".covsde-write-test-"):
            pass
        if path.exists() and not os.access(path, os.W_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot write {option} {requested}: {reason}; give a file in a writable "
                         "folder") from None
    return path
