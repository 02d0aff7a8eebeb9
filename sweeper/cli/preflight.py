"""Check every value of a command line against the schema before anything trains.

Hydra reports bad overrides in several lines and only when it reaches the job; sweeper
composes the config once per distinct swept value first, so `depth=abc`, `dept=3`,
`init=xavir` or `depth=2,0` stop in well under a second with one line that names the
key, the value and what is allowed.
"""

import copy
from pathlib import Path

from hydra import compose, initialize_config_dir, initialize_config_module
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.types import OverrideType
from hydra.errors import ConfigCompositionException, MissingConfigException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from sweeper.cli import store  # noqa: F401  (the schema the YAML composes against)
from sweeper.cli import explain as errors
from sweeper.cli import limits
from sweeper.cli.grid import grid, once_each, parse
from sweeper.cli.hydra_internals import CONFIG_LOADER
from sweeper.cli.typed import typed
from sweeper.config.checks import ConfigError
from sweeper.config.schema import Config

CONF_MODULE = "sweeper.conf"  # conf/, installed inside the package
# What a bare `python -m sweeper -m` runs: the question's grid.
DEFAULT_GRID = ["init=normal,xavier", "depth=2,3"]
BASIC_SWEEPERS = ("basic", "batched")  # sweepers that run every value of a sweep


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
    limits.check_config_files(config_dir)
    extra = []
    if config_dir and config_name:  # a primary config of one's own, in config_dir
        extra = [f"hydra.searchpath=[pkg://{CONF_MODULE}]"]
        where = str(Path(config_dir).absolute())
        initialize = initialize_config_dir(where, version_base="1.3")
    else:
        if config_dir:
            extra = [f"hydra.searchpath=[file://{Path(config_dir).absolute()}]"]
        initialize = initialize_config_module(CONF_MODULE, version_base="1.3")
    once_each(overrides)
    parsed = parse(overrides)
    hydra_only = [
        o.input_line
        for o in parsed
        if o.is_hydra_override() and not o.is_sweep_override()
    ]
    with initialize:
        name = config_name or "config"
        setup = _compose(name, hydra_only + extra, config_dir, return_hydra_config=True)
        sweeper = setup.hydra.runtime.choices.get("hydra/sweeper")
        _check_launcher(setup.hydra.launcher)
        params = dict(setup.hydra.sweeper.get("params") or {}) if multirun else {}
        settings = [o for o in parsed if not o.is_hydra_override()]
        if multirun and not settings and not params:
            overrides = [*overrides, *DEFAULT_GRID]
        swept = [f"{key}={value}" for key, value in params.items()] + overrides
        loader = GlobalHydra.instance().config_loader()
        lists = grid(swept, multirun, loader, every_value=sweeper in BASIC_SWEEPERS)
        groups = set(setup.hydra.runtime.choices)
        base = _compose(name, lists[0] + extra, config_dir, lists[0])
        for override_list in lists:
            composed = _sibling(base, lists[0], override_list, groups)
            if composed is None:
                own = override_list + extra
                composed = _compose(name, own, config_dir, override_list)
            try:
                cfg = typed(composed)
            except OmegaConfBaseException as exc:  # ${oc.env:UNSET}, resolved here
                raise ConfigError(errors.explain(exc, override_list)) from None
            _check_combination(cfg, override_list)
            limits.check_size(cfg, override_list)
    limits.check_output(overrides, multirun, cfg.resume)
    return overrides


def _sibling(base: DictConfig, base_list: list, override_list: list, groups: set):
    """The config of `override_list`, which sets one plain key other than `base_list`
    does, as a copy of `base` with that value applied by Hydra's own step (the last of
    a composition); None when it needs a composition of its own.

    A grid of 2,000 jobs has hundreds of distinct values (`seed=range(0,500)`); each
    costs a copy instead of a composition, so any grid is checked in about a second.
    """
    if CONFIG_LOADER is None:
        return None  # Hydra's public path only: compose each
    changed = [o for o in override_list if o not in base_list]
    if len(changed) != 1:
        return None if changed else base
    [override] = parse(changed)
    key = override.key_or_group
    if override.type != OverrideType.CHANGE or key in groups or override.package:
        return None  # a group's option, `+key`, `~key`: Hydra composes it
    config = copy.deepcopy(base)
    try:
        CONFIG_LOADER[0]([override], config)
    except (ConfigCompositionException, OmegaConfBaseException) as exc:
        raise ConfigError(errors.explain(exc, override_list)) from None
    return config


def _compose(name, overrides: list[str], config_dir, given=None, **kw) -> DictConfig:
    """Hydra's composition of a config; its errors as one-line ConfigErrors."""
    try:
        return compose(name, overrides=overrides, **kw)
    except (
        ConfigCompositionException,
        MissingConfigException,
        OmegaConfBaseException,
    ) as exc:
        shown = overrides if given is None else given
        raise ConfigError(errors.explain(exc, shown)) from None
    except Exception as exc:  # e.g. a YAML file that does not parse
        where = f"--config-dir {config_dir!r}" if config_dir else "conf/"
        raise ConfigError(f"Cannot read the config in {where}: {errors.one_line(exc)}")


def _check_launcher(launcher: DictConfig) -> None:
    """sweeper's launcher settings (hydra/launcher=batched, ray): a count of -1 would
    hang, a negative memory cap make groups of nothing."""
    for key in ("workers", "num_cpus"):
        value = launcher.get(key)
        if value is not None and (isinstance(value, bool) or value < 1):
            raise ConfigError(
                f"The value for `hydra.launcher.{key}` must be an integer >= 1 or "
                f"null, but {value!r} was passed."
            )
    memory = launcher.get("group_memory_mb")
    if memory is not None and not (memory > 0 and memory < float("inf")):
        raise ConfigError(
            "The value for `hydra.launcher.group_memory_mb` must be a number > 0, but "
            f"{memory!r} was passed."
        )


def _check_combination(cfg: Config, overrides: list[str]) -> None:
    """Settings that are valid alone but meaningless together."""
    if cfg.depth == 1:
        for key, value in errors.given(overrides).items():
            if key.startswith("model."):
                raise ConfigError(
                    f"The value for `{key}` must be left unset with depth=1 (a net "
                    f"with no hidden layer), but {value!r} was passed."
                )
