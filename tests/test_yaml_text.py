"""yaml_text.to_yaml is OmegaConf.to_yaml, byte for byte, on a sweep's real configs
and on values YAML writes in unusual ways, the first time and from its store."""

import itertools
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.singleton import Singleton
from omegaconf import OmegaConf

import sweeper.cli.store  # noqa: F401  (registers config_schema, as the CLI does)
from hydra_plugins.sweeper_launcher import yaml_text

CONF = Path(__file__).parents[1] / "conf"

ODD_VALUES = [  # scalars YAML quotes, wraps, writes as blocks, or tells apart by type
    1,
    1.0,
    True,
    "1",
    "yes",
    "null",
    "",
    None,
    "a: b",
    "- not a list",
    "two\nlines\n",
    "tab\there",
    "ünïcödé ✓",
    "word " * 40,  # a plain scalar PyYAML wraps at 80 columns
    "${hydra:runtime.output_dir}/x",  # an interpolation, kept as written
    [],
    {},
    [1, [2, 3], {"a": None}],
]
ODD_KEYS = ["plain", "with space", "1", "yes", "k" * 200, "two\nlines", "a:b"]


@pytest.fixture(autouse=True)
def empty_store():
    yaml_text._texts.clear()
    yield
    yaml_text._texts.clear()


def sweep_configs():
    """Full configs (the hydra node too) of a grid, as a sweep composes them."""
    state = Singleton.get_state()  # initialize sets Hydra's version base for good
    try:
        with initialize_config_dir(str(CONF), version_base="1.3"):
            grid = itertools.product([2, 6], ["normal", "xavier"], ["sgd", "adam"])
            return [
                compose(
                    "config",
                    [f"depth={d}", f"init={i}", f"optimizer={o}", "seed=1"],
                    return_hydra_config=True,
                )
                for d, i, o in grid
            ]
    finally:
        Singleton.set_state(state)


def test_a_sweeps_configs_and_their_parts_dump_as_omegaconf_dumps_them():
    configs = sweep_configs()
    parts = [part for c in configs for part in (c, c.hydra, c.hydra.overrides.task)]
    for _ in range(2):  # the store empty, then full
        for part in parts:
            assert yaml_text.to_yaml(part) == OmegaConf.to_yaml(part)
    assert yaml_text._texts  # the second pass was served from the store


def test_unusual_keys_and_values_at_every_depth_dump_as_omegaconf_dumps_them():
    seen = []
    for key, value in itertools.product(ODD_KEYS, ODD_VALUES):
        for depth in range(3):
            data = {key: value, "after": 1}
            for _ in range(depth):
                data = {"outer": data, key: {"inner": value}}
            cfg = OmegaConf.create(data)
            seen.append(cfg)
            assert yaml_text.to_yaml(cfg) == OmegaConf.to_yaml(cfg), (key, value)
    for cfg in seen:  # now every entry's text comes from the store
        assert yaml_text.to_yaml(cfg) == OmegaConf.to_yaml(cfg)


def test_values_equal_in_python_but_not_in_yaml_are_not_confused():
    # 1 == 1.0 == True in Python; YAML writes 1, 1.0 and true
    for value in (1, 1.0, True, "1"):
        cfg = OmegaConf.create({"a": {"b": value}})
        assert yaml_text.to_yaml(cfg) == OmegaConf.to_yaml(cfg)


def test_lists_and_empty_configs_dump_as_omegaconf_dumps_them():
    for data in ([], {}, [1, {"a": 2}], ["x", ["y"]]):
        cfg = OmegaConf.create(data)
        assert yaml_text.to_yaml(cfg) == OmegaConf.to_yaml(cfg)


def test_the_store_is_bounded(monkeypatch):
    monkeypatch.setattr(yaml_text, "MAX_TEXTS", 8)
    for n in range(50):
        cfg = OmegaConf.create({"a": {"n": n, "m": {"k": n}}})
        assert yaml_text.to_yaml(cfg) == OmegaConf.to_yaml(cfg)
        assert len(yaml_text._texts) <= 8
