"""Where ``covsde check`` and ``covsde bench`` write their PNG figures.

Figures go to the working directory (``./covsde-figures/``) unless ``--figures DIR`` says
otherwise, never into the installed package. The folder is created and tried with a test file
BEFORE a run starts, so a full run of several minutes cannot fail at its last step.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from covsde.derive.errors import InputError

#: The default folder, relative to the working directory.
DEFAULT_FIGURE_DIR = "covsde-figures"


def figure_directory(requested: str | None, quick: bool) -> Path | None:
    """The folder to draw figures into, created and known to be writable; None for no figures.

    Parameters
    ----------
    requested : str or None
        The ``--figures DIR`` argument. None: ``./covsde-figures`` for a full run, no figures for
        a quick one.
    quick : bool
        Whether this is the short (``--quick``) version of the run.

    Raises
    ------
    InputError
        When the folder cannot be created or written.
    """
    if requested is None and quick:
        return None
    if requested is not None and not requested.strip():
        raise InputError("--figures needs a folder name, got ''; give --figures DIR")
    path = Path(DEFAULT_FIGURE_DIR if requested is None else requested)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".covsde-write-test-"):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(f"cannot write figures to {path}: {reason}; give a writable folder with "
                         "--figures DIR") from None
    return path
