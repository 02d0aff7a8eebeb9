"""`hydra/launcher=batched`: sweeper's jobs train in groups on this machine's cores.

Each group of jobs that share a program trains as one compiled program on a worker
process (sweeper.sweep.backends.LocalBackend); see _core.py for the rest.
"""

from typing import Optional

from hydra_plugins.sweeper_launcher import _core, config  # noqa: F401  (registers)


class BatchedLauncher(_core.SweeperLauncher):
    def __init__(self, workers: Optional[int] = None, group_memory_mb: float = 1024.0):
        from sweeper.sweep.backends import LocalBackend

        super().__init__(LocalBackend(workers), group_memory_mb)
