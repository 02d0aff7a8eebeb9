"""`python -m sweeper [-m] key=value ...`: check the command line, then run Hydra.

The Hydra door: this package (and the launcher plugin) are sweeper's only Hydra code;
what they hand on is typed configs, job folders and plain callbacks.
"""

import gc
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from sweeper.cli import preflight, store  # noqa: F401  (store: the schema, registered)
from sweeper.cli.callbacks import ReportCallback
from sweeper.cli.hydra_internals import args_parser
from sweeper.cli.jobs import job_of
from sweeper.config.checks import ConfigError, stop
from sweeper.record.files import read_run
from sweeper.record.verdict import objective
from sweeper.sweep.jobs import run_job
from sweeper.sweep.pool import close_early, end_helpers

CONF = "pkg://sweeper.conf"  # conf/, installed inside the package


def train_job(cfg: DictConfig) -> float:
    """Hydra's task function: one job = one run, trained and written to its job dir.

    Returns the run's `objective=` (lower is better), for sweepers that optimize it.
    """
    hydra_cfg = HydraConfig.get()
    out_dir = Path(hydra_cfg.runtime.output_dir)
    try:
        job = job_of(cfg, out_dir, list(hydra_cfg.overrides.task))
    except ConfigError as exc:  # a combination the command-line check could not see
        stop(exc)
    run_job(job)
    return objective(read_run(job.out_dir), job.cfg.objective)


# Tells sweeper's batched launcher that it may train these jobs in groups itself and
# only call back to write each job's files (any other task function runs as usual).
train_job.sweeper_batchable = True
hydra_main = hydra.main(config_path=CONF, config_name="config", version_base="1.3")(
    train_job
)


def main() -> None:
    """Validate the command line's every swept value, then run Hydra on it."""
    args = args_parser().parse_args(sys.argv[1:])
    asks_hydra = (
        args.help
        or args.hydra_help
        or args.info
        or args.cfg
        or args.shell_completion
        or getattr(args, "version", False)
    )
    if args.help or args.hydra_help:
        # The help texts show no config, but Hydra composes one first, and a sweep's
        # values (depth=2,3) fail that composition, with a traceback.
        sys.argv = [sys.argv[0], *_without(sys.argv[1:], args.overrides)]
    elif not asks_hydra or args.cfg or args.info:  # what those print is checked too
        try:
            overrides = preflight.check(
                args.overrides, args.multirun, args.config_dir, args.config_name
            )
        except ConfigError as exc:
            stop(exc)
        # a bare -m: the default grid added (Hydra reads sys.argv itself)
        sys.argv += overrides[len(args.overrides) :]
    try:
        hydra_main()
    except KeyboardInterrupt:  # outside the launcher's own handling: one line too
        print("sweeper: interrupted; the runs written so far are kept", file=sys.stderr)
        sys.exit(130)
    except ValueError as exc:  # Hydra's check of its flags (-m with --cfg, ...)
        if not asks_hydra:
            raise
        stop(exc)
    close_early()  # workers started for a launcher that did not take them
    end_helpers()  # nothing of the sweep outlives the command
    # Nothing is freed from here on: spare the interpreter's last collection over every
    # object still alive.
    gc.freeze()
    if ReportCallback.failed_runs or ReportCallback.report_failed:
        sys.exit(1)  # the sweep finished, but runs failed or its report could not be


def _without(argv: list[str], overrides: list[str]) -> list[str]:
    """`argv` less one occurrence of each of `overrides`."""
    left = list(overrides)
    kept = []
    for arg in argv:
        if arg in left:
            left.remove(arg)
        else:
            kept.append(arg)
    return kept
