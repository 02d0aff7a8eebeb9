"""Hydra's own launcher test suites, run against sweeper's batched launcher.

For a task function that is not sweeper's, the launcher must behave exactly like Hydra's
basic launcher; these are the suites Hydra's launcher plugins run (parametrized as in
Hydra's plugins/*/tests and tests/test_basic_launcher.py).
"""

from hydra.core.plugins import Plugins
from hydra.plugins.launcher import Launcher
from hydra.test_utils.launcher_common_tests import (
    BatchedSweeperTestSuite,
    IntegrationTestSuite,
    LauncherTestSuite,
)
from pytest import mark

from hydra_plugins.sweeper_launcher.batched_launcher import BatchedLauncher


def test_discovery() -> None:
    launchers = Plugins.instance().discover(Launcher)
    assert BatchedLauncher.__name__ in [launcher.__name__ for launcher in launchers]


@mark.parametrize("launcher_name, overrides", [("batched", [])])
class TestBatchedLauncher(LauncherTestSuite):
    pass


@mark.parametrize(
    "launcher_name, overrides",
    [("batched", ["hydra/sweeper=basic", "hydra.sweeper.max_batch_size=2"])],
)
class TestBatchedLauncherWithBatchingSweeper(BatchedSweeperTestSuite):
    pass


@mark.slow  # each test runs an app in a subprocess
@mark.parametrize(
    "task_launcher_cfg, extra_flags",
    [({}, ["-m", "hydra/job_logging=disabled", "hydra/launcher=batched"])],
)
class TestBatchedLauncherIntegration(IntegrationTestSuite):
    pass
