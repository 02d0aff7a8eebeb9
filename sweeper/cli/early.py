"""Start the batched launcher's workers before Hydra has chosen the launcher.

Hydra knows a sweep's launcher only once it has composed the config, after Hydra's
own import and the command line's check (a second or more), and a worker's first
seconds are TensorFlow's import. So `python -m sweeper -m ...` starts them first
thing when the command most likely runs on the default launcher: a multirun that
names no other launcher, config folder or config, and asks for no help or config
print. The batched launcher takes them if it wants as many (sweep/pool.py,
`take_early`); otherwise they end unused, as they do when the check fails.
"""

import os

from sweeper.sweep import pool
from sweeper.train import lean

MULTIRUN = ("-m", "--multirun")
NOT_A_SWEEP = (  # Hydra's flags that print, or that may choose another launcher
    ("-h", "--help", "--hydra-help", "--info", "-i", "--cfg", "-c", "--resolve")
    + ("--package", "-p", "--shell-completion", "-sc", "--version", "--run", "-r")
    + ("--config-path", "-cp", "--config-name", "-cn", "--config-dir", "-cd")
    + ("--experimental-rerun",)
)
LAUNCHER = ("hydra/launcher=", "+hydra/launcher=", "~hydra/launcher")
WORKERS = "hydra.launcher.workers="


def start_workers(argv: list[str]) -> None:
    """Start the default launcher's workers if `argv` is most likely its sweep."""
    flags = {arg.split("=")[0] for arg in argv if arg.startswith("-")}
    if not flags & set(MULTIRUN) or flags & set(NOT_A_SWEEP):
        return
    if any(arg.startswith(LAUNCHER) for arg in argv):
        return
    workers = os.cpu_count() or 1
    for arg in argv:
        if arg.startswith(WORKERS):
            value = arg[len(WORKERS) :]
            if value != "null" and not (value.isdigit() and int(value) > 0):
                return  # a sweep over workers, or a value the check will refuse
            workers = int(value) if value != "null" else workers
    pool.start_early(workers, *lean.WORKER)
