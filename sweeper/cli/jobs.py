"""A Hydra job's config as sweeper's Job: typed config, job folder, swept settings."""

import shlex
import sys
from pathlib import Path

from omegaconf import DictConfig

from sweeper.cli.typed import typed
from sweeper.config.schema import SWEEP_KEYS
from sweeper.sweep.jobs import Job


def job_of(config: DictConfig, out_dir: Path, overrides: list[str]) -> Job:
    """The Job of a composed config and the job's own overrides (Hydra's
    `hydra.overrides.task`); ConfigError names the config's first fault."""
    settings = settings_from_overrides(overrides)
    return Job(typed(config), Path(out_dir).absolute(), settings, command())


def command() -> str:
    """This process's command line, as one would type it again."""
    return shlex.join(["python", "-m", "sweeper", *sys.argv[1:]])


def settings_from_overrides(overrides: list[str]) -> dict:
    """A job's own overrides as a dict: `init=xavier` -> {"init": "xavier"}."""
    settings = {}
    for override in overrides:
        key, _, value = override.lstrip("+~").partition("=")
        if not key.startswith("hydra") and key not in SWEEP_KEYS:
            settings[key] = value
    return settings
