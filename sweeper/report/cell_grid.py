"""seaborn's heatmap with its tick labels placed by one text measurement.

seaborn's heatmap turns a row of tick labels upright where they overlap, measuring
each label with `get_window_extent()` before the figure has a renderer: matplotlib
then makes a new full-size renderer for every label (NOTES.md has what that cost).
`heatmap` draws the cells with seaborn and writes the labels itself, as seaborn
would, measuring them all on one small renderer.
"""

import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import RendererAgg


def heatmap(data, ax: Axes, xticklabels: list, yticklabels: list, **options) -> Axes:
    """`sns.heatmap(data, ax=ax, **options)`, one tick label per column and row.

    As seaborn: x labels level unless they overlap (then upright), y labels upright
    unless they overlap (then level), centred on their cells.
    """
    sns.heatmap(data, ax=ax, xticklabels=False, yticklabels=False, **options)
    xs = _label(ax.xaxis, xticklabels)
    ys = _label(ax.yaxis, yticklabels)
    for label in ys:
        label.set(rotation="vertical", va="center")
    # Text extents depend on the dpi, not on the canvas' size: one pixel will do.
    renderer = RendererAgg(1, 1, ax.figure.dpi)
    if _overlap(xs, renderer):
        for label in xs:
            label.set_rotation("vertical")
    if _overlap(ys, renderer):
        for label in ys:
            label.set_rotation("horizontal")
    return ax


def _label(axis, labels: list) -> list:
    """Ticks at the cells' centres, labelled; their label Texts."""
    axis.set_ticks(np.arange(len(labels)) + 0.5, [str(label) for label in labels])
    return axis.get_ticklabels()


def _overlap(labels: list, renderer) -> bool:
    """seaborn.utils.axis_ticklabels_overlap, on a given renderer."""
    boxes = [label.get_window_extent(renderer) for label in labels]
    return any(box.count_overlaps(boxes) > 1 for box in boxes)
