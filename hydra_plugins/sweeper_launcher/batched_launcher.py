"""sweeper's Hydra launcher: train every compatible job of a sweep as one program.

Registered as `hydra/launcher=batched` (Hydra finds it by scanning the `hydra_plugins`
namespace package). For sweeper's own task function it composes every job's config,
checks them all, trains the jobs in groups of one shape (on several processes), and
then runs each job through Hydra's `run_job` with a task that only writes that job's
files, so job dirs, `.hydra/` files, numbering and callbacks are Hydra's own. Any other
task function is launched exactly as Hydra's basic launcher does.
"""

import gc
import importlib
import logging
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

from hydra._internal.core_plugins.basic_launcher import BasicLauncher
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, configure_log, run_job, setup_globals
from omegaconf import DictConfig, OmegaConf, open_dict

from hydra_plugins.sweeper_launcher.compose import SweepComposer

log = logging.getLogger(__name__)
REPORT = "sweeper.report"  # what the report callback imports once training ends


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
        self.pool = None

    def setup(self, *, hydra_context, task_function, config) -> None:
        super().setup(
            hydra_context=hydra_context, task_function=task_function, config=config
        )
        if getattr(task_function, "sweeper_batchable", False):
            self.pool = self.start_workers()

    def start_workers(self):
        """Start the training processes now: their TensorFlow import (~3 s each) then
        overlaps Hydra's set-up and the composition of every job's config."""
        from sweeper.pool import Pool

        return Pool(self.workers, warm="sweeper.engine")

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        if not getattr(self.task_function, "sweeper_batchable", False):
            return super().launch(job_overrides, initial_job_idx)
        with _no_full_collections():
            return self._launch_batched(job_overrides, initial_job_idx)

    def _launch_batched(self, job_overrides, initial_job_idx) -> Sequence[JobReturn]:
        from sweeper import groups, runner
        from sweeper.progress import Progress

        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        log.info(f"Composing the configs of {len(job_overrides)} jobs")
        composer = SweepComposer(self.hydra_context.config_loader, self.config)
        configs = [
            _numbered(composer.compose(overrides), idx)
            for idx, overrides in enumerate(job_overrides, start=initial_job_idx)
        ]
        jobs = [_job(config) for config in configs]  # checks all before any trains
        todo = [i for i, job in enumerate(jobs) if not runner.is_done(job)]
        plan = groups.plan(
            [jobs[i].cfg for i in todo], self.group_memory_mb, self.workers
        )
        log.info(
            f"Training {len(todo)} of {len(jobs)} jobs in {len(plan)} groups on "
            f"{min(self.workers, len(plan))} workers"
        )
        progress = Progress(len(jobs))
        progress.update(len(jobs) - len(todo))

        returns: dict = {}  # job index -> Hydra's JobReturn

        def hydra_job(index: int) -> None:
            """Hydra's run_job for a written job: .hydra/ files, callbacks, its log."""
            number = initial_job_idx + index
            log.info(f"\t#{number} : {' '.join(job_overrides[index])}")
            returns[index] = run_job(
                hydra_context=self.hydra_context,
                task_function=_log_result,
                config=configs[index],
                job_dir_key="hydra.sweep.dir",
                job_subdir_key="hydra.sweep.subdir",
            )
            configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)

        def finished(indices: list, outcomes: list) -> None:
            # Each job is finished as its group ends, while the other groups train.
            for index, outcome in zip(indices, outcomes):
                runner.write(jobs[todo[index]], outcome)
                hydra_job(todo[index])
            progress.update(len(indices))

        # The report's imports (pandas, matplotlib, seaborn: ~1 s) load while the
        # workers train, when this process would only wait for them.
        threading.Thread(
            target=importlib.import_module, args=(REPORT,), daemon=True
        ).start()
        self.train_groups([jobs[i].cfg for i in todo], plan, finished)
        for index in range(len(jobs)):
            if index not in returns:  # done by an earlier sweep (resume=true)
                hydra_job(index)
        return [returns[index] for index in range(len(jobs))]

    def train_groups(self, cfgs: list, plan: list, finished) -> None:
        """Train the planned groups; where they train is what a subclass may change."""
        from sweeper import runner

        self.pool = self.pool or self.start_workers()  # a second batch of a sweep
        try:
            runner.train_groups(cfgs, plan, self.pool, finished)
        finally:
            self.pool.close()
            self.pool = None


@contextmanager
def _no_full_collections():
    """Python's collector without its full collections, for the length of a sweep.

    A full collection walks every object alive, and a sweep keeps ~100,000 of them (each
    job's config and, once it ran, Hydra's copies of it in its JobReturn) to the end:
    the collector re-walked them ~40 times, 2.0 s of a 256-job sweep. Young collections
    still run and free most garbage; what outlives them waits for the first full
    collection after the sweep (256 jobs: peak memory of this process +27 MB).
    """
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, 2**31 - 1)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)


def _numbered(config: DictConfig, idx: int) -> DictConfig:
    """A job's config numbered as Hydra's basic launcher numbers it."""
    with open_dict(config):
        config.hydra.job.id = idx
        config.hydra.job.num = idx
    return config


def _job(config: DictConfig):
    """The typed job of a composed config: its run, its job dir and its settings.

    A config error ends the sweep here, before anything trains, in one line.
    """
    from sweeper import preflight, runner
    from sweeper.schema import ConfigError, stop

    HydraConfig.instance().set_config(config)  # as run_job does, for ${hydra:...}
    out_dir = Path(str(OmegaConf.select(config, "hydra.sweep.dir")))
    out_dir = out_dir / str(OmegaConf.select(config, "hydra.sweep.subdir"))
    settings = runner.settings_from_overrides(list(config.hydra.overrides.task))
    try:
        cfg = preflight.typed(config)
    except ConfigError as exc:
        stop(exc)
    return runner.Job(cfg, out_dir.absolute(), settings)


def _log_result(_: DictConfig) -> None:
    """The task Hydra runs per job: the job was trained and written already; say how."""
    from sweeper import files

    record = files.read_run(Path(HydraConfig.get().runtime.output_dir))
    if record is None:
        log.error("no complete run.json")
    else:
        log.info(f"{record['status']}: {record['verdict']} {record.get('error') or ''}")
