"""`python -m sweeper [-m] key=value ...`: check the command line, then run Hydra.

Only this module (and the report callback) touches Hydra; the engine gets typed configs.
"""

import gc
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sweeper import preflight, runner
from sweeper.callbacks import ReportCallback
from sweeper.schema import ConfigError, stop

# `python -m sweeper -m` with nothing swept runs the question's grid over the keys the
# command line leaves unset.
DEFAULT_GRID = ["init=normal,xavier", "depth=2,3"]


def train_job(cfg: DictConfig) -> None:
    """Hydra's task function: one job = one run, trained and written to its job dir."""
    hydra_cfg = HydraConfig.get()
    settings = runner.settings_from_overrides(list(hydra_cfg.overrides.task))
    out_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        typed = preflight.typed(cfg)
    except ConfigError as exc:  # a combination the command-line check could not see
        stop(exc)
    runner.run_job(runner.Job(typed, out_dir, settings))


# Tells sweeper's batched launcher that it may train these jobs in groups itself and
# only call back to write each job's files (any other task function runs as usual).
train_job.sweeper_batchable = True
hydra_main = hydra.main(
    config_path="../conf", config_name="config", version_base="1.3"
)(train_job)


def main() -> None:
    """Validate the command line's every swept value, then run Hydra on it."""
    from hydra._internal.utils import get_args_parser  # Hydra's own argv grammar

    args = get_args_parser().parse_args(sys.argv[1:])
    if args.multirun and not any("," in o for o in args.overrides):
        given = {o.partition("=")[0] for o in args.overrides}
        grid = [g for g in DEFAULT_GRID if g.partition("=")[0] not in given]
        sys.argv += grid  # Hydra reads sys.argv itself
        args.overrides += grid
    asks_hydra = (
        args.help or args.hydra_help or args.info or args.cfg or args.shell_completion
    )
    if not asks_hydra:
        try:
            preflight.check(args.overrides, args.multirun, args.config_dir)
        except ConfigError as exc:
            stop(exc)
    hydra_main()
    # Nothing is freed from here on: spare the interpreter's last collection over every
    # object still alive (0.5 s after a 256-job sweep).
    gc.freeze()
    if ReportCallback.failed_runs:
        sys.exit(1)  # the sweep finished and its report is written, but runs failed


if __name__ == "__main__":
    main()
