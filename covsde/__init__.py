"""covsde: the command-line front end of the derive/ and solvers/ packages."""
