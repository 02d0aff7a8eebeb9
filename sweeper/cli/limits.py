"""What this machine allows: a run's memory and time, the output folder, config files.

Each check stops the command with one line before anything trains, naming the
estimate and the override that would pass.
"""

import dataclasses
import os
from pathlib import Path

import yaml

from sweeper.cli import explain as errors
from sweeper.config.checks import ConfigError
from sweeper.config.schema import Config

# The command-line keys that set a run's size, in the order a suggestion tries them.
SIZE_KEYS = ("steps", "model.width", "task.batch_size", "task.probe_size", "depth")
# A YAML file that expands to more values than this through aliases is refused: an
# "alias bomb" of a few lines expands to billions and would hang the composition.
MAX_YAML_VALUES = 100_000


def check_size(cfg: Config, overrides: list[str]) -> None:
    """A run this machine cannot hold, or would take longer than `max_hours` over,
    stops here with the planner's estimate, not with an allocation failure later."""
    from sweeper.sweep.plan import Sizes, bytes_per_run, seconds

    have = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")

    def memory(c: Config, sizes=None) -> float:
        return bytes_per_run(sizes or Sizes(c), (c.optimizer.name,))

    def hours(c: Config, sizes=None) -> float:
        return seconds([c], sizes or Sizes(c)) / 3600

    sizes = Sizes(cfg)

    given = {k: v for k, v in errors.given(overrides).items() if k in SIZE_KEYS}
    what = " ".join(f"{key}={value}" for key, value in given.items())
    what = f" ({what})" if what else ""
    need = memory(cfg, sizes)
    if need > have:
        fits = _smaller(cfg, given, lambda c: memory(c) <= have)
        raise ConfigError(
            f"A run of these settings{what} needs about {need / 2**30:,.1f} GiB, more "
            f"than this machine's {have / 2**30:,.1f} GiB of memory: make it smaller"
            f"{f', e.g. {fits}' if fits else ''}."
        )
    took = hours(cfg, sizes)
    if took > cfg.max_hours:
        fits = _smaller(cfg, given, lambda c: hours(c) <= cfg.max_hours)
        raise ConfigError(
            f"A run of these settings{what} would take about {took:,.1f} hours to "
            f"compile and train (the planner's estimate), more than "
            f"max_hours={cfg.max_hours:g}: make it smaller"
            f"{f' (e.g. {fits})' if fits else ''}, or allow it with "
            f"max_hours={took * 1.2:.3g}."
        )


def _smaller(cfg: Config, given: dict, fits) -> str | None:
    """The first given size key's largest power-of-two fraction that fits, as
    `key=value`; None when halving none of them alone fits."""
    for key in (k for k in SIZE_KEYS if k in given):
        value = _get(cfg, key)
        while value > 1:
            value //= 2
            try:
                smaller = _with(cfg, key, value)
            except ConfigError:
                break
            if fits(smaller):
                return f"{key}={value}"
    return None


def _get(cfg, key: str):
    for part in key.split("."):
        cfg = getattr(cfg, part)
    return cfg


def _with(cfg, key: str, value):
    """A copy of a (nested) dataclass config with one dotted key replaced."""
    head, _, rest = key.partition(".")
    inner = _with(getattr(cfg, head), rest, value) if rest else value
    return dataclasses.replace(cfg, **{head: inner})


def check_output(overrides: list[str], multirun: bool, resume: bool) -> None:
    """The run or sweep folder must be creatable and writable; resume must name one."""
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    given = errors.given(overrides).get(key)
    if given is not None and not given.strip():
        message = f"The value for `{key}` must name a folder, but '' was passed."
        raise ConfigError(message)
    if resume and multirun and not given:
        raise ConfigError(
            "The value for `hydra.sweep.dir` must name the sweep to resume with "
            "resume=true, but none was passed."
        )
    shown = given if given is None or len(given) <= 80 else f"{given[:60]}..."

    def refuse(problem: str) -> None:
        raise ConfigError(
            f"The value for `{key}` must be a folder sweeper can create and write, but "
            f"{shown or 'outputs'!r} was passed ({problem})."
        )

    # The part before any ${...}: Hydra resolves the rest (a date) when it starts.
    target = Path((given or "outputs").split("${", 1)[0] or ".").absolute()
    text = os.fsencode(str(target))
    if len(text) >= os.pathconf("/", "PC_PATH_MAX"):
        refuse(f"a path of {len(text):,} bytes; at most 4,095")
    longest = max(map(len, text.split(b"/")))
    if longest > os.pathconf("/", "PC_NAME_MAX"):
        refuse(f"a name of {longest:,} bytes in it; at most 255")
    if Path(os.path.realpath(target)).parts[1:2] in (("proc",), ("sys",), ("dev",)):
        refuse("it is in a kernel file system")
    existing = target
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        refuse(f"{str(existing)!r} is a file")
    if not os.access(existing, os.W_OK):  # a read-only file system included
        refuse(f"{str(existing)!r} is not writable")


def check_config_files(config_dir: str | None) -> None:
    """YAML files of a --config-dir must not expand beyond MAX_YAML_VALUES values."""
    if not config_dir:
        return
    for path in sorted(Path(config_dir).rglob("*.yaml")):
        try:
            with open(path, "rb") as handle:
                node = yaml.compose(handle, Loader=yaml.SafeLoader)
            values = 0 if node is None else _expanded(node, {})
        except (OSError, yaml.YAMLError):
            continue  # Hydra names a file it cannot read or parse itself
        except RecursionError:
            raise ConfigError(
                f"The config file {str(path)!r} nests too deeply to be read: refused."
            ) from None
        if values > MAX_YAML_VALUES:
            raise ConfigError(
                f"The config file {str(path)!r} expands to more than "
                f"{MAX_YAML_VALUES:,} values through YAML aliases (an alias bomb?): "
                "refused."
            )


def _expanded(node, sizes: dict) -> int:
    """How many values a YAML node stands for once its aliases are copied out.

    An alias is the same node object as its anchor, so each node is counted once and
    the count is linear in the file while the expansion may be exponential.
    """
    if id(node) in sizes:
        return sizes[id(node)]
    sizes[id(node)] = 1  # a cycle counts once (YAML allows recursive aliases)
    if isinstance(node, yaml.MappingNode):
        total = 1 + sum(
            _expanded(k, sizes) + _expanded(v, sizes) for k, v in node.value
        )
    elif isinstance(node, yaml.SequenceNode):
        total = 1 + sum(_expanded(item, sizes) for item in node.value)
    else:
        total = 1
    sizes[id(node)] = min(total, MAX_YAML_VALUES + 1)
    return sizes[id(node)]
