"""The Ray launcher on a real Ray head: the batched launcher's files, group by group.

Ray binds its services to the machine's external interface even when told
--node-ip-address=127.0.0.1, and tests may send traffic only to loopback; so the head
and the sweeps that use it run in a network namespace of their own with only `lo` up
(making one needs root and iproute2's `ip`). Without Ray the tests fail rather than
skip: the dev extra installs it.
"""

import importlib.util
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
from hydra.test_utils.launcher_common_tests import LauncherTestSuite

from conftest import summary_text, sweep

pytestmark = pytest.mark.slow  # a real Ray head and sweeps

NAMESPACE = f"sweeper-ray-{os.getpid()}"
PORT = 6379  # the namespace has ports of its own: no clash with a Ray outside it
# Token authentication as on a real cluster, with a token of the test's own: Ray
# 2.60's `ray start` turns it on by itself when ~/.ray/auth_token exists, and a driver
# that joins by address then needs RAY_AUTH_MODE=token and the token.
RAY_ENV = [
    "RAY_USAGE_STATS_ENABLED=0",
    "RAY_AUTH_MODE=token",
    f"RAY_AUTH_TOKEN={secrets.token_hex(16)}",
]
IN_NAMESPACE = ["ip", "netns", "exec", NAMESPACE, "env", *RAY_ENV]
ON_RAY = ["hydra/launcher=ray", f"hydra.launcher.address=127.0.0.1:{PORT}"]
GRID = ["depth=2,3", "init=normal,xavier", "steps=300", "log_every=50"]  # 2 groups
TASK = "train_group"  # sweeper.sweep.group.train_group, the function each Ray task runs


def _run(command: list, timeout: float = 120) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}: {result.stderr}"
    return result.stdout


def _namespace_pids() -> list:
    return [int(pid) for pid in _run(["ip", "netns", "pids", NAMESPACE]).split()]


def _end_namespace() -> None:
    """Kill every process in the namespace (the head, its workers), then delete it.

    By process id, not `ray stop --force`, which kills Ray processes machine-wide
    by name, another cluster's too.
    """
    deadline = time.monotonic() + 30
    while (pids := _namespace_pids()) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    subprocess.run(["ip", "netns", "delete", NAMESPACE], check=False)


@pytest.fixture(scope="module")
def ray_logs():
    """A Ray head at 127.0.0.1:PORT, 2 CPUs, in its own namespace: its log folder."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("a network namespace needs root and iproute2's `ip`")
    if importlib.util.find_spec("ray") is None:
        pytest.fail("Ray is not installed: pip install -e '.[dev]' installs it")
    # Ray's socket paths live under its temp dir and must stay short (< 108 bytes).
    temp_dir = Path(tempfile.mkdtemp(prefix="sweeper-ray-"))
    _run(["ip", "netns", "add", NAMESPACE])
    try:
        _run(["ip", "netns", "exec", NAMESPACE, "ip", "link", "set", "lo", "up"])
        ray_start = [sys.executable, "-m", "ray.scripts.scripts", "start", "--head"]
        _run(
            [
                *IN_NAMESPACE,
                *ray_start,
                "--node-ip-address=127.0.0.1",
                f"--port={PORT}",
                "--num-cpus=2",
                "--object-store-memory=100000000",  # 100 MB: results are small
                "--include-dashboard=false",
                "--disable-usage-stats",
                f"--temp-dir={temp_dir}",
            ]
        )
        yield temp_dir / "session_latest" / "logs"
    finally:
        _end_namespace()
        shutil.rmtree(temp_dir, ignore_errors=True)


def _tasks_started(logs: Path) -> int:
    """Ray tasks of TASK that the head's workers have started so far.

    A Ray worker writes `:task_name:<function>` to its log as it starts a task; this
    counts Ray's own record, which no local process pool could write.
    """
    marker = f":task_name:{TASK}\n"
    texts = [path.read_text(errors="replace") for path in logs.glob("worker-*.out")]
    return sum(text.count(marker) for text in texts)


def test_a_sweep_on_a_ray_cluster_writes_the_batched_launchers_files(
    ray_logs, tmp_path
):
    on_ray, batched = tmp_path / "ray", tmp_path / "batched"
    on_ray.mkdir()
    batched.mkdir()
    before = _tasks_started(ray_logs)
    result = sweep(on_ray, *GRID, *ON_RAY, check=False, prefix=IN_NAMESPACE)
    assert result.returncode == 0, result.stderr
    assert f"Training groups on Ray at 127.0.0.1:{PORT} with 2 CPUs" in result.stdout
    assert _tasks_started(ray_logs) - before == 2  # one task per group (depth 2, 3)

    sweep(batched, *GRID)  # the default launcher, on this machine's own processes
    for job in range(4):
        a = (on_ray / str(job) / "metrics.csv").read_bytes()
        b = (batched / str(job) / "metrics.csv").read_bytes()
        assert a == b, job
    summary = pd.read_csv(on_ray / "summary.csv")
    assert list(summary["status"]) == ["ok"] * 4
    assert summary["verdict"].nunique() > 1  # a mixed grid, not all one verdict
    assert summary_text(on_ray) == summary_text(batched)


USER_NET = """
import keras


def origin(input_shape, output_dim):
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(output_dim),
        ]
    )
"""


def test_ray_workers_import_the_users_keras_module(ray_logs, tmp_path):
    """The head's workers start elsewhere than the sweep (and could be on another
    machine): the user's module reaches them with the task."""
    grid = ["model=keras", "model.build=ray_nets:origin", "init=normal,xavier"]
    grid += ["steps=100", "log_every=50"]
    on_ray, local = tmp_path / "ray", tmp_path / "local"
    for folder in (on_ray, local):
        folder.mkdir()
        (folder / "ray_nets.py").write_text(USER_NET)
    sweep(on_ray, *grid, *ON_RAY, prefix=IN_NAMESPACE)
    # Ray unpacked the module shipped with the job where its workers import it
    unpacked = ray_logs.parent / "runtime_resources" / "py_modules_files"
    assert list(unpacked.glob("_ray_pkg_*/ray_nets.py"))
    sweep(local, *grid)
    for job in range(2):
        a = (on_ray / str(job) / "metrics.csv").read_bytes()
        assert a == (local / str(job) / "metrics.csv").read_bytes(), job


def _running_tasks() -> list:
    """Process ids of the namespace's Ray workers that are running a TASK now."""
    found = []
    for pid in _namespace_pids():
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if title.startswith(f"ray::{TASK}".encode()):  # Ray's title for a busy worker
            found.append(pid)
    return found


def test_a_killed_ray_worker_fails_only_its_own_group(ray_logs, tmp_path):
    grid = ["depth=2,3,4", "seed=0,1", "steps=200", "log_every=50"]  # 3 groups of 2
    command = [*IN_NAMESPACE, sys.executable, "-m", "sweeper", "-m", *grid, *ON_RAY]
    process = subprocess.Popen(
        [*command, f"hydra.sweep.dir={tmp_path}"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (busy := _running_tasks()):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(busy[0], signal.SIGKILL)  # loading TensorFlow, compiling or training
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 1, stderr  # the sweep finished, with failed runs
    summary = pd.read_csv(tmp_path / "summary.csv")
    failed = summary[summary["status"] == "failed"]
    assert list(failed["seed"]) == [0, 1] and failed["depth"].nunique() == 1
    assert (summary.loc[summary["status"] != "failed", "status"] == "ok").all()
    run = (tmp_path / str(failed["job"].iloc[0]) / "run.json").read_text()
    assert "Ray task failed: WorkerCrashedError" in run


def _sweeper(*args: str, without_ray: bool = False) -> subprocess.CompletedProcess:
    """`python -m sweeper <args>`; `without_ray`: as if Ray were not installed."""
    # sys.modules["ray"] = None is how Python spells "ray cannot be imported".
    hide = "sys.modules['ray'] = None; " if without_ray else ""
    run = "runpy.run_module('sweeper', run_name='__main__', alter_sys=True)"
    code = f"import runpy, sys; {hide}{run}"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60
    )


def _free_port() -> int:
    """A loopback port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_without_ray_or_a_cluster_the_sweep_stops_in_one_line(tmp_path):
    grid = ["-m", "depth=2", "steps=30", f"hydra.sweep.dir={tmp_path}"]
    missing = _sweeper(*grid, "hydra/launcher=ray", without_ray=True)
    nobody = f"hydra.launcher.address=127.0.0.1:{_free_port()}"
    refused = _sweeper(*grid, "hydra/launcher=ray", nobody)
    for result, message in (
        (missing, "needs Ray, which is not installed: pip install -e '.[ray]'"),
        (refused, "Cannot join the Ray cluster at '127.0.0.1:"),
    ):
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, result.stderr
        assert len(lines) == 1 and lines[0].startswith("sweeper: error: "), lines
        assert message in lines[0]
    assert not list(tmp_path.glob("*/run.json"))  # nothing trained


@pytest.mark.parametrize("launcher_name, overrides", [("ray", [])])
class TestRayLauncherOnAnyOtherTask(LauncherTestSuite):
    """For a task function that is not sweeper's: Hydra's basic launcher, no Ray."""


LOCAL_RUNTIME = """
import os, subprocess, sys
from sweeper.sweep.ray_runtime import connect
ray = connect(None, 1)
print(os.getpid(), flush=True)
sys.stdin.read()  # the test reads the sockets, then closes stdin
ray.shutdown()
"""


def _descendants(pid: int) -> set:
    children = {}
    for status in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = status.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(status.parent.name))
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        found.add(parent)
        todo += [c for c in children.get(parent, []) if c not in found]
    return found


def _listening(pids: set) -> list:
    """(address, process) of every TCP socket the processes listen on."""
    out = _run(["ss", "-Hltnp"])
    rows = []
    for line in out.splitlines():
        owners = {int(p) for p in re.findall(r"pid=(\d+),", line)}
        if owners & pids:
            rows.append((line.split()[3], line.split()[-1]))
    return rows


def test_a_local_runtime_listens_on_loopback_only_with_a_private_token(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "RAY_USAGE_STATS_ENABLED": "0"}
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        env.pop(name, None)
    driver = subprocess.Popen(
        [sys.executable, "-c", LOCAL_RUNTIME],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        pid = int(driver.stdout.readline())
        sockets = _listening(_descendants(pid))
    finally:
        driver.communicate("", timeout=60)
    assert len(sockets) >= 3, sockets  # the GCS, the raylet, the driver, ...
    outside = [s for s in sockets if not re.match(r"(\[::ffff:)?127\.", s[0])]
    assert not outside, outside
    token = tmp_path / ".ray" / "auth_token"
    assert stat.S_IMODE(token.stat().st_mode) == 0o600
    assert len(token.read_text()) == 64


def test_a_local_runtime_without_authentication_is_refused(tmp_path):
    grid = ["-m", "depth=2", "steps=30", f"hydra.sweep.dir={tmp_path}"]
    result = subprocess.run(
        [sys.executable, "-m", "sweeper", *grid, "hydra/launcher=ray"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "RAY_AUTH_MODE": "disabled"},
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "RAY_AUTH_MODE=disabled is refused for a local Ray runtime" in lines[0]
