"""sweeper's Ray launcher: the batched launcher with its groups trained as Ray tasks.

Registered as `hydra/launcher=ray`. Everything but where groups train is the batched
launcher's: the driver (this process) composes and checks every job, plans the groups,
and writes every job's files itself as each group's measurements come back, so the
nodes of a remote cluster need sweeper installed but no file system shared with it.
Ray is an optional extra, imported only when this launcher runs a sweeper sweep.

Ray directly rather than hydra-ray-launcher: that plugin launches one Ray task per
Hydra job (which would lose the grouping of jobs into one compiled program) and pins
cloudpickle<3.
"""

import logging
import socket
from dataclasses import dataclass
from typing import Optional, Sequence

from hydra.core.config_store import ConfigStore
from hydra.core.utils import JobReturn

from hydra_plugins.sweeper_launcher.batched_launcher import (
    BatchedLauncher,
    BatchedLauncherConf,
)

log = logging.getLogger(__name__)


@dataclass
class RayLauncherConf(BatchedLauncherConf):
    _target_: str = "hydra_plugins.sweeper_launcher.ray_launcher.RayLauncher"
    # null = start a local Ray runtime for the sweep; "auto" or "host:port" = join the
    # Ray cluster there (the address `ray start --head` prints)
    address: Optional[str] = None
    num_cpus: Optional[int] = None  # CPUs of a local runtime; null = every core
    # workers (inherited): the least number of groups a sweep is split into; null =
    # the cluster's CPUs, so that every CPU of the cluster gets a group


ConfigStore.instance().store(
    group="hydra/launcher", name="ray", node=RayLauncherConf, provider="sweeper"
)


class RayLauncher(BatchedLauncher):
    def __init__(
        self,
        address: Optional[str] = None,
        num_cpus: Optional[int] = None,
        workers: Optional[int] = None,
        group_memory_mb: float = 1024.0,
    ):
        super().__init__(workers, group_memory_mb)
        self.address = address
        self.num_cpus = num_cpus
        self.requested_workers = workers

    def start_workers(self) -> None:
        """No local training processes: Ray's workers train the groups."""
        return None

    def launch(
        self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int
    ) -> Sequence[JobReturn]:
        if not getattr(self.task_function, "sweeper_batchable", False):
            return super().launch(job_overrides, initial_job_idx)
        # Connected before the batched launcher plans the groups: the plan needs the
        # cluster's CPU count.
        ray = _connect(self.address, self.num_cpus)
        try:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            self.workers = self.requested_workers or cpus
            where = f"at {self.address}" if self.address else "(a local runtime)"
            log.info(f"Training groups on Ray {where} with {cpus} CPUs")
            return super().launch(job_overrides, initial_job_idx)
        finally:
            # A local runtime's worker processes (TensorFlow loaded in each) would
            # otherwise hold their memory until this process ends, through the report.
            ray.shutdown()

    def train_groups(self, cfgs: list, plan: list, finished) -> None:
        """Train each planned group as one Ray task; a failed task fails its group only.

        Groups come back in completion order and `finished` writes their files here,
        in the driver. No retries: a task whose worker died fails its group, as on the
        batched launcher, and `resume=true` trains it again.
        """
        import ray

        from sweeper import runner

        train = ray.remote(num_cpus=1, max_retries=0)(runner.train_group)
        pending = {train.remote([cfgs[i] for i in group]): group for group in plan}
        while pending:
            [ready], _ = ray.wait(list(pending), num_returns=1)
            group = pending.pop(ready)
            try:
                outcomes = ray.get(ready)
            except Exception as exc:  # ray.exceptions.*: a dead worker or node, ...
                error = f"Ray task failed: {type(exc).__name__}: {exc}"
                outcomes = [runner.Outcome(None, error=error)] * len(group)
            finished(group, outcomes)


def _connect(address: Optional[str], num_cpus: Optional[int]):
    """The `ray` module, connected; a missing install or a failed join, in one line."""
    from sweeper.schema import stop

    try:
        import ray
    except ImportError:
        stop(
            "hydra/launcher=ray needs Ray, which is not installed: "
            "pip install -e '.[ray]'"
        )
    if address is None:
        # "local", not None: None would join a cluster that `ray start` left running.
        ray.init(address="local", num_cpus=num_cpus)
        return ray
    if num_cpus is not None:
        stop(
            "The value for `hydra.launcher.num_cpus` must be left unset with "
            f"`hydra.launcher.address` (the cluster has its CPUs), but {num_cpus} "
            "was passed."
        )
    _check_listening(address)
    try:
        ray.init(address=address)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        stop(f"Cannot join the Ray cluster at {address!r}: {_first_line(exc)}")
    return ray


def _check_listening(address: str) -> None:
    """Stop at once if nothing listens at a host:port address.

    Ray itself retries such an address for many minutes (over ten, measured).
    """
    from sweeper.schema import stop

    host, _, port = address.rpartition("://")[2].rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", or a form only Ray knows how to resolve
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=10).close()
    except OSError as exc:
        stop(f"Cannot join the Ray cluster at {address!r}: {exc.strerror or exc}.")


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
