"""analysis on a real sweep: one row per run, swept keys, metrics, summary.csv."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import ORIGIN_LOG_EVERY, ORIGIN_STEPS
from sweeper import analysis
from sweeper.verdict import FLAGS, VERDICTS


@pytest.fixture
def sweep_copy(origin_sweep, tmp_path):
    """A private copy of the origin sweep, free to edit."""
    return shutil.copytree(origin_sweep, tmp_path / "sweep")


def test_load_runs_one_row_per_run(origin_sweep):
    runs, incomplete = analysis.load_runs(origin_sweep)
    assert incomplete == []
    assert list(runs["job"]) == ["0", "1", "2", "3"]
    assert list(runs["init"]) == ["normal", "normal", "xavier", "xavier"]
    assert list(runs["depth"]) == [2, 3, 2, 3]  # numeric: every value is a number
    assert set(runs["verdict"]) <= set(VERDICTS)
    assert all(runs[flag].dtype == bool for flag in FLAGS)
    for job in runs["job"]:
        record = json.loads((origin_sweep / job / "run.json").read_text())
        row = runs[runs["job"] == job].iloc[0]
        assert row["verdict"] == record["verdict"]
        assert row["final_loss"] == pytest.approx(record["figures"]["final_loss"])
        assert [row[f] for f in FLAGS] == [record["flags"][f] for f in FLAGS]


def test_origin_verdicts(origin_sweep):
    """The question's case: Normal(0, 1e-3) at depth 3 vanishes, Xavier learns."""
    runs, _ = analysis.load_runs(origin_sweep)
    verdict = dict(zip(runs["init"] + runs["depth"].astype(str), runs["verdict"]))
    assert verdict["normal3"] == "vanishing"
    assert verdict["xavier2"] == verdict["xavier3"] == "healthy"


def test_swept_keys(origin_sweep):
    runs, _ = analysis.load_runs(origin_sweep)
    assert analysis.swept_keys(runs) == ["init", "depth"]  # steps, log_every are fixed
    assert list(analysis.labels(runs))[1] == "init=normal depth=3"


def test_single_run_folder(origin_sweep):
    runs, incomplete = analysis.load_runs(origin_sweep / "1")
    assert list(runs["job"]) == ["."] and incomplete == []
    assert analysis.swept_keys(runs) == ["init", "depth", "steps", "log_every"]


def test_incomplete_and_numeric_job_order(sweep_copy):
    (sweep_copy / "1" / "run.json").unlink()  # as if the job had been killed
    (sweep_copy / "3").rename(sweep_copy / "10")
    runs, incomplete = analysis.load_runs(sweep_copy)
    assert incomplete == ["1"]
    assert list(runs["job"]) == ["0", "2", "10"]


def test_cli_text_kept_for_numbers(sweep_copy):
    for job, lr in (("0", "1e-3"), ("1", "1e-2"), ("2", "1e-3"), ("3", "1e-2")):
        path = sweep_copy / job / "run.json"
        record = json.loads(path.read_text())
        record["settings"]["optimizer.lr"] = lr
        path.write_text(json.dumps(record))
    runs, _ = analysis.load_runs(sweep_copy)
    assert runs["optimizer.lr"].tolist() == [0.001, 0.01, 0.001, 0.01]
    assert analysis.labels(runs).iloc[0] == "init=normal depth=2 optimizer.lr=1e-3"
    summary = pd.read_csv(analysis.write_summary(sweep_copy), dtype=str)
    assert summary["optimizer.lr"].tolist() == ["1e-3", "1e-2", "1e-3", "1e-2"]


def test_load_metrics(origin_sweep):
    runs, _ = analysis.load_runs(origin_sweep)
    metrics = analysis.load_metrics(origin_sweep, runs)
    assert metrics.columns[0] == "job"
    steps = [*range(0, ORIGIN_STEPS, ORIGIN_LOG_EVERY), ORIGIN_STEPS]
    for job, depth in zip(runs["job"], runs["depth"]):
        table = metrics[metrics["job"] == job]
        assert len(table) == len(steps) * depth  # one row per (logged step, layer)
        assert sorted(table["step"].unique()) == steps


def test_depth_factor_matches_run_files(origin_sweep):
    runs, _ = analysis.load_runs(origin_sweep)
    factors = analysis.depth_factors(runs)
    row = factors[factors["others"] == "init=normal"].iloc[0]
    std = {
        d: json.loads((origin_sweep / j / "run.json").read_text())["figures"][
            "first_grad_std_start"
        ]
        for d, j in ((2, "0"), (3, "1"))
    }
    assert (row["low"], row["high"]) == (2, 3)
    assert row["factor"] == pytest.approx(std[2] / std[3])
    assert row["factor"] > 100  # the vanishing the question is about


def test_write_summary(origin_sweep, tmp_path):
    folder = shutil.copytree(origin_sweep, tmp_path / "sweep")
    path = analysis.write_summary(folder)
    assert path == folder / "summary.csv"
    summary = pd.read_csv(path)
    assert len(summary) == 4
    assert list(summary.columns[:5]) == ["init", "depth", "job", "status", "verdict"]
    assert list(summary.columns[5 : 5 + len(FLAGS)]) == list(FLAGS)
    assert summary.columns[5 + len(FLAGS)] == "final_loss"
    assert set(summary["verdict"]) <= set(VERDICTS)
    assert summary["init"].tolist() == ["normal", "normal", "xavier", "xavier"]
    assert not list(folder.glob(".summary.csv.*"))  # no temporary file left behind
    assert np.isfinite(summary["first_grad_std_start"]).all()


def test_setting_named_like_a_result_column(sweep_copy):
    """`verdict=default` (a config group) must not shadow the verdict column."""
    for job in "0123":
        path = sweep_copy / job / "run.json"
        record = json.loads(path.read_text())
        record["settings"]["verdict"] = "default"
        path.write_text(json.dumps(record))
    runs, _ = analysis.load_runs(sweep_copy)
    assert set(runs["verdict"]) <= set(VERDICTS)
    assert set(runs["verdict (setting)"]) == {"default"}
