"""plots on a real sweep: tick labels, annotations, scales, one line per layer."""

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from conftest import ORIGIN_LOG_EVERY, ORIGIN_STEPS
from sweeper import analysis, plots

matplotlib.use("Agg")  # no display on the test machine; ax=None uses pyplot


@pytest.fixture(scope="module")
def data(origin_sweep):
    runs, _ = analysis.load_runs(origin_sweep)
    return runs, analysis.load_metrics(origin_sweep, runs)


def _axes() -> Axes:
    return Figure().add_subplot()


def _ticks(labels) -> list[str]:
    return [label.get_text() for label in labels]


def test_heatmap_labels_and_annotations(data):
    runs, _ = data
    ax = plots.heatmap(runs, "first_grad_std_start", x="depth", y="init", ax=_axes())
    assert isinstance(ax, Axes)
    assert _ticks(ax.get_xticklabels()) == ["2", "3"]
    assert _ticks(ax.get_yticklabels()) == ["normal", "xavier"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("depth", "init")
    texts = {t.get_text() for t in ax.texts}
    for _, run in runs.iterrows():
        assert f"{run['verdict']}\n{plots.sci(run['first_grad_std_start'])}" in texts
    # Values span > 2 decades (1e-6 to 0.4): log colours, and the colour bar says so.
    assert "log10" in ax.collections[0].colorbar.ax.get_ylabel()


def test_heatmap_marks_cells_that_are_not_healthy(data):
    runs, _ = data
    ax = plots.heatmap(runs, "final_loss", x="depth", y="init", ax=_axes())
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    unhealthy = (runs["verdict"] != "healthy").sum()
    assert unhealthy >= 1 and len(hatched) == unhealthy
    # normal is the first row (y = 0..1): its cells are the hatched ones here.
    bad_rows = {int(p.get_y()) for p in hatched}
    assert bad_rows == {0}


def test_heatmap_medians_over_the_other_keys(data):
    runs, _ = data
    ax = plots.heatmap(runs, "final_loss", x="init", y=None, ax=_axes())
    assert _ticks(ax.get_xticklabels()) == ["normal", "xavier"]
    normal = runs[runs["init"] == "normal"]["final_loss"].median()
    assert any(plots.sci(normal) in t.get_text() for t in ax.texts)


def test_heatmap_linear_scale_for_a_narrow_range(data):
    runs, _ = data
    ax = plots.heatmap(runs, "baseline_loss", x="depth", y="init", ax=_axes())
    assert "log10" not in ax.collections[0].colorbar.ax.get_ylabel()


def test_heatmap_default_axes(data):
    runs, _ = data
    ax = plots.heatmap(runs, "final_loss", x="depth", y="init")
    assert isinstance(ax, Axes)
    matplotlib.pyplot.close(ax.figure)


def test_heatmap_grid_one_panel_per_facet(data):
    runs, _ = data
    fig = plots.heatmap_grid(runs, "final_loss", ["init", "steps", "depth"], Figure())
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["depth=2", "depth=3"]


def test_layer_profile(data, origin_sweep):
    runs, metrics = data
    ax = plots.layer_profile(metrics, runs, ax=_axes())
    assert _ticks(ax.get_yticklabels()) == list(analysis.labels(runs))
    assert _ticks(ax.get_xticklabels()) == ["0", "1", "2"]
    cells = ax.collections[0].get_array().reshape(len(runs), 3)
    assert np.ma.is_masked(cells[0, 2])  # depth 2 has no layer 2
    # By hand: init=normal depth=3, layer 0, median of the steps in the first 10%.
    table = pd.read_csv(origin_sweep / "1" / "metrics.csv")
    first_tenth = ORIGIN_STEPS // 10
    early = table[(table["layer"] == 0) & (table["step"] <= first_tenth)]
    early = early["bias_grad_norm"]
    assert cells[1, 0] == pytest.approx(early.median())
    assert plots.sci(early.median()) in {t.get_text() for t in ax.texts}


def test_gradient_flow_one_line_per_layer(data):
    _, metrics = data
    one = metrics[metrics["job"] == "1"]
    ax = plots.gradient_flow(one, ax=_axes())
    assert len(ax.lines) == 3
    assert ax.get_yscale() == "log"
    logged = [*range(0, ORIGIN_STEPS, ORIGIN_LOG_EVERY), ORIGIN_STEPS]
    assert list(ax.lines[0].get_xdata()) == logged
    layer0 = one[one["layer"] == 0].sort_values("step")["grad_norm"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), layer0)


def test_gradient_flow_grid_titles_name_what_varies_among_all_runs(data):
    runs, metrics = data
    # the two drawn share init=normal; the title still names it, as init varies
    shown = runs.sort_values(["init", "depth"])["job"].iloc[:2].tolist()[::-1]
    fig = plots.gradient_flow_grid(metrics, runs, Figure(), shown)
    axes = fig.get_axes()
    assert len(axes) == 2
    for ax, job in zip(axes, shown):  # in the order asked for
        run = runs.set_index("job").loc[job]
        assert f"init={run['init']}" in ax.get_title()
        assert f"depth={run['depth']}" in ax.get_title()
        assert ax.get_title().endswith(f": {run['verdict']}")
        assert len(ax.get_lines()) == int(run["depth"])  # one line per layer
