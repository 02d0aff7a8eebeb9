"""Write a folder's report: summary.csv, PNG figures, report.md and report.html.

The Hydra callback calls `build`; `python -m sweeper.report <folder>` (`main`) rebuilds
by hand.
"""

import argparse
import io
import math
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from collections.abc import Collection
from multiprocessing import get_context
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, NullLocator
from PIL import Image

from sweeper.record import files, lock
from sweeper.sweep.pool import die_with_parent
from sweeper.report import analysis, figures, fixes, narrative, summary
from sweeper.report.document import Document

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
DPI = 110
MINOR_SPAN = 1e3  # a log axis over more than 3 decades has no minor ticks


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
    metrics = analysis.load_metrics(folder, runs)
    drawings = figures.drawings(runs, metrics)
    drawn = [(name, caption) for name, caption, _, _ in drawings]  # report order
    # The figures first: they are most of the time, and the tables and text need
    # only what is loaded.
    with _drawing([(folder / name, draw, cost) for name, _, draw, cost in drawings]):
        summary.write_summary(folder, runs)
        settings = fixes.settings(runs)
        changes = fixes.single_changes(runs, settings)
        fixes.write(folder, changes)
        doc = Document(folder)
        left_out = stale_jobs(folder, jobs)
        narrative.write(
            doc, runs, incomplete, metrics, drawn, left_out, changes, settings
        )
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
    """Render at DPI and write an RGB PNG: the figures are opaque, so the alpha
    channel `savefig` writes is a quarter of the bytes for nothing, and zlib's level 3
    compresses them faster than its default, to about the same size (NOTES.md)."""
    canvas = FigureCanvasAgg(fig)  # explicit Agg: no display needed, no pyplot state
    _no_minor_ticks_over_decades(fig)
    _plain_powers_of_ten(fig)
    fig.set_dpi(DPI)
    canvas.draw()
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    png = io.BytesIO()
    rgba.convert("RGB").save(png, format="png", compress_level=3, dpi=(DPI, DPI))
    files.write_bytes(png.getvalue(), path)  # never through a link at `path`


def _log_axes(fig: Figure):
    """Every log-scaled axis of the figure, colour bars included."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "log":
                yield axis


def _no_minor_ticks_over_decades(fig: Figure) -> None:
    """Minor ticks off on a log axis that spans several decades (colour bars too):
    ~8 a decade, unlabelled, they only crowd the axis, and placing them was ~40% of
    drawing a figure. An axis of less keeps them, where they carry its labels."""
    for axis in _log_axes(fig):
        low, high = sorted(axis.get_view_interval())
        if low > 0 and high / low > MINOR_SPAN:
            axis.set_minor_locator(NullLocator())


def _plain_powers_of_ten(fig: Figure) -> None:
    """A log axis' decade labels as plain text (10⁻³) where matplotlib writes them as
    mathtext ($10^{-3}$), which looks the same: its parse and layout were a fifth of
    the report's drawing time, on 48 log panels and every log colour bar."""
    for axis in _log_axes(fig):
        if type(axis.get_major_formatter()) is LogFormatterSciNotation:
            axis.set_major_formatter(FuncFormatter(power_of_ten))


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(x: float, _position=None) -> str:
    """10ᵏ for a decade, as plain text; any other value as %g."""
    if not (x > 0 and math.isfinite(x)):
        return ""
    k = round(math.log10(x))
    if not math.isclose(x, 10.0**k, rel_tol=1e-9):
        return f"{x:g}"
    return "10" + str(k).translate(_SUPERSCRIPT)


# Drawings a forked worker renders, by index: fork hands them over without pickling.
_PENDING: list = []


@contextmanager
def _drawing(drawings: list):
    """Draw and save (path, draw, cost) drawings, on up to two forked processes
    while the body (the report's text) runs; done when the block ends.

    Rendering is most of a report's time and by the time the report is written the
    training processes are gone, so the cores are free. The costliest figures start
    first, and each process takes the next as it is free: the two end close together.
    """
    global _PENDING
    workers = min(2, len(drawings), os.cpu_count() or 1)
    # A forked child of a process that loaded TensorFlow (tensorboard=true writes
    # events from this process) can hang on a lock a TF thread held: draw in turn.
    if workers < 2 or "tensorflow" in sys.modules:
        yield
        for path, draw, _ in drawings:
            _save(draw(), path)
        return
    _PENDING = drawings
    order = sorted(range(len(drawings)), key=lambda i: -drawings[i][2])
    try:
        fork = get_context("fork")
        ending = (die_with_parent, (os.getpid(),))  # no drawing outlives this process
        with ProcessPoolExecutor(workers, fork, *ending) as pool:
            done = [pool.submit(_draw_pending, index) for index in order]
            yield
            for future in done:
                future.result()  # re-raises a drawing's error here
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
