"""Write a folder's report: summary.csv, PNG figures, report.md and report.html.

The Hydra callback calls `build`; `python -m sweeper.report <folder>` (`main`) rebuilds
by hand.
"""

import argparse
import io
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Collection
from functools import partial
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sweeper.record import files, lock
from sweeper.sweep.pool import die_with_parent
from sweeper.report import analysis, fixes, flows, narrative, phase, plots, summary
from sweeper.report.document import Document

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
PER_RUN_FLOWS = 16  # up to this many runs get a gradient-flow PNG each; more share one
MAX_PANELS = 48  # runs drawn in the shared gradient-flow PNG
DPI = 110


class NoRunsError(ValueError):
    """The folder holds no complete run to report on."""


def build(folder: Path, jobs: Collection[str] | None = None) -> Path:
    """Write summary.csv, the figures, report.md and report.html; return the html.

    `jobs`: report only these job dirs (the jobs of the command that ran); the
    folder's other runs are named as left out. Default: every run of the folder.
    """
    folder = Path(folder)
    files.clean_stale_temporaries(folder)
    runs, incomplete = analysis.load_runs(folder, jobs)
    if runs.empty:
        damaged = sum(why.startswith("damaged") for why in incomplete.values())
        counts = f"{len(incomplete) - damaged} unfinished, {damaged} damaged"
        raise NoRunsError(f"{folder} holds no complete run ({counts})")
    summary.write_summary(folder, runs)
    changes = fixes.single_changes(runs)
    fixes.write(folder, changes)
    metrics = analysis.load_metrics(folder, runs)
    doc = Document(folder)
    left_out = stale_jobs(folder, jobs)
    figures = _figures(folder, runs, metrics)
    narrative.write(doc, runs, incomplete, metrics, figures, left_out, changes)
    files.write_text(doc.markdown(), folder / REPORT_MD)
    path = folder / REPORT_HTML
    files.write_text(doc.page(f"sweeper report: {folder.resolve().name}"), path)
    return path


def stale_jobs(folder: Path, jobs: Collection[str] | None) -> list[str]:
    """Job dirs of the folder that are not among `jobs` (an earlier, larger grid's)."""
    if jobs is None:
        return []
    found = [d.name for d in analysis.job_dirs(Path(folder)) if d != Path(folder)]
    return [name for name in found if name not in jobs]


# Figures ----------------------------------------------------------------------------


def _save(fig: Figure, path: Path) -> None:
    FigureCanvasAgg(fig)  # explicit Agg: no display needed, no pyplot state kept
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=DPI)
    files.write_bytes(png.getvalue(), path)  # never through a link at `path`


def _figures(folder: Path, runs: pd.DataFrame, metrics: pd.DataFrame) -> list:
    """Save every PNG; return (file name, caption) pairs in report order."""
    drawings = _drawings(runs, metrics)
    _draw_all([(folder / name, draw, panels) for name, _, draw, panels in drawings])
    return [(name, caption) for name, caption, _, _ in drawings]


# Drawings a forked worker renders, by index: fork hands them over without pickling.
_PENDING: list = []


def _draw_all(drawings: list) -> None:
    """Draw and save (path, draw, panels) drawings, on up to two forked processes.

    Rendering is most of a report's time and by the time the report is written the
    training processes are gone, so the cores are free. The figures with the most
    panels start first.
    """
    global _PENDING
    workers = min(2, len(drawings), os.cpu_count() or 1)
    # A forked child of a process that loaded TensorFlow (tensorboard=true writes
    # events from this process) can hang on a lock a TF thread held: draw in turn.
    if workers < 2 or "tensorflow" in sys.modules:
        for path, draw, _ in drawings:
            _save(draw(), path)
        return
    _PENDING = drawings
    order = sorted(range(len(drawings)), key=lambda i: -drawings[i][2])
    try:
        fork = get_context("fork")
        ending = (die_with_parent, (os.getpid(),))  # no drawing outlives this process
        with ProcessPoolExecutor(workers, fork, *ending) as pool:
            list(pool.map(_draw_pending, order))  # re-raises a drawing's error here
    finally:
        _PENDING = []


def _draw_pending(index: int) -> None:
    path, draw, _ = _PENDING[index]
    _save(draw(), path)


def _drawings(runs: pd.DataFrame, metrics: pd.DataFrame) -> list:
    """(file name, caption, draw, panels) of every figure, in report order.

    `draw()` returns the Figure; `panels` (its axes) ranks what to draw first.
    """
    keys = [k for k in analysis.swept_keys(runs) if k not in analysis.REPLICATES]
    drawings = []
    if keys and len(runs) > 1:
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
            draw = partial(_heatmaps, runs, value, keys)
            drawings.append((name, caption, draw, 2))
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
        drawings.append(("layer_profile.png", caption, draw, 2))
    caption = "Weight-gradient L2 norm per layer over training (log scale): {}."
    if trained.empty:  # every run failed: no metrics to draw
        return drawings
    if len(trained) > PER_RUN_FLOWS:
        jobs = _flow_panels(trained)
        what = f"{len(jobs)} of {len(trained)} runs, one per setting, not healthy first"
        draw = partial(_gradient_flows, metrics, trained, jobs)
        return drawings + [("gradient_flow.png", caption.format(what), draw, len(jobs))]
    titles = analysis.labels(trained) + ": " + trained["verdict"]
    for job, title in zip(trained["job"], titles):
        name = "gradient_flow.png" if job == "." else f"gradient_flow_{_safe(job)}.png"
        names = _layer_names(trained[trained["job"] == job].iloc[0])
        draw = partial(_gradient_flow, metrics[metrics["job"] == job], title, names)
        drawings.append((name, caption.format(title), draw, 1))
    return drawings


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
    ax.set_title(plots.plain(title), fontsize=10)
    return fig


def _safe(job: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", job)  # a job dir may be named anything


def main(argv: list[str] | None = None) -> None:
    """`python -m sweeper.report <folder>`: (re)build a folder's report."""
    parser = argparse.ArgumentParser(
        prog="python -m sweeper.report",
        description="Write summary.csv, PNG figures, report.md and a self-contained "
        "report.html into a run or sweep folder made by `python -m sweeper`.",
    )
    parser.add_argument(
        "folder",
        type=Path,
        help="a sweep dir (job subdirs 0/, 1/, "
        "...) or a single-run dir holding run.json",
    )
    folder = parser.parse_args(argv).folder
    if not folder.is_dir():
        _fail(f"folder '{folder}' does not exist")
    if not any(folder.glob("run.json")) and not any(folder.glob("*/run.json")):
        _fail(f"folder '{folder}' holds no runs (no run.json in it or its subfolders)")
    try:
        lock.hold(folder)  # a sweep still writing it would race this report
        path = build(folder)
    except (NoRunsError, lock.FolderInUse) as exc:
        _fail(str(exc))
    print(f"sweeper: report written to {path}")


def _fail(message: str) -> None:
    print(f"sweeper.report: error: {message}", file=sys.stderr)
    sys.exit(2)
