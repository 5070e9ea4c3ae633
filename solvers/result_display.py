"""How the solvers' result objects show themselves: a one-line repr and a small HTML table.

One look for every result (``SDEResult``, ``NormResult``, ``MLPSamples``, ...):

* ``__repr__`` — ``Name(setting=value, ..., message='...')``: the settings that reproduce the run
  and its one-line summary, never an array;
* ``_repr_html_`` — what a notebook shows: the settings, then per quantity the statistics of
  ``covsde simulate``'s table over the finite values of a sample x_1..x_N,

      mean = (1/N) sum_i x_i,   std = sqrt((1/N) sum_i (x_i - mean)^2),
      q05, q50, q95 = the 5, 50, 95 % quantiles (``numpy.quantile``, linear interpolation),

  or, for a deterministic result (an ODE solution, a density), one value per quantity.

Covariance samples V (N, m, m) are summarised by their entries V^ab (a <= b) and correlations
rho^ab = V^ab / sqrt(V^aa V^bb) (a < b, :func:`covsde.solvers.correlation`), for the first
``TABLE_INPUTS`` inputs, so the table stays small for large m.
"""
from __future__ import annotations

import html

import numpy as np

from covsde.solvers.covariance_quantities import correlation

#: Quantile levels of the statistics table (as in ``covsde simulate``).
QUANTILES = (0.05, 0.5, 0.95)
#: Columns of the statistics table.
STATISTICS = ("mean", "std", "q05", "q50", "q95", "n")
#: Inputs a, b whose V^ab and rho^ab enter a table (the first ones when m is larger).
TABLE_INPUTS = 3
#: Significant digits of the numbers shown.
DIGITS = 6


def sample_statistics(x) -> dict:
    """Mean, std (1/N), 5/50/95 % quantiles and count N of the finite values of a sample ``x``.

    Non-finite values (exploded or overflowed paths, log of a vanished variance) are left out;
    with none left every statistic is nan and ``n`` is 0.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    if x.size == 0:
        return dict.fromkeys(STATISTICS[:-1], float("nan")) | {"n": 0}
    q = np.quantile(x, QUANTILES)
    return {"mean": float(np.mean(x)), "std": float(np.std(x)), "q05": float(q[0]),
            "q50": float(q[1]), "q95": float(q[2]), "n": int(x.size)}


def covariance_samples(V, name: str = "V", keep=None) -> dict:
    """Named scalar samples of covariances V (N, m, m): {"V^11": (N,), ..., "rho^12": (N,), ...}.

    Entries V^ab (a <= b), then correlations rho^ab (a < b), of the first ``TABLE_INPUTS``
    inputs (1-based names, as in the papers); ``keep`` (N,) bool selects the samples (e.g. the
    paths that did not explode).
    """
    V = np.asarray(V, dtype=np.float64)
    if keep is not None:
        V = V[np.asarray(keep, dtype=bool)]
    inputs = range(min(V.shape[-1], TABLE_INPUTS))
    rho = correlation(V)
    out = {f"{name}^{a + 1}{b + 1}": V[..., a, b] for a in inputs for b in inputs if a <= b}
    out.update({f"rho^{a + 1}{b + 1}": rho[..., a, b] for a in inputs for b in inputs if a < b})
    return out


def statistics_table(samples: dict) -> tuple:
    """(header, rows) of the statistics table for named samples {name: array}."""
    rows = []
    for name, x in samples.items():
        stats = sample_statistics(x)
        rows.append((name,) + tuple(stats[key] for key in STATISTICS))
    return ("quantity",) + STATISTICS, rows


def values_table(values: dict, column: str = "value") -> tuple:
    """(header, rows) of a table of one number per named quantity."""
    return ("quantity", column), [(name, value) for name, value in values.items()]


def format_value(value) -> str:
    """A setting or number as text: floats to ``DIGITS`` significant digits, the rest as ``str``."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{DIGITS}g}"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def settings_repr(name: str, settings: dict) -> str:
    """``Name(key=value, ...)``: strings quoted, floats to ``DIGITS`` significant digits.

    Only scalars and short sequences belong here; an array is refused (a repr never dumps one).
    """
    parts = []
    for key, value in settings.items():
        if isinstance(value, np.ndarray):
            raise TypeError(f"{name}.{key} is an array; a repr shows settings, not data")
        if isinstance(value, (float, np.floating)):
            text = repr(float(format_value(value)))
        elif isinstance(value, (str, bool, np.bool_, int, np.integer)) or value is None:
            text = repr(value.item() if isinstance(value, np.generic) else value)
        else:
            text = str(value)
        parts.append(f"{key}={text}")
    return f"{name}({', '.join(parts)})"


def html_report(title: str, message: str, settings: dict, tables=()) -> str:
    """A small HTML block: the title and message, a settings table, then each (header, rows) table."""
    esc = html.escape
    out = ['<div class="covsde-result">', f"<p><strong>{esc(title)}</strong>: {esc(message)}</p>"]
    if settings:
        out.append('<table class="covsde-settings">')
        for key, value in settings.items():
            out.append(f"<tr><th>{esc(str(key))}</th><td>{esc(format_value(value))}</td></tr>")
        out.append("</table>")
    for header, rows in tables:
        out.append('<table class="covsde-statistics">')
        out.append("<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead>")
        out.append("<tbody>")
        for row in rows:
            out.append("<tr><th>" + esc(str(row[0])) + "</th>"
                       + "".join(f"<td>{esc(format_value(v))}</td>" for v in row[1:]) + "</tr>")
        out.append("</tbody></table>")
    out.append("</div>")
    return "\n".join(out)


def layers_text(layers) -> str:
    """Recorded layers in a few characters: ``0, 1, 2`` or ``0, 1, ..., 128 (129 layers)``."""
    layers = [int(l) for l in np.asarray(layers).ravel()]
    if len(layers) <= 4:
        return ", ".join(map(str, layers))
    return f"{layers[0]}, {layers[1]}, ..., {layers[-1]} ({len(layers)} layers)"
