"""Failures as data: the share of runs per cell that failed, diverged, vanished or
exploded, the axes that matter most, per-axis verdict shares, and the table of runs
that failed or diverged.

An axis matters as much as the share of healthy runs moves with it: the range, over
its values, of the share of healthy runs among all runs that have that value (every
other axis and seed pooled). The two that matter most span the heatmaps; each cell
pools the runs of every other axis and seed, and says how many there are.
"""

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sweeper.record.verdict import VERDICTS
from sweeper.report import cell_grid
from sweeper.report.analysis import cli_text
from sweeper.report.plots import UNHEALTHY, levels, plain

# What the failure heatmaps count: name -> which runs (a boolean per run)
KINDS = {
    "failed": lambda runs: runs["status"] == "failed",
    "diverged": lambda runs: runs["diverged"].astype(bool),
    "vanishing": lambda runs: runs["vanishing"].astype(bool),
    "exploding": lambda runs: runs["exploding"].astype(bool),
}
# Verdict colours of the per-axis bars: healthy green, the rest from red to grey
COLOURS = dict(zip(VERDICTS, ["#444444", "#7b2d26", "#d62728", "#ff7f0e"]))
COLOURS |= {"vanishing": "#1f77b4", "dead": "#9467bd", "collapsed": "#8c8c8c"}
COLOURS |= {"healthy": "#2ca02c"}


def importance(runs: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Per axis, how far the share of healthy runs moves over its values; highest
    first (ties in the sweep's order)."""
    healthy = runs["verdict"] == "healthy"
    moves = {
        key: float(np.ptp(healthy.groupby(runs[key], dropna=False).mean().to_numpy()))
        for key in keys
    }
    order = sorted(keys, key=lambda k: -moves[k])
    return pd.Series({k: moves[k] for k in order})


def present(runs: pd.DataFrame) -> list[str]:
    """The kinds of failure that some run shows."""
    return [name for name, which in KINDS.items() if which(runs).any()]


def heatmaps(runs: pd.DataFrame, keys: list[str], fig: Figure) -> Figure:
    """One heatmap per kind of failure present: its share of the runs of each cell
    over the two axes that matter most, annotated "count/runs"."""
    ranked = list(importance(runs, keys).index)
    x, y = (ranked[1], ranked[0]) if len(ranked) > 1 else (ranked[0], None)
    kinds = present(runs)
    columns = min(2, len(kinds))
    rows = -(-len(kinds) // columns)
    cols = levels(runs[x])
    lines = levels(runs[y]) if y else [None]
    fig.set_size_inches(
        columns * (2.6 + 1.1 * len(cols)), rows * (1.6 + 0.6 * len(lines))
    )
    for index, kind in enumerate(kinds):
        which = KINDS[kind](runs)
        share = np.full((len(lines), len(cols)), np.nan)
        note = np.full(share.shape, "", dtype=object)
        for i, line in enumerate(lines):
            for j, col in enumerate(cols):
                cell = (runs[x] == col) & ((runs[y] == line) if y else True)
                if cell.any():
                    share[i, j] = which[cell].mean()
                    note[i, j] = f"{int(which[cell].sum())}/{int(cell.sum())}"
        ax = fig.add_subplot(rows, columns, index + 1)
        cell_grid.heatmap(
            pd.DataFrame(share),
            ax,
            [plain(cli_text(runs, x, c)) for c in cols],
            [plain(cli_text(runs, y, r)) for r in lines] if y else [""],
            vmin=0,
            vmax=1,
            cmap="Reds",
            annot=note,
            fmt="",
            linewidths=1,
            linecolor="white",
            cbar_kws={"label": "share of runs"},
        )
        ax.set_xlabel(plain(x))
        ax.set_ylabel(plain(y) if y else "")
        ax.set_title(f"{kind}", fontsize=10, color=UNHEALTHY)
    return fig


def marginals(runs: pd.DataFrame, keys: list[str], fig: Figure) -> Figure:
    """Per swept axis, the share of each verdict among the runs of each value (every
    other axis and seed pooled), stacked bars."""
    ranked = list(importance(runs, keys).index)
    fig.set_size_inches(min(4.0 * len(ranked), 16), 3.2 * -(-len(ranked) // 4))
    shown = [v for v in VERDICTS if (runs["verdict"] == v).any()]
    for index, key in enumerate(ranked):
        ax = fig.add_subplot(-(-len(ranked) // 4), min(4, len(ranked)), index + 1)
        values = levels(runs[key])
        bottom = np.zeros(len(values))
        for verdict in shown:
            share = np.array(
                [
                    (runs.loc[runs[key] == v, "verdict"] == verdict).mean()
                    for v in values
                ]
            )
            ax.bar(
                range(len(values)),
                share,
                bottom=bottom,
                color=COLOURS[verdict],
                label=verdict if index == 0 else None,
            )
            bottom += share
        ax.set_xticks(range(len(values)))
        ax.set_xticklabels([plain(cli_text(runs, key, v)) for v in values], fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(plain(key), fontsize=10)
        ax.set_ylabel("share of runs" if index % 4 == 0 else "")
    fig.legend(loc="outside right upper", fontsize=8)
    return fig


def table(runs: pd.DataFrame, names: dict) -> tuple[list, list]:
    """The runs that failed or diverged: job, setting, and the error line or the
    first non-finite step and where it appeared."""
    bad = runs[(runs["status"] == "failed") | runs["diverged"].astype(bool)]
    rows = []
    for run in bad.itertuples():
        if run.status == "failed":
            what = [("code", str(run.error))]
        else:
            step = "" if pd.isna(run.diverged_at) else f"at step {int(run.diverged_at)}"
            where = getattr(run, "diverged_in", None)
            what = f"non-finite {step}" + (f", first in {where}" if where else "")
        rows.append([run.job, names.get(run.job, ""), run.status, what])
    return ["job", "setting", "status", "error line, or where it went non-finite"], rows
