"""`python -m sweeper -m ...` starts the default launcher's workers first thing,
before Hydra is imported (sweeper/cli/early.py), and the launcher takes them."""

import pytest

from sweeper.cli import early
from sweeper.sweep import pool
from sweeper.train import lean


@pytest.fixture(autouse=True)
def _no_early_pool():
    yield
    pool.close_early()


@pytest.mark.parametrize(
    "argv",
    [
        ["depth=2,3"],  # a single run: no workers
        ["-m", "--help"],
        ["-m", "--cfg", "job"],
        ["-m", "hydra/launcher=basic", "depth=2,3"],
        ["-m", "hydra/launcher=ray", "depth=2,3"],
        ["-m", "--config-dir", "elsewhere"],
        ["-m", "hydra.launcher.workers=1,2"],  # a sweep over workers
        ["-m", "hydra.launcher.workers=0"],  # refused by the check
    ],
)
def test_no_workers_start_when_the_command_may_not_be_the_default_launchers_sweep(
    argv,
):
    early.start_workers(argv)
    assert pool.take_early(1, lean.engine) is None
    assert not pool._early


def test_the_default_launchers_sweep_starts_them_and_the_launcher_takes_them():
    early.start_workers(["-m", "depth=2,3", "hydra.launcher.workers=1"])
    assert pool.take_early(2, lean.engine) is None  # not as many as wanted
    taken = pool.take_early(1, lean.engine)
    try:
        assert taken is not None and taken.workers == 1
        assert pool.take_early(1, lean.engine) is None  # taken once
    finally:
        taken.close()
