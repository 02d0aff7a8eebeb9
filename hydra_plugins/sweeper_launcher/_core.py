"""The launchers' work on Hydra's public API: compose every job, hand the jobs to
sweeper's sweep loop, then give each written job Hydra's `run_job`.

For sweeper's own task function (marked `sweeper_batchable`) every job's config is
composed and checked before anything trains, the jobs train in groups on the
launcher's backend, and each job then goes through `run_job`'s steps (finish.py, with
fewer copies of its config) with a task that only logs its result, so job dirs,
`.hydra/` files, numbering and callbacks are Hydra's own. Any other task function is
launched job by job, as Hydra's basic launcher does.
"""

import gc
import logging
import shlex
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import (
    JobReturn,
    configure_log,
    filter_overrides,
    run_job,
    setup_globals,
)
from hydra.plugins.launcher import Launcher
from omegaconf import DictConfig, open_dict

from hydra_plugins.sweeper_launcher import finish
from hydra_plugins.sweeper_launcher.compose import SweepComposer

log = logging.getLogger(__name__)
JOB_DIR_KEYS = ("hydra.sweep.dir", "hydra.sweep.subdir")  # a sweep job's folder


class SweeperLauncher(Launcher):
    """A launcher whose sweeper jobs train on `backend` (sweeper.sweep.backends)."""

    def __init__(self, backend, group_memory_mb: float) -> None:
        super().__init__()
        self.backend = backend
        self.group_memory_mb = group_memory_mb
        self.config = self.hydra_context = self.task_function = None

    def setup(self, *, hydra_context, task_function, config: DictConfig) -> None:
        self.config, self.hydra_context = config, hydra_context
        self.task_function = task_function
        if self._batchable():
            self.backend.prepare()

    def _batchable(self) -> bool:
        return getattr(self.task_function, "sweeper_batchable", False)

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        setup_globals()
        self._configure_log()
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        if not self._batchable():
            log.info(f"Launching {len(job_overrides)} jobs locally")
            loader = self.hydra_context.config_loader
            return [
                self._run_job(
                    _numbered(loader.load_sweep_config(self.config, list(o)), idx),
                    o,
                    self.task_function,
                )
                for idx, o in enumerate(job_overrides, start=initial_job_idx)
            ]
        with _no_full_collections():
            return self._launch_batched(job_overrides, initial_job_idx)

    def _launch_batched(self, job_overrides, initial_job_idx) -> list:
        from sweeper.sweep import loop

        workers = self.backend.open()
        try:
            log.info(f"Composing the configs of {len(job_overrides)} jobs")
            composer = SweepComposer(self.hydra_context.config_loader, self.config)
            configs = [
                _numbered(composer.compose(overrides), idx)
                for idx, overrides in enumerate(job_overrides, start=initial_job_idx)
            ]
            full = f"{composer.full} composed by Hydra in full"
            log.info(f"Composed {len(configs)} jobs, {full}")
            jobs = []  # every job checked before any trains
            for config in configs:
                out_dir = finish.set_output_dir(config, *JOB_DIR_KEYS)
                jobs.append(_job(config, Path(out_dir)))
            returns: dict = {}  # job index -> Hydra's JobReturn

            def written(index: int) -> None:
                config = configs[index]
                if finish.changes_directory(config):
                    result = self._run_job(config, job_overrides[index], _log_result)
                else:
                    self._log_job(config, job_overrides[index])
                    callbacks = self.hydra_context.callbacks
                    result = finish.finish(config, _log_result, callbacks)
                    self._configure_log()
                returns[index] = result

            try:
                loop.run(jobs, self.backend, workers, self.group_memory_mb, written)
            except KeyboardInterrupt:
                _interrupted(jobs, self.config)  # the `finally` ends the workers
        finally:
            self.backend.close()
        for index in range(len(jobs)):
            if index not in returns:  # done by an earlier sweep (resume=true)
                written(index)
        return [returns[index] for index in range(len(jobs))]

    def _run_job(self, config: DictConfig, overrides, task_function) -> JobReturn:
        """Hydra's run_job for one composed, numbered job config."""
        self._log_job(config, overrides)
        result = run_job(
            hydra_context=self.hydra_context,
            task_function=task_function,
            config=config,
            job_dir_key=JOB_DIR_KEYS[0],
            job_subdir_key=JOB_DIR_KEYS[1],
        )
        self._configure_log()
        return result

    @staticmethod
    def _log_job(config: DictConfig, overrides) -> None:
        # Hydra's per-job line, at debug level: a sweep of hundreds of jobs would
        # otherwise print hundreds (hydra.verbose=true shows them).
        log.debug(f"#{config.hydra.job.num} : {' '.join(filter_overrides(overrides))}")

    def _configure_log(self) -> None:
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)


@contextmanager
def _no_full_collections():
    """Python's collector without its full collections, for the length of a sweep.

    A full collection walks every object alive, and a sweep keeps every job's config
    and, once it ran, Hydra's copies of it in its JobReturn, to the end: the collector
    would re-walk them dozens of times. Young collections still run and free most
    garbage; what outlives them waits for the first full collection after the sweep.
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


def _job(config: DictConfig, out_dir: Path):
    """The typed job of a composed config that HydraConfig holds, written to
    `out_dir`; a config error ends the sweep here, before anything trains, in one
    line."""
    from sweeper.cli.jobs import job_of
    from sweeper.config.checks import ConfigError, stop

    try:
        return job_of(config, out_dir, list(config.hydra.overrides.task))
    except ConfigError as exc:
        stop(exc)


def _interrupted(jobs: list, config: DictConfig) -> None:
    """After a Ctrl-C: one line of what finished and how to train the rest; exit 130."""
    from sweeper.cli.jobs import command
    from sweeper.record.validate import check_run

    done = sum(check_run(job.out_dir).record is not None for job in jobs)
    folder = Path(str(config.hydra.sweep.dir)).absolute()
    again = command()
    if "hydra.sweep.dir=" not in again:
        again += f" hydra.sweep.dir={shlex.quote(str(folder))}"
    if sys.stderr.isatty():
        print(file=sys.stderr)  # off the progress line
    print(
        f"sweeper: interrupted: {done} of {len(jobs)} runs are written in {folder}; "
        f"to train the rest: {again} resume=true",
        file=sys.stderr,
    )
    raise SystemExit(130)


def _log_result(cfg: DictConfig) -> float:
    """The task Hydra runs per job: the job was trained and written already; say how,
    and return its `objective=`, as sweeper's task function does."""
    from sweeper.record import files
    from sweeper.record.verdict import objective

    record = files.read_run(Path(HydraConfig.get().runtime.output_dir))
    if record is None:
        log.error("no complete run.json")
    else:
        log.info(f"{record['status']}: {record['verdict']} {record.get('error') or ''}")
    return objective(record, cfg.get("objective", "final_loss"))
