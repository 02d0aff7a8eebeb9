"""The Python API for results (sweeper.results) on seeded synthetic sweeps."""

import pandas as pd
import pytest

from sweeper import results
from sweeper.report import summary
from synthetic import write_sweep


@pytest.fixture
def two_sweeps(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_sweep(a, {"init": ["normal", "xavier"], "depth": [2, 3]}, steps=100)
    write_sweep(b, {"optimizer": ["sgd", "adam"]}, verdicts=["healthy", "failed"])
    return a, b


def test_one_folder_is_its_summary_with_a_sweep_column(two_sweeps):
    a, _ = two_sweeps
    res = results.load(a)
    written = pd.read_csv(summary.write_summary(a), dtype={"job": str})
    assert list(res.runs.columns) == ["sweep", *written.columns]
    assert (res.runs["sweep"] == str(a)).all()
    pd.testing.assert_frame_equal(res.runs.drop(columns="sweep"), written)
    metrics = res.metrics()
    assert list(metrics.columns[:2]) == ["sweep", "job"]
    per_job = [len(pd.read_csv(a / job / "metrics.csv")) for job in "0123"]
    assert len(metrics) == sum(per_job)


def test_two_sweeps_concatenate_on_the_resolved_settings(two_sweeps):
    a, b = two_sweeps
    runs = results.load(a, b).runs
    assert runs["sweep"].tolist() == [str(a)] * 4 + [str(b)] * 2
    # each folder's swept keys; the other folder's value is in config/<key>
    assert runs["init"].tolist()[:4] == ["normal", "normal", "xavier", "xavier"]
    assert runs["init"].isna().tolist()[4:] == [True, True]
    assert runs["optimizer"].tolist()[4:] == ["sgd", "adam"]
    assert runs["config/optimizer.name"].tolist() == ["sgd"] * 5 + ["adam"]
    assert runs["verdict"].tolist()[4:] == ["healthy", "failed"]
    metrics = results.load(a, b).metrics()
    assert set(metrics["sweep"]) == {str(a), str(b)}
    assert set(metrics.loc[metrics["sweep"] == str(b), "job"]) == {"0"}  # 1 failed


def test_bad_folders_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match="at least one folder"):
        results.load()
    with pytest.raises(FileNotFoundError, match="no such folder"):
        results.load(tmp_path / "missing")
