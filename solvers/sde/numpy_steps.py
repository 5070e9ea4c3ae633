"""The state of one chunk of paths under a scheme's NumPy ``step`` (the reference backend)."""
from __future__ import annotations

import numpy as np

from covsde.solvers.random_streams import StepInputs


class NumpySteps:
    """One chunk of paths stepped by ``scheme.step`` (:mod:`covsde.solvers.sde.scheme`).

    Parameters
    ----------
    scheme : the scheme.
    drift : b: (P, m, m) -> (P, m, m), NumPy (``sde.drift``).
    V0 : (P, m, m) starting states.
    draws : BlockDraws, the chunk's random streams; each step draws the scheme's normals (or, for
        ``noise="rademacher"``, signs) and then its own signs (:class:`StepInputs`).
    noise : "gaussian" or "rademacher".
    dt, threshold : step and explosion threshold.
    """

    def __init__(self, scheme, drift, V0, draws, noise, dt, threshold):
        m = V0.shape[-1]
        self.scheme, self.drift, self.dt, self.threshold = scheme, drift, dt, threshold
        self.V = np.array(V0)
        self.last = self.V
        #: chunk rows still stepped (frozen paths leave it); ``compact``: some have left
        self.active = np.arange(V0.shape[0])
        self.compact = False
        self.inputs = StepInputs(draws, scheme.normal_count(m), scheme.sign_count(m), noise)
        self.merging = scheme.merges_half_steps
        self.pending = False          # the state already holds the next step's leading half-step

    def step(self, output=True):
        """One step of every path (``output``: the state after it is saved or final, so a merging
        scheme must not run ahead into the next step).  Returns (failed (P,) bool, whether a trace
        may have passed the threshold)."""
        z = self.inputs.draw()
        if self.compact:
            z = z[:, self.active]
        self.last = self.V
        if self.merging:
            self.V, failed = self.scheme.step(self.V, self.drift, self.dt, z, lead=not self.pending,
                                              trail=0.5 if output else 1.0)
            self.pending = not output
        else:
            self.V, failed = self.scheme.step(self.V, self.drift, self.dt, z)
        top = np.abs(np.trace(self.V, axis1=1, axis2=2)).max()
        # nan-safe: a nan max fails the test; the sum is not finite when any entry is not
        return failed, not (top <= self.threshold and np.isfinite(self.V.sum()))

    def matrices(self):
        """The current states of the active paths, (len(active), m, m)."""
        return self.V

    def previous(self):
        """The active paths' states before the last step (the last finite state of a path whose
        step overflowed)."""
        return self.last

    def keep(self, rows):
        """Keep stepping only the active paths ``rows`` (bool over the active paths)."""
        self.V, self.last = self.V[rows], self.last[rows]
        self.active = self.active[rows]
        self.compact = True
