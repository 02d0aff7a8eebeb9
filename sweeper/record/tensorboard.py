"""TensorBoard event files of a run (`tensorboard=true`): what they hold, the writing.

The compiled step computes the histograms (sweeper.train.measure); this module only
writes them, in the format of TensorBoard's histogram plugin, next to the run's norms.
TensorFlow loads only when a run's events are written, so a sweep without
`tensorboard=true` never loads it in the process that writes files.
"""

import shutil
import tempfile
from pathlib import Path

import numpy as np

from sweeper.contract import HISTOGRAMS
from sweeper.record import files

FOLDER = "tensorboard"  # in the job dir; `tensorboard --logdir <sweep dir>` finds it
# Histograms per layer, tag `<name>/layer_<i>`, one per contract.HISTOGRAMS name.
# Scalars per layer, tag `<name>/layer_<i>`, and per run, tag `<name>`: columns of
# metrics.csv (see sweeper.contract for their meaning).
LAYER_SCALARS = ("grad_norm", "bias_grad_norm", "weight_norm", "update_ratio")
RUN_SCALARS = ("loss", "probe_loss")


def write_events(out_dir: Path, result, index: int) -> Path:
    """Write run `index` of a group's Measurements to `out_dir`/tensorboard.

    Every tag gets one value per logged step, with step = the logged step. An earlier
    event file of the job is replaced, never appended to. Returns the folder.
    """
    from sweeper.train._tf import tf

    out_dir = Path(out_dir)
    folder = out_dir / FOLDER
    tmp = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{FOLDER}.", suffix=".tmp"))
    try:
        tmp.chmod(0o777 & ~files.umask())  # mkdtemp's 0700, as mkdir would make it
        writer = tf.summary.create_file_writer(str(tmp))
        with writer.as_default():
            # One Summary proto per logged step, so one eager op each: tag by tag
            # with tf.summary.write is one eager op per tag and step.
            for k, step in enumerate(result.steps):
                summary = _summary(result, index, k).SerializeToString()
                tf.summary.experimental.write_raw_pb(summary, int(step))
        writer.close()
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _summary(result, index: int, k: int):
    """Every tag of run `index` at its k-th logged step, as TensorBoard's summary_v2
    writes it: histograms as [BINS, 3] float64 tensors, scalars as float32 ones
    (the engine's dtype)."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.histogram import metadata as histogram
    from tensorboard.plugins.scalar import metadata as scalar
    from tensorboard.util import tensor_util

    summary = summary_pb2.Summary()
    kinds = {
        name: histogram.create_summary_metadata(None, text)
        for name, text in HISTOGRAMS.items()
    }
    kinds["scalar"] = scalar.create_summary_metadata(None, None)

    def add(tag: str, value, kind: str) -> None:
        tensor = tensor_util.make_tensor_proto(value)
        summary.value.add(tag=tag, tensor=tensor, metadata=kinds[kind])

    for i in range(result.layer[LAYER_SCALARS[0]].shape[2]):
        for name in HISTOGRAMS:
            counts = result.histograms[f"{name}_counts"][k, index, i]
            low, high = result.histograms[f"{name}_range"][k, index, i]
            add(f"{name}/layer_{i}", buckets(counts, low, high), name)
        for name in LAYER_SCALARS:
            add(f"{name}/layer_{i}", result.layer[name][k, index, i], "scalar")
    for name in RUN_SCALARS:
        add(name, result.run[name][k, index], "scalar")
    return summary


def buckets(counts: np.ndarray, low: float, high: float) -> np.ndarray:
    """TensorBoard's histogram tensor: rows [left edge, right edge, count], float64.

    Bucket i spans the i-th of len(counts) equal parts of [low, high]; when low == high
    every edge is that value (TensorBoard's own layout for a single distinct value).
    """
    edges = np.linspace(float(low), float(high), len(counts) + 1)
    edges[-1] = high
    return np.stack([edges[:-1], edges[1:], np.asarray(counts, np.float64)], axis=1)
