"""The launcher and sweeper settings sweeper registers with Hydra (hydra/launcher=...).

Hydra imports every module of the `hydra_plugins` namespace package, which registers
these; the classes they name are in batched_launcher.py, ray_launcher.py and
batched_sweeper.py.
"""

from dataclasses import dataclass
from typing import Optional

from hydra.core.config_store import ConfigStore

from sweeper.cli.hydra_internals import basic_sweeper

PACKAGE = "hydra_plugins.sweeper_launcher"


@dataclass
class BatchedLauncherConf:
    _target_: str = f"{PACKAGE}.batched_launcher.BatchedLauncher"
    workers: Optional[int] = None  # worker processes; null = one per CPU core
    group_memory_mb: float = 1024.0  # cap on one group's working memory (sets its size)


@dataclass
class RayLauncherConf:
    _target_: str = f"{PACKAGE}.ray_launcher.RayLauncher"
    # null = start a local Ray runtime for the sweep; "auto" or "host:port" = join the
    # Ray cluster there (the address `ray start --head` prints)
    address: Optional[str] = None
    num_cpus: Optional[int] = None  # CPUs of a local runtime; null = every core
    # the least number of groups a sweep is split into; null = the cluster's CPUs, so
    # that every CPU of the cluster gets a group
    workers: Optional[int] = None
    group_memory_mb: float = 1024.0  # as for the batched launcher


store = ConfigStore.instance()
store.store(
    group="hydra/launcher", name="batched", node=BatchedLauncherConf, provider="sweeper"
)
store.store(
    group="hydra/launcher", name="ray", node=RayLauncherConf, provider="sweeper"
)

BASIC_SWEEPER = basic_sweeper()
if BASIC_SWEEPER is not None:
    _, BasicSweeperConf = BASIC_SWEEPER

    @dataclass
    class BatchedSweeperConf(BasicSweeperConf):
        _target_: str = f"{PACKAGE}.batched_sweeper.BatchedSweeper"

    store.store(
        group="hydra/sweeper",
        name="batched",
        node=BatchedSweeperConf,
        provider="sweeper",
    )
else:  # Hydra's basic sweeper itself, under the name conf/config.yaml asks for
    store.store(
        group="hydra/sweeper",
        name="batched",
        node=store.load("hydra/sweeper/basic.yaml").node,
        provider="sweeper",
    )
