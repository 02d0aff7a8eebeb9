"""Hydra callback that writes the report when a run or a sweep ends."""

import sys
from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sweeper.config.schema import stop
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

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        _hold(Path(config.hydra.run.dir))

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        _hold(Path(config.hydra.sweep.dir))

    def on_run_end(self, config: DictConfig, **kwargs) -> None:
        self._report(Path(config.hydra.run.dir))

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        self._report(Path(config.hydra.sweep.dir))

    @classmethod
    def _report(cls, folder: Path) -> None:
        from sweeper.report import analysis, build, narrative

        runs, _ = analysis.load_runs(folder)
        cls.failed_runs = int((runs["status"] == "failed").sum()) if len(runs) else 0
        print(f"sweeper: writing the report of {len(runs)} runs", flush=True)
        try:
            path = build.build(folder)
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
