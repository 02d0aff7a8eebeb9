"""A command line's swept values, expanded as Hydra's basic sweeper expands them, into
the few override lists that between them try every value once."""

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import OverrideParseException

from sweeper.cli.explain import first_line, type_name
from sweeper.config.checks import ConfigError


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
    for override in parse(overrides, config_loader):
        key = override.get_key_element()
        text = override.input_line.partition("=")[2] if override.input_line else ""
        if key.startswith("hydra.") or key.startswith("hydra/"):
            continue  # Hydra's own settings: Hydra checks them
        if override.is_delete():
            key = override.key_or_group
            raise ConfigError(
                f"The key `{key}` must keep a value (sweeper reads every setting), but "
                f"{override.input_line!r} deletes it; set it instead, e.g. {key}=..."
            )
        if not override.is_sweep_override():
            values[key] = _checked(key, [override.get_value_element_as_str()])
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
        values[key] = _checked(key, swept)
    base = {key: vals[0] for key, vals in values.items()}
    lists = [_as_list(base)]
    for key, vals in values.items():
        for value in vals[1:]:
            lists.append(_as_list({**base, key: value}))
    return lists


def _checked(key: str, texts: list[str]) -> list[str]:
    """Values as typed, where the composed config could not tell: a true/false
    setting given 2 would read as true."""
    if type_name(key) == "true or false":
        for text in texts:
            if text.lower() not in ("true", "false"):
                raise ConfigError(
                    f"The value for `{key}` must be true or false, but {text!r} was "
                    "passed."
                )
    return texts


def once_each(overrides: list[str]) -> None:
    """A key given twice: the second would silently replace the first's values."""
    seen: dict = {}
    for override in parse(overrides):
        key = override.get_key_element()
        if key in seen:
            raise ConfigError(
                f"The key `{key}` must be given once, but {seen[key]!r} and "
                f"{override.input_line!r} were passed (the second would replace the "
                "first)."
            )
        seen[key] = override.input_line


def parse(overrides: list[str], config_loader=None) -> list:
    parser = OverridesParser.create(config_loader=config_loader)
    try:
        return parser.parse_overrides(overrides)
    except OverrideParseException as exc:
        raise ConfigError(f"Cannot parse the overrides {overrides}: {first_line(exc)}")


def _as_list(settings: dict) -> list[str]:
    return [f"{key}={value}" for key, value in settings.items()]
