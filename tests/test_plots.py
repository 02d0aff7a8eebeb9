"""plots on a synthetic sweep: tick labels, annotations, scales."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from conftest import SYNTHETIC_STEPS
from sweeper.report import analysis, plots
from sweeper.report.numbers import sci

matplotlib.use("Agg")  # no display on the test machine; ax=None uses pyplot


def _axes() -> Axes:
    return Figure().add_subplot()


def _ticks(labels) -> list[str]:
    return [label.get_text() for label in labels]


def test_heatmap_labels_and_annotations(synthetic_data):
    runs, _ = synthetic_data
    ax = plots.heatmap(runs, "first_grad_std_init", x="depth", y="init", ax=_axes())
    assert isinstance(ax, Axes)
    assert _ticks(ax.get_xticklabels()) == ["2", "3"]
    assert _ticks(ax.get_yticklabels()) == ["normal", "xavier"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("depth", "init")
    texts = {t.get_text() for t in ax.texts}
    for _, run in runs.iterrows():
        assert f"{run['verdict']}\n{sci(run['first_grad_std_init'])}" in texts
    # The vanishing run's value is > 2 decades below the healthy ones': log colours,
    # and the colour bar says so.
    values = runs["first_grad_std_init"]
    assert values.max() / values.min() > 100
    assert "log10" in ax.collections[0].colorbar.ax.get_ylabel()


def test_heatmap_marks_cells_that_are_not_healthy(synthetic_data):
    runs, _ = synthetic_data
    ax = plots.heatmap(runs, "final_loss", x="depth", y="init", ax=_axes())
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    unhealthy = (runs["verdict"] != "healthy").sum()
    assert unhealthy == 2 and len(hatched) == unhealthy  # SYNTHETIC_VERDICTS
    # normal is the first row (y = 0..1): its cells are the hatched ones here.
    bad_rows = {int(p.get_y()) for p in hatched}
    assert bad_rows == {0}


def test_heatmap_medians_over_the_other_keys(synthetic_data):
    runs, _ = synthetic_data
    ax = plots.heatmap(runs, "final_loss", x="init", y=None, ax=_axes())
    assert _ticks(ax.get_xticklabels()) == ["normal", "xavier"]
    normal = runs[runs["init"] == "normal"]["final_loss"].median()
    assert any(sci(normal) in t.get_text() for t in ax.texts)


def test_heatmap_linear_scale_for_a_narrow_range(synthetic_data):
    runs, _ = synthetic_data
    ax = plots.heatmap(runs, "baseline_loss", x="depth", y="init", ax=_axes())
    assert "log10" not in ax.collections[0].colorbar.ax.get_ylabel()


def test_heatmap_default_axes(synthetic_data):
    runs, _ = synthetic_data
    ax = plots.heatmap(runs, "final_loss", x="depth", y="init")
    assert isinstance(ax, Axes)
    matplotlib.pyplot.close(ax.figure)


def test_heatmap_grid_one_panel_per_facet(synthetic_data):
    runs, _ = synthetic_data
    fig = plots.heatmap_grid(runs, "final_loss", ["init", "steps", "depth"], Figure())
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["depth=2", "depth=3"]
    # the panels share one colour scale, so one colour bar (an Axes of its own)
    assert len(fig.axes) == 2 + 1
    assert fig.axes[-1].get_ylabel().startswith(plots.UNITS["final_loss"])


def test_early_median_of_jobs_logged_once_twice_and_often():
    """The first 10% of a job's logged steps, and at least two of them."""
    rows = []
    for job, steps in {
        "once": [0],
        "twice": [0, 50],
        "often": range(0, 1001, 10),
    }.items():
        for step in steps:
            for layer in (0, 1):
                rows.append((job, step, layer, float(step + layer)))
    metrics = pd.DataFrame(rows, columns=["job", "step", "layer", "v"])
    got = plots.early_median(metrics, "v")
    # by hand: once -> step 0; twice -> steps 0, 50; often -> steps 0..100
    assert got[("once", 0)] == 0 and got[("once", 1)] == 1
    assert got[("twice", 0)] == 25 and got[("twice", 1)] == 26
    assert got[("often", 0)] == 50 and got[("often", 1)] == 51


def test_layer_profile(synthetic_data, synthetic_sweep):
    runs, metrics = synthetic_data
    ax = plots.layer_profile(metrics, runs, ax=_axes())
    assert _ticks(ax.get_yticklabels()) == list(analysis.labels(runs))
    assert _ticks(ax.get_xticklabels()) == ["0", "1", "2"]
    cells = ax.collections[0].get_array().reshape(len(runs), 3)
    assert np.ma.is_masked(cells[0, 2])  # depth 2 has no layer 2
    # By hand: init=normal depth=3, layer 0, median of the steps in the first 10%.
    table = pd.read_csv(synthetic_sweep / "1" / "metrics.csv")
    first_tenth = SYNTHETIC_STEPS // 10
    early = table[(table["layer"] == 0) & (table["step"] <= first_tenth)]
    early = early["bias_grad_norm"]
    assert cells[1, 0] == pytest.approx(early.median())
    assert sci(early.median()) in {t.get_text() for t in ax.texts}


def test_log_axes_label_decades_as_plain_text(tmp_path):
    """build._save writes a log axis' decades as 10⁻³, not mathtext: the same look,
    without mathtext's parse (report/build.py); other labels are left alone."""
    from sweeper.report import build

    assert build.power_of_ten(1e-3) == "10⁻³"
    assert build.power_of_ten(1.0) == "10⁰"
    assert build.power_of_ten(1e12) == "10¹²"
    assert build.power_of_ten(2e-3) == "0.002"
    assert build.power_of_ten(0.0) == build.power_of_ten(float("nan")) == ""
    fig = Figure()
    log, linear = fig.subplots(1, 2)
    log.plot([1, 2, 3], [1e-6, 1e-3, 1.0])
    log.set_yscale("log")
    linear.plot([1, 2, 3], [0.5, 1.0, 2.0])
    build._save(fig, tmp_path / "f.png")
    shown = [t.get_text() for t in log.get_yticklabels() if t.get_visible()]
    assert "10⁻³" in shown and not any("$" in text for text in shown)
    assert not any("10" in t.get_text() for t in linear.get_yticklabels())
    assert (tmp_path / "f.png").stat().st_size > 0


@pytest.mark.parametrize(
    "xlabels, ylabels",
    [
        (["normal", "xavier"], ["2", "3", "4"]),  # level x, upright one-character y
        ([f"a_long_setting_value_{i}" for i in range(6)], ["a", "b"]),  # x overlap
        (["0", "1", "2"], [f"depth={i} init=he_normal" for i in range(30)]),  # y too
    ],
)
def test_cell_grid_labels_ticks_as_seaborn_does(xlabels, ylabels):
    """cell_grid.heatmap writes the tick labels seaborn's heatmap would: the same
    texts at the same places, turned the same way (seaborn measures each on a new
    renderer; cell_grid on one)."""
    import seaborn as sns

    from sweeper.report import cell_grid

    data = pd.DataFrame(
        np.arange(len(ylabels) * len(xlabels)).reshape(len(ylabels), -1)
    )

    def ticks(ax):
        return [
            [(t.get_text(), t.get_rotation(), t.get_va()) for t in labels]
            for labels in (ax.get_xticklabels(), ax.get_yticklabels())
        ] + [list(ax.get_xticks()), list(ax.get_yticks())]

    theirs = Figure(figsize=(4, 3)).add_subplot()
    sns.heatmap(data, ax=theirs, xticklabels=xlabels, yticklabels=ylabels)
    ours = Figure(figsize=(4, 3)).add_subplot()
    cell_grid.heatmap(data, ours, xlabels, ylabels)
    assert ticks(ours) == ticks(theirs)
    rotations = {t.get_rotation() for t in ours.get_xticklabels()}
    assert rotations == ({90.0} if len(xlabels) == 6 else {0.0})  # the cases differ
