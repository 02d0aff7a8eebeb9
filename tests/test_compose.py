"""The batched launcher's job configs equal Hydra's own composition, node for node."""

import itertools
from pathlib import Path

import pytest
from hydra import initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.singleton import Singleton
from hydra.types import RunMode
from omegaconf import OmegaConf

import sweeper.cli.store  # noqa: F401  (registers config_schema, as the CLI does)
from hydra_plugins.sweeper_launcher.compose import SweepComposer

CONF = Path(__file__).parents[1] / "conf"
AXES = [
    ["depth=2", "depth=4"],
    ["init=normal", "init=xavier"],
    ["optimizer=sgd", "optimizer=adam"],
    ["optimizer.lr=0.1", "optimizer.lr=1e-3"],
    ["clip=none", "clip=norm"],
    ["seed=0", "seed=1"],
]
# Jobs the composer must hand to Hydra whole: not a plain `key=value` of a known key.
UNUSUAL = [
    ["depth=2", "++verdict.dead_frac=0.5"],
    ["depth=3", "+extra=1"],
    ["depth=2", "~tensorboard"],
    ["depth=2", "model={width: 8, activation: tanh}"],
    ["depth=2", "hydra.job.name=other"],
]


@pytest.fixture(scope="module")
def hydra_loader():
    # Hydra's singletons (job name, config store, ...) are restored after, as Hydra's
    # own `hydra_restore_singletons` fixture does: later in-process Hydra tests see a
    # fresh state.
    state = Singleton.get_state()
    with initialize_config_dir(str(CONF), version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        master = loader.load_configuration(
            "config",
            overrides=[
                "hydra.sweep.dir=/tmp/sweep",
                "hydra.job.config.override_dirname.exclude_keys=[seed]",
            ],
            run_mode=RunMode.MULTIRUN,
        )
        yield loader, master
    Singleton.set_state(state)


def as_tree(config):
    return OmegaConf.to_container(config, resolve=False)


def node_types(node, path="") -> dict:
    """Every node's class and declared types: what values it will accept."""
    meta = node._metadata
    types = {path: (type(node).__name__, meta.ref_type, meta.object_type)}
    if OmegaConf.is_dict(node):
        for key in node.keys():
            types.update(node_types(node._get_node(key), f"{path}.{key}"))
    return types


def test_every_job_config_equals_hydras(hydra_loader):
    loader, master = hydra_loader
    jobs = [list(job) for job in itertools.product(*AXES)]
    composer = SweepComposer(loader, master)
    for overrides in jobs:
        got = composer.compose(overrides)
        expected = loader.load_sweep_config(master, overrides)
        assert as_tree(got) == as_tree(expected), overrides
        assert OmegaConf.to_yaml(got) == OmegaConf.to_yaml(expected)
        assert node_types(got) == node_types(expected), overrides
        assert OmegaConf.is_struct(got) and not OmegaConf.is_readonly(got.hydra)
    # Hydra composed one job per set of group choices in full; the rest were copies.
    assert composer.full == 2 * 2 * 2 == len(jobs) // 8


def test_unusual_overrides_are_composed_by_hydra(hydra_loader):
    loader, master = hydra_loader
    composer = SweepComposer(loader, master)
    for overrides in UNUSUAL:
        got = composer.compose(overrides)
        assert as_tree(got) == as_tree(loader.load_sweep_config(master, overrides))
    assert composer.full == len(UNUSUAL)
