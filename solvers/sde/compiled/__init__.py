"""The numba backend of ``simulate_sde`` (``backend="numba"``): schemes' steps compiled for m = 1, 2.

- :mod:`.generated_drift`  the derived drift compiled for the kernels (through ``sde.compiled_drift()``,
  no SymPy here), numba's availability, the kernel cache;
- :mod:`.compiled_steps`   the state of a chunk of paths under a compiled step (the numba twin of
  :mod:`covsde.solvers.sde.numpy_steps`);
- :mod:`.euler_kernel`, :mod:`.strang_kernel`  the kernels of the ``euler`` and ``strang`` schemes,
  reached through their ``compiled_step`` hook (:mod:`covsde.solvers.sde.scheme`).
"""
