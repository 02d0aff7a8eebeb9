"""The phase diagram: the measured signal slope over sigma_w2 x sigma_b2, with the
mean-field order-to-chaos line (chi_1 = 1, sweeper.theory) drawn over it."""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sweeper import theory
from sweeper.report import cell_grid
from sweeper.report.analysis import CONFIG, swept_keys
from sweeper.report.numbers import num
from sweeper.report.plots import levels, plain

X, Y = "init.sigma_w2", "init.sigma_b2"
ACTIVATION = f"{CONFIG}model.activation"
MAX_PANELS = 3


def applies(runs: pd.DataFrame) -> bool:
    """Both variances swept (two values or more each) over nets the theory knows."""
    keys = swept_keys(runs)
    return (
        X in keys
        and Y in keys
        and "theory_phase" in runs
        and runs["theory_phase"].notna().any()
    )


def phase_diagram(runs: pd.DataFrame, fig: Figure) -> Figure:
    """One panel per activation: the median measured slope at initialization per
    cell (decades per hidden layer; 0 = the signal keeps its size), its seed count,
    and the theory's critical line."""
    runs = runs[runs["theory_phase"].notna()]
    activations = list(dict.fromkeys(runs[ACTIVATION]))[:MAX_PANELS]
    fig.set_size_inches(1.5 + 4.5 * len(activations), 4.2)
    spans = runs["signal_slope"].abs()
    limit = float(np.nanmax(spans)) if np.isfinite(spans).any() else 1.0
    for index, name in enumerate(activations):
        ax = fig.add_subplot(1, len(activations), index + 1)
        _panel(runs[runs[ACTIVATION] == name], name, ax, max(limit, 1e-3))
    return fig


def _panel(runs: pd.DataFrame, activation: str, ax, limit: float) -> None:
    xs, ys = levels(runs[X]), levels(runs[Y])
    cells = runs.groupby([Y, X])["signal_slope"]
    median, count = cells.median().unstack(X), cells.count().unstack(X)
    median = median.reindex(index=ys, columns=xs)
    count = count.reindex(index=ys, columns=xs).fillna(0).astype(int)
    text = median.map(lambda v: f"{v:+.3f}" if np.isfinite(v) else "")
    text = text + count.map(lambda n: f"\n{n} seed{'s' * (n != 1)}" if n else "")
    cell_grid.heatmap(
        median,
        ax,
        [num(v) for v in xs],
        [num(v) for v in ys],
        cmap="RdBu_r",  # diverging: a shrinking signal blue, a growing one red
        vmin=-limit,
        vmax=limit,
        center=0.0,
        annot=text,
        fmt="",
        annot_kws={"fontsize": 7},
        linewidths=1,
        linecolor="white",
        cbar_kws={"label": "measured slope at init (decades / layer)"},
    )
    ax.invert_yaxis()  # sigma_b2 grows upwards, as in Poole et al.'s figures
    line = _critical_line(activation, xs, ys)
    if line is not None:
        ax.plot(*line, color="black", lw=2, label="theory: chi_1 = 1")
        ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
    ax.set_xlabel(X)
    ax.set_ylabel(Y)
    ax.set_title(f"model.activation={plain(activation)}", fontsize=10)


def _critical_line(activation: str, xs: list, ys: list):
    """The chi_1 = 1 line in the heatmap's cell coordinates (cell i spans [i, i+1]),
    or None where it does not cross the swept ranges."""
    if activation not in theory.ACTIVATIONS or len(xs) < 2 or len(ys) < 2:
        return None
    if activation in theory.HOMOGENEOUS:  # the same sigma_w2 at every sigma_b2
        w2, b2 = theory.critical_line(activation, np.linspace(min(ys), max(ys), 2))
    else:
        w2, b2 = theory.critical_line(activation, np.geomspace(1e-6, 1e3, 400))
    inside = (b2 >= min(ys)) & (b2 <= max(ys)) & (w2 >= min(xs)) & (w2 <= max(xs))
    if inside.sum() < 2:
        return None
    # cell centres sit at index + 0.5; values between levels are interpolated
    col = np.interp(w2[inside], xs, np.arange(len(xs))) + 0.5
    row = np.interp(b2[inside], ys, np.arange(len(ys))) + 0.5
    return col, row
