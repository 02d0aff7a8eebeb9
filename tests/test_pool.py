"""The worker pool's processes never outlive the process that started them."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# The parent hands its two workers an item each that keeps them busy (as training
# does: not waiting on their pipe, where they would see the parent go).
PARENT = """
import time
from sweeper.sweep.pool import Pool
pool = Pool(2)
print(" ".join(str(p.pid) for _, p in pool._idle), flush=True)
pool.run(time.sleep, [60, 60], print, print)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is as good as gone
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_busy_workers_end_when_their_parent_is_killed():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True
    )
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2 and all(map(alive, workers))
    time.sleep(1.0)  # the workers are past their start-up
    parent.send_signal(signal.SIGKILL)  # no cleanup of its own can run
    parent.wait()
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, workers))


def _group_members(pgid: int) -> list[str]:
    """Command lines of the live or zombie processes of a process group."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, _, rest = stat.read_text().rpartition(")")
            if int(rest.split()[2]) == pgid:
                found.append(f"{stat.parent.name} {name.split('(', 1)[1]}")
        except (OSError, ValueError, IndexError):
            continue
    return found


@pytest.mark.slow  # a real sweep
def test_nothing_of_a_sweep_outlives_its_command(tmp_path):
    grid = ["-m", "depth=2,3", "steps=30", f"hydra.sweep.dir={tmp_path / 's'}"]
    command = subprocess.Popen(
        [sys.executable, "-m", "sweeper", *grid],
        cwd=tmp_path,
        start_new_session=True,  # its own process group: the sweep's processes
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert command.wait(timeout=120) == 0
    # Workers, figure processes and multiprocessing's resource tracker are all
    # ended (and reaped) before the command returns, not a moment after.
    assert _group_members(command.pid) == []
