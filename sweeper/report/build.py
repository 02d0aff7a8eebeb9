"""Write a folder's report: summary.csv, PNG figures, report.md and report.html.

The Hydra callback calls `build`; `python -m sweeper.report <folder>` (`main`) rebuilds
by hand.
"""

import argparse
import io
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Collection
from multiprocessing import get_context
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from sweeper.record import files, lock
from sweeper.sweep.pool import die_with_parent
from sweeper.report import analysis, figures, fixes, narrative, summary
from sweeper.report.document import Document

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
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
    drawn = _figures(folder, runs, metrics)
    narrative.write(doc, runs, incomplete, metrics, drawn, left_out, changes)
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
    drawings = figures.drawings(runs, metrics)
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
