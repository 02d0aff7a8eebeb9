"""TensorBoard event files (`tensorboard=true`): what they hold, and that they change
no metric.

One real sweep trains depth=2,3 with tensorboard=true and tensorboard=false side by side
(four programs: the two never share one); the event files are read back with
TensorBoard's own reader and checked against metrics.csv and the initial weights.
"""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

from conftest import sweep
from sweeper.config.schema import Config, InitConfig
from sweeper.contract import BINS, HISTOGRAMS
from sweeper.record import files, tensorboard
from sweeper.record.verdict import VERDICTS
from sweeper.sweep.plan import plan
from sweeper.train import measure
from sweeper.train._tf import tf
from sweeper.train.components import program_key
from sweeper.train.mlp import MLP

STEPS = [0, 10, 20, 30, 40]  # steps=40 log_every=10: every 10th step and the last
SIZES = {2: (1, 16, 1), 3: (1, 16, 16, 1)}  # units from input to output, per depth


@pytest.fixture(scope="module")
def jobs(tmp_path_factory) -> dict:
    """(depth, tensorboard) -> job dir of one real sweep."""
    folder = tmp_path_factory.mktemp("tensorboard")
    sweep(folder, "depth=2,3", "tensorboard=true,false", "steps=40", "log_every=10")
    found = {}
    for job_dir in sorted(p for p in folder.iterdir() if p.name.isdigit()):
        config = files.read_run(job_dir)["config"]
        found[config["depth"], config["tensorboard"]] = job_dir
    assert len(found) == 4
    return found


def run_dir(job_dir):
    """The job's TensorBoard run: tensorboard/<its settings>."""
    [found] = (job_dir / tensorboard.FOLDER).iterdir()
    return found


def events(job_dir) -> EventAccumulator:
    accumulator = EventAccumulator(str(run_dir(job_dir)), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def series(accumulator, tag) -> tuple[list[int], list[np.ndarray]]:
    """Steps and values of one tag, in order."""
    found = accumulator.Tensors(tag)
    values = [tensor_util.make_ndarray(e.tensor_proto) for e in found]
    return [e.step for e in found], values


@pytest.mark.slow
def test_only_tensorboard_runs_write_event_files(jobs):
    for (depth, on), job_dir in jobs.items():
        written = list((job_dir / tensorboard.FOLDER).glob("*/events.out.tfevents.*"))
        assert len(written) == (1 if on else 0), job_dir
        assert files.read_run(job_dir)["status"] == "ok"
        if on:  # a folder others can read, as mkdir would make it (not mkdtemp's 0700)
            mode = (job_dir / tensorboard.FOLDER).stat().st_mode & 0o777
            assert mode == 0o777 & ~files.umask()


@pytest.mark.slow
@pytest.mark.parametrize("depth", [2, 3])
def test_one_histogram_per_layer_and_logged_step(jobs, depth):
    accumulator = events(jobs[depth, True])
    expected = [f"{n}/layer_{i}" for i in range(depth) for n in HISTOGRAMS]
    expected += [
        f"{n}/layer_{i}" for i in range(depth) for n in tensorboard.LAYER_SCALARS
    ]
    expected += list(tensorboard.RUN_SCALARS)
    expected += [f"result/{name}" for name in tensorboard.RESULTS]
    expected += ["_hparams_/session_start_info"]
    assert sorted(accumulator.Tags()["tensors"]) == sorted(expected)
    metrics = pd.read_csv(jobs[depth, True] / files.METRICS_FILE)
    for i, (fan_in, fan_out) in enumerate(zip(SIZES[depth], SIZES[depth][1:])):
        grad_max = metrics[metrics["layer"] == i]["grad_max"].to_numpy(np.float32)
        for name in HISTOGRAMS:
            steps, values = series(accumulator, f"{name}/layer_{i}")
            assert steps == STEPS
            for k, value in enumerate(values):
                assert value.shape == (BINS, 3)
                left, right, counts = value.T
                assert counts.sum() == fan_in * fan_out  # every kernel entry, once
                assert np.all(left <= right) and np.all(right[:-1] == left[1:])
                if name == "grad":  # the range is the gradient's, before clipping
                    largest = max(abs(left[0]), abs(right[-1]))
                    assert np.float32(largest) == grad_max[k]


@pytest.mark.slow
@pytest.mark.parametrize("depth", [2, 3])
def test_runs_are_named_by_their_settings_with_hparams_and_results(jobs, depth):
    from tensorboard.plugins.hparams import plugin_data_pb2

    job_dir = jobs[depth, True]
    assert run_dir(job_dir).name == f"depth={depth},steps=40,log_every=10"
    accumulator = events(job_dir)
    [start] = accumulator.Tensors("_hparams_/session_start_info")
    content = accumulator.SummaryMetadata("_hparams_/session_start_info")
    data = plugin_data_pb2.HParamsPluginData.FromString(
        content.plugin_data.content
    ).session_start_info
    assert set(data.hparams) == {"depth", "steps", "log_every"}
    assert data.hparams["depth"].number_value == depth  # a number: HParams' slider
    assert data.group_name == run_dir(job_dir).name and start.step == 0
    record = files.read_run(job_dir)
    results = {n: series(accumulator, f"result/{n}") for n in tensorboard.RESULTS}
    assert {steps[0] for steps, _ in results.values()} == {STEPS[-1]}
    value = {name: float(values[0]) for name, (_, values) in results.items()}
    final = np.float32(record["figures"]["final_loss"])
    assert value["final_loss"] == final
    assert value["verdict"] == VERDICTS.index(record["verdict"])
    assert value["healthy"] == float(record["verdict"] == "healthy")
    # per example, at initialization: the first layer's delta_rms over the readout's
    table = pd.read_csv(job_dir / "metrics.csv")
    delta = table.loc[table["step"] == 0, "delta_rms"].to_numpy()
    decades = np.float32(np.log10(delta[0]) - np.log10(delta[-1]))
    assert value["signal_decades"] == pytest.approx(decades, rel=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("depth", [2, 3])
def test_scalars_equal_metrics_csv(jobs, depth):
    accumulator = events(jobs[depth, True])
    metrics = pd.read_csv(jobs[depth, True] / files.METRICS_FILE)
    for i in range(depth):
        rows = metrics[metrics["layer"] == i]
        tags = {f"{n}/layer_{i}": n for n in tensorboard.LAYER_SCALARS}
        tags.update({n: n for n in tensorboard.RUN_SCALARS})
        for tag, column in tags.items():
            steps, values = series(accumulator, tag)
            assert steps == STEPS == list(rows["step"])
            np.testing.assert_allclose(
                np.array(values, np.float32), rows[column], rtol=1e-6, err_msg=tag
            )


@pytest.mark.slow
@pytest.mark.parametrize("depth", [2, 3])
def test_step_0_weights_histogram_is_the_initial_kernel(jobs, depth):
    config = files.read_run(jobs[depth, True])["config"]
    mlp = MLP(SIZES[depth], config["model"]["activation"])
    init = mlp.initial_params(InitConfig(**config["init"]), config["seed"])
    accumulator = events(jobs[depth, True])
    for i, kernel in enumerate(init[0::2]):
        left, right, counts = series(accumulator, f"weights/layer_{i}")[1][0].T
        assert (left[0], right[-1]) == (kernel.min(), kernel.max())
        want, _ = np.histogram(kernel, BINS, (kernel.min(), kernel.max()))
        # float32 in the step vs float64 here: an entry on an edge may change sides
        assert np.abs(counts - want).sum() <= 2, (counts, want)


@pytest.mark.slow
@pytest.mark.parametrize("depth", [2, 3])
def test_metrics_csv_is_the_same_with_and_without_tensorboard(jobs, depth):
    def without_tensorboard_column(job_dir):
        lines = (job_dir / files.METRICS_FILE).read_text().splitlines()
        column = lines[0].split(",").index("tensorboard")
        rows = [line.split(",") for line in lines]
        return [row[:column] + row[column + 1 :] for row in rows], {
            row[column] for row in rows[1:]
        }

    on, on_values = without_tensorboard_column(jobs[depth, True])
    off, off_values = without_tensorboard_column(jobs[depth, False])
    assert (on_values, off_values) == ({"True"}, {"False"})
    assert on == off  # every other byte of the file


def test_runs_with_and_without_tensorboard_never_share_a_program():
    cfg = Config(depth=2, steps=40, log_every=10)
    on = dataclasses.replace(cfg, tensorboard=True)
    assert program_key(cfg) != program_key(on)
    assert plan([cfg, on, cfg, on], memory_mb=1024) == [[0, 2], [1, 3]]


def test_histograms_by_hand():
    nan, inf = math.nan, math.inf
    kernels = tf.constant(
        [
            [[0.0, 1.0], [2.0, 3.0]],  # width 3: x / 3 * 30 -> buckets 0, 10, 20, 30
            [[5.0, 5.0], [nan, inf]],  # one distinct finite value: the last bucket
            [[nan, inf], [-inf, nan]],  # nothing finite: no count, range [0, 0]
        ]
    )
    got = measure.histograms([kernels], [kernels * 2.0])
    counts = np.zeros((3, BINS), np.int32)
    counts[0, [0, 10, 20, 29]] = 1  # the highest entry goes to the last bucket
    counts[1, -1] = 2
    for name, scale in (("weights", 1.0), ("grad", 2.0)):
        np.testing.assert_array_equal(got[f"{name}_counts"][:, 0], counts)
        ranges = np.array([[0.0, 3.0], [5.0, 5.0], [0.0, 0.0]]) * scale
        np.testing.assert_array_equal(got[f"{name}_range"][:, 0], ranges)


def test_buckets_by_hand():
    np.testing.assert_array_equal(
        tensorboard.buckets(np.array([1, 0, 2]), 0.0, 3.0),
        [[0.0, 1.0, 1.0], [1.0, 2.0, 0.0], [2.0, 3.0, 2.0]],
    )
    # TensorBoard's own layout for a single distinct value: every edge on it
    np.testing.assert_array_equal(
        tensorboard.buckets(np.array([0, 0, 4]), 5.0, 5.0),
        [[5.0, 5.0, 0.0], [5.0, 5.0, 0.0], [5.0, 5.0, 4.0]],
    )
