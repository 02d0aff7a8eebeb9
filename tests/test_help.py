"""Hydra's own flags on sweeper's command line: help with a sweep's values, config
prints checked as a run is, and Hydra's flag conflicts as one line."""

import subprocess
import sys

import pytest


def _sweeper(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sweeper", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_help_beside_a_sweeps_values_prints_the_help():
    done = _sweeper("-m", "init=normal,xavier", "depth=2,3", "--help")
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args, start",
    [
        (["--cfg", "job", "init=nope"], "sweeper: error: The value for `init`"),
        (["--cfg", "job", "depth=2,3"], "sweeper: error: The value for `depth`"),
        (["-m", "--cfg", "job", "depth=2,3"], "sweeper: error: Only one of --run"),
    ],
)
def test_a_bad_config_print_is_one_line_and_status_2(args, start):
    done = _sweeper(*args)
    assert done.returncode == 2
    assert done.stderr.startswith(start) and done.stderr.count("\n") == 1


def test_a_sound_config_print_shows_the_value():
    done = _sweeper("--cfg", "job", "depth=3", "init=xavier")
    assert done.returncode == 0, done.stderr
    assert "depth: 3" in done.stdout and "name: xavier" in done.stdout
