"""The worker pool's processes never outlive the process that started them."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sweeper.sweep.pool import Pool

# The parent hands its two workers an item each that keeps them busy (as training
# does: not waiting on their pipe, where they would see the parent go).
PARENT = """
import time
from sweeper.sweep.pool import Pool
pool = Pool(2)
print(" ".join(str(p.pid) for _, p in pool._idle), flush=True)
pool.run(time.sleep, [60, 60], print, print)
"""


# The same, with workers forked from a fork server that imported TensorFlow: the
# server's pid comes first.
FORKED_PARENT = """
import os, time
from multiprocessing import forkserver
from sweeper.sweep.pool import Pool
from sweeper.train import lean
pool = Pool(2, *lean.WORKER)

def started(_):
    if len(pool._busy) == 2:
        workers = [str(p.pid) for p, _ in pool._busy.values()]
        print(forkserver._forkserver._forkserver_pid, *workers, flush=True)

pool.run(time.sleep, [60, 60], print, print, started)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is as good as gone
        return stat.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.parametrize("script", [PARENT, FORKED_PARENT], ids=["spawned", "forked"])
def test_busy_workers_end_when_their_parent_is_killed(script):
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    )
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2 + (script is FORKED_PARENT)  # and the fork server
    assert all(map(alive, workers))
    time.sleep(1.0)  # the workers are past their start-up
    parent.send_signal(signal.SIGKILL)  # no cleanup of its own can run
    parent.wait()
    deadline = time.monotonic() + 10
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(alive, workers))


def test_forked_workers_come_from_one_server_that_loaded_tensorflow_in_one_thread():
    from multiprocessing import forkserver

    from sweeper.train import lean

    pool = Pool(2, *lean.WORKER)
    stats: dict = {}  # a worker's /proc/self/stat, as it reads it
    try:
        stat = Path("/proc/self/stat")
        pool.run(Path.read_text, [stat, stat], stats.__setitem__, print)
        server = forkserver._forkserver._forkserver_pid
        maps = Path(f"/proc/{server}/maps").read_text()
        threads = len(list(Path(f"/proc/{server}/task").iterdir()))
    finally:
        pool.close()
    parents = {int(text.split(")")[-1].split()[1]) for text in stats.values()}
    assert len(stats) == 2 and parents == {server} and server != os.getpid()
    assert "_pywrap_tensorflow" in maps  # loaded once, there, before any fork
    assert threads == 1  # none to hold a lock across a fork


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


def test_a_worker_gets_its_next_item_while_the_parent_still_has_work():
    """The parent's own work (writing a group's jobs) is done in pieces between its
    workers' news: a worker that ends an item never waits for the rest of it."""
    pool = Pool(2)
    work: list = []  # the parent's pieces of work, as `finished` queues them
    queued_when_started: dict = {}

    def finished(index: int, _) -> None:
        if index == 0:
            work.extend([0.05] * 30)  # 1.5 s of the parent's own work

    def between() -> bool:
        if not work:
            return False
        time.sleep(work.pop())
        return True

    def started(index: int) -> None:
        queued_when_started[index] = len(work)

    try:
        # item 0 ends first (0.2 s); item 1 (0.8 s) ends while 1.5 s of work waits
        pool.run(time.sleep, [0.2, 0.8, 0.1, 0.1], finished, print, started, between)
    finally:
        pool.close()
    assert queued_when_started[3] > 0  # handed out before the parent's work was done
    assert len(work) < 30  # which went on between the workers' news (the rest is
    # the caller's to finish: sweep/loop.py writes the last jobs after `run`)
