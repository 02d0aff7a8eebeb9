"""Hydra callback that writes the report when a run or a sweep ends."""

import gc
import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sweeper.config.checks import stop
from sweeper.record import lock


def _hold(folder: Path) -> None:
    """Two sweeps in one folder would overwrite each other's runs: one line, exit 2."""
    try:
        lock.hold(folder)
    except lock.FolderInUse as exc:
        stop(exc)


class ReportCallback(Callback):
    """Lock the run or sweep folder for the command; at the end, build summary.csv and
    the report in it."""

    failed_runs = 0  # of the last report; sweeper.cli.main turns it into the exit code
    report_failed = False  # the report could not be written: exit code 1 too

    def __init__(self) -> None:
        self.jobs: set[str] | None = None  # this command's job dirs, by name

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        _hold(Path(config.hydra.run.dir))

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        _hold(Path(config.hydra.sweep.dir))
        self.jobs = set()

    def on_job_start(self, config: DictConfig, **kwargs) -> None:
        # Every job of the command passes here, those resume=true finds done too.
        if self.jobs is not None:
            self.jobs.add(Path(config.hydra.runtime.output_dir).name)

    def on_run_end(self, config: DictConfig, **kwargs) -> None:
        self._report(Path(config.hydra.run.dir), None)

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        self._report(Path(config.hydra.sweep.dir), self.jobs)

    @classmethod
    def _report(cls, folder: Path, jobs: set[str] | None) -> None:
        from sweeper.report import analysis, build, narrative

        # The command ends with its report, and what the sweep made (every job's
        # config, Hydra's JobReturns) lives to the end: the collector is told to leave
        # it alone. Else its first full collection walks it all in the report (most
        # of reading a big sweep's runs back, NOTES.md), and the report's forked
        # drawing processes, collecting too, would touch, and so copy, its pages.
        gc.freeze()

        runs, _ = analysis.load_runs(folder, jobs)
        cls.failed_runs = int((runs["status"] == "failed").sum()) if len(runs) else 0
        print(f"sweeper: writing the report of {len(runs)} runs", flush=True)
        stale = build.stale_jobs(folder, jobs)
        if stale:
            print(f"sweeper: {narrative.left_out_line(stale)}")
        try:
            path = build.build(folder, jobs)
        except build.NoRunsError as exc:
            print(f"sweeper: no report: {exc}")
            return
        except Exception as exc:  # a full disk, a folder that cannot be written, ...
            cls.report_failed = True
            line = " ".join(f"{type(exc).__name__}: {exc}".split())
            print(
                f"sweeper: error: the report could not be written: {line}",
                file=sys.stderr,
            )
            return
        for line in narrative.terminal_lines(runs):
            print(f"sweeper: {line}")
        print(f"sweeper: report written to {path}")
        if cls.failed_runs:
            print(f"sweeper: {cls.failed_runs} run(s) failed; see the report")
