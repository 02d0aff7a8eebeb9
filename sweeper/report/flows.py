"""Figures of one quantity per layer over training steps: the gradient flow of runs.

Each function draws on `ax` (the current Axes if None) or on a given Figure and
returns it; none saves or shows a figure: the report module does that.
"""

import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, MaxNLocator

from sweeper.report.analysis import labels
from sweeper.report.plots import NAMES, UNITS, plain


def gradient_flow(
    metrics_one_run: pd.DataFrame,
    value: str = "grad_norm",
    ax: Axes | None = None,
    names: list[str] | None = None,
    legend_size: float = 8,
) -> Axes:
    """A metric per layer over training steps, log y, one line per layer; `names`:
    the layers' names (a Keras model's), else their numbers."""
    ax = plt.gca() if ax is None else ax
    layers = sorted(metrics_one_run["layer"].unique())
    colours = sns.color_palette("viridis", len(layers))
    for layer, colour in zip(layers, colours):
        rows = metrics_one_run[metrics_one_run["layer"] == layer].sort_values("step")
        role = " (first)" if layer == 0 else " (output)" if layer == layers[-1] else ""
        name = plain(names[layer]) if names and layer < len(names) else layer
        ax.plot(rows["step"], rows[value], color=colour, label=f"{name}{role}")
    values = metrics_one_run[value].to_numpy()
    if (values[np.isfinite(values)] > 0).any():
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(NAMES.get(value, value))
    ax.legend(title="layer", fontsize=legend_size, title_fontsize=legend_size)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def gradient_flow_grid(
    metrics: pd.DataFrame, runs: pd.DataFrame, fig: Figure, jobs: list
) -> Figure:
    """Small multiples of `gradient_flow` for the runs of `jobs`, in that order.

    Each is titled run: verdict, naming every setting that varies among all `runs`
    (not only among those shown).
    """
    titles = (labels(runs) + ": " + runs["verdict"]).set_axis(runs["job"])[jobs]
    runs = runs.set_index("job", drop=False).loc[jobs]
    nrows = -(-len(runs) // 4)
    fig.set_size_inches(16, 3 * nrows)
    for index, (job, title) in enumerate(zip(runs["job"], titles)):
        ax = fig.add_subplot(nrows, 4, index + 1)
        gradient_flow(metrics[metrics["job"] == job], ax=ax, legend_size=6)
        # Four panels a row: a long title wraps rather than runs into its
        # neighbour's. Placed by hand (y): matplotlib's own placement measures every
        # tick label of the panel, a quarter of the figure's drawing time.
        ax.set_title(textwrap.fill(plain(title), 52), fontsize=8, y=1.0, pad=4)
        ax.set_ylabel("" if index % 4 else UNITS["grad_norm"])  # once per row
        # A log axis spanning many decades gets ~8 minor ticks a decade; on dozens of
        # small panels they are unreadable, and drawing them was most of the time.
        # Few major ticks too: each is four artists to place and draw.
        ax.minorticks_off()
        ax.xaxis.set_major_locator(MaxNLocator(2))
        if ax.get_yscale() == "log":
            ax.yaxis.set_major_locator(LogLocator(numticks=5))
    # Margins by hand, in inches (a constrained layout of 48 panels took 40% of the
    # time to draw them): room for the y tick labels, and between rows for the x
    # labels and a two-line title.
    height = 3 * nrows
    title = f"{NAMES['grad_norm']} over training, per layer (log scale)"
    fig.suptitle(title, y=1 - 0.15 / height, va="top")
    fig.subplots_adjust(
        left=0.9 / 16,
        right=1 - 0.15 / 16,
        bottom=0.5 / height,
        top=1 - 0.9 / height,
        wspace=0.6 / 3.4,
        hspace=0.95 / 2.05,
    )
    return fig
