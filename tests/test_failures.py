"""Failures as data: the failure heatmaps' counts, the table of failed and diverged
runs, and where a real divergence first went non-finite."""

import pandas as pd
import pytest

from conftest import sweep
from synthetic import ERROR, write_sweep
from sweeper.report import analysis, build, failures, figures

GRID = {"init": ["normal", "xavier"], "depth": [2, 3, 4]}
# per setting, three seeds each, in job order (init slowest)
PER_SEED = [
    ["vanishing", "vanishing", "failed"],  # normal/2
    ["vanishing", "diverged", "diverged"],  # normal/3
    ["vanishing"] * 3,  # normal/4
    ["healthy", "failed", "healthy"],  # xavier/2
    ["healthy"] * 3,  # xavier/3
    ["exploding", "healthy", "healthy"],  # xavier/4
]


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    folder = tmp_path_factory.mktemp("injected")
    verdicts = [v for seeds in PER_SEED for v in seeds]
    truth = write_sweep(folder, GRID, seeds=[0, 1, 2], verdicts=verdicts, steps=200)
    return folder, truth


def _annotations(fig) -> dict:
    """Each panel's title -> its cells' "count/runs" texts, row by row."""
    panels = [ax for ax in fig.axes if ax.get_title() in failures.KINDS]
    return {ax.get_title(): [t.get_text() for t in ax.texts] for ax in panels}


def test_the_failure_heatmaps_count_each_kind_per_cell(injected):
    folder, _ = injected
    runs, _ = analysis.load_runs(folder)
    metrics = analysis.load_metrics(folder, runs)
    drawn = {name: draw for name, _, draw, _ in figures.drawings(runs, metrics)}
    fig = drawn["failures.png"]()
    # init moves the healthy share most (0/9 vs 7/9): it spans the rows, depth the
    # columns; by hand from PER_SEED, row normal then xavier, depths 2, 3, 4
    assert list(failures.importance(runs, ["init", "depth"]).index) == ["init", "depth"]
    assert _annotations(fig) == {
        "failed": ["1/3", "0/3", "0/3", "1/3", "0/3", "0/3"],
        "diverged": ["0/3", "2/3", "0/3", "0/3", "0/3", "0/3"],
        "vanishing": ["2/3", "1/3", "3/3", "0/3", "0/3", "0/3"],
        "exploding": ["0/3", "0/3", "0/3", "0/3", "0/3", "1/3"],
    }


@pytest.mark.slow  # a whole report of 18 runs
def test_the_report_lists_every_failed_and_diverged_run(injected):
    folder, truth = injected
    build.build(folder)
    table = (folder / "report.md").read_text().split("## Failed and diverged runs")[1]
    table = table.split("\n## ")[0]
    for job in truth.loc[truth["status"] == "failed", "job"]:
        row = f"| {job} | "
        assert row in table and ERROR.format(job=job) in table
    for run in truth[truth["status"] == "diverged"].itertuples():
        assert f"| {run.job} | " in table
        assert f"non-finite at step {int(run.diverged_at)}" in table
    assert (folder / "failures.png").is_file()


@pytest.mark.slow
def test_a_real_divergence_says_where_it_first_went_non_finite(tmp_path):
    sweep(tmp_path, "init=xavier", "optimizer.lr=1e-3,1e6", "clip=none", "steps=50")
    summary = pd.read_csv(tmp_path / "summary.csv")
    calm, wild = summary.iloc[0], summary.iloc[1]
    assert calm["status"] == "ok" and pd.isna(calm["diverged_in"])
    assert wild["status"] == "diverged" and wild["diverged_at"] >= 0
    # the first update of lr 1e6 overflows the weights while loss and gradients are
    # finite, or the next step's forward pass does
    assert wild["diverged_in"].startswith(
        ("the update of layer", "the forward", "the loss")
    )
    assert wild["diverged_in"] in (tmp_path / "report.md").read_text()
