"""TensorBoard event files of a run (`tensorboard=true`): what they hold, the writing.

The compiled step computes the histograms (sweeper.train.measure); this module only
writes them, in the format of TensorBoard's histogram plugin, next to the run's norms.
TensorFlow loads only when a run's events are written, so a sweep without
`tensorboard=true` never loads it in the process that writes files.
"""

import math
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from sweeper.contract import HISTOGRAMS
from sweeper.record import files
from sweeper.record.verdict import VERDICTS

FOLDER = "tensorboard"  # in the job dir; `tensorboard --logdir <sweep dir>` finds it
# Histograms per layer, tag `<name>/layer_<i>`, one per contract.HISTOGRAMS name.
# Scalars per layer, tag `<name>/layer_<i>`, and per run, tag `<name>`: columns of
# metrics.csv (see sweeper.contract for their meaning).
LAYER_SCALARS = ("grad_norm", "bias_grad_norm", "weight_norm", "update_ratio")
RUN_SCALARS = ("loss", "probe_loss")
# The HParams dashboard's metrics, tag `result/<name>`, once, at the last logged step.
RESULTS = {
    "final_loss": "Probe loss of the trained net.",
    "signal_decades": "log10 of the per-example |dL/dz| at the first layer over the "
    "readout's, at initialization.",
    "healthy": "1 if the verdict is healthy, else 0.",
    "verdict": "The verdict as its place in " + ", ".join(VERDICTS) + " (from 0).",
}


def run_name(settings: dict) -> str:
    """A job's TensorBoard run: its settings, e.g. `init=xavier,depth=3`."""
    parts = [f"{k}={v}" for k, v in _named(settings).items()]
    return re.sub(r"[^A-Za-z0-9_.=,+-]", "_", ",".join(parts) or "run")[:200]


def _named(settings: dict) -> dict:
    """The settings that tell runs apart: `tensorboard` is true for every one here."""
    return {key: value for key, value in settings.items() if key != "tensorboard"}


def write_events(
    out_dir: Path, result, index: int, settings: dict, verdict: str, figures: dict
) -> Path:
    """Write run `index` of a group's Measurements to `out_dir`/tensorboard/<name>.

    <name> is `run_name(settings)`, so TensorBoard names the run by its settings. Every
    tag gets one value per logged step, with step = the logged step; the settings are
    the run's HParams (hparams) and RESULTS its HParams metrics. An earlier event file
    of the job is replaced, never appended to. Returns the run's folder.
    """
    from sweeper.train._tf import tf

    out_dir = Path(out_dir)
    folder = out_dir / FOLDER
    tmp = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{FOLDER}.", suffix=".tmp"))
    try:
        tmp.chmod(0o777 & ~files.umask())  # mkdtemp's 0700, as mkdir would make it
        name = run_name(settings)
        writer = tf.summary.create_file_writer(str(tmp / name))
        with writer.as_default():
            start = _hparams(settings, name, result.started).SerializeToString()
            tf.summary.experimental.write_raw_pb(start, int(result.steps[0]))
            # One Summary proto per logged step, so one eager op each: tag by tag
            # with tf.summary.write is one eager op per tag and step.
            for k, step in enumerate(result.steps):
                summary = _summary(result, index, k).SerializeToString()
                tf.summary.experimental.write_raw_pb(summary, int(step))
            outcome = _results(verdict, figures).SerializeToString()
            tf.summary.experimental.write_raw_pb(outcome, int(result.steps[-1]))
        writer.close()
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder / name


def _hparams(settings: dict, name: str, started: float):
    """The HParams plugin's session start: the swept settings, typed."""
    from tensorboard.plugins.hparams import summary_v2

    values = {key: _typed(value) for key, value in _named(settings).items()}
    return summary_v2.hparams_pb(values, trial_id=name, start_time_secs=started)


def _typed(text: str):
    """A setting's CLI text as the number or flag it is, for HParams' sliders."""
    if text.lower() in ("true", "false"):  # Hydra writes a bool back as True, False
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _results(verdict: str, figures: dict):
    """RESULTS as scalar summaries."""
    from tensorboard.compat.proto import summary_pb2
    from tensorboard.plugins.scalar import metadata as scalar
    from tensorboard.util import tensor_util

    values = {
        "final_loss": figures.get("final_loss"),
        "signal_decades": figures.get("signal_decades"),
        "healthy": float(verdict == "healthy"),
        "verdict": float(VERDICTS.index(verdict)),
    }
    summary = summary_pb2.Summary()
    for key, value in values.items():
        value = math.nan if value is None else value
        tensor = tensor_util.make_tensor_proto(np.float32(value))
        metadata = scalar.create_summary_metadata(None, RESULTS[key])
        summary.value.add(tag=f"result/{key}", tensor=tensor, metadata=metadata)
    return summary


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
