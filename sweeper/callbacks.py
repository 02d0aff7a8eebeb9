"""Hydra callback that writes the report when a run or a sweep ends."""

from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig


class ReportCallback(Callback):
    """Build summary.csv and the report in the run or sweep folder."""

    def on_run_end(self, config: DictConfig, **kwargs) -> None:
        self._report(Path(config.hydra.run.dir))

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        self._report(Path(config.hydra.sweep.dir))

    @staticmethod
    def _report(folder: Path) -> None:
        from sweeper import report

        path = report.build(folder)
        print(f"sweeper: report written to {path}")
