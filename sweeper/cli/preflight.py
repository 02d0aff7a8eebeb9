"""Check every value of a command line against the schema before anything trains.

Hydra reports bad overrides in several lines and only when it reaches the job; sweeper
composes the config once per distinct swept value first, so `depth=abc`, `dept=3`,
`init=xavir` or `depth=2,0` stop in well under a second with one line that names the
key, the value and what is allowed.
"""

import dataclasses
import os
import typing
from pathlib import Path

from hydra import compose, initialize_config_dir, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import (
    ConfigCompositionException,
    MissingConfigException,
    OverrideParseException,
)
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from sweeper.cli import store  # noqa: F401  (the schema the YAML composes against)
from sweeper.config.schema import Config, ConfigError

CONF_MODULE = "sweeper.conf"  # conf/, installed inside the package
# What a bare `python -m sweeper -m` runs: the question's grid.
DEFAULT_GRID = ["init=normal,xavier", "depth=2,3"]
BASIC_SWEEPERS = ("basic", "batched")  # sweepers that run every value of a sweep


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
    return Config(
        **{
            name: OmegaConf.to_object(value) if OmegaConf.is_config(value) else value
            for name, value in values.items()
        }
    )


def grid(
    overrides: list[str], multirun: bool, config_loader=None, every_value: bool = True
) -> list[list[str]]:
    """Override lists that between them try every value of every swept key once.

    `config_loader` lists a config group's options for `glob(...)`. With
    `every_value` (Hydra's basic sweeper, which runs every value) a sweep that has no
    list of values, `interval(...)`, is an error; other sweepers sample such a key,
    which is then left at its default here.
    """
    values: dict[str, list[str]] = {}
    for override in _parse(overrides, config_loader):
        key = override.get_key_element()
        text = override.input_line.partition("=")[2] if override.input_line else ""
        if key.startswith("hydra.") or key.startswith("hydra/"):
            continue  # Hydra's own settings: Hydra checks them
        if not override.is_sweep_override():
            values[key] = [override.get_value_element_as_str()]
            continue
        if not multirun:
            raise ConfigError(
                f"The value for `{key}` must be a single value without --multirun "
                f"(-m), but {text!r} was passed."
            )
        if not override.is_discrete_sweep():
            if every_value:
                raise ConfigError(
                    f"The sweep for `{key}` must be a list of values, range(...), "
                    "choice(...) or glob(...) with Hydra's basic sweeper, but "
                    f"{text!r} was passed (interval(...) is for sweepers that sample, "
                    "such as hydra/sweeper=optuna)."
                )
            values.pop(key, None)
            continue
        swept = list(override.sweep_string_iterator())
        if not swept:
            raise ConfigError(f"The sweep for `{key}` must list at least one value.")
        values[key] = swept
    base = {key: vals[0] for key, vals in values.items()}
    lists = [_as_list(base)]
    for key, vals in values.items():
        for value in vals[1:]:
            lists.append(_as_list({**base, key: value}))
    return lists


def _parse(overrides: list[str], config_loader=None) -> list:
    parser = OverridesParser.create(config_loader=config_loader)
    try:
        return parser.parse_overrides(overrides)
    except OverrideParseException as exc:
        raise ConfigError(f"Cannot parse the overrides {overrides}: {_first_line(exc)}")


def _as_list(settings: dict) -> list[str]:
    return [f"{key}={value}" for key, value in settings.items()]


def check(
    overrides: list[str],
    multirun: bool,
    config_dir: str | None = None,
    config_name: str | None = None,
) -> list[str]:
    """Raise ConfigError for the first override list that makes an invalid config.

    Also for an output folder that cannot be written; `config_dir` and `config_name`
    are --config-dir and --config-name (a primary config of one's own).
    The swept values of `hydra.sweeper.params` (in YAML) are checked with the command
    line's, which win for a key in both, as in Hydra's basic sweeper. Returns the
    overrides to run: a bare `-m`, with no override but Hydra's own (`hydra.*`,
    `hydra/...`) and no `hydra.sweeper.params`, runs DEFAULT_GRID.
    """
    extra = []
    if config_dir and config_name:  # a primary config of one's own, in config_dir
        extra = [f"hydra.searchpath=[pkg://{CONF_MODULE}]"]
        where = str(Path(config_dir).absolute())
        initialize = initialize_config_dir(where, version_base="1.3")
    else:
        if config_dir:
            extra = [f"hydra.searchpath=[file://{Path(config_dir).absolute()}]"]
        initialize = initialize_config_module(CONF_MODULE, version_base="1.3")
    hydra_only = [
        o.input_line
        for o in _parse(overrides)
        if o.is_hydra_override() and not o.is_sweep_override()
    ]
    with initialize:
        name = config_name or "config"
        setup = _compose(name, hydra_only + extra, config_dir, return_hydra_config=True)
        sweeper = setup.hydra.runtime.choices.get("hydra/sweeper")
        params = dict(setup.hydra.sweeper.get("params") or {}) if multirun else {}
        settings = [o for o in _parse(overrides) if not o.is_hydra_override()]
        if multirun and not settings and not params:
            overrides = [*overrides, *DEFAULT_GRID]
        swept = [f"{key}={value}" for key, value in params.items()] + overrides
        loader = GlobalHydra.instance().config_loader()
        lists = grid(swept, multirun, loader, every_value=sweeper in BASIC_SWEEPERS)
        for override_list in lists:
            composed = _compose(name, override_list + extra, config_dir, override_list)
            cfg = typed(composed)
            _check_combination(cfg, override_list)
    _check_output(overrides, multirun, cfg.resume)
    return overrides


def _compose(name, overrides: list[str], config_dir, given=None, **kw) -> DictConfig:
    """Hydra's composition of a config; its errors as one-line ConfigErrors."""
    try:
        return compose(name, overrides=overrides, **kw)
    except (
        ConfigCompositionException,
        MissingConfigException,
        OmegaConfBaseException,
    ) as exc:
        raise ConfigError(explain(exc, overrides if given is None else given)) from None
    except Exception as exc:  # e.g. a YAML file that does not parse
        where = f"--config-dir {config_dir!r}" if config_dir else "conf/"
        raise ConfigError(f"Cannot read the config in {where}: {_one(exc)}")


def _check_combination(cfg: Config, overrides: list[str]) -> None:
    """Settings that are valid alone but meaningless together."""
    if cfg.depth == 1:
        for key, value in _given(overrides).items():
            if key.startswith("model."):
                raise ConfigError(
                    f"The value for `{key}` must be left unset with depth=1 (a net "
                    f"with no hidden layer), but {value!r} was passed."
                )


def _check_output(overrides: list[str], multirun: bool, resume: bool) -> None:
    """The run or sweep folder must be creatable and writable; resume must name one."""
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    given = _given(overrides).get(key)
    if resume and multirun and not given:
        raise ConfigError(
            "The value for `hydra.sweep.dir` must name the sweep to resume with "
            "resume=true, but none was passed."
        )
    target = Path(given or "outputs").absolute()
    existing = target
    while not existing.exists():
        existing = existing.parent
    problem = None
    if not existing.is_dir():
        problem = f"{str(existing)!r} is a file"
    elif not os.access(existing, os.W_OK):
        problem = f"{str(existing)!r} is not writable"
    if problem:
        raise ConfigError(
            f"The value for `{key}` must be a folder sweeper can create and write, but "
            f"{str(given or 'outputs')!r} was passed ({problem})."
        )


def _given(overrides: list[str]) -> dict:
    """Overrides as key -> value text: `+depth=3` -> {"depth": "3"}."""
    return dict(o.lstrip("+~").split("=", 1) for o in overrides if "=" in o)


def _one(exc: Exception) -> str:
    """An exception's text on one line."""
    return " ".join(str(exc).split())


def explain(exc: Exception, overrides: list[str]) -> str:
    """One line for a Hydra/OmegaConf composition error: key, value, what is allowed."""
    given = _given(overrides)
    if isinstance(exc, MissingConfigException) and exc.options is not None:
        group = (exc.missing_cfg_file or "").split("/")[0]
        value = given.get(group, (exc.missing_cfg_file or "").split("/")[-1])
        return (
            f"The value for `{group}` must be one of {sorted(exc.options)}, "
            f"but {value!r} was passed."
        )
    cause = exc.__cause__ or exc
    key = getattr(cause, "full_key", None) or ""
    if (
        "is not in struct" in str(cause)
        or "Could not override" in str(exc)
        or (type(cause).__name__ == "ConfigAttributeError")
    ):
        parent, _, _ = key.rpartition(".")
        return (
            f"Unknown key `{key}` (value {given.get(key)!r}); allowed keys"
            f"{' in `' + parent + '`' if parent else ''} are {_allowed_keys(parent)}."
        )
    if key:
        return (
            f"The value for `{key}` must be {_type_name(key)}, "
            f"but {given.get(key, getattr(cause, 'value', None))!r} was passed."
        )
    return _first_line(exc)


def _allowed_keys(parent: str) -> list[str]:
    node = Config
    for part in filter(None, parent.split(".")):
        node = {f.name: f.type for f in dataclasses.fields(node)}.get(part, node)
    return sorted(f.name for f in dataclasses.fields(node))


def _type_name(key: str) -> str:
    node = Config
    for part in key.split("."):
        if not dataclasses.is_dataclass(node):
            break
        node = {f.name: f.type for f in dataclasses.fields(node)}.get(part)
    node = next((a for a in typing.get_args(node) if a is not type(None)), node)
    return {
        int: "an integer",
        float: "a number",
        bool: "true or false",
        str: "a string",
    }.get(node, "valid")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
