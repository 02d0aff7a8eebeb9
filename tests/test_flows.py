"""flows on a synthetic sweep: one line per layer, titles that name what varies."""

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from conftest import SYNTHETIC_LOG_EVERY, SYNTHETIC_STEPS
from sweeper.report import flows

matplotlib.use("Agg")  # no display on the test machine; ax=None uses pyplot


def _axes() -> Axes:
    return Figure().add_subplot()


def test_gradient_flow_one_line_per_layer(synthetic_data):
    _, metrics = synthetic_data
    one = metrics[metrics["job"] == "1"]
    ax = flows.gradient_flow(one, ax=_axes())
    assert len(ax.lines) == 3
    assert ax.get_yscale() == "log"
    logged = [*range(0, SYNTHETIC_STEPS, SYNTHETIC_LOG_EVERY), SYNTHETIC_STEPS]
    assert list(ax.lines[0].get_xdata()) == logged
    layer0 = one[one["layer"] == 0].sort_values("step")["grad_norm"]
    np.testing.assert_allclose(ax.lines[0].get_ydata(), layer0)


def test_gradient_flow_grid_titles_name_what_varies_among_all_runs(synthetic_data):
    runs, metrics = synthetic_data
    # the two drawn share init=normal; the title still names it, as init varies
    shown = runs.sort_values(["init", "depth"])["job"].iloc[:2].tolist()[::-1]
    fig = flows.gradient_flow_grid(metrics, runs, Figure(), shown)
    axes = fig.get_axes()
    assert len(axes) == 2
    for ax, job in zip(axes, shown):  # in the order asked for
        run = runs.set_index("job").loc[job]
        assert f"init={run['init']}" in ax.get_title()
        assert f"depth={run['depth']}" in ax.get_title()
        assert ax.get_title().endswith(f": {run['verdict']}")
        assert len(ax.get_lines()) == int(run["depth"])  # one line per layer


def test_gradient_flow_grid_names_each_layer_once_for_every_panel(synthetic_data):
    runs, metrics = synthetic_data
    shown = runs["job"].tolist()
    fig = flows.gradient_flow_grid(metrics, runs, Figure(), shown)
    assert [ax.get_legend() for ax in fig.get_axes()] == [None] * len(shown)
    (legend,) = fig.legends
    layers = int(metrics[metrics["job"].isin(shown)]["layer"].max()) + 1
    names = [text.get_text() for text in legend.get_texts()]
    assert names == ["0 (first)", *map(str, range(1, layers)), "output layer (dashed)"]
    colours = [handle.get_color() for handle in legend.legend_handles[:layers]]
    for ax in fig.get_axes():
        lines = ax.get_lines()  # layer k has the legend's colour k; the output dashed
        assert [line.get_color() for line in lines] == colours[: len(lines)]
        assert [line.get_linestyle() for line in lines] == ["-"] * (len(lines) - 1) + [
            "--"
        ]


def test_gradient_flow_grid_labels_shared_steps_under_each_column_only(synthetic_data):
    runs, metrics = synthetic_data
    jobs = runs["job"].tolist()
    shown = jobs + jobs[:2]  # two rows: four panels, then two (repeats are drawn)
    fig = flows.gradient_flow_grid(metrics, runs, Figure(), shown)
    labelled = [ax.get_xlabel() == "training step" for ax in fig.get_axes()]
    assert labelled == [False, False, True, True, True, True]


def test_gradient_flow_grid_ticks_are_the_locators_own_within_the_view(synthetic_data):
    """Each panel keeps exactly the ticks its locators (MaxNLocator(2) on steps,
    LogLocator(numticks=5) on a log y) place inside the panel's view, and the lines
    carry each run's metrics in step order."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.ticker import LogLocator, MaxNLocator

    runs, metrics = synthetic_data
    shown = runs["job"].tolist()
    fig = flows.gradient_flow_grid(metrics, runs, Figure(), shown)
    FigureCanvasAgg(fig).draw()
    for ax, job in zip(fig.get_axes(), shown):
        for axis, locator in (
            (ax.xaxis, MaxNLocator(2)),
            (ax.yaxis, LogLocator(numticks=5)),
        ):
            low, high = sorted(axis.get_view_interval())
            wanted = [t for t in locator.tick_values(low, high) if low <= t <= high]
            np.testing.assert_allclose(axis.get_majorticklocs(), wanted)
        one = metrics[metrics["job"] == job].sort_values(["layer", "step"])
        for line, (_, rows) in zip(ax.get_lines(), one.groupby("layer")):
            np.testing.assert_array_equal(line.get_xdata(), rows["step"])
            np.testing.assert_array_equal(line.get_ydata(), rows["grad_norm"])
