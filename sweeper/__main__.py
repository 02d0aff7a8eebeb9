"""`python -m sweeper [-m] key=value ...`: check the command line, then run Hydra.

Only this module (and the report callback) touches Hydra; the engine gets typed configs.
"""

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sweeper import preflight
from sweeper.schema import ConfigError


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def train_job(cfg: DictConfig) -> None:
    """Hydra's task function: one job = one run, trained and written to its job dir."""
    hydra_cfg = HydraConfig.get()
    settings = job_settings(list(hydra_cfg.overrides.task))
    from sweeper.runner import Job, run_job  # TensorFlow loads only after validation

    run_job(Job(preflight.typed(cfg), Path(hydra_cfg.runtime.output_dir), settings))


def job_settings(overrides: list[str]) -> dict:
    """The job's overrides as a dict: `init=xavier` -> {"init": "xavier"}."""
    settings = {}
    for override in overrides:
        key, _, value = override.lstrip("+~").partition("=")
        if not key.startswith("hydra"):
            settings[key] = value
    return settings


def main(argv: list[str] | None = None) -> None:
    """Validate the command line's every swept value, then run Hydra on it."""
    argv = sys.argv[1:] if argv is None else argv
    from hydra._internal.utils import get_args_parser

    args = get_args_parser().parse_args(argv)
    asks_hydra = (
        args.help or args.hydra_help or args.info or args.cfg or args.shell_completion
    )
    if not asks_hydra:
        try:
            preflight.check(args.overrides, args.multirun)
        except ConfigError as exc:
            print(f"sweeper: error: {exc}", file=sys.stderr)
            sys.exit(2)
    train_job()


if __name__ == "__main__":
    main()
