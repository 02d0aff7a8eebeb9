"""Shared fixtures: real sweeps, run once per test session."""

import subprocess
import sys
from pathlib import Path
from typing import Sequence

import pytest

# Long enough for the origin behaviour to show (normal/3 vanishes, xavier fits below
# 0.01), short enough for CI: compile time, not steps, dominates a run.
ORIGIN_STEPS = 3000
ORIGIN_LOG_EVERY = 100
ORIGIN_GRID = ["init=normal,xavier", "depth=2,3"]


def sweep(
    folder: Path, *overrides: str, check: bool = True, prefix: Sequence[str] = ()
):
    """Run `python -m sweeper -m <overrides>` into `folder`, from inside `folder`.

    `prefix` runs it through another command, e.g. `ip netns exec NS`.
    """
    command = [*prefix, sys.executable, "-m", "sweeper", "-m", *overrides]
    command.append(f"hydra.sweep.dir={folder}")
    return subprocess.run(
        command, check=check, cwd=folder, capture_output=True, text=True
    )


@pytest.fixture(scope="session")
def origin_sweep(tmp_path_factory) -> Path:
    """The question's grid, init=normal,xavier x depth=2,3, ORIGIN_STEPS steps each."""
    folder = tmp_path_factory.mktemp("sweep")
    steps = [f"steps={ORIGIN_STEPS}", f"log_every={ORIGIN_LOG_EVERY}"]
    sweep(folder, *ORIGIN_GRID, *steps)
    return folder


@pytest.fixture(scope="session")
def origin_data(origin_sweep):
    """The origin sweep's runs table and its metrics, as the report reads them."""
    from sweeper import analysis

    runs, _ = analysis.load_runs(origin_sweep)
    return runs, analysis.load_metrics(origin_sweep, runs)
