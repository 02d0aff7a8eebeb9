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
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, LogLocator, MaxNLocator

from sweeper.report.analysis import labels
from sweeper.report.plots import NAMES, UNITS, plain


def gradient_flow(
    metrics_one_run: pd.DataFrame,
    value: str = "grad_norm",
    ax: Axes | None = None,
    names: list[str] | None = None,
) -> Axes:
    """A metric per layer over training steps, log y, one line per layer; `names`:
    the layers' names (a Keras model's), else their numbers."""
    ax = plt.gca() if ax is None else ax
    layers = sorted(metrics_one_run["layer"].unique())
    colours = sns.color_palette("viridis", len(layers))
    for layer, colour in zip(layers, colours):
        role = " (first)" if layer == 0 else " (output)" if layer == layers[-1] else ""
        name = plain(names[layer]) if names and layer < len(names) else layer
        _line(ax, metrics_one_run, value, layer, color=colour, label=f"{name}{role}")
    _axis_scale(ax, metrics_one_run[value])
    ax.set_xlabel("training step")
    ax.set_ylabel(NAMES.get(value, value))
    ax.legend(title="layer", fontsize=8, title_fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def _line(ax: Axes, metrics_one_run: pd.DataFrame, value: str, layer, **style):
    rows = metrics_one_run[metrics_one_run["layer"] == layer].sort_values("step")
    return ax.plot(rows["step"], rows[value], **style)[0]


def _axis_scale(ax: Axes, values) -> None:
    values = np.asarray(values, float)
    if (values[np.isfinite(values)] > 0).any():
        ax.set_yscale("log")


def gradient_flow_grid(
    metrics: pd.DataFrame, runs: pd.DataFrame, fig: Figure, jobs: list
) -> Figure:
    """Small multiples of the weight-gradient norm per layer over training, for the
    runs of `jobs`, in that order, four a row.

    Each is titled run: verdict, naming every setting that varies among all `runs`
    (not only among those shown). A layer has one colour in every panel, named once
    in the figure's legend, and each run's output layer is dashed; when every run
    logged the same steps, only the lowest panel of a column labels them.
    """
    value = "grad_norm"
    titles = (labels(runs) + ": " + runs["verdict"]).set_axis(runs["job"])[jobs]
    shown = metrics[metrics["job"].isin(jobs)]
    layers = int(shown["layer"].max()) + 1 if len(shown) else 0
    colours = sns.color_palette("viridis", layers)
    last_steps = shown.groupby("job")["step"].max()
    same_steps = last_steps.nunique() <= 1
    nrows = -(-len(jobs) // 4)
    fig.set_size_inches(16, 3 * nrows)
    lines = _lines(shown, value)
    for index, (job, title) in enumerate(zip(jobs, titles)):
        ax = fig.add_subplot(nrows, 4, index + 1)
        numbers = sorted(lines[job])
        for layer in numbers:
            dashed = layer == numbers[-1] and len(numbers) > 1
            style = "--" if dashed else "-"
            steps, values = lines[job][layer]
            ax.plot(steps, values, color=colours[layer], linestyle=style)
        _axis_scale(ax, np.concatenate([line[1] for line in lines[job].values()]))
        ax.grid(True, which="major", alpha=0.3)
        # Four panels a row: a long title wraps rather than runs into its
        # neighbour's. Placed by hand (y): matplotlib's own placement measures every
        # tick label of the panel, a quarter of the figure's drawing time.
        ax.set_title(textwrap.fill(plain(title), 52), fontsize=8, y=1.0, pad=4)
        ax.set_ylabel("" if index % 4 else UNITS[value])  # once per row
        lowest = index + 4 >= len(jobs)  # nothing drawn below it in its column
        if same_steps and not lowest:
            ax.tick_params(labelbottom=False)
        else:
            ax.set_xlabel("training step")
        # A log axis spanning many decades gets ~8 minor ticks a decade; on dozens of
        # small panels they are unreadable, and drawing them was most of the time.
        # Few major ticks too: each is four artists to place and draw.
        ax.minorticks_off()
        _shown_ticks(ax.xaxis, MaxNLocator(2))
        if ax.get_yscale() == "log":
            _shown_ticks(ax.yaxis, LogLocator(numticks=5))
    # Margins by hand, in inches (a constrained layout of 48 panels took 40% of the
    # time to draw them): room for the y tick labels, between rows for the x labels
    # and a two-line title, and at the top for the title and the legend.
    height = 3 * nrows
    title = f"{NAMES[value]} over training, per layer (log scale)"
    fig.suptitle(title, y=1 - 0.15 / height, va="top")
    _legend(fig, colours, y=1 - 0.45 / height)
    fig.subplots_adjust(
        left=0.9 / 16,
        right=1 - 0.15 / 16,
        bottom=0.5 / height,
        top=1 - 1.4 / height,
        wspace=0.6 / 3.4,
        hspace=0.95 / 2.05,
    )
    return fig


def _lines(metrics: pd.DataFrame, value: str) -> dict:
    """job -> layer -> (steps, values) in step order, the runs' lines."""
    rows = metrics.sort_values(["job", "layer", "step"], kind="stable")
    if rows.empty:
        return {}
    job, layer = rows["job"].to_numpy(), rows["layer"].to_numpy()
    steps, values = rows["step"].to_numpy(), rows[value].to_numpy()
    # Where the (job, layer) pair changes: each line is a slice, not a sub-table.
    starts = [0, *np.flatnonzero((job[1:] != job[:-1]) | (layer[1:] != layer[:-1])) + 1]
    lines: dict = {}
    for start, end in zip(starts, [*starts[1:], len(rows)]):
        line = (steps[start:end], values[start:end])
        lines.setdefault(job[start], {})[layer[start]] = line
    return lines


def _shown_ticks(axis, locator) -> None:
    """The locator's ticks inside the axis' view, fixed: a locator also returns ticks
    beyond the view, and the axis makes each one (its lines and labels) only to skip
    it."""
    locator.set_axis(axis)
    ticks = np.asarray(locator())
    scale = axis.get_transform()
    low, high = sorted(scale.transform(axis.get_view_interval()))
    at = scale.transform(ticks)
    slack = 1e-10 * (high - low)  # as matplotlib's own test of a tick in view
    axis.set_major_locator(
        FixedLocator(ticks[(at >= low - slack) & (at <= high + slack)])
    )


def _legend(fig: Figure, colours: list, y: float) -> None:
    """One legend for every panel: the layers' colours, and the output's dashes."""
    handles = [Line2D([], [], color=colour) for colour in colours]
    names = [f"{n}{' (first)' if n == 0 else ''}" for n in range(len(colours))]
    handles.append(Line2D([], [], color="grey", linestyle="--"))
    names.append("output layer (dashed)")
    fig.legend(
        handles,
        names,
        title="layer",
        loc="upper center",
        bbox_to_anchor=(0.5, y),
        ncol=len(handles),
        fontsize=8,
        title_fontsize=8,
        frameon=False,
    )
