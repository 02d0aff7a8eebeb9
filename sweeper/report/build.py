"""Write a folder's report: summary.csv, PNG figures, report.md and report.html.

The Hydra callback begins a `Report` as soon as every job's run files are written and
writes it once Hydra has finished the jobs; `build` does both at once, and
`python -m sweeper.report <folder>` (`main`) rebuilds by hand.
"""

import argparse
import sys
from collections.abc import Collection
from pathlib import Path

from sweeper.record import files, lock
from sweeper.report import analysis, figures, fixes, narrative, summary
from sweeper.report.document import Document
from sweeper.report.render import Drawing

REPORT_MD = "report.md"
REPORT_HTML = "report.html"


class NoRunsError(ValueError):
    """The folder holds no complete run to report on."""


class Report:
    """A folder's report, begun: its runs read and checked, its figures drawing (on
    forked processes while the maker goes on); `write` writes the rest.

    `jobs`: report only these job dirs (the jobs of the command that ran); the
    folder's other runs are named as left out. Default: every run of the folder.
    """

    def __init__(self, folder: Path, jobs: Collection[str] | None = None):
        self.folder, self.jobs = Path(folder), jobs
        files.clean_stale_temporaries(self.folder)
        self.runs, self.incomplete = analysis.load_runs(self.folder, jobs)
        if self.runs.empty:
            damaged = sum(why.startswith("damaged") for why in self.incomplete.values())
            counts = f"{len(self.incomplete) - damaged} unfinished, {damaged} damaged"
            raise NoRunsError(f"{self.folder} holds no complete run ({counts})")
        self.metrics = analysis.load_metrics(self.folder, self.runs)
        drawings = figures.drawings(self.runs, self.metrics)
        self._drawn = [(name, caption) for name, caption, _, _ in drawings]
        # The figures first: they are most of the time, and the tables and text need
        # only what is loaded.
        folder = self.folder
        self._drawing = Drawing([(folder / n, draw, c) for n, _, draw, c in drawings])

    def current(self, jobs: Collection[str] | None) -> bool:
        """Whether this report is still the one of these jobs: the same job dirs,
        and no run.json or metrics.csv written since it read them."""

    def write(self) -> Path:
        """Write summary.csv, report.md, report.html, wait for the figures; return the
        html."""
        folder, runs = self.folder, self.runs
        try:
            summary.write_summary(folder, runs)
            settings = fixes.settings(runs)
            changes = fixes.single_changes(runs, settings)
            fixes.write(folder, changes)
            doc = Document(folder)
            left_out = stale_jobs(folder, self.jobs)
            narrative.write(
                doc,
                runs,
                self.incomplete,
                self.metrics,
                self._drawn,
                left_out,
                changes,
                settings,
            )
            self._drawing.wait()
        finally:
            self._drawing.close()
        files.write_text(doc.markdown(), folder / REPORT_MD)
        path = folder / REPORT_HTML
        files.write_text(doc.page(f"sweeper report: {folder.resolve().name}"), path)
        return path

    def close(self) -> None:
        """Drop the report unwritten (its figures' processes end)."""
        self._drawing.close()


def build(folder: Path, jobs: Collection[str] | None = None) -> Path:
    """Write summary.csv, the figures, report.md and report.html; return the html.

    `jobs`: report only these job dirs (see `Report`)."""
    return Report(folder, jobs).write()

    """What tells the folder's run files unchanged: each one's modification time,
    size and inode."""
    found = []
    for job in analysis.job_dirs(folder):
        for name in (files.RUN_FILE, files.METRICS_FILE):
            try:
                info = (job / name).stat()
            except FileNotFoundError:
                continue
            found.append((str(job / name), info.st_mtime_ns, info.st_size, info.st_ino))
    return found


def stale_jobs(folder: Path, jobs: Collection[str] | None) -> list[str]:
    """Job dirs of the folder that are not among `jobs` (an earlier, larger grid's)."""
    if jobs is None:
        return []
    found = [d.name for d in analysis.job_dirs(Path(folder)) if d != Path(folder)]
    return [name for name in found if name not in jobs]


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
