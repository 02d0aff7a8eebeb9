"""A report's figures as PNG files: rendered on up to two forked processes, from the
moment a `Drawing` is made, while its maker goes on (the report's text, or Hydra's
bookkeeping of the jobs, sweeper/cli/callbacks.py).
"""

import io
import math
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, NullLocator
from PIL import Image

from sweeper.record import files
from sweeper.sweep.pool import die_with_parent

DPI = 110
MINOR_SPAN = 1e3  # a log axis over more than 3 decades has no minor ticks


def save(fig: Figure, path: Path) -> None:
    """Render at DPI and write an RGB PNG: the figures are opaque, so the alpha
    channel `savefig` writes is a quarter of the bytes for nothing, and zlib's level 3
    compresses them faster than its default, to about the same size (NOTES.md)."""
    canvas = FigureCanvasAgg(fig)  # explicit Agg: no display needed, no pyplot state
    _no_minor_ticks_over_decades(fig)
    _plain_powers_of_ten(fig)
    fig.set_dpi(DPI)
    canvas.draw()
    rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    png = io.BytesIO()
    rgba.convert("RGB").save(png, format="png", compress_level=3, dpi=(DPI, DPI))
    files.write_bytes(png.getvalue(), path)  # never through a link at `path`


def _log_axes(fig: Figure):
    """Every log-scaled axis of the figure, colour bars included."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "log":
                yield axis


def _no_minor_ticks_over_decades(fig: Figure) -> None:
    """Minor ticks off on a log axis that spans several decades (colour bars too):
    ~8 a decade, unlabelled, they only crowd the axis, and placing them was ~40% of
    drawing a figure. An axis of less keeps them, where they carry its labels."""
    for axis in _log_axes(fig):
        low, high = sorted(axis.get_view_interval())
        if low > 0 and high / low > MINOR_SPAN:
            axis.set_minor_locator(NullLocator())


def _plain_powers_of_ten(fig: Figure) -> None:
    """A log axis' decade labels as plain text (10⁻³) where matplotlib writes them as
    mathtext ($10^{-3}$), which looks the same: its parse and layout were a fifth of
    the report's drawing time, on 48 log panels and every log colour bar."""
    for axis in _log_axes(fig):
        if type(axis.get_major_formatter()) is LogFormatterSciNotation:
            axis.set_major_formatter(FuncFormatter(power_of_ten))


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def power_of_ten(x: float, _position=None) -> str:
    """10ᵏ for a decade, as plain text; any other value as %g."""
    if not (x > 0 and math.isfinite(x)):
        return ""
    k = round(math.log10(x))
    if not math.isclose(x, 10.0**k, rel_tol=1e-9):
        return f"{x:g}"
    return "10" + str(k).translate(_SUPERSCRIPT)


# The drawings of the Drawing being rendered, by index: a forked process finds them
# here, without pickling.
_PENDING: list = []


class Drawing:
    """(path, draw, cost) drawings, each `draw()` a Figure saved to its path, rendered
    on up to two forked processes from now on; `wait` returns once all are written.

    Rendering is most of a report's time, and by the time it starts the training
    processes are gone, so the cores are free. The costliest figures start first, and
    each process takes the next as it is free: the two end close together.
    """

    def __init__(self, drawings: list):
        global _PENDING
        self._drawings, self._pool, self._futures = drawings, None, []
        workers = min(2, len(drawings), os.cpu_count() or 1)
        # A forked child of a process that loaded TensorFlow (tensorboard=true writes
        # events from this process) can hang on a lock a TF thread held: `wait`
        # draws them in turn, here.
        if workers < 2 or "tensorflow" in sys.modules or _PENDING:
            return
        _PENDING = drawings
        order = sorted(range(len(drawings)), key=lambda i: -drawings[i][2])
        ending = (die_with_parent, (os.getpid(),))  # no drawing outlives this process
        try:
            self._pool = ProcessPoolExecutor(workers, get_context("fork"), *ending)
            self._futures = [self._pool.submit(_draw_pending, i) for i in order]
        except BaseException:
            self.close()
            raise

    def wait(self) -> None:
        """Every figure written; a drawing's error is raised here."""
        try:
            if self._pool is None:
                for path, draw, _ in self._drawings:
                    save(draw(), path)
            for future in self._futures:
                future.result()
        finally:
            self.close()

    def close(self) -> None:
        """Stop drawing (those begun end first) and free the processes."""
        global _PENDING
        if self._pool is not None:
            for future in self._futures:
                future.cancel()
            self._pool.shutdown()
            self._pool = None
            _PENDING = []


def _draw_pending(index: int) -> None:
    path, draw, _ = _PENDING[index]
    save(draw(), path)
