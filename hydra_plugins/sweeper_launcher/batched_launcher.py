"""sweeper's Hydra launcher: train every compatible job of a sweep as one program.

Registered as `hydra/launcher=batched` (Hydra finds it by scanning the `hydra_plugins`
namespace package). For sweeper's own task function it composes every job's config,
checks them all, trains the jobs in groups of one shape (on several processes), and
then runs each job through Hydra's `run_job` with a task that only writes that job's
files, so job dirs, `.hydra/` files, numbering and callbacks are Hydra's own. Any other
task function is launched exactly as Hydra's basic launcher does.
"""

import copy
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, configure_log, run_job, setup_globals
from omegaconf import DictConfig, open_dict

log = logging.getLogger(__name__)


@dataclass
class BatchedLauncherConf:
    _target_: str = "hydra_plugins.sweeper_launcher.batched_launcher.BatchedLauncher"
    workers: Optional[int] = None  # worker processes; null = one per CPU core
    group_memory_mb: float = 1024.0  # cap on one group's working memory (sets its size)


ConfigStore.instance().store(
    group="hydra/launcher", name="batched", node=BatchedLauncherConf, provider="sweeper"
)


class BatchedLauncher(BasicLauncher):
    def __init__(self, workers: Optional[int] = None, group_memory_mb: float = 1024.0):
        super().__init__()
        self.workers = workers or os.cpu_count() or 1
        self.group_memory_mb = group_memory_mb

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        if not getattr(self.task_function, "sweeper_batchable", False):
            return super().launch(job_overrides, initial_job_idx)
        from sweeper import groups, preflight, runner
        from sweeper.progress import Progress

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        configs = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            config = self.hydra_context.config_loader.load_sweep_config(
                self.config, list(overrides)
            )
            with open_dict(config):
                config.hydra.job.id = idx
                config.hydra.job.num = idx
            configs.append(config)
        # Every job is checked before any trains: a bad one stops the sweep here.
        typed = [preflight.typed(_task_part(config)) for config in configs]
        plan = groups.plan(typed, self.group_memory_mb, self.workers)
        log.info(
            f"Training {len(typed)} jobs in {len(plan)} groups on "
            f"{min(self.workers, len(plan))} processes"
        )
        progress = Progress(len(typed))
        outcomes = runner.train_groups(typed, plan, self.workers, progress.update)

        returns = []
        for idx, (config, cfg, outcome) in enumerate(zip(configs, typed, outcomes)):

            def write_job(_: DictConfig, cfg=cfg, outcome=outcome) -> None:
                hydra_cfg = HydraConfig.get()
                overrides = list(hydra_cfg.overrides.task)
                settings = runner.settings_from_overrides(overrides)
                out_dir = Path(hydra_cfg.runtime.output_dir)
                runner.write(runner.Job(cfg, out_dir, settings), outcome)

            log.info(f"\t#{initial_job_idx + idx} : {' '.join(job_overrides[idx])}")
            returns.append(
                run_job(
                    hydra_context=self.hydra_context,
                    task_function=write_job,
                    config=config,
                    job_dir_key="hydra.sweep.dir",
                    job_subdir_key="hydra.sweep.subdir",
                )
            )
            configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        return returns


def _task_part(config: DictConfig) -> DictConfig:
    """A job's config without the `hydra` node: what the task function would get."""
    task = copy.deepcopy(config)
    with open_dict(task):
        del task["hydra"]
    return task
