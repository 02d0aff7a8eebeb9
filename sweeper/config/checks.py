"""The checks every config value passes, and the one-line error they raise."""

import math
import sys
from dataclasses import fields
from typing import Any, NoReturn


class ConfigError(ValueError):
    """A user's config mistake; its message is one line: key, value and rule."""


def stop(error: Any) -> NoReturn:
    """End the command over bad input before anything trains: one line, status 2."""
    print(f"sweeper: error: {error}", file=sys.stderr)
    sys.exit(2)


def check(ok: bool, key: str, value: Any, allowed: str) -> None:
    """Raise ConfigError worded like seaborn's argument checks unless `ok`."""
    if not ok:
        raise ConfigError(
            f"The value for `{key}` must be {allowed}, but {value!r} was passed."
        )


def check_choice(key: str, value: str, options) -> None:
    check(value in options, key, value, f"one of {list(options)}")


def check_positive(key: str, value: float) -> None:
    check(value > 0, key, value, "> 0")


# The sizes a float32 holds without becoming 0 or inf: the engine computes in float32.
FLOAT32_TINY, FLOAT32_MAX = 1.1754944e-38, 3.4028235e38


def check_fields(config, prefix: str) -> None:
    """Every float of a config dataclass finite and a size float32 keeps; every bool a
    bool (not a number that converted)."""
    for spec in fields(config):
        key, value = f"{prefix}{spec.name}", getattr(config, spec.name)
        if spec.type is bool:
            check(isinstance(value, bool), key, value, "true or false")
        elif isinstance(value, float):
            check(
                math.isfinite(value)
                and (value == 0 or FLOAT32_TINY <= abs(value) <= FLOAT32_MAX),
                key,
                value,
                "a finite number that float32 keeps (0, or 1.2e-38 to 3.4e+38 in size)",
            )
