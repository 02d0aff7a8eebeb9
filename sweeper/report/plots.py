"""Figures of a sweep: heatmaps over two settings and per-layer profiles.

Each function draws on `ax` (the current Axes if None) and returns it; none saves or
shows a figure: the report module does that. Gradient flow over training: flows.py.
"""

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from seaborn.utils import relative_luminance

from sweeper.record.verdict import EARLY
from sweeper.report import cell_grid
from sweeper.report.analysis import cli_text, labels, setting_labels
from sweeper.report.numbers import sci
from sweeper.report.stories import commonest

NAMES = {  # column -> axis label; gradients are dL/dW of the MSE loss, per weight
    "first_grad_std_init": "first-layer weight-gradient std at initialization "
    "(dL/dW of the first batch)",
    "final_loss": "final probe loss",
    "signal_decades": "per-example signal at init, first layer vs readout (decades)",
    "signal_slope": "per-example signal slope at init (decades / hidden layer)",
    "out_spread": "output spread (std estimate / std target)",
    "grad_norm": "weight-gradient L2 norm (before clipping)",
    "bias_grad_norm": "back-propagated signal |dL/dz| of the batch (bias gradient)",
    "delta_rms": "per-example back-propagated signal |dL/dz| (RMS over the batch)",
    "update_ratio": "|update| / |weights| per step",
    "act_rms": "activation RMS over the probe inputs",
}
UNITS = {  # column -> short colour-bar label
    "first_grad_std_init": "std of dL/dW",
    "final_loss": "loss",
    "signal_decades": "decades",
    "signal_slope": "decades / layer",
    "grad_norm": "|dL/dW|",
    "bias_grad_norm": "|dL/dz|",
    "update_ratio": "|dW| / |W|",
    "delta_rms": "|dL/dz| per example",
}
LOG_SPAN = 100.0  # a colour scale turns log10 when values span more than 2 decades
UNHEALTHY = "crimson"  # border, hatch and verdict colour of cells that are not healthy
CMAP = "viridis"
MAX_FACETS = 12  # heatmap panels, one per combination of the keys beyond the first two


def plain(text: str) -> str:
    """Keep matplotlib from reading `$...$` in a setting value as mathtext."""
    return str(text).replace("$", r"\$")


def levels(values: pd.Series) -> list:
    """Axis order: numbers ascending, text in order of first appearance."""
    present = values.dropna()
    if pd.api.types.is_numeric_dtype(present):
        return sorted(present.unique())
    return list(dict.fromkeys(present))


def _norm(values: np.ndarray) -> Normalize | None:
    """A log10 norm when the positive values span > 2 decades, else linear."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    low, high = finite.min(), finite.max()
    positive = finite[finite > 0]
    if low >= 0 and positive.size and positive.max() / positive.min() > LOG_SPAN:
        return LogNorm(positive.min(), high, clip=True)
    if low == high:  # one value: widen the range so the colour is mid-scale
        low, high = low - abs(low) * 0.5 - 1e-12, high + abs(high) * 0.5 + 1e-12
    return Normalize(low, high)


def heatmap(
    runs: pd.DataFrame,
    value: str,
    x: str,
    y: str | None,
    ax: Axes | None = None,
    norm: Normalize | None = None,
    colorbar: bool = True,
) -> Axes:
    """A figure over two swept settings, median per cell, annotated with the verdict,
    how many of the cell's seeds share it and the range of the figure over them.

    `norm` fixes the colour scale (to share it between panels); by default it is
    log10 when the values span more than two decades, else linear. `colorbar`: draw
    the scale beside the panel (heatmap_grid draws one for all its panels).
    """
    ax = plt.gca() if ax is None else ax
    data = runs.dropna(subset=[k for k in (x, y) if k])
    rows, cols = (levels(data[y]) if y else [None]), levels(data[x])
    grid = np.full((len(rows), len(cols)), np.nan)
    verdict = np.full(grid.shape, "", dtype=object)
    note = np.full(grid.shape, "", dtype=object)
    row_of, col_of = (
        {r: i for i, r in enumerate(rows)},
        {c: j for j, c in enumerate(cols)},
    )
    for key, cell in data.groupby([y, x] if y else [x], sort=False):
        i, j = (row_of[key[0]], col_of[key[1]]) if y else (0, col_of[key[0]])
        grid[i, j] = cell[value].median()
        verdict[i, j] = commonest(cell["verdict"])
        note[i, j] = _seeds(cell, value, verdict[i, j])
    norm = _norm(grid) if norm is None else norm
    log = isinstance(norm, LogNorm)
    name = NAMES.get(value, value)
    shown = np.where(grid > 0, grid, norm.vmin) if log else grid  # 0 at the low end
    cell_grid.heatmap(
        pd.DataFrame(shown),
        ax,
        [plain(cli_text(runs, x, c)) for c in cols],
        [plain(cli_text(runs, y, r)) for r in rows] if y else [""],
        cmap=CMAP,
        norm=norm,
        linewidths=1,
        linecolor="white",
        cbar=colorbar and norm is not None,
        cbar_kws={"label": _scale_label(value, log)},
    )
    for (i, j), cell_value in np.ndenumerate(grid):
        if verdict[i, j]:
            level = norm(shown[i, j]) if norm is not None else 0.0
            text = f"{verdict[i, j]}{note[i, j]}"
            _annotate(ax, i, j, verdict[i, j], text, cell_value, level)
    ax.set_xlabel(x)
    ax.set_ylabel(y or "")
    ax.tick_params(axis="y", rotation=0, left=bool(y))
    ax.set_title(f"{name}\n(red hatched cells: verdict is not healthy)", fontsize=10)
    return ax


def _scale_label(value: str, log: bool) -> str:
    return UNITS.get(value, value) + (" (log10 scale)" if log else "")


def _seeds(cell: pd.DataFrame, value: str, verdict: str) -> str:
    """A cell's note: "3/5" seeds of that verdict and the range, for several seeds;
    the value alone for one."""
    values = cell[value].to_numpy(float)
    if len(cell) == 1:
        return f"\n{sci(values[0])}"
    agree = int((cell["verdict"] == verdict).sum())
    finite = values[np.isfinite(values)]
    if not finite.size:
        return f" {agree}/{len(cell)}\nn/a"
    middle, low, high = (sci(f(finite)) for f in (np.median, np.min, np.max))
    return f" {agree}/{len(cell)}\n{middle}\n[{low}, {high}]"


def _annotate(ax: Axes, i, j, verdict: str, text: str, value: float, level) -> None:
    """Write a cell's text; a cell whose verdict is not healthy is hatched red."""
    if verdict == "healthy":
        shade = plt.get_cmap(CMAP)(level) if np.isfinite(value) else (1, 1, 1)
        ink = "black" if relative_luminance(shade) > 0.408 else "white"
        ax.text(j + 0.5, i + 0.5, text, ha="center", va="center", color=ink, fontsize=9)
        return
    box = Rectangle((j + 0.04, i + 0.04), 0.92, 0.92, fill=False, hatch="//", lw=2.5)
    box.set_edgecolor(UNHEALTHY)
    ax.add_patch(box)
    label = {"facecolor": "white", "alpha": 0.9, "edgecolor": UNHEALTHY, "pad": 2}
    ax.text(
        j + 0.5,
        i + 0.5,
        text,
        ha="center",
        va="center",
        fontsize=9,
        color=UNHEALTHY,
        fontweight="bold",
        bbox=label,
    )


def early_median(metrics: pd.DataFrame, value: str) -> pd.Series:
    """Per (job, layer): the median of a metric over the first 10% of training."""
    if metrics.empty:
        return pd.Series()
    # As record.verdict: the first 10% of steps, and at least two logged steps.
    steps = metrics.drop_duplicates(["job", "step"])[["job", "step"]]
    by_job = steps.groupby("job", sort=False)["step"]
    first, last = by_job.min(), by_job.max()
    second = steps[by_job.rank(method="first") == 2].set_index("job")["step"]
    second = second.reindex(first.index).fillna(first)  # a job logged once: its step
    cutoff = metrics["job"].map(np.maximum(EARLY * last, second))
    early = metrics[metrics["step"] <= cutoff]
    return early.groupby(["job", "layer"], sort=False)[value].median()


def layer_profile(
    metrics: pd.DataFrame,
    runs: pd.DataFrame,
    value: str = "delta_rms",
    ax: Axes | None = None,
) -> Axes:
    """Layer (x) by setting (y) heatmap of a metric's early median, log10 colours.

    Runs that differ only in a replicate key (seed) share a row: their median.
    """
    ax = plt.gca() if ax is None else ax
    table = early_median(metrics, value).unstack("layer")
    jobs = [job for job in runs["job"] if job in table.index]
    table = table.reindex(jobs)
    names = dict(zip(runs["job"], setting_labels(runs)))
    table.index = [plain(names[job]) for job in jobs]
    table = table.groupby(level=0, sort=False).median()
    table = table.where(np.isfinite(table))  # a diverged run's inf: a blank cell
    positive = table.to_numpy()[table.to_numpy() > 0]
    norm = LogNorm(positive.min(), positive.max()) if positive.size else None
    shown = table.where(table.isna() | (table > 0), norm.vmin if norm else 0.0)
    small = table.size <= 120  # annotate values only while they stay readable
    cell_grid.heatmap(
        shown,
        ax,
        list(shown.columns),
        list(shown.index),
        cmap=CMAP,
        norm=norm,
        annot=table.map(sci) if small else False,
        fmt="",
        annot_kws={"fontsize": 8},
        linewidths=1,
        linecolor="white",
        cbar_kws={"label": f"{UNITS.get(value, value)} (log10 scale)"},
    )
    ax.set_xlabel("layer (0 = first Dense layer, last = output layer)")
    ax.set_ylabel("")
    ax.tick_params(axis="y", rotation=0)
    ax.set_title(
        f"{NAMES.get(value, value)}\nmedian over the first {EARLY:.0%} of training; "
        "blank = no such layer",
        fontsize=10,
    )
    return ax


def heatmap_grid(
    runs: pd.DataFrame, value: str, keys: list[str], fig: Figure
) -> Figure:
    """Heatmaps over keys[0] (y) and keys[1] (x), one per combination of the rest."""
    y, x = (keys[0], keys[1]) if len(keys) > 1 else (None, keys[0])
    facets = keys[2:]
    groups = list(runs.groupby(facets, sort=False)) if facets else [(None, runs)]
    groups = groups[:MAX_FACETS]
    ncols = min(3, len(groups))
    nrows = -(-len(groups) // ncols)
    shared = len(groups) > 1  # panels share one colour bar, drawn once
    width = (2.2 if shared else 2.8) + 1.3 * runs[x].nunique()
    height = 1.6 + 0.8 * (runs[y].nunique() if y else 1)
    fig.set_size_inches(ncols * width, nrows * height)
    cells = runs.groupby([k for k in keys if k], dropna=False)[value].median()
    norm = _norm(cells.to_numpy())  # one colour scale for every panel
    for index, (_, group) in enumerate(groups):
        group.attrs = runs.attrs  # keeps the CLI text of values for the tick labels
        ax = fig.add_subplot(nrows, ncols, index + 1)
        heatmap(group, value, x, y, ax=ax, norm=norm, colorbar=not shared)
        if facets:
            ax.set_title(plain(labels(group.iloc[:1], facets).iloc[0]), fontsize=10)
    if shared and norm is not None:
        log = isinstance(norm, LogNorm)
        scale = ScalarMappable(norm=norm, cmap=CMAP)
        label = _scale_label(value, log)
        fig.colorbar(scale, ax=fig.axes, label=label, fraction=0.015, pad=0.01)
    if facets:
        fig.suptitle(f"{NAMES.get(value, value)}\n(red hatched cells: not healthy)")
    return fig
