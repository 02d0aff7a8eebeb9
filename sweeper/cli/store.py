"""sweeper's schema in Hydra's ConfigStore, for conf/config.yaml's defaults list."""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore

from sweeper.config.schema import Config, ModelConfig


@dataclass
class HydraConfig(Config):
    """Config as Hydra composes it: the model node untyped, so that a user's model
    group YAML may declare keys of its own (model=keras); `Config` types it."""

    # conf/model/<name>.yaml gives every key (mlp.yaml: width, activation, ...)
    model: Any = field(default_factory=lambda: {"name": ModelConfig.name})


def register() -> None:
    """Make `config_schema` available to conf/config.yaml's defaults list."""
    ConfigStore.instance().store(name="config_schema", node=HydraConfig)


register()
