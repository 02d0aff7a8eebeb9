"""Sweeps that survive: a failing job, a diverging one, a kill, a resume, bad input."""

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import summary_text, sweep

pytestmark = pytest.mark.slow  # real sweeps and CLI subprocesses

# One group of six runs that differ only in learning rate: the last one diverges.
LRS = "optimizer.lr=1e-3,2e-3,3e-3,5e-3,1e-2,1e3"
GOOD_LRS = "optimizer.lr=1e-3,2e-3,5e-3,1e-2"  # the same runs minus the bad two
FIXED = ["init=xavier", "depth=3", "clip=none", "steps=200", "log_every=50"]


def _statuses(folder):
    return list(pd.read_csv(folder / "summary.csv")["status"])


@pytest.mark.parametrize("launcher", ["batched", "basic"])
def test_failed_and_diverged_jobs_leave_the_others_intact(tmp_path, launcher):
    bad, good = tmp_path / "bad", tmp_path / "good"
    bad.mkdir()
    good.mkdir()
    # Job 2 cannot write its metrics.csv (a folder stands in the way): a real OSError.
    (bad / "2" / "metrics.csv").mkdir(parents=True)
    choose = f"hydra/launcher={launcher}"
    result = sweep(bad, *FIXED, LRS, choose, check=False)
    assert result.returncode == 1, result.stderr
    assert "1 run(s) failed" in result.stdout
    assert "Traceback" not in result.stderr
    assert _statuses(bad) == ["ok", "ok", "failed", "ok", "ok", "diverged"]
    assert (bad / "report.html").exists()
    assert "IsADirectoryError" in (bad / "2" / "run.json").read_text()
    diverged = pd.read_csv(bad / "5" / "metrics.csv")  # still a valid table
    assert diverged["step"].max() == 200

    sweep(good, *FIXED, GOOD_LRS, choose)
    for bad_job, good_job in ((0, 0), (1, 1), (3, 2), (4, 3)):
        a = (bad / str(bad_job) / "metrics.csv").read_bytes()
        b = (good / str(good_job) / "metrics.csv").read_bytes()
        assert a == b


def _complete_jobs(folder) -> list:
    return sorted(p.parent.name for p in folder.glob("*/run.json"))


def _mtimes(folder, jobs) -> dict:
    names = ("metrics.csv", "run.json")
    return {(j, n): (folder / j / n).stat().st_mtime_ns for j in jobs for n in names}


def test_a_killed_sweep_resumes_without_recomputing(tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    killed.mkdir()
    clean.mkdir()
    # 8 jobs in 4 groups (one per depth), trained one group after the other so that the
    # kill lands between groups: the first group's files are written, the rest are not.
    grid = ["depth=2,3,4,5", "seed=0,1", "steps=300", "log_every=50"]
    grid.append("hydra.launcher.workers=1")
    command = [sys.executable, "-m", "sweeper", "-m", *grid]
    process = subprocess.Popen(
        [*command, f"hydra.sweep.dir={killed}"],
        cwd=killed,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes the workers too
    )
    deadline = time.monotonic() + 240
    while len(_complete_jobs(killed)) < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "no job completed in time"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done = _complete_jobs(killed)
    assert 2 <= len(done) < 8, done
    before = _mtimes(killed, done)

    sweep(killed, *grid, "resume=true")
    assert _mtimes(killed, done) == before  # completed jobs were not recomputed
    assert _complete_jobs(killed) == [str(j) for j in range(8)]
    sweep(clean, *grid)
    resumed = pd.read_csv(killed / "summary.csv")
    assert list(resumed["job"]) == list(range(8))
    assert summary_text(killed) == summary_text(clean)


def test_ctrl_c_says_what_finished_and_how_to_resume_in_one_line(tmp_path):
    grid = ["depth=2,3,4,5", "seed=0,1", "steps=300", "log_every=50"]
    grid.append("hydra.launcher.workers=1")  # one group after the other
    process = subprocess.Popen(
        [sys.executable, "-m", "sweeper", "-m", *grid, f"hydra.sweep.dir={tmp_path}"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while len(_complete_jobs(tmp_path)) < 2 and process.poll() is None:
        assert time.monotonic() < deadline, "no job completed in time"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)  # what a Ctrl-C at the terminal sends
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130
    [line] = err.strip().splitlines()  # one line, no traceback from any process
    done = len(_complete_jobs(tmp_path))
    assert line.startswith(f"sweeper: interrupted: {done} of 8 runs are written in ")
    again = line.partition("to train the rest: ")[2]
    assert again.endswith(" resume=true") and f"hydra.sweep.dir={tmp_path}" in again
    again = again.replace("python", shlex.quote(sys.executable), 1)  # this Python
    result = subprocess.run(again, shell=True, cwd=tmp_path, capture_output=True)
    assert result.returncode == 0, result.stderr
    assert _complete_jobs(tmp_path) == [str(j) for j in range(8)]


def test_a_report_that_cannot_be_written_says_so_in_one_line_and_exits_1(tmp_path):
    (tmp_path / "report.html").mkdir()  # where the report goes: not a file
    result = sweep(tmp_path, "depth=2,3", "steps=20", "log_every=0", check=False)
    assert result.returncode == 1
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("sweeper:")]
    assert line.startswith("sweeper: error: the report could not be written: ")
    assert "Traceback" not in result.stderr
    assert len(list(tmp_path.glob("*/run.json"))) == 2  # the runs are kept


def test_a_folder_in_use_by_a_sweep_stops_a_second_one_in_one_line(tmp_path):
    from sweeper.record import lock

    lock.hold(tmp_path)  # as a live sweep in this folder does
    try:
        result = sweep(tmp_path, "depth=2,3", "steps=20", "log_every=0", check=False)
    finally:
        lock.release(tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"sweeper: error: The sweep folder {str(tmp_path)!r} is in use by another "
        f"sweep (process {os.getpid()}): wait for it to end, or choose another "
        "hydra.sweep.dir."
    ]
    assert not list(tmp_path.glob("*/run.json"))  # nothing trained, nothing written
    sweep(tmp_path, "depth=2,3", "steps=20", "log_every=0")  # free again: it runs
    assert len(list(tmp_path.glob("*/run.json"))) == 2


def test_resume_on_the_per_job_path_skips_complete_jobs(tmp_path):
    grid = ["depth=2,3", "steps=50", "log_every=0", "hydra/launcher=basic"]
    sweep(tmp_path, *grid)
    before = _mtimes(tmp_path, ["0", "1"])
    sweep(tmp_path, *grid, "resume=true")
    assert _mtimes(tmp_path, ["0", "1"]) == before


def test_resuming_a_finished_sweep_rebuilds_its_report_and_trains_nothing(tmp_path):
    # What a Ctrl-C while the report is written leaves: every job complete, no report.
    grid = ["depth=2,3", "steps=50", "log_every=0"]
    sweep(tmp_path, *grid)
    for name in ("report.html", "report.md", "summary.csv"):
        (tmp_path / name).unlink()
    before = _mtimes(tmp_path, ["0", "1"])
    sweep(tmp_path, *grid, "resume=true")  # exit status 0, or this raises
    assert _mtimes(tmp_path, ["0", "1"]) == before
    for name in ("report.html", "report.md", "summary.csv"):
        assert (tmp_path / name).is_file(), name


def test_a_smaller_grid_reports_its_own_jobs_and_names_the_rest(tmp_path):
    sweep(tmp_path, "init=normal,xavier", "depth=2,3", "steps=50", "log_every=0")
    # What a kill in the middle of a write leaves: a temporary beside its file.
    leftovers = [tmp_path / ".report.md.k1ll3d.tmp", tmp_path / "2" / ".run.json.x.tmp"]
    for path in leftovers:
        path.write_text("half a file")
    smaller = sweep(
        tmp_path,
        "init=normal,xavier",
        "depth=2",
        "steps=50",
        "log_every=0",
        "resume=true",
    )
    summary = pd.read_csv(tmp_path / "summary.csv", dtype={"job": str})
    assert list(summary["job"]) == ["0", "1"]
    assert list(summary["init"]) == ["normal", "xavier"]
    assert set(summary["config/depth"]) == {2}
    [line] = [x for x in smaller.stdout.splitlines() if "Not in this report" in x]
    assert "2 job dirs of an earlier command in this folder (2, 3)" in line
    assert "Not in this report: 2 job dirs" in (tmp_path / "report.md").read_text()
    assert not any(path.exists() for path in leftovers)


def test_resume_never_reuses_a_run_of_another_config(tmp_path):
    sweep(tmp_path, "depth=2,3", "steps=50", "log_every=0")
    before = _mtimes(tmp_path, ["0", "1"])
    sweep(tmp_path, "depth=2,3", "steps=60", "log_every=0", "resume=true")
    after = _mtimes(tmp_path, ["0", "1"])
    assert all(after[key] != before[key] for key in before)
    assert set(pd.read_csv(tmp_path / "0" / "metrics.csv")["step"]) == {0, 60}


@pytest.mark.parametrize("launcher", ["batched", "basic"])
def test_same_config_and_seed_give_identical_bytes(tmp_path, launcher):
    runs = []
    for name in ("first", "second"):
        folder = tmp_path / name
        folder.mkdir()
        sweep(folder, "depth=2,3", "seed=7", "steps=300", f"hydra/launcher={launcher}")
        runs.append([(folder / j / "metrics.csv").read_bytes() for j in ("0", "1")])
    assert runs[0] == runs[1]


BAD_INPUT = [
    (["depth=abc"], "The value for `depth` must be an integer, but 'abc'"),
    (["dept=3"], "Unknown key `dept` (value '3'); allowed keys are"),
    (["init=xavir"], "The value for `init` must be one of ["),
    (["depth=0"], "The value for `depth` must be an integer >= 1, but 0"),
    (["clip.threshold=-1"], "The value for `clip.threshold` must be > 0, but -1.0"),
    (["optimizer.lr=-1"], "The value for `optimizer.lr` must be > 0, but -1.0"),
    (["-m", "depth="], "The value for `depth` must be an integer, but ''"),
    (
        ["-m", "optimizer.lr=a,b"],
        "The value for `optimizer.lr` must be a number, but 'a'",
    ),
    (["-m", "depth=2,0"], "The value for `depth` must be an integer >= 1, but 0"),
    (["-m", "seed=0,-1"], "The value for `seed` must be an integer >= 0, but -1"),
    (["depth=2,3"], "must be a single value without --multirun (-m), but '2,3'"),
    (["depth=1", "model.activation=tanh"], "`model.activation` must be left unset"),
    (["optimizer=adamw"], "The value for `optimizer` must be one of ["),
    (["clip=norm", "clip.threshold=0"], "The value for `clip.threshold` must be > 0"),
    (
        ["model.width=1.5"],
        "The value for `model.width` must be an integer >= 1, but 1.5",
    ),
    (
        ["init.bias_like_weights=maybe"],
        "`init.bias_like_weights` must be true or false",
    ),
    (["task.batch_size=0"], "The value for `task.batch_size` must be an integer >= 1"),
    (["-m", "resume=true", "depth=2,3"], "`hydra.sweep.dir` must name the sweep to"),
    (["hydra.run.dir={file}"], "`hydra.run.dir` must be a folder sweeper can create"),
    (["-m", "depth=2,3", "hydra.sweep.dir={file}/x"], "is a file"),
    (["--config-dir", "{bad_yaml}", "init=mine"], "Cannot read the config in --config"),
]


@pytest.mark.parametrize("args, message", BAD_INPUT)
def test_bad_input_stops_before_training_with_one_line(tmp_path, args, message):
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "conf" / "init").mkdir(parents=True)
    (tmp_path / "conf" / "init" / "mine.yaml").write_text("name: xavier\ngain: [1.0\n")
    places = {"file": tmp_path / "a_file", "bad_yaml": tmp_path / "conf"}
    args = [arg.format(**places) for arg in args]
    result = subprocess.run(
        [sys.executable, "-m", "sweeper", *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2
    assert len(lines) == 1 and lines[0].startswith("sweeper: error: "), lines
    assert message in lines[0]
    assert not (tmp_path / "outputs").exists()  # nothing started


def _children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def _workers(pid: int) -> list:
    """PIDs of a process's workers: spawned, or forked by its fork server (not the
    server itself, nor the resource tracker)."""
    found = []
    for child in _children(pid):
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"spawn_main" in cmdline:
            found.append(child)
        elif b"multiprocessing.forkserver" in cmdline:
            found += _children(child)
    return found


def test_a_killed_worker_fails_only_its_own_group(tmp_path):
    grid = ["depth=2,3,4", "seed=0,1", "steps=200", "log_every=50"]  # 3 groups of 2
    process = subprocess.Popen(
        [sys.executable, "-m", "sweeper", "-m", *grid, f"hydra.sweep.dir={tmp_path}"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not (workers := _workers(process.pid)):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(workers[0], signal.SIGKILL)  # still loading TensorFlow or training
    assert process.wait(timeout=300) == 1  # the sweep finished, with failed runs
    summary = pd.read_csv(tmp_path / "summary.csv")
    failed = summary[summary["status"] == "failed"]
    assert list(failed["seed"]) == [0, 1] and failed["depth"].nunique() == 1
    assert (summary.loc[summary["status"] != "failed", "status"] == "ok").all()
    assert (
        "worker process died"
        in (tmp_path / str(failed["job"].iloc[0]) / "run.json").read_text()
    )

    sweep(tmp_path, *grid, "resume=true")  # resume re-runs only the lost group
    assert (pd.read_csv(tmp_path / "summary.csv")["status"] == "ok").all()
