"""Hydra callback that writes the report when a run or a sweep ends."""

from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class ReportCallback(Callback):
    """Build summary.csv and the report in the run or sweep folder."""

    failed_runs = 0  # of the last report; sweeper.__main__ turns it into the exit code

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
        for line in narrative.terminal_lines(runs):
            print(f"sweeper: {line}")
        print(f"sweeper: report written to {path}")
        if cls.failed_runs:
            print(f"sweeper: {cls.failed_runs} run(s) failed; see the report")
