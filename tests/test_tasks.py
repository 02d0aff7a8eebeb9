"""The tasks end to end: real sweeps on scikit-learn's digits, the user's own CSV, the
gaussian task's random targets; and bad data files stopped in one line."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import sweep

pytestmark = pytest.mark.slow  # real sweeps


def test_digits_xavier_and_he_learn_where_the_origin_init_stalls(tmp_path):
    grid = ["task=digits", "depth=3", "init=normal,xavier,he_normal"]
    sweep(tmp_path, *grid, "optimizer.lr=0.05", "steps=3000", "log_every=500")
    summary = pd.read_csv(tmp_path / "summary.csv")
    accuracy = {}
    for job, init in zip(summary["job"], summary["init"]):
        metrics = pd.read_csv(tmp_path / str(job) / "metrics.csv")
        accuracy[init] = metrics["probe_accuracy"].iloc[-1]
    assert accuracy["xavier"] >= 0.9 and accuracy["he_normal"] >= 0.9, accuracy
    assert accuracy["normal"] < 0.2, accuracy  # ten classes: chance is 0.1
    verdict = dict(zip(summary["init"], summary["verdict"]))
    assert verdict["normal"] in ("vanishing", "collapsed"), verdict
    report = (tmp_path / "report.md").read_text()
    assert "init=normal" in report.split("## What went wrong", 1)[1]


def _rows(n=120, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=n), rng.normal(size=n)
    label = np.where(a + 0.5 * b > 0, "up", "down")
    return pd.DataFrame({"a": a, "b": b, "label": label})


def test_a_csv_of_ones_own_trains_as_classification(tmp_path):
    data = tmp_path / "data.csv"
    _rows().to_csv(data, index=False)
    task = ["task=file", f"task.path={data}", "task.target=label"]
    grid = ["depth=2,3", "init=xavier", "optimizer=adam", "steps=400", "log_every=100"]
    sweep(tmp_path, *task, *grid)
    summary = pd.read_csv(tmp_path / "summary.csv")
    assert set(summary["status"]) == {"ok"}
    metrics = pd.read_csv(tmp_path / "0" / "metrics.csv")
    assert metrics["probe_accuracy"].iloc[-1] > 0.8  # a linear rule, learned


BAD_FILES = {
    "missing column": ("task.target=price", "has no column 'price'"),
    "text feature": ("task.target=label", "holds 'x' in feature column 'a'"),
    "NaN": ("task.target=label", "missing value"),
    "one class": ("task.target=label", "one class only"),
    "batch too big": ("task.batch_size=500", "fewer than `task.batch_size`=500"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_data_file_stops_in_one_line(tmp_path, case):
    rows = _rows()
    if case == "text feature":
        rows["a"] = rows["a"].astype(object)
        rows.loc[3, "a"] = "x"
    if case == "NaN":
        rows.loc[5, "b"] = np.nan
    if case == "one class":
        rows["label"] = "up"
    data = tmp_path / "data.csv"
    rows.to_csv(data, index=False)
    setting, words = BAD_FILES[case]
    target = [] if setting.startswith("task.target") else ["task.target=label"]
    result = subprocess.run(
        [sys.executable, "-m", "sweeper", "task=file", f"task.path={data}", setting]
        + target,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert str(data) in lines[0] and words in lines[0], lines[0]
    assert not (tmp_path / "outputs").exists()


def test_random_targets_are_reported_as_nothing_to_learn_with_theory(tmp_path):
    task = ["task=gaussian", "task.targets=random", "task.input_dim=128"]
    net = ["model.width=128", "depth=6", "init=scaled", "init.sigma_w2=1.5,3"]
    sweep(tmp_path, *task, *net, "seed=0,1", "steps=10", "log_every=0")
    report = (tmp_path / "report.md").read_text()
    assert "All of these runs train on random targets" in report
    assert "nothing to learn" in report
    # measured and predicted slopes side by side, one row per setting over 2 seeds
    section = report.split("## Theory beside measurement", 1)[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| init")]
    assert len(rows) == 2 and all("2 seeds" in r and "agree" in r for r in rows)
    assert "ordered" in rows[0] and "chaotic" in rows[1]
