"""covsde: the command-line front end of the derive/ and solvers/ packages."""


def __getattr__(name):
    """``covsde.sweep`` (:func:`covsde.solvers.parameter_sweep.sweep`), imported on first use so that the
    command line starts without loading the solvers."""
    if name == "sweep":
        from covsde.solvers.parameter_sweep import sweep
        return sweep
    raise AttributeError(f"module 'covsde' has no attribute {name!r}")
