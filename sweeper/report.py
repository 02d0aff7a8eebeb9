"""Write a folder's report: summary.csv, PNG figures, report.md and report.html.

The Hydra callback calls `build`; `python -m sweeper.report <folder>` rebuilds by hand.
"""

import argparse
import re
import sys
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sweeper import analysis, files, narrative, plots
from sweeper.document import Document

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
PER_RUN_FLOWS = 16  # up to this many runs get a gradient-flow PNG each; more share one
MAX_PANELS = 48  # runs drawn in the shared gradient-flow PNG
DPI = 110


class NoRunsError(ValueError):
    """The folder holds no complete run to report on."""


def build(folder: Path) -> Path:
    """Write summary.csv, the figures, report.md and report.html; return the html."""
    folder = Path(folder)
    runs, incomplete = analysis.load_runs(folder)
    if runs.empty:
        unfinished = f"{len(incomplete)} unfinished"
        raise NoRunsError(f"{folder} holds no complete run ({unfinished})")
    analysis.write_summary(folder)
    metrics = analysis.load_metrics(folder, runs)
    doc = Document(folder)
    narrative.write(doc, runs, incomplete, metrics, _figures(folder, runs, metrics))
    files.write_text(doc.markdown(), folder / REPORT_MD)
    path = folder / REPORT_HTML
    files.write_text(doc.page(f"sweeper report: {folder.resolve().name}"), path)
    return path


# Figures ----------------------------------------------------------------------------


def _save(fig: Figure, path: Path) -> None:
    FigureCanvasAgg(fig)  # explicit Agg: no display needed, no pyplot state kept
    fig.savefig(path, dpi=DPI)


def _figures(folder: Path, runs: pd.DataFrame, metrics: pd.DataFrame) -> list:
    """Save every PNG; return (file name, caption) pairs in report order."""
    keys = [k for k in analysis.swept_keys(runs) if k not in analysis.REPLICATES]
    saved = []
    if keys and len(runs) > 1:
        for value, name in (
            ("first_grad_std_start", "heatmap_first_grad.png"),
            ("final_loss", "heatmap_final_loss.png"),
        ):
            _save(
                plots.heatmap_grid(runs, value, keys, Figure(layout="constrained")),
                folder / name,
            )
            what = plots.NAMES[value][0].upper() + plots.NAMES[value][1:]
            saved.append(
                (
                    name,
                    f"{what}, median per setting; each cell names its "
                    "verdict (red hatched cells are not healthy).",
                )
            )
    trained = runs[runs["job"].isin(metrics["job"].unique())]
    if not trained.empty:
        rows = analysis.setting_labels(trained).nunique()
        fig = Figure(figsize=(8, 2 + 0.3 * rows), layout="constrained")
        plots.layer_profile(metrics, trained, ax=fig.add_subplot())
        _save(fig, folder / "layer_profile.png")
        saved.append(
            (
                "layer_profile.png",
                "The back-propagated signal |dL/dz| that "
                "reaches each layer early in training; darker = smaller.",
            )
        )
    caption = "Weight-gradient L2 norm per layer over training (log scale): {}."
    if len(trained) > PER_RUN_FLOWS:
        fig = Figure(layout="constrained")
        plots.gradient_flow_grid(metrics, trained, fig, MAX_PANELS)
        _save(fig, folder / "gradient_flow.png")
        what = f"{min(MAX_PANELS, len(trained))} of {len(trained)} runs"
        return saved + [("gradient_flow.png", caption.format(what))]
    titles = analysis.labels(trained) + ": " + trained["verdict"]
    for job, title in zip(trained["job"], titles):
        fig = Figure(figsize=(7, 4), layout="constrained")
        ax = plots.gradient_flow(metrics[metrics["job"] == job], ax=fig.add_subplot())
        ax.set_title(title.replace("$", r"\$"), fontsize=10)
        name = "gradient_flow.png" if job == "." else f"gradient_flow_{_safe(job)}.png"
        _save(fig, folder / name)
        saved.append((name, caption.format(title)))
    return saved


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
        path = build(folder)
    except NoRunsError as exc:
        _fail(str(exc))
    print(f"sweeper: report written to {path}")


def _fail(message: str) -> None:
    print(f"sweeper.report: error: {message}", file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main()
