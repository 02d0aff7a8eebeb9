"""A composed config as sweeper's typed Config, every key and value checked."""

import dataclasses

from omegaconf import DictConfig, OmegaConf

from sweeper.config.checks import ConfigError
from sweeper.config.schema import Config


def typed(cfg: DictConfig) -> Config:
    """The composed config as a validated Config; ConfigError names the first fault.

    A job's whole config may be given: Hydra's own `hydra` node is not the run's, and
    is skipped rather than copied away (copying it was most of a job's set-up time).
    """
    names = [f.name for f in dataclasses.fields(Config)]
    unknown = sorted(set(cfg.keys()) - set(names) - {"hydra"})
    if unknown:
        key = unknown[0]
        raise ConfigError(
            f"Unknown key `{key}` (value {cfg[key]!r}); allowed top-level keys are "
            f"{sorted(names)}."
        )
    present = set(cfg.keys())  # "in cfg" would skip a key whose value is ??? (missing)
    values = {name: cfg[name] for name in names if name in present}
    for spec in dataclasses.fields(Config):  # `+model.extra=1` adds a key: refused
        node = values.get(spec.name)
        if spec.name == "model":
            continue  # untyped in Hydra's schema: schema.model_config checks its keys
        if OmegaConf.is_dict(node) and dataclasses.is_dataclass(spec.type):
            allowed = {f.name for f in dataclasses.fields(spec.type)}
            extra = sorted(set(node.keys()) - allowed)
            if extra:
                raise ConfigError(
                    f"Unknown key `{spec.name}.{extra[0]}` (value "
                    f"{node[extra[0]]!r}); allowed keys in `{spec.name}` are "
                    f"{sorted(allowed)}."
                )
    return Config(
        **{
            name: OmegaConf.to_object(value) if OmegaConf.is_config(value) else value
            for name, value in values.items()
        }
    )
