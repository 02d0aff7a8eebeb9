"""`hydra/launcher=ray`: sweeper's groups train as Ray tasks, locally or on a cluster.

The driver (this process) composes and checks every job, plans the groups and writes
every file itself (sweeper.sweep.backends.RayBackend), so the nodes of a cluster need
sweeper installed but no file system shared with it. Ray is an optional extra,
imported only when this launcher runs a sweeper sweep.

Ray directly rather than hydra-ray-launcher: that plugin launches one Ray task per
Hydra job (which would lose the grouping of jobs into one compiled program) and pins
cloudpickle<3.
"""

from typing import Optional

from hydra_plugins.sweeper_launcher import _core, config  # noqa: F401  (registers)


class RayLauncher(_core.SweeperLauncher):
    def __init__(
        self,
        address: Optional[str] = None,
        num_cpus: Optional[int] = None,
        workers: Optional[int] = None,
        group_memory_mb: float = 1024.0,
    ):
        from sweeper.sweep.backends import RayBackend

        super().__init__(RayBackend(address, num_cpus, workers), group_memory_mb)
