"""sweeper's schema in Hydra's ConfigStore, for conf/config.yaml's defaults list."""

from hydra.core.config_store import ConfigStore

from sweeper.config.schema import Config


def register() -> None:
    """Make `config_schema` available to conf/config.yaml's defaults list."""
    ConfigStore.instance().store(name="config_schema", node=Config)


register()
