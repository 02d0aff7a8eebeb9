"""analysis on synthetic sweeps: one row per run, swept keys, metrics, summary.csv."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from conftest import SYNTHETIC_LOG_EVERY, SYNTHETIC_STEPS
from sweeper.record.verdict import FLAGS, VERDICTS
from sweeper.report.factors import depth_factors
from sweeper.report import analysis, summary
from synthetic import write_sweep


def test_load_runs_one_row_per_run(synthetic_sweep, synthetic_truth):
    runs, incomplete = analysis.load_runs(synthetic_sweep)
    assert incomplete == {}
    assert list(runs["job"]) == ["0", "1", "2", "3"]
    assert list(runs["init"]) == ["normal", "normal", "xavier", "xavier"]
    assert list(runs["depth"]) == [2, 3, 2, 3]  # numeric: every value is a number
    assert set(runs["verdict"]) <= set(VERDICTS)
    assert list(runs["verdict"]) == list(synthetic_truth["verdict"])
    assert all(runs[flag].dtype == bool for flag in FLAGS)
    for job in runs["job"]:
        record = json.loads((synthetic_sweep / job / "run.json").read_text())
        row = runs[runs["job"] == job].iloc[0]
        assert row["verdict"] == record["verdict"]
        assert row["final_loss"] == pytest.approx(record["figures"]["final_loss"])
        assert [row[f] for f in FLAGS] == [record["flags"][f] for f in FLAGS]


def test_swept_keys(synthetic_sweep):
    runs, _ = analysis.load_runs(synthetic_sweep)
    assert analysis.swept_keys(runs) == ["init", "depth"]  # steps, log_every are fixed
    assert list(analysis.labels(runs))[1] == "init=normal depth=3"


def test_single_run_folder(synthetic_sweep):
    runs, incomplete = analysis.load_runs(synthetic_sweep / "1")
    assert list(runs["job"]) == ["."] and incomplete == {}
    assert analysis.swept_keys(runs) == ["init", "depth", "steps", "log_every"]


def test_incomplete_and_numeric_job_order(tmp_path):
    # 12 jobs, job 1 killed before its run.json: 10 and 11 sort after 9, not after 1.
    write_sweep(tmp_path, {"depth": [2, 3]}, seeds=range(6), incomplete=[1])
    runs, incomplete = analysis.load_runs(tmp_path)
    assert list(incomplete) == ["1"]
    assert list(runs["job"]) == ["0", *map(str, range(2, 12))]


def test_cli_text_kept_for_numbers(tmp_path):
    grid = {"init": ["normal", "xavier"], "depth": [2, 3]}
    write_sweep(tmp_path, grid | {"optimizer.lr": ["1e-3", "1e-2"]})  # CLI text
    runs, _ = analysis.load_runs(tmp_path)
    assert runs["optimizer.lr"].tolist() == [0.001, 0.01] * 4
    assert analysis.labels(runs).iloc[0] == "init=normal depth=2 optimizer.lr=1e-3"
    table = pd.read_csv(summary.write_summary(tmp_path), dtype=str)
    assert table["optimizer.lr"].tolist() == ["1e-3", "1e-2"] * 4


def test_load_metrics(synthetic_sweep):
    runs, _ = analysis.load_runs(synthetic_sweep)
    metrics = analysis.load_metrics(synthetic_sweep, runs)
    assert metrics.columns[0] == "job"
    steps = [*range(0, SYNTHETIC_STEPS, SYNTHETIC_LOG_EVERY), SYNTHETIC_STEPS]
    for job, depth in zip(runs["job"], runs["depth"]):
        table = metrics[metrics["job"] == job]
        assert len(table) == len(steps) * depth  # one row per (logged step, layer)
        assert sorted(table["step"].unique()) == steps


def test_depth_factor_matches_run_files(synthetic_sweep):
    runs, _ = analysis.load_runs(synthetic_sweep)
    factors = depth_factors(runs)
    assert list(factors["others"]) == ["init=normal", "init=xavier"]
    for others, (shallow, deep) in (("init=normal", "01"), ("init=xavier", "23")):
        row = factors[factors["others"] == others].iloc[0]
        std = {
            d: json.loads((synthetic_sweep / j / "run.json").read_text())["figures"][
                "first_grad_std_init"
            ]
            for d, j in ((2, shallow), (3, deep))
        }
        assert (row["low"], row["high"]) == (2, 3)
        assert (row["value_low"], row["value_high"]) == pytest.approx((std[2], std[3]))
        assert row["factor"] == pytest.approx(std[2] / std[3])


def test_write_summary(synthetic_sweep, synthetic_truth, tmp_path):
    folder = shutil.copytree(synthetic_sweep, tmp_path / "sweep")
    path = summary.write_summary(folder)
    assert path == folder / "summary.csv"
    table = pd.read_csv(path)
    assert len(table) == 4
    head = ["init", "depth", "job", "status", "verdict", "outcome"]
    assert list(table.columns[:6]) == head
    assert list(table.columns[6 : 6 + len(FLAGS)]) == list(FLAGS)
    assert table.columns[6 + len(FLAGS)] == "final_loss"
    assert set(table["verdict"]) <= set(VERDICTS)
    assert table["verdict"].tolist() == synthetic_truth["verdict"].tolist()
    assert table["init"].tolist() == ["normal", "normal", "xavier", "xavier"]
    assert not list(folder.glob(".summary.csv.*"))  # no temporary file left behind
    assert np.isfinite(table["first_grad_std_init"]).all()
    written = synthetic_truth["first_grad_std_init"]
    np.testing.assert_allclose(table["first_grad_std_init"], written, rtol=1e-8)
    # every resolved setting, swept or not, as config/<key>; then when and how long
    config = json.loads((folder / "0" / "run.json").read_text())["config"]
    assert table["config/optimizer.name"].tolist() == [config["optimizer"]["name"]] * 4
    assert table["config/model.width"].tolist() == [config["model"]["width"]] * 4
    assert table["config/depth"].tolist() == [2, 3, 2, 3]
    assert table["config/init.name"].tolist() == table["init"].tolist()
    rest = list(table.columns[table.columns.get_loc("error") + 1 :])
    theory = [
        "theory_q_star",
        "theory_chi1",
        "theory_slope",
        "theory_phase",
        "theory_why",
    ]
    assert rest[:7] == [*theory, "started_at", "seconds"]
    assert all(c.startswith("config/") for c in rest[7:]) and len(rest) > 20
    assert (table["seconds"] > 0).all()
    assert table["started_at"].str.endswith("+00:00").all()


def test_setting_named_like_a_result_column(tmp_path):
    """`verdict=default` (a config group) must not shadow the verdict column."""
    grid = {"init": ["normal", "xavier"], "depth": [2, 3], "verdict": ["default"]}
    write_sweep(tmp_path, grid, verdicts=["vanishing", "healthy"] * 2)
    runs, _ = analysis.load_runs(tmp_path)
    assert set(runs["verdict"]) <= set(VERDICTS)
    assert runs["verdict"].tolist() == ["vanishing", "healthy"] * 2
    assert set(runs["verdict (setting)"]) == {"default"}


def test_the_keys_that_steer_a_sweep_are_not_run_settings(synthetic_data):
    runs, _ = synthetic_data
    for key in ("resume", "resume_failed", "objective"):
        assert f"config/{key}" not in runs.columns
    assert "config/seed" in runs.columns
