"""`hydra/sweeper=batched`: Hydra's basic sweeper without its second composition.

Hydra's BasicSweeper composes every job's config once to check it before launching;
sweeper's launchers compose and check every job themselves right after, so for
sweeper's own task that first pass doubles the slowest part of starting a big sweep.
Everything else is BasicSweeper. Without Hydra's BasicSweeper class (see
sweeper.cli.hydra_internals), `batched` is the basic sweeper itself (config.py).
"""

from hydra_plugins.sweeper_launcher import _core, config  # noqa: F401  (registers)
from sweeper.cli.hydra_internals import basic_sweeper

BASIC_SWEEPER = basic_sweeper()
if BASIC_SWEEPER is not None:

    class BatchedSweeper(BASIC_SWEEPER[0]):
        def validate_batch_is_legal(self, batch) -> None:
            launcher = self.launcher
            task = getattr(launcher, "task_function", None)
            if isinstance(launcher, _core.SweeperLauncher) and getattr(
                task, "sweeper_batchable", False
            ):
                return  # the launcher composes and checks every job before any trains
            super().validate_batch_is_legal(batch)
