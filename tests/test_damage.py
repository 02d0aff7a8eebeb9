"""Damaged run files: listed as damaged, never used, trained again by resume=true."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from conftest import sweep
from sweeper.record import validate
from synthetic import write_sweep


def _edit_json(change):
    def damage(job_dir):
        path = job_dir / "run.json"
        record = json.loads(path.read_text())
        change(record)
        path.write_text(json.dumps(record))

    return damage


def _edit_csv(change):
    def damage(job_dir):
        path = job_dir / "metrics.csv"
        path.write_text(change(path.read_text()))

    return damage


def _text_in_the_layer_column(text):
    header, first, rest = text.split("\n", 2)
    cells = first.split(",")
    cells[header.split(",").index("layer")] = "zero"
    return "\n".join([header, ",".join(cells), rest])


def _a_blank_step(text):
    header, first, rest = text.split("\n", 2)
    cells = first.split(",")
    cells[header.split(",").index("step")] = ""  # read as NaN: still a number column
    return "\n".join([header, ",".join(cells), rest])


def _run_json_is_a_folder(job_dir):
    (job_dir / "run.json").unlink()
    (job_dir / "run.json").mkdir()


# kind -> (damage done to a job folder, words of the reason the report gives)
DAMAGE = {
    "run.json truncated": (
        lambda d: (d / "run.json").write_text((d / "run.json").read_text()[:200]),
        "not JSON",
    ),
    "run.json empty": (lambda d: (d / "run.json").write_text(""), "not JSON"),
    "run.json not UTF-8": (
        lambda d: (d / "run.json").write_bytes(b"\xff\xfe\x00garbage"),
        "cannot be read",
    ),
    "run.json a list": (lambda d: (d / "run.json").write_text("[1, 2]"), "object"),
    "run.json a folder": (_run_json_is_a_folder, "cannot be read"),
    "settings not an object": (
        _edit_json(lambda r: r.update(settings="depth=2")),
        "'settings'",
    ),
    "figures hold text": (
        _edit_json(lambda r: r["figures"].update(final_loss="low")),
        "'figures'",
    ),
    "unknown status": (_edit_json(lambda r: r.update(status="great")), "'status'"),
    "no config": (_edit_json(lambda r: r.pop("config")), "no 'config'"),
    "metrics.csv deleted": (lambda d: (d / "metrics.csv").unlink(), "missing"),
    "metrics.csv truncated": (
        _edit_csv(lambda text: text[: len(text) // 2]),
        "rows",
    ),
    "metrics.csv column renamed": (
        _edit_csv(lambda text: text.replace("grad_norm,", "grad_nrm,", 1)),
        "lacks the column(s) grad_norm",
    ),
    "metrics.csv text in numbers": (
        _edit_csv(_text_in_the_layer_column),
        "text in the number column(s) layer",
    ),
    "metrics.csv a step blank": (_edit_csv(_a_blank_step), "rows"),
    "metrics.csv empty": (_edit_csv(lambda text: ""), "cannot be parsed"),
    "metrics.csv rows repeated": (
        _edit_csv(lambda text: text + text.split("\n", 1)[1]),
        "rows",
    ),
}


# Resume writes a new run.json over a damaged one, but never deletes a folder in the
# way: that job stays damaged (and listed), so the real sweep leaves the kind out.
REPLACEABLE = {k: v for k, v in DAMAGE.items() if k != "run.json a folder"}


def test_every_kind_of_damage_is_named(tmp_path):
    """Each kind, on a synthetic run: check_run calls it damaged, with its reason."""
    for index, (kind, (damage, words)) in enumerate(DAMAGE.items()):
        folder = tmp_path / str(index)
        write_sweep(folder, {"depth": [2]}, seeds=[0])
        job_dir = folder / "0"
        assert validate.check_run(job_dir).record is not None
        damage(job_dir)
        checked = validate.check_run(job_dir)
        assert checked.record is None and checked.damaged, kind
        assert words in checked.problem, (kind, checked.problem)


def test_an_unfinished_run_is_not_called_damaged(tmp_path):
    write_sweep(tmp_path, {"depth": [2]}, seeds=[0], incomplete=[0])
    checked = validate.check_run(tmp_path / "0")
    assert checked.record is None and not checked.damaged


@pytest.mark.slow  # a real sweep, damaged, reported, resumed
def test_damaged_runs_are_listed_never_used_and_retrained_by_resume(tmp_path):
    jobs = len(REPLACEABLE) + 1  # job 0 stays intact
    grid = [f"seed=range(0,{jobs})", "depth=2", "steps=40", "log_every=10"]
    sweep(tmp_path, *grid)
    before = {j: (tmp_path / str(j) / "metrics.csv").read_bytes() for j in range(jobs)}
    reasons = {}
    for job, (kind, (damage, words)) in enumerate(REPLACEABLE.items(), start=1):
        damage(tmp_path / str(job))
        reasons[str(job)] = words
    result = subprocess.run(
        [sys.executable, "-m", "sweeper.report", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    summary = pd.read_csv(tmp_path / "summary.csv", dtype={"job": str})
    assert list(summary["job"]) == ["0"]  # never used
    text = (tmp_path / "report.md").read_text()
    section = text.split("## Damaged runs", 1)[1].split("\n## ", 1)[0]
    for job, words in reasons.items():
        line = next(x for x in section.splitlines() if x.startswith(f"- job {job}:"))
        assert words in line.replace("\\", ""), (job, line)

    again = sweep(tmp_path, *grid, "resume=true")
    assert "damaged" not in again.stdout.replace(str(tmp_path), "")
    summary = pd.read_csv(tmp_path / "summary.csv", dtype={"job": str})
    assert len(summary) == jobs and set(summary["status"]) == {"ok"}
    for job in range(jobs):
        assert (tmp_path / str(job) / "metrics.csv").read_bytes() == before[job]
    assert "Damaged runs" not in (tmp_path / "report.md").read_text()
    assert not list(tmp_path.glob("**/.*.tmp"))


@pytest.mark.parametrize("files_kept", [3, 100])  # some evicted; none
def test_the_tables_kept_after_checks_stay_bounded_and_current(
    tmp_path, monkeypatch, files_kept
):
    """validate keeps the tables its checks read for the report's read after; never
    more than READ_ROWS rows, and a file read again replaces its table."""
    write_sweep(tmp_path, {"depth": [2, 3, 4, 6]}, seeds=[0, 1])
    dirs = sorted(d for d in tmp_path.iterdir() if (d / "metrics.csv").is_file())
    rows = max(len(pd.read_csv(d / "metrics.csv")) for d in dirs)
    monkeypatch.setattr(validate, "READ_ROWS", files_kept * rows)
    monkeypatch.setattr(validate, "_READ", {})
    monkeypatch.setattr(validate, "_read_rows", 0)
    for _ in range(2):  # the second pass reads and keeps the same files again
        validate._checked_table.cache_clear()
        for job_dir in dirs:
            assert validate.check_run(job_dir).record is not None
            kept = sum(len(table) for _, table in validate._READ.values())
            assert kept == validate._read_rows <= validate.READ_ROWS
    for job_dir in dirs:  # kept or read again, each is its own file's table
        path = job_dir / "metrics.csv"
        pd.testing.assert_frame_equal(validate.metrics_table(path), pd.read_csv(path))
    validate._checked_table.cache_clear()
