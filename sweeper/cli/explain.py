"""Composition errors of Hydra and OmegaConf in one line: key, value, what is ok."""

import dataclasses
import re
import typing

from hydra.errors import MissingConfigException
from omegaconf.errors import InterpolationResolutionError

from sweeper.config.schema import Config


def given(overrides: list[str]) -> dict:
    """Overrides as key -> value text: `+depth=3` -> {"depth": "3"}; Hydra's escapes
    (`\\{`, as the grid writes a value back) undone, as Hydra reads them."""
    pairs = (o.lstrip("+~").split("=", 1) for o in overrides if "=" in o)
    return {key: re.sub(r"\\(.)", r"\1", value) for key, value in pairs}


def one_line(exc: Exception) -> str:
    """An exception's text on one line."""
    return " ".join(str(exc).split())


def explain(exc: Exception, overrides: list[str]) -> str:
    """One line for a Hydra/OmegaConf composition error: key, value, what is allowed."""
    values = given(overrides)
    if isinstance(exc, MissingConfigException) and exc.options is not None:
        group, _, option = (exc.missing_cfg_file or "").rpartition("/")
        value = values.get(group, option)
        return (
            f"The value for `{group}` must be one of {sorted(exc.options)}, "
            f"but {value!r} was passed."
        )
    cause = exc.__cause__ or exc
    key = getattr(cause, "full_key", None) or ""
    if isinstance(cause, InterpolationResolutionError):
        reason = re.search(r'"(.+)"', str(cause).splitlines()[0])
        why = reason[1] if reason else str(cause).splitlines()[0]
        return (
            f"The value for `{key}` must resolve, but {values.get(key)!r} was "
            f"passed ({why[0].lower() + why[1:]})."
        )
    if (
        "is not in struct" in str(cause)
        or "Could not override" in str(exc)
        or (type(cause).__name__ == "ConfigAttributeError")
    ):
        parent, _, _ = key.rpartition(".")
        return (
            f"Unknown key `{key}` (value {values.get(key)!r}); allowed keys"
            f"{' in `' + parent + '`' if parent else ''} are {_allowed_keys(parent)}."
        )
    if key:
        kind = type_name(key)
        if kind == "valid":  # not sweeper's schema (hydra.launcher.*): OmegaConf's word
            found = re.search(r"converted to (\w+)", str(cause))
            kind = CONVERTED.get(found[1], kind) if found else kind
        return (
            f"The value for `{key}` must be {kind}, "
            f"but {values.get(key, getattr(cause, 'value', None))!r} was passed."
        )
    return first_line(exc)


# OmegaConf's node types, as `could not be converted to <type>` names them
CONVERTED = {"Integer": "an integer", "Float": "a number", "Boolean": "true or false"}


def _allowed_keys(parent: str) -> list[str]:
    node = Config
    for part in filter(None, parent.split(".")):
        node = {f.name: f.type for f in dataclasses.fields(node)}.get(part, node)
    return sorted(f.name for f in dataclasses.fields(node))


def type_name(key: str) -> str:
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


def first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]
