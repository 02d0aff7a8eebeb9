"""Where a sweep's groups train: this machine's worker processes, or a Ray cluster.

A backend trains planned groups and hands each group's outcomes back to this process
as it ends; this process writes every file, so Ray's nodes need no shared file system.
"""

import logging
import os
from typing import Callable, Optional, Protocol

from sweeper.config.schema import Config
from sweeper.sweep.group import Outcome, train_group
from sweeper.sweep.pool import Pool, take_early
from sweeper.sweep.ray_runtime import connect
from sweeper.train import lean

log = logging.getLogger(__name__)
Finished = Callable[[int, list], None]  # (a group's index, its runs' outcomes)
Started = Callable[[int], None]  # (the index of a group handed to a worker)
Between = Callable[[], bool]  # a piece of this process's own work: was there any?


class Backend(Protocol):
    def prepare(self) -> None:
        """Start what can start before the jobs are known."""

    def open(self) -> int:
        """Be ready to train; return how many groups train at once."""

    def train(
        self,
        cfgs: list[Config],
        groups: list,
        finished: Finished,
        started: Started,
        between: Between,
    ) -> None:
        """Train `groups` (lists of indices into `cfgs`): `started` as a worker takes
        one, `finished` as each ends, `between` while no group has news."""

    def close(self) -> None:
        """Release the workers."""


class LocalBackend:
    """Worker processes on this machine; one that dies fails only its group."""

    def __init__(self, workers: Optional[int] = None):
        self.workers = workers or os.cpu_count() or 1
        self.pool: Pool | None = None

    def prepare(self) -> None:
        """Start the workers now: their TensorFlow import then overlaps the parent's
        set-up and the composition of every job's config."""
        if self.pool is None:
            early = take_early(self.workers, lean.engine)
            self.pool = early or Pool(self.workers, *lean.WORKER)

    def open(self) -> int:
        self.prepare()  # again for a second batch of a sweep
        return self.workers

    def train(self, cfgs, groups, finished, started, between) -> None:
        def failed(index: int, error: str) -> None:
            finished(index, [Outcome(None, error=error)] * len(groups[index]))

        items = [[cfgs[i] for i in group] for group in groups]
        self.pool.run(train_group, items, finished, failed, started, between)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


class RayBackend:
    """One Ray task per group, on a local Ray runtime or a cluster.

    No retries (`max_retries=0`): a task whose worker died fails its group, as on the
    local backend, and `resume=true` trains it again.
    """

    def __init__(
        self,
        address: Optional[str] = None,
        num_cpus: Optional[int] = None,
        workers: Optional[int] = None,
    ):
        self.address, self.num_cpus, self.workers = address, num_cpus, workers
        self.ray = None

    def prepare(self) -> None:
        """Nothing: Ray's workers start with the runtime, in `open`."""

    def open(self) -> int:
        self.ray = connect(self.address, self.num_cpus)
        cpus = int(self.ray.cluster_resources().get("CPU", 1))
        where = f"at {self.address}" if self.address else "(a local runtime)"
        log.info(f"Training groups on Ray {where} with {cpus} CPUs")
        return self.workers or cpus  # by default every CPU of the cluster gets a group

    def train(self, cfgs, groups, finished, started, between) -> None:
        if self.address is not None and (modules := _user_modules(cfgs)):
            # A cluster's nodes may not share this machine's files: the user's Keras
            # module travels with the job (Ray's py_modules), which only a job's
            # start can set, so the driver joins again once the modules are known.
            self.ray.shutdown()
            self.ray = connect(self.address, None, {"py_modules": modules})
        ray = self.ray
        task = ray.remote(num_cpus=1, max_retries=0)(train_group)
        pending = {}
        for index, group in enumerate(groups):
            pending[task.remote([cfgs[i] for i in group])] = index
            started(index)  # handed to Ray, which runs as many as it has CPUs
        while pending:
            news, _ = ray.wait(list(pending), num_returns=1, timeout=0)
            if not news and between():
                continue
            if not news:
                news, _ = ray.wait(list(pending), num_returns=1)
            ready = news[0]
            index = pending.pop(ready)
            try:
                outcomes = ray.get(ready)
            except Exception as exc:  # ray.exceptions.*: a dead worker or node, ...
                error = f"Ray task failed: {type(exc).__name__}: {exc}"
                outcomes = [Outcome(None, error=error)] * len(groups[index])
            finished(index, outcomes)

    def close(self) -> None:
        # A local runtime's worker processes (TensorFlow loaded in each) would
        # otherwise hold their memory until this process ends, through the report.
        if self.ray is not None:
            self.ray.shutdown()
            self.ray = None


def _user_modules(cfgs: list[Config]) -> list[str]:
    """The files or folders of the sweep's `model.build` modules that are not
    installed packages."""
    from sweeper.train.keras_builder import module_source

    builds = {cfg.model.build for cfg in cfgs if cfg.model.name == "keras"}
    return sorted({source for b in builds if (source := module_source(b))})
