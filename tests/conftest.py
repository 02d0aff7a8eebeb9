"""Shared fixtures: real sweeps, run once per test session, and a synthetic one."""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import pytest

# sweeper's compile cache (sweeper/train/compile_cache.py) for this test session, in
# every process it starts: most tests train the origin's few programs again in a
# fresh process, and a cached program skips its compile (the same compiled code: the
# same bytes out). A folder of the session's own, not the user's, removed at exit; set
# before anything imports TensorFlow.
_CACHE = tempfile.mkdtemp(prefix="sweeper-test-cache-")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
os.environ["SWEEPER_CACHE_DIR"] = _CACHE
os.environ.pop("SWEEPER_COMPILE_CACHE", None)

# Long enough for the origin behaviour to show (normal/3 vanishes, xavier fits below
# 0.01), short enough for CI: compile time, not steps, dominates a run.
ORIGIN_STEPS = 3000
ORIGIN_LOG_EVERY = 100
ORIGIN_GRID = ["init=normal,xavier", "depth=2,3"]

# The synthetic sweep (tests/synthetic.py): the origin's grid, no training, with the
# verdicts a short origin sweep gets (steps=200): Normal(0, 1e-3) collapses at depth 2
# and vanishes at depth 3, Xavier is healthy.
SYNTHETIC_STEPS = 1000
SYNTHETIC_LOG_EVERY = 50
SYNTHETIC_GRID = {"init": ["normal", "xavier"], "depth": [2, 3]}
SYNTHETIC_VERDICTS = {("normal", 2): "collapsed", ("normal", 3): "vanishing"}


def sweep(
    folder: Path, *overrides: str, check: bool = True, prefix: Sequence[str] = ()
):
    """Run `python -m sweeper -m <overrides>` into `folder`, from inside `folder`.

    `prefix` runs it through another command, e.g. `ip netns exec NS`. With `check`,
    a non-zero exit fails the test with the end of what the sweep printed.
    """
    command = [*prefix, sys.executable, "-m", "sweeper", "-m", *overrides]
    command.append(f"hydra.sweep.dir={folder}")
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    if check and done.returncode:
        raise AssertionError(
            f"exit {done.returncode}: {' '.join(command)}\n"
            f"stdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-3000:]}"
        )
    return done


def summary_text(folder: Path) -> str:
    """A folder's summary.csv as text, less the columns that time the run (when and
    how long it trained), which no rerun repeats: every other field, as written."""
    import pandas as pd

    table = pd.read_csv(folder / "summary.csv", dtype=str, keep_default_na=False)
    return table.drop(columns=["started_at", "seconds"]).to_csv(index=False)


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
    from sweeper.report import analysis

    runs, _ = analysis.load_runs(origin_sweep)
    return runs, analysis.load_metrics(origin_sweep, runs)


@pytest.fixture(scope="session")
def synthetic_written(tmp_path_factory):
    """The synthetic sweep's folder and `write_sweep`'s table of what it wrote there."""
    from synthetic import write_sweep

    folder = tmp_path_factory.mktemp("synthetic")
    truth = write_sweep(
        folder,
        SYNTHETIC_GRID,
        steps=SYNTHETIC_STEPS,
        log_every=SYNTHETIC_LOG_EVERY,
        verdicts=SYNTHETIC_VERDICTS,
    )
    return folder, truth


@pytest.fixture(scope="session")
def synthetic_sweep(synthetic_written) -> Path:
    """The synthetic sweep: SYNTHETIC_GRID, jobs 0-3 as the origin's; do not edit."""
    return synthetic_written[0]


@pytest.fixture(scope="session")
def synthetic_truth(synthetic_written):
    """One row per job of the synthetic sweep: settings, verdict and figures written."""
    return synthetic_written[1]


@pytest.fixture(scope="session")
def synthetic_data(synthetic_sweep):
    """The synthetic sweep's runs table and its metrics, as the report reads them."""
    from sweeper.report import analysis

    runs, _ = analysis.load_runs(synthetic_sweep)
    return runs, analysis.load_metrics(synthetic_sweep, runs)
