"""The outcome of :func:`covsde.design.solve`: the parameter, what it achieves, how, and what finite width does."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, repr=False)
class DesignResult:
    """A solved design.

    Attributes
    ----------
    activation : str
        The activation (family) designed.
    target : Target
        What was asked (``target.describe()`` says it in one line).
    free : str
        The parameter solved for.
    value : float
        Its value.
    parameters : dict
        Every parameter of the design (the free one and those held fixed; TAT: the output scale).
    achieved : float
        The target quantity at ``value`` (recomputed there).
    residual : float
        achieved - target.
    solver : str
        How the value was found.
    standard_error : float or None
        Of ``value`` for Monte Carlo targets (delta method), else None.
    alternatives : tuple
        Other exact solutions (e.g. -alpha when only alpha^2 enters).
    prediction : FiniteWidthPrediction or None
        For infinite-width targets: the law of rho_T (mean, quantiles, fraction exploded) at the
        given width and depth, what DKS/TAT cannot say.
    seconds : float
        Time of the solve (without the prediction).
    note : str
    """

    activation: str
    target: object
    free: str
    value: float
    parameters: dict
    achieved: float
    residual: float
    solver: str
    standard_error: float | None = None
    alternatives: tuple = ()
    prediction: object = None
    seconds: float = 0.0
    note: str = ""
    extra: dict = field(default_factory=dict)

    def lines(self) -> list:
        """The report, one ``name  value`` pair per line (the CLI prints these)."""
        se = "" if self.standard_error is None else f" ± {self.standard_error:.2g} (standard error)"
        rows = [("activation", self.activation),
                ("target", self.target.describe()),
                ("solved for", f"{self.free} = {self.value:.6g}{se}")]
        if self.alternatives:
            rows.append(("also", ", ".join(f"{self.free} = {a:.6g}" for a in self.alternatives)))
        others = {k: v for k, v in self.parameters.items() if k != self.free}
        if others:
            rows.append(("parameters", ", ".join(f"{k} = {v:.6g}" for k, v in others.items())))
        residual = "below 1e-12" if abs(self.residual) < 1e-12 else f"{self.residual:.2g}"
        rows.append(("achieved", f"{self.achieved:.6g} (residual {residual})"))
        rows.append(("solver", self.solver))
        if self.note:
            rows.append(("note", self.note))
        if self.prediction is not None:
            rows.append(("finite width", self.prediction.line()))
        width = max(len(name) for name, _ in rows)
        return [f"{name:<{width}}  {text}" for name, text in rows]

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def __repr__(self) -> str:
        return (f"DesignResult({self.activation}, {self.target.name}: {self.free} = {self.value:.6g}, "
                f"achieved {self.achieved:.6g}, residual {self.residual:.2g})")
