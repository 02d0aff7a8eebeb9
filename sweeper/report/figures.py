"""The report's figures: which to draw, their captions, and how each is drawn.

`drawings` lists them in report order; report/build.py renders and saves them.
"""

import re
from functools import partial

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sweeper.report import analysis, failures, flows, phase, plots

PER_RUN_FLOWS = 16  # up to this many runs get a gradient-flow PNG each; more share one
MAX_PANELS = 48  # runs drawn in the shared gradient-flow PNG


def drawings(runs: pd.DataFrame, metrics: pd.DataFrame) -> list:
    """(file name, caption, draw, cost) of every figure, in report order.

    `draw()` returns the Figure; `cost`, its rough drawing time in panels of the
    gradient-flow grid, decides what to draw first (report/build.py). Per unit: one
    such panel, three heatmap cells (each three lines of text) or three rows of the
    layer profile, measured on the 256-run grid.
    """
    keys = [k for k in analysis.swept_keys(runs) if k not in analysis.REPLICATES]
    drawings = []
    if keys and failures.present(runs):
        ranked = list(failures.importance(runs, keys).index)
        x, y = (ranked[1], ranked[0]) if len(ranked) > 1 else (ranked[0], None)
        pooled = [k for k in keys if k not in (x, y)]
        caption = (
            "Share of each cell's runs that failed, diverged, vanished or exploded "
            f"(runs with it / runs in the cell) over {y + ' and ' if y else ''}{x}, "
            "the axes the verdict varies with most; each cell pools "
            + (", ".join(pooled) + " and " if pooled else "")
            + "the seeds."
        )
        draw = partial(_failure_heatmaps, runs, keys)
        cost = len(failures.present(runs))
        drawings.append(("failures.png", caption, draw, cost))
    if len(keys) > 1:
        caption = (
            "Per swept setting, the share of each verdict among the runs of each of "
            "its values (every other setting and seed pooled); settings in order of "
            "how much the share of healthy runs moves with them."
        )
        draw = partial(_marginals, runs, keys)
        drawings.append(("marginals.png", caption, draw, 1.5 * len(keys)))
    if keys and len(runs) > 1:
        shown = _heatmap_keys(runs, keys)
        pooled = [k for k in keys if k not in shown]
        for value, name in (
            ("first_grad_std_init", "heatmap_first_grad.png"),
            ("final_loss", "heatmap_final_loss.png"),
        ):
            if not np.isfinite(runs[value]).any():
                continue  # every run failed or diverged first: nothing to colour
            what = plots.NAMES[value][0].upper() + plots.NAMES[value][1:]
            caption = (
                f"{what}: median over each setting's seeds, their range in "
                "brackets; each cell names its commonest verdict and how many seeds "
                "share it (red hatched cells are not healthy)."
            )
            if pooled:
                caption += (
                    f" Over {' and '.join(shown)}, the settings the verdict varies "
                    f"with most; each cell pools {', '.join(pooled)} (one panel per "
                    f"combination would be more than {plots.MAX_FACETS})."
                )
            draw = partial(_heatmaps, runs, value, shown)
            cells = runs.groupby(shown).ngroups
            drawings.append((name, caption, draw, cells / 3))
    if phase.applies(runs):
        caption = (
            "Phase diagram: the per-example signal's measured slope at "
            "initialization (decades per hidden layer, median over seeds) over the "
            "weight and bias variances, with mean-field theory's order-to-chaos line "
            "(chi_1 = 1): below it (blue) the signal shrinks, beyond it (red) it grows."
        )
        draw = partial(_phase_diagram, runs)
        drawings.append(("phase_diagram.png", caption, draw, 2))
    trained = runs[runs["job"].isin(metrics["job"].unique())]
    if not trained.empty:
        caption = (
            "The per-example back-propagated signal |dL/dz| that reaches each "
            "layer early in training (median over seeds); darker = smaller."
        )
        draw = partial(_layer_profile, metrics, trained)
        rows = analysis.setting_labels(trained).nunique()
        drawings.append(("layer_profile.png", caption, draw, rows / 3))
    caption = "Weight-gradient L2 norm per layer over training (log scale): {}."
    if trained.empty:  # every run failed: no metrics to draw
        return drawings
    if len(trained) > PER_RUN_FLOWS:
        jobs = _flow_panels(trained)
        settings = analysis.setting_labels(trained).nunique()
        what = f"{len(jobs)} of {len(trained)} runs, one per setting, not healthy first"
        if settings > len(jobs):
            what += (
                f"; the other {settings - len(jobs)} settings are not drawn: their "
                "runs' metrics.csv, listed in summary.csv, hold every figure"
            )
        draw = partial(_gradient_flows, metrics, trained, jobs)
        return drawings + [("gradient_flow.png", caption.format(what), draw, len(jobs))]
    titles = analysis.labels(trained) + ": " + trained["verdict"]
    for job, title in zip(trained["job"], titles):
        name = "gradient_flow.png" if job == "." else f"gradient_flow_{_safe(job)}.png"
        names = _layer_names(trained[trained["job"] == job].iloc[0])
        draw = partial(_gradient_flow, metrics[metrics["job"] == job], title, names)
        drawings.append((name, caption.format(title), draw, 4))  # a bigger panel
    return drawings


def _heatmap_keys(runs, keys) -> list:
    """The keys of the figure heatmaps: all, while the panels (one per combination
    of the keys beyond the first two) fit; else the two that matter most."""
    facets = runs.groupby(keys[2:]).ngroups if len(keys) > 2 else 1
    if facets <= plots.MAX_FACETS:
        return keys
    ranked = list(failures.importance(runs, keys).index)
    return [k for k in keys if k in ranked[:2]]


def _failure_heatmaps(runs, keys) -> Figure:
    return failures.heatmaps(runs, keys, Figure(layout="constrained"))


def _marginals(runs, keys) -> Figure:
    return failures.marginals(runs, keys, Figure(layout="constrained"))


def _heatmaps(runs, value, keys) -> Figure:
    return plots.heatmap_grid(runs, value, keys, Figure(layout="constrained"))


def _phase_diagram(runs) -> Figure:
    return phase.phase_diagram(runs, Figure(layout="constrained"))


def _layer_profile(metrics, trained) -> Figure:
    rows = analysis.setting_labels(trained).nunique()
    fig = Figure(figsize=(8, 2 + 0.3 * rows), layout="constrained")
    plots.layer_profile(metrics, trained, ax=fig.add_subplot())
    return fig


def _flow_panels(trained: pd.DataFrame) -> list:
    """Jobs of the shared gradient-flow figure, at most MAX_PANELS of them.

    One run per setting (other seeds of a setting mostly repeat it), the settings that
    are not healthy first, in job order otherwise.
    """
    firsts = trained[~analysis.setting_labels(trained).duplicated()]
    order = firsts.assign(healthy=firsts["verdict"] == "healthy")
    order = order.sort_values("healthy", kind="stable")
    return list(order["job"].iloc[:MAX_PANELS])


def _gradient_flows(metrics, trained, jobs) -> Figure:
    fig = Figure()  # laid out by gradient_flow_grid
    return flows.gradient_flow_grid(metrics, trained, fig, jobs)


def _layer_names(run: pd.Series) -> list[str] | None:
    names = run.get("layer_names")
    return names.split("|") if isinstance(names, str) and names else None


def _gradient_flow(metrics_one_run, title, names=None) -> Figure:
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = flows.gradient_flow(metrics_one_run, ax=fig.add_subplot(), names=names)
    ax.set_title(plots.plain(title), fontsize=10, y=1.0)  # y: see flows.py
    return fig


def _safe(job: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", job)  # a job dir may be named anything
